"""The user's notifications: the list, "mark all read", and opening one (marks it read)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from wangge.core.safeurl import safe_next

from . import actions

PAGE_SIZE = 50


@login_required
@require_GET
def notification_list(request):
    page = Paginator(actions.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notify/list.html", {"page": page})


@login_required
@require_POST
def mark_all_read(request):
    actions.mark_read(request.user)
    return redirect("notify:list")


@login_required
@require_GET
def open_notification(request, pk: int):
    notification = get_object_or_404(actions.inbox(request.user), pk=pk)
    actions.mark_read(request.user, [notification.pk])
    return redirect(safe_next(request, notification.url, "notify:list"))
