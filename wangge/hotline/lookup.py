"""What the desk reads: a caller's earlier cases (by the phone's keyed hash, indexed) and the open
cases near a place. Personal data only masked."""

import math
import re

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext as _

from wangge.areas.coords import distance_m
from wangge.cases.models import OPEN_STATUSES, Case, CaseEvent, Outcome, Status
from wangge.cases.roles import visible_cases
from wangge.core import pii
from wangge.history.context import current_request_id
from wangge.privacy.models import PersonalDataAccess

from .models import CaseCaller

HISTORY_LIMIT = 20
NEARBY_RADIUS_M = 300
_NUMBERS = re.compile(r"\d{7,}[\dXx]?")  # phones and ID numbers written into a description


def complete_number(value: str) -> str:
    """The normalised number once it is complete (a mobile, a landline with area code), else ""."""
    phone = pii.normalize_phone(value)
    return phone if pii.is_mobile(phone) or re.fullmatch(r"0\d{2,3}-?\d{7,8}", phone) else ""


def mask_text(text: str, limit: int = 120) -> str:
    """A description or note as the desk shows it: numbers in it masked, cut short."""
    text = _NUMBERS.sub(lambda m: pii.mask_phone(m.group()), text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask_name(name: str) -> str:
    return name[:1] + "*" * min(len(name) - 1, 2) if name else ""


def caller_cases(user, phone_hash: str, limit: int = HISTORY_LIMIT):
    """The cases this number reported or was linked to, newest first, in the user's scope: two
    indexed hash lookups (Case.reporter_phone_hash, CaseCaller.phone_hash) in one query, as values
    (this runs while the caller waits: no model objects)."""
    linked = CaseCaller.objects.filter(phone_hash=phone_hash).values("case_id")
    cases = Case.objects.filter(Q(reporter_phone_hash=phone_hash) | Q(pk__in=linked))
    fields = ("id", "number", "created_at", "status", "outcome", "category__name", "description", "reporter_name")
    return visible_cases(user, cases).order_by("-created_at", "-id").values(*fields)[:limit]


def caller_history(user, phone: str, *, log: bool = True, ip: str | None = None) -> list[dict]:
    """The earlier cases of a caller, masked, each with its last public note; the look-up by a full
    number is logged as a personal-data access."""
    rows = list(caller_cases(user, pii.phone_hash(phone)))
    notes = {}
    if rows:
        events = CaseEvent.objects.filter(case_id__in=[r["id"] for r in rows], is_public=True).exclude(note="")
        for case_id, note in events.order_by("case_id", "-id").values_list("case_id", "note"):
            notes.setdefault(case_id, note)
    if log:
        _log_lookup(user, phone, len(rows), ip)
    statuses, outcomes = dict(Status.choices), dict(Outcome.choices)
    return [
        {
            "id": r["id"],
            "number": r["number"],
            "created_at": r["created_at"],
            "status": r["status"],
            "status_label": str(statuses.get(r["status"], "")),
            "outcome_label": str(outcomes.get(r["outcome"], "")),
            "is_open": r["status"] in OPEN_STATUSES,
            "category": r["category__name"] or "",
            "description": mask_text(r["description"]),
            "reporter_name": mask_name(r["reporter_name"]),
            "last_note": mask_text(notes.get(r["id"], "")),
        }
        for r in rows
    ]


def _log_lookup(user, phone: str, found: int, ip):
    PersonalDataAccess.objects.create(
        user=user,
        user_name=user.get_username(),
        object_type=ContentType.objects.get_for_model(Case),
        object_id="",
        object_repr=_("caller %(p)s (%(n)s cases)") % {"p": pii.mask_phone(phone), "n": found},
        field="search:reporter_phone",
        reason=_("12345 hotline call"),
        request_id=current_request_id(),
        ip=ip or None,
    )


def nearby_open_cases(user, lat: float, lng: float, category_id=None, radius: float = NEARBY_RADIUS_M) -> list[dict]:
    """Open cases within radius of the place, the same category first (the likely duplicates)."""
    dlat = radius / 111_000
    dlng = radius / (111_000 * max(math.cos(math.radians(lat)), 0.1))
    rows = visible_cases(user, Case.objects.filter(status__in=OPEN_STATUSES)).filter(
        lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng)
    )
    found = []
    for c in rows.select_related("category").order_by("-created_at")[:50]:
        distance = distance_m(lng, lat, c.lng, c.lat)
        if distance <= radius:
            same = category_id is not None and c.category_id == category_id
            found.append(
                {
                    "id": c.pk,
                    "number": c.number,
                    "created_at": c.created_at,
                    "status_label": c.get_status_display(),
                    "category": c.category.name if c.category_id else "",
                    "description": mask_text(c.description),
                    "address": c.address,
                    "distance": round(distance),
                    "likely_duplicate": same,
                }
            )
    found.sort(key=lambda r: (not r["likely_duplicate"], r["distance"]))
    return found[:10]
