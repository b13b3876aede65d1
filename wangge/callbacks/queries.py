"""The callbacks a user may see and work: the desk's roles only, in their jurisdiction."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.scope import restrict
from wangge.cases.models import Status

from .models import CallbackTask, State
from .roles import works_callbacks


def callbacks(user):
    if not works_callbacks(user):
        raise PermissionDenied(_("Callbacks are made by the hotline desk and the command centers."))
    return restrict(CallbackTask.objects.select_related("case", "case__area"), user, "case__area_path")


def queue(user, now=None, *, overdue=False):
    """Open callbacks on closed cases, oldest due first; those waiting to be tried again apart.
    overdue: only those past their due time (the workbench's tile links to that list)."""
    now = now or timezone.now()
    rows = callbacks(user).filter(state=State.OPEN, case__status=Status.CLOSED)
    ready = rows.filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now)).order_by("due_at", "id")
    if overdue:
        ready = ready.filter(overdue_at__isnull=False)
    later = rows.filter(next_try_at__gt=now).order_by("next_try_at", "id")
    return ready, later
