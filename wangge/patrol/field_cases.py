"""The grid manager's cases on the phone: the open cases of their grids, those waiting for them
first (to verify, to handle on site), with what the phone needs to act on them offline."""

from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Prefetch, Value, When
from django.urls import reverse

from wangge.areas.models import under
from wangge.cases.actions import TRANSITIONS
from wangge.cases.models import OPEN_STATUSES, AssignmentStatus, Case, CasePhoto, Status
from wangge.cases.queries import case_list

from .queries import grid_areas

# What a grid manager does on a case from the phone (the transition table says when).
FIELD_ACTIONS = ("verify_pass", "verify_fail", "handle_on_site")
LIMIT = 200  # the phone keeps the list for offline use: the newest of a grid's open cases
PHOTOS_PER_CASE = 4


def field_cases(user) -> list[Case]:
    """Open cases in the user's grids: to verify first, then to handle on site, then the rest."""
    paths = [path for _id, path in grid_areas(user)]
    if not paths:
        return []
    first = models.Case(
        When(status=Status.VERIFYING, then=Value(0)),
        When(status__in=(Status.REPORTED, Status.REGISTERED), then=Value(1)),
        default=Value(2),
        output_field=models.IntegerField(),
    )
    cases = (
        case_list(user)
        .filter(reduce(or_, (under("area_path", p) for p in paths)), status__in=OPEN_STATUSES)
        .prefetch_related(Prefetch("photos", queryset=CasePhoto.objects.order_by("id")), "assignments")
        .order_by(first, "-created_at", "-id")
    )
    return list(cases[:LIMIT])


def field_actions(case: Case) -> list[str]:
    """The field actions the case's state allows (the list holds only the user's grids' cases)."""
    return [a for a in FIELD_ACTIONS if case.status in TRANSITIONS[a].from_statuses]


def field_case_out(case: Case) -> dict:
    photos = list(case.photos.all())[:PHOTOS_PER_CASE]
    return {
        "id": case.pk,
        "number": case.number or case.tracking_number,
        "version": case.version,
        "status": case.status,
        "status_label": case.get_status_display(),
        "description": case.description,
        "address": case.address,
        "area_name": case.area.name,
        "category": case.matter_item.name if case.matter_item_id else (case.category.name if case.category_id else ""),
        "lat": case.lat,
        "lng": case.lng,
        "created_at": case.created_at,
        "feedback": "；".join(
            a.feedback for a in case.assignments.all() if a.status == AssignmentStatus.DONE and a.feedback
        ),
        "photos": [
            {
                "thumbnail": reverse("case_photo_thumb", args=[p.token]),
                "full": reverse("case_photo", args=[p.token]),
            }
            for p in photos
        ],
        "actions": field_actions(case),
    }
