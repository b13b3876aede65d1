"""POST requests: a client application's service request becomes a case of channel `open311`
through the normal intake action (located, numbered, de-duplicated, idempotent).

Idempotency: the client's own id of the request, `attribute[request_id]` or the `Idempotency-Key`
header, scoped to the client: sent again, the same request is answered, never a second case.
media_url is kept as a link and never fetched (docs/open311.md)."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from wangge.cases.actions.errors import FilingRefused, IdempotencyConflict
from wangge.cases.actions.intake import Report, report_case
from wangge.cases.channels import OPEN311
from wangge.cases.models import Channel
from wangge.registry.models import StandardAddress
from wangge.registry.validators import search_text

from .formats import Open311Error
from .models import Open311Client, Open311Request
from .service import URGENCY_VALUES, find_service

ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,40})\]$")
# The intake's field names → the specification's.
FIELD_NAMES = {"lng": "long", "reporter_phone": "phone", "reporter_name": "first_name", "address": "address_string"}


def _bad(field: str, message: str) -> Open311Error:
    return Open311Error(400, f"{field}: {message}")


def _float(params, name: str) -> float | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise _bad(name, _("Not a number.")) from None


def _address(params) -> tuple[float | None, float | None, str, str]:
    """(lat, lng, address text, address code) from lat/long, address_id or address_string."""
    lat, lng = _float(params, "lat"), _float(params, "long")
    text = params.get("address_string", "").strip()
    code = params.get("address_id", "").strip()
    if lat is not None or lng is not None:
        if lat is None or lng is None:
            raise _bad("lat" if lat is None else "long", _("Give both lat and long."))
        return lat, lng, text, code
    if code:
        found = StandardAddress.objects.filter(code=code[:40]).first()
        if found is None:
            raise _bad("address_id", _("No standard address has this code."))
        return found.lat, found.lng, found.full_text, found.code
    if text:
        # The register's standard addresses: the exact text, else the one address containing it.
        found = list(StandardAddress.objects.filter(full_text=text)[:1])
        needle = search_text(text)
        if not found and needle:
            found = list(StandardAddress.objects.filter(Q(search_text__contains=needle)).order_by("code")[:2])
        if not found:
            raise _bad("address_string", _("No standard address matches it; give lat and long."))
        if len(found) > 1:
            raise _bad("address_string", _("Several standard addresses match it; give lat and long or address_id."))
        return found[0].lat, found[0].lng, found[0].full_text, found[0].code
    raise _bad("lat", _("Give the location: lat and long, address_string or address_id."))


def _attributes(params) -> dict:
    values = {}
    for name in params:
        match = ATTRIBUTE.match(name)
        if match:
            values[match.group(1)] = params.get(name, "").strip()
    urgency = values.get("urgency", "")
    if urgency and urgency not in URGENCY_VALUES:
        raise _bad("attribute[urgency]", _("One of: %(v)s.") % {"v": ", ".join(URGENCY_VALUES)})
    if len(values.get("details", "")) > 1000:
        raise _bad("attribute[details]", _("At most 1000 characters."))
    return values


def _media_url(params) -> str:
    url = params.get("media_url", "").strip()
    if url and (len(url) > 500 or not re.match(r"^https?://[^\s/]+\S*$", url)):
        raise _bad("media_url", _("An http or https address of at most 500 characters."))
    return url


def answer(record: Open311Request) -> list[dict]:
    case = record.case
    notice = _("Received as case %(number)s; follow it with the tracking number %(tracking)s.") % {
        "number": case.number,
        "tracking": case.tracking_number,
    }
    return [{"service_request_id": case.number, "service_notice": notice, "account_id": record.account_id or None}]


def create_request(client: Open311Client, params, idempotency_header: str = "") -> tuple[list[dict], bool]:
    """(the specification's answer, created). Open311Error (400) naming the field for bad input."""
    code = params.get("service_code", "").strip()
    if not code:
        raise _bad("service_code", _("service_code was not provided."))
    service = find_service(code)
    if service is None:
        raise _bad("service_code", _("service_code %(c)s was not found.") % {"c": code[:60]})
    attributes = _attributes(params)
    request_id = (attributes.pop("request_id", "") or idempotency_header or "").strip()
    if len(request_id) > 100:
        raise _bad("attribute[request_id]", _("At most 100 characters."))
    if request_id:
        existing = Open311Request.objects.filter(client=client, client_request_id=request_id).first()
        if existing is not None:
            return answer(existing), False
    lat, lng, address, address_code = _address(params)
    media_url = _media_url(params)
    kind, found = service
    details = attributes.get("details", "")
    description = params.get("description", "").strip() or details or found.name
    if details and details != description:
        description = f"{description}\n{details}"
    if len(description) > 2000:
        raise _bad("description", _("At most 2000 characters."))
    name = (params.get("last_name", "").strip() + params.get("first_name", "").strip())[:50]
    report = Report(
        description=description,
        channel=Channel.OPEN311,
        lat=lat,
        lng=lng,
        address=address[:200],
        matter_item=found.code if kind == "matter" else "",
        category=f"{kind}:{found.code}" if kind != "matter" else "",
        severity=attributes.get("urgency", "") if attributes.get("urgency") != "normal" else "",
        reporter_name=name,
        reporter_phone=params.get("phone", "").strip()[:30],
        idempotency_key=f"{client.pk}:{request_id}" if request_id else "",
    )
    try:
        with transaction.atomic():
            case, created = report_case(report, None, system=OPEN311)
            record, _new = Open311Request.objects.get_or_create(
                case=case,
                defaults={
                    "client": client,
                    "client_request_id": request_id,
                    "service_code": code,
                    "address_id": address_code,
                    "media_url": media_url,
                    "account_id": params.get("account_id", "").strip()[:100],
                    "device_id": params.get("device_id", "").strip()[:100],
                    "attributes": {k: v for k, v in attributes.items() if k in ("urgency",)},
                },
            )
    except ValidationError as exc:
        raise Open311Error(
            400, *[f"{FIELD_NAMES.get(f, f)}: {' '.join(m)}" for f, m in sorted(exc.message_dict.items())]
        ) from None
    except FilingRefused as exc:
        raise Open311Error(400, *[f"{FIELD_NAMES.get(f, f)}: {m}" for f, m in exc.errors.items()]) from None
    except IdempotencyConflict:
        raise _bad("attribute[request_id]", _("This id was already used for a different request.")) from None
    return answer(record), created
