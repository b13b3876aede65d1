"""Request middleware of our own: proxy headers believed only from a trusted proxy; text with a NUL
character refused before any view reads it."""

import json
import re

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from .clientip import from_trusted_proxy

# An escaped NUL in JSON text: \u0000 not itself escaped (an even number of backslashes before it).
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

# Headers that only a proxy may set: from any other connection they are someone's forgery.
PROXY_ONLY_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")


class TrustedProxyMiddleware:
    """First in the chain: drops the proxy's headers from connections that are not the proxy's, so
    SECURE_PROXY_SSL_HEADER (https) cannot be claimed by a client that reached the server directly.
    (The client's address itself is read by wangge.core.clientip.client_ip.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not from_trusted_proxy(request):
            for key in PROXY_ONLY_HEADERS:
                request.META.pop(key, None)
        return self.get_response(request)


class RefuseNulCharacters:
    """Text with a NUL character is refused before any view reads it.

    PostgreSQL can neither store nor compare a NUL in text (psycopg raises DataError: a 500 on any
    filter or write that meets one), and no real input holds one. Django's form fields refuse them
    already (ProhibitNullCharactersValidator); this covers everything else that reads the request: the
    JSON API (path, query, JSON body) and the pages' own query strings and forms. The API answers 422
    in the shape of its validation errors (apitypes.ValidationErrorOut), naming where; pages answer 400.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = nul_in(request)
        if where is None:
            return self.get_response(request)
        message = _("Text may not contain NUL characters (code 0).")
        if request.path_info.startswith("/api/"):
            issue = {"type": "string_nul", "loc": list(where), "msg": message}
            return JsonResponse({"detail": [issue]}, status=422)
        return HttpResponseBadRequest(message)


def nul_in(request) -> tuple | None:
    """Where the request holds a NUL character: ("path",), ("query", name), ("body", *keys) or
    ("form", name); None when it holds none."""
    if "\x00" in request.path_info:
        return ("path",)
    if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return ("query", name.replace("\x00", ""))
    try:
        if request.content_type == "application/json":
            body = request.body
            if b"\\u0000" in body and JSON_NUL.search(body):
                return ("body", *_json_path(body))
        elif request.method == "POST" and request.content_type in FORMS and not request.path_info.startswith("/api/"):
            for name, values in request.POST.lists():  # the API's forms hold files only
                if "\x00" in name or any("\x00" in value for value in values):
                    return ("form", name.replace("\x00", ""))
    except (MultiPartParserError, SuspiciousOperation):
        return None  # a body too big or broken: the view answers it as it always does
    return None


def _json_path(body: bytes) -> list:
    """The keys and indexes down to the first string holding a NUL (empty if the body is not JSON)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []

    def walk(value, path):
        if isinstance(value, str):
            return path if "\x00" in value else None
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                return [*path, key.replace("\x00", "")]
            found = walk(item, [*path, key])
            if found is not None:
                return found
        return None

    return walk(data, []) or []
