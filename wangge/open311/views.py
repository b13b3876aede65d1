"""The Open311 GeoReport v2 endpoints (/open311/v2/) and the administrators' key page. Thin: the
key and rate checks here, the reading in service.py, the writing in post.py and keys.py."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wangge.accounts.scope import is_admin
from wangge.core import ratelimit
from wangge.core.clientip import client_ip

from . import keys, post, service
from .formats import Open311Error, error_response, respond
from .models import Open311Client


def _client(request, params, *, required: bool) -> Open311Client | None:
    key = params.get("api_key", "").strip()
    if not key:
        if required:
            raise Open311Error(403, _("api_key was not provided."))
        return None
    client = keys.client_for(key)
    if client is None:
        raise Open311Error(403, _("api_key is not valid."))
    if not client.is_active:
        raise Open311Error(403, _("api_key was revoked."))
    return client


def _limit(request, client: Open311Client | None) -> None:
    if client is not None:
        bucket, rate = f"key:{client.pk}", client.rate_per_minute
    else:
        bucket, rate = f"ip:{client_ip(request) or 'unknown'}", settings.OPEN311_ANONYMOUS_RATE_PER_MINUTE
    wait = ratelimit.count_in_window(f"open311:{bucket}", rate, 60)  # the key's rate is per minute
    if wait is not None:
        raise Open311Error(
            429,
            _("Too many requests: at most %(n)s a minute. Try again in %(s)s seconds.") % {"n": rate, "s": wait},
            headers={"Retry-After": str(wait)},
        )


def endpoint(handler):
    """Errors in the specification's format and in the format asked for; reads are rate-limited by
    key or address, and a request for another jurisdiction is not found."""

    def view(request, fmt, **kwargs):
        params = request.POST if request.method == "POST" else request.GET
        try:
            if request.method not in ("GET", "HEAD", "POST") or (
                request.method == "POST" and handler is not requests_view
            ):
                raise Open311Error(405, _("Method %(m)s is not allowed here.") % {"m": request.method[:10]})
            service.check_jurisdiction(params)
            return handler(request, fmt, params, **kwargs)
        except Open311Error as error:
            return error_response(fmt, error)

    view.__name__ = handler.__name__
    return csrf_exempt(view)


def _read(request, params):
    _limit(request, _client(request, params, required=False))


def discovery_view(request, fmt, params):
    _read(request, params)
    base = request.build_absolute_uri(reverse("open311:discovery", args=["json"])).rsplit("/", 1)[0] + "/"
    return respond(
        fmt,
        "discovery",
        {
            "changeset": settings.OPEN311_CHANGESET,
            "contact": settings.OPEN311_CONTACT,
            "key_service": settings.OPEN311_KEY_SERVICE,
            "endpoints": [
                {
                    "specification": service.SPEC_URL,
                    "url": base,
                    "changeset": settings.OPEN311_CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


def services_view(request, fmt, params):
    _read(request, params)
    return respond(fmt, "services", service.services())


def definition_view(request, fmt, params, code):
    _read(request, params)
    return respond(fmt, "service_definition", service.definition(code))


def requests_view(request, fmt, params):
    if request.method == "POST":
        client = _client(request, params, required=True)
        _limit(request, client)
        answer, _created = post.create_request(client, params, request.headers.get("Idempotency-Key", ""))
        return respond(fmt, "service_requests", answer, status=200)
    _read(request, params)
    return respond(fmt, "service_requests", service.requests(params))


def request_view(request, fmt, params, number):
    _read(request, params)
    return respond(fmt, "service_requests", service.one_request(number))


def unknown_view(request, fmt, params, path):
    raise Open311Error(404, _("There is no such resource here; see discovery.json."))


discovery = endpoint(discovery_view)
services = endpoint(services_view)
definition = endpoint(definition_view)
requests = endpoint(requests_view)
one_request = endpoint(request_view)
unknown = endpoint(unknown_view)


# ---------------------------------------------------------------------------------------------
# Keys (administrators)


def _admin(request):
    if not is_admin(request.user):
        raise PermissionDenied


@login_required
def key_list(request):
    _admin(request)
    issued, error = None, ""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        try:
            rate = int(request.POST.get("rate_per_minute") or 60)
        except ValueError:
            rate = -1
        if not name or len(name) > 100:
            error = _("Name the application (at most 100 characters).")
        elif not 1 <= rate <= 100000:
            error = _("The rate is a whole number of requests per minute, from 1 to 100000.")
        else:
            client, key = keys.issue_key(name, request.user, rate_per_minute=rate)
            issued = {"client": client, "key": key}  # shown on this answer only
    clients = Open311Client.objects.select_related("created_by")
    return render(request, "open311/keys.html", {"clients": clients, "issued": issued, "error": error})


@login_required
@require_POST
def key_revoke(request, pk):
    _admin(request)
    keys.revoke_key(get_object_or_404(Open311Client, pk=pk), request.user)
    return HttpResponseRedirect(reverse("open311:keys"))
