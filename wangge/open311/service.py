"""What the Open311 endpoints read: the services (from the taxonomy's minor classes and the matter
items), their definitions (attributes), and service requests as the specification shapes them —
from the cases of the public channels, without any personal data (docs/open311.md)."""

import re
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from wangge.cases.models import OPEN_STATUSES, Case, CaseEvent, Category, CategoryKind, MatterItem

from .formats import Open311Error
from .models import Open311Request

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000  # the most one GET requests answers, as the specification suggests
DEFAULT_DAYS = 90  # the default query period of GET requests
KINDS = ("matter", CategoryKind.PART, CategoryKind.EVENT)  # service_code = "<kind>-<code>"


# ---------------------------------------------------------------------------------------------
# Jurisdiction


def check_jurisdiction(params) -> None:
    """jurisdiction_id is optional (this endpoint serves one); another one is not found (404)."""
    given = params.get("jurisdiction_id", "").strip()
    if given and given != settings.OPEN311_JURISDICTION_ID:
        raise Open311Error(404, _("jurisdiction_id %(j)s was not found.") % {"j": given[:100]})


# ---------------------------------------------------------------------------------------------
# Services


def _categories():
    return Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True).select_related(
        "parent"
    )


def _matter_items():
    return MatterItem.objects.filter(is_active=True).select_related("category__parent", "department")


def _category_service(c: Category) -> dict:
    kind = CategoryKind(c.kind).label
    return {
        "service_code": f"{c.kind}-{c.code}",
        "service_name": c.name,
        "description": f"{kind} · {c.parent.name} · {c.name}",
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join([str(kind), c.parent.name]),
        "group": c.parent.name,
    }


def _matter_service(m: MatterItem) -> dict:
    group = _("Matter items")
    description = m.name
    if m.department_id:
        description = _("%(name)s (handled by %(dept)s)") % {"name": m.name, "dept": m.department.name}
    return {
        "service_code": f"matter-{m.code}",
        "service_name": m.name,
        "description": description,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(filter(None, [str(group), m.category.name if m.category_id else ""])),
        "group": str(group),
    }


def services() -> list[dict]:
    return [_matter_service(m) for m in _matter_items()] + [_category_service(c) for c in _categories()]


def find_service(code: str):
    """(kind, MatterItem or Category) of a service_code, or None."""
    kind, _sep, rest = (code or "").partition("-")
    if not rest or kind not in KINDS:
        return None
    if kind == "matter":
        found = _matter_items().filter(code=rest).first()
    else:
        found = _categories().filter(kind=kind, code=rest).first()
    return (kind, found) if found is not None else None


def service_code_of(case: Case) -> str:
    if case.matter_item_id:
        return f"matter-{case.matter_item.code}"
    if case.category_id:
        return f"{case.category.kind}-{case.category.code}"
    return ""


def service_name_of(case: Case) -> str:
    if case.matter_item_id:
        return case.matter_item.name
    return case.category.name if case.category_id else ""


# The severities a client may ask for (urgent alerts the leaders: only the city's own staff set it).
URGENCY_VALUES = ("normal", "important")


def attributes() -> list[dict]:
    """The questions every service asks (all optional)."""
    return [
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("One of the keys below; normal when not given."),
            "order": 1,
            "description": _("How pressing is it?"),
            "values": [{"key": "normal", "name": _("Normal")}, {"key": "important", "name": _("Important")}],
        },
        {
            "variable": True,
            "code": "details",
            "datatype": "text",
            "required": False,
            "datatype_description": _("At most 1000 characters."),
            "order": 2,
            "description": _("Anything else the handlers should know"),
            "values": [],
        },
        {
            "variable": True,
            "code": "request_id",
            "datatype": "string",
            "required": False,
            "datatype_description": _("At most 100 characters; the Idempotency-Key header does the same."),
            "order": 3,
            "description": _("Your application's own id of this request: sent again, it answers the same request"),
            "values": [],
        },
    ]


def definition(code: str) -> dict:
    if find_service(code) is None:
        raise Open311Error(404, _("service_code %(c)s was not found.") % {"c": code[:60]})
    return {"service_code": code, "attributes": attributes()}


# ---------------------------------------------------------------------------------------------
# Service requests (GET)

# What a citizen may have typed into a description that names a person: phone numbers, ID numbers,
# e-mail addresses. Masked in every answer (the reporter's own name and phone are never answered).
_PERSONAL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d{17}[\dXx]|\+?\d[\d -]{5,}\d")


