"""The two formats of the specification: JSON (lists and objects as they are) and XML (a root
element, one child element per list item, `true`/`false`, empty elements for nothing), both UTF-8;
and its error answer: a list of {code, description} (XML <errors><error><code>…)."""

import json
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element of one item of each list, by the list's element name.
ITEM = {
    "services": "service",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEM[element.tag]), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, value, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """value: a list (answered as a JSON list, XML <root><item>…) or a dict (an object, <root>…)."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False).encode()
    response = HttpResponse(body, content_type=FORMATS.get(fmt, FORMATS["json"]), status=status)
    for name, header in (headers or {}).items():
        response[name] = header
    return response


class Open311Error(Exception):
    """An error answered in the specification's format: HTTP status, and the errors' descriptions."""

    def __init__(self, status: int, *descriptions: str, headers: dict | None = None):
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = descriptions
        self.headers = headers or {}


def error_response(fmt: str, error: Open311Error) -> HttpResponse:
    errors = [{"code": error.status, "description": d} for d in error.descriptions]
    return respond(fmt, "errors", errors, status=error.status, headers=error.headers)
