"""The callback queue (回访) of the hotline desk: the open callbacks of the user's area, oldest due
first, and one callback with the case and the result form. Thin: the rules are in actions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from wangge.cases.actions import TransitionNotAllowed

from . import actions, queries
from .models import State

PER_PAGE = 50


@login_required
def queue(request):
    overdue = request.GET.get("overdue") == "1"
    ready, later = queries.queue(request.user, overdue=overdue)
    page = Paginator(ready, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "callbacks/queue.html",
        {"page": page, "later": later[:PER_PAGE], "later_count": later.count(), "overdue": overdue},
    )


@login_required
def detail(request, pk: int):
    task = get_object_or_404(queries.callbacks(request.user), pk=pk)  # another area's: 404
    errors, status = {}, 200
    if request.method == "POST" and task.state == State.OPEN:
        post = request.POST
        try:
            actions.record_result(
                task.pk,
                request.user,
                reached=post.get("reached", ""),
                resolved=post.get("resolved", ""),
                satisfaction=post.get("satisfaction", ""),
                note=post.get("note", ""),
                reopen=post.get("reopen", ""),
            )
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        except TransitionNotAllowed as exc:
            errors, status = {"general": [str(exc)]}, 400
        else:
            task.refresh_from_db()
            if task.reopened:
                messages.success(request, _("Callback recorded; the case is reopened."))
            else:
                messages.success(request, _("Callback recorded."))
            return redirect("callbacks:queue")
    case = task.case
    notes = case.events.filter(is_public=True).exclude(note="").order_by("created_at")
    context = {
        "task": task,
        "case": case,
        "notes": notes,
        "errors": errors,
        "general_error": " ".join(errors.get("general", [])),
        "form": request.POST if errors else {},
        "may_reopen": actions.may_reopen(task),
        "scores": range(1, 6),
        "max_attempts": settings.CALLBACK_MAX_ATTEMPTS,
    }
    return render(request, "callbacks/detail.html", context, status=status)