def redact(text: str, *names: str) -> str:
    text = _PERSONAL.sub("***", text or "")
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, "***")
    return text


def public_cases():
    return Case.objects.filter(channel__in=settings.OPEN311_PUBLIC_CHANNELS)


def _when(dt) -> str | None:
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def _expected(case: Case, assignments: list):
    if case.status not in OPEN_STATUSES:
        return None
    deadlines = [a.deadline for a in assignments if a.deadline]
    return max(deadlines) if deadlines else case.dispatch_deadline


def as_request(case: Case) -> dict:
    """A case as the specification's service request (no reporter, phone, e-mail or account)."""
    assignments = list(case.assignments.all())  # prefetched
    notes = [e.note for e in case.events.all() if e.note]  # public events, prefetched in order
    try:
        extra = case.open311
    except Open311Request.DoesNotExist:  # a case of another public channel
        extra = None
    departments = []
    for a in assignments:
        if a.department.name not in departments:
            departments.append(a.department.name)
    return {
        "service_request_id": case.number,
        "status": "open" if case.status in OPEN_STATUSES else "closed",
        "status_notes": redact(notes[-1], case.reporter_name) if notes else None,
        "service_name": service_name_of(case),
        "service_code": service_code_of(case),
        "description": redact(case.description, case.reporter_name),
        "agency_responsible": "、".join(departments) or None,
        "service_notice": None,
        "requested_datetime": _when(case.created_at),
        "updated_datetime": _when(case.updated_at),
        "expected_datetime": _when(_expected(case, assignments)),
        "address": case.address or None,
        "address_id": (extra.address_id or None) if extra else None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": (extra.media_url or None) if extra else None,
    }


def _with_related(qs):
    public_notes = CaseEvent.objects.filter(is_public=True).exclude(note="").order_by("created_at", "id")
    return qs.select_related("matter_item", "category", "open311").prefetch_related(
        "assignments__department", Prefetch("events", queryset=public_notes)
    )


def one_request(number: str) -> list[dict]:
    case = _with_related(public_cases()).filter(number=number).first()
    if case is None:
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": number[:40]})
    return [as_request(case)]


def _datetime(params, name: str):
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        value = parse_datetime(text)
        if value is None and parse_date(text) is not None:  # a bare date: its first moment
            value = datetime.combine(parse_date(text), time.min)
    except ValueError:  # well formed but impossible (2026-02-30)
        value = None
    if not value:
        raise Open311Error(400, _("%(f)s is not a w3 date and time (e.g. 2026-01-31T08:00:00+08:00).") % {"f": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _service_filter(codes: list[str]) -> Q:
    q = Q(pk__in=[])
    for code in codes:
        kind, _sep, rest = code.partition("-")
        if kind == "matter":
            q |= Q(matter_item__code=rest)
        elif kind in (CategoryKind.PART, CategoryKind.EVENT):
            q |= Q(category__kind=kind, category__code=rest)
        else:
            raise Open311Error(400, _("service_code %(c)s is not a service code of this endpoint.") % {"c": code[:60]})
    return q


def _split(params, name: str) -> list[str]:
    return [p.strip() for p in params.get(name, "").split(",") if p.strip()]


def requests(params) -> list[dict]:
    """GET requests: by ids (which override every other filter), else by service_code, status and
    dates (the last 90 days by default); newest first, at most 1000."""
    qs = public_cases()
    ids = _split(params, "service_request_id")
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise Open311Error(400, _("At most %(n)s service_request_id values.") % {"n": MAX_REQUESTS})
        qs = qs.filter(number__in=ids)
    else:
        codes = _split(params, "service_code")
        if codes:
            qs = qs.filter(_service_filter(codes))
        statuses = _split(params, "status")
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise Open311Error(400, _("status must be open or closed (comma-separated)."))
        if statuses and set(statuses) != {"open", "closed"}:
            open_q = Q(status__in=OPEN_STATUSES)
            qs = qs.filter(open_q if statuses[0] == "open" else ~open_q)
        start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
        if start and end and start > end:
            raise Open311Error(400, _("start_date is after end_date."))
        if start is None:
            start = (end or timezone.now()) - timedelta(days=DEFAULT_DAYS)
        qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
    cases = _with_related(qs.order_by("-created_at", "-id"))[:MAX_REQUESTS]
    return [as_request(c) for c in cases]
