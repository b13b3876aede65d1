"""Ad-hoc inspection tasks: "check this spot" at a point, with what to look at, for the grid
managers of the place (a recurring spot turned into field work by wangge.proactive). The task is
its own target (TargetKind.SPOT): it shows on the phone's task list like a planned one and is done
by an inspection with the spot checklist, whose failed item is corrected on site or becomes a case."""

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from wangge.accounts.models import Membership, Role, User
from wangge.accounts.resolve import resolve_one
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction
from wangge.notify import actions as notify

from .models import AnswerType, Checklist, ChecklistItem, InspectionTask, SpotTarget, TargetKind, TaskStatus
from .queries import tasks_for

SPOT_CHECKLIST = "spot_check"
# The spot checklist (names are data, in Chinese, as the seed checklists): added on first use.
SPOT_CHECKLIST_NAME = "现场核查"
SPOT_ITEMS = [
    # code, question, answer type, fails on yes, required
    ("problem_present", "反映的问题现场是否仍然存在", AnswerType.YES_NO, True, True),
    ("what_found", "现场情况说明", AnswerType.TEXT, False, False),
    ("photo", "现场照片", AnswerType.PHOTO, False, False),
]


def ensure_spot_checklist() -> Checklist:
    """The current spot checklist, created the first time an ad-hoc task needs it."""
    current = Checklist.objects.filter(code=SPOT_CHECKLIST, is_current=True).first()
    if current is not None:
        return current
    checklist = Checklist.objects.create(
        code=SPOT_CHECKLIST, name=SPOT_CHECKLIST_NAME, target_kind=TargetKind.SPOT, version=1, is_current=True
    )
    for order, (code, text, answer_type, fails_on_yes, required) in enumerate(SPOT_ITEMS):
        ChecklistItem.objects.create(
            checklist=checklist,
            order=order,
            code=code,
            text=text,
            answer_type=answer_type,
            failing_choices=[True] if fails_on_yes else [],
            required=required,
            is_collection=answer_type != AnswerType.YES_NO,
        )
    return checklist


def grid_managers_over(area_path: str):
    """Active grid managers whose grid (or a wider area) holds this leaf area."""
    ancestors = [area_path[: i + 1] for i, ch in enumerate(area_path) if ch == "/"]
    member_ids = Membership.objects.filter(role=Role.GRID_MANAGER, area__path__in=ancestors).values("user_id")
    return User.objects.filter(is_active=True, pk__in=member_ids).order_by("pk")


@transaction.atomic
def open_spot_task(*, lat: float, lng: float, area, note: str, due_date: date, acting_user=None) -> InspectionTask:
    """A task "check this spot" for the grid managers of `area` (a leaf area, located by the caller),
    in the caller's transaction: the task, its change record and the managers' notifications."""
    ensure_spot_checklist()
    task = InspectionTask.objects.create(
        target_kind=TargetKind.SPOT,
        target_key=f"spot:new:{uuid.uuid4().hex[:16]}",  # the real key names the task's own id
        area_path=area.path,
        checklist_code=SPOT_CHECKLIST,
        due_date=due_date,
        lat=lat,
        lng=lng,
        note=note.strip(),
    )
    task.target_key = f"spot:{task.pk}"
    task.save(update_fields=["target_key"])
    record_change(
        task,
        ChangeAction.CREATE,
        acting_user=acting_user,
        # Fields a reader understands (the target key and area path are codes; the place is lat/lng).
        after={"lat": task.lat, "lng": task.lng, "due_date": str(due_date), "note": task.note},
    )
    for manager in grid_managers_over(area.path):
        notify.notify(
            manager,
            _("New spot check"),
            task.note[:200],
            url=reverse("patrol:mobile_app") + "#tasks",
            dedupe_key=f"patrol-task:{task.pk}:new",
        )
    return task


def spot_target(user, task_id) -> SpotTarget | None:
    """An open ad-hoc task of the user's areas as an inspection target (None otherwise)."""
    tasks = tasks_for(user).filter(target_kind=TargetKind.SPOT, status=TaskStatus.OPEN)
    try:
        return SpotTarget(resolve_one(tasks, task_id, "target_id"))
    except ValidationError:  # an unknown or foreign id is no target (404 upstream)
        return None
