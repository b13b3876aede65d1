"""Routing pages: the suggestion panel of a case page (one click takes a suggestion and dispatches),
the suggestion box of the entry forms, and the administrators' page of versions and auto-dispatch
rules. Thin: every change goes through actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.cases import actions as case_actions
from wangge.cases import queries
from wangge.cases.models import COMMAND_LEVELS, MatterItem, Status

from . import actions
from .models import AutoDispatchRule, CaseSuggestion, ModelStatus, RoutingModel
from .suggest import suggest


def _staff(user):
    if user.is_personal:
        raise PermissionDenied


@login_required
def case_panel(request, pk):
    """The case page's suggestions (loaded into the page after it shows): for a case waiting at the
    desk, each suggestion with a button that registers and dispatches it as suggested; for an
    automatically dispatched case, the rule's reason and the undo."""
    case = get_object_or_404(queries.case_list(request.user), pk=pk)
    allowed = {t.action for t in case_actions.allowed_actions(request.user, case)}
    context = {"case": case, "may_dispatch": "dispatch" in allowed, "may_recall": "recall" in allowed}
    context["at_the_desk"] = case.status in (Status.REPORTED, Status.REGISTERED) and context["may_dispatch"]
    if context["at_the_desk"]:
        context["row"] = actions.suggestion_for(case)
    else:
        context["row"] = CaseSuggestion.objects.filter(case=case).select_related("model").first()
    return render(request, "routing/_case_panel.html", context)


@login_required
@require_POST
def undo(request, pk):
    case = get_object_or_404(queries.case_list(request.user), pk=pk)
    version = request.POST.get("version", "")
    try:
        if not version.isdigit():
            raise ValidationError(_("Reload the case page and try again."))
        actions.undo_auto_route(request.user, case, version=int(version), note=request.POST.get("note", ""))
        messages.success(request, _("The automatic dispatch was taken back; the case waits for a dispatcher."))
    except (case_actions.TransitionRefused, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("case_detail", pk=case.pk)


@login_required
@require_POST
def suggest_box(request):
    """The entry forms' suggestions while the description is typed (htmx)."""
    _staff(request.user)
    text = (request.POST.get("description") or "").strip()
    found, error = [], ""
    if len(text) >= 4:
        try:
            found, _version = suggest(text, k=3)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(request, "routing/_suggest_box.html", {"suggestions": found, "error": error})


@login_required
def models_page(request):
    """Versions (accuracy on the evaluation set, which serves, train, roll back) and the rules."""
    actions.require_admin(request.user)
    context = {
        "models": RoutingModel.objects.defer("artifact").select_related("created_by")[:30],
        "training": RoutingModel.objects.filter(status=ModelStatus.TRAINING).exists(),
        "servable": set(RoutingModel.objects.exclude(artifact=None).values_list("version", flat=True)),
        "rules": AutoDispatchRule.objects.select_related("matter_item"),
        "matter_items": MatterItem.objects.filter(is_active=True),
        "levels": [(level.value, level.label) for level in COMMAND_LEVELS],
    }
    return render(request, "routing/models.html", context)


@login_required
@require_POST
def train(request):
    from .tasks import train_task

    try:
        record = actions.start_training(request.user, request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("routing_models")
    train_task(record.pk)
    message = _("Version %(v)s is being trained; it serves when it is ready and not worse.")
    messages.success(request, message % {"v": record.version})
    return redirect("routing_models")


@login_required
@require_POST
def serve(request, version):
    record = get_object_or_404(RoutingModel.objects.defer("artifact"), version=version)
    try:
        actions.activate(request.user, record)
        messages.success(request, _("Version %(v)s serves now.") % {"v": record.version})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("routing_models")


@login_required
@require_POST
def save_rule(request):
    actions.require_admin(request.user)
    rule = None
    if request.POST.get("rule"):
        rule_id = request.POST["rule"]
        rule = get_object_or_404(AutoDispatchRule, pk=int(rule_id) if rule_id.isdigit() else 0)
    if request.POST.get("delete") and rule is not None:
        actions.delete_rule(request.user, rule)
        messages.success(request, _("Rule deleted."))
        return redirect("routing_models")
    item = MatterItem.objects.filter(code=request.POST.get("matter_item", ""), is_active=True).first()
    try:
        actions.save_rule(
            request.user,
            matter_item=item if rule is None else rule.matter_item,
            command_level=request.POST.get("command_level", "") if rule is None else rule.command_level,
            threshold=request.POST.get("threshold", ""),
            is_active=request.POST.get("is_active") == "1",
            rule=rule,
        )
        messages.success(request, _("Rule saved."))
    except ValidationError as error:
        messages.error(request, " ".join(f"{_field_label(f)}: {' '.join(m)}" for f, m in error.message_dict.items()))
    return redirect("routing_models")


def _field_label(name):
    return {
        "matter_item": _("Matter item"),
        "command_level": _("Command level"),
        "threshold": _("Minimum confidence"),
    }.get(name, name)
