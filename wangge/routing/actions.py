"""Every change of routing state: training a version, making a version serve (and rolling back),
keeping a case's suggestions, dispatching automatically under a rule and undoing it."""

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wangge.accounts.models import Role
from wangge.cases import actions as case_actions
from wangge.cases import roles as case_roles
from wangge.cases.models import Case, Status
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction
from wangge.notify import actions as notify
from wangge.worker.health import administrators

from . import dataset, serving, training
from .models import AutoDispatchRule, CaseSuggestion, ModelStatus, RoutingModel
from .suggest import suggest

log = logging.getLogger(__name__)
# A new version serves at once unless it is clearly worse than the one serving on the evaluation set.
MAX_TOP1_DROP = 0.03
# Reasons the platform itself gives, stored in English and shown translated ({% trans m.reason %}).
SHIPPED_REASON = gettext_noop("The shipped training set")
WEEKLY_REASON = gettext_noop("Weekly retraining")
TRAINING_STALE = timedelta(hours=3)  # a version "training" longer than this was interrupted (worker died)
INTERRUPTED = gettext_noop("Interrupted: the worker stopped while training it.")
KEEP_ARTIFACTS = 5  # versions whose model file is kept for a rollback (besides the serving one)


def require_admin(user) -> None:
    if not (user.is_superuser or user.has_role(Role.ADMIN)):
        raise PermissionDenied(_("Only administrators manage the routing models."))


def tell_administrators(key: str, subject: str, body: str) -> None:
    url = reverse("routing_models")
    for user in administrators():
        notify.notify(user, subject, body, url=url, dedupe_key=key)


# ---------------------------------------------------------------------------------------------
# Versions


@transaction.atomic
def start_training(user, reason: str = "") -> RoutingModel:
    """A new version row in state training; the worker trains it (tasks.train_task)."""
    if user is not None:
        require_admin(user)
    reason = (reason or "").strip()[:200]
    RoutingModel.objects.filter(status=ModelStatus.TRAINING, created_at__lt=timezone.now() - TRAINING_STALE).update(
        status=ModelStatus.FAILED, error=INTERRUPTED
    )
    if RoutingModel.objects.filter(status=ModelStatus.TRAINING).exists():
        raise ValidationError({"reason": _("A version is being trained already; wait until it is done.")})
    version = (RoutingModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    record = RoutingModel.objects.create(version=version, created_by=user, reason=reason)
    record_change(record, ChangeAction.CREATE, acting_user=user, after={"version": version, "reason": reason})
    return record


def train(record: RoutingModel) -> RoutingModel:
    """Train the version on the shipped set and the platform's decisions, measure it on the
    evaluation set, store it; serve it when it is not clearly worse than the serving one. A failure
    leaves the serving version in place, marks this one failed and tells the administrators."""
    try:
        shipped = dataset.shipped_examples()
        platform = dataset.platform_examples()
        model, seconds = training.train(shipped + platform)
        metrics = training.measure(model)
        blob = model.dumps()
    except Exception as error:  # noqa: BLE001 — whatever broke, the serving version stays
        log.exception("routing model v%s failed to train", record.version)
        RoutingModel.objects.filter(pk=record.pk).update(status=ModelStatus.FAILED, error=repr(error)[:2000])
        tell_administrators(
            f"routing-train:{record.pk}",
            _("Routing model version %(v)s failed to train") % {"v": record.version},
            _("The previous version keeps serving. %(e)s") % {"e": str(error)[:300]},
        )
        record.refresh_from_db()
        return record
    with transaction.atomic():
        record = RoutingModel.objects.select_for_update().get(pk=record.pk)
        record.artifact, record.metrics, record.train_seconds = blob, metrics, round(seconds, 2)
        record.shipped_examples, record.platform_examples = len(shipped), len(platform)
        record.label_count, record.status = len(model.labels), ModelStatus.READY
        record.save()
        _prune_artifacts()
        serving_now = RoutingModel.objects.filter(status=ModelStatus.ACTIVE).first()
        if serving_now is None or _not_worse(metrics, serving_now.metrics):
            _activate(record, None)
        else:
            tell_administrators(
                f"routing-worse:{record.pk}",
                _("Routing model version %(v)s was not put in service") % {"v": record.version},
                _(
                    "Its accuracy on the evaluation set is lower than the serving version's; "
                    "an administrator may still choose it."
                ),
            )
    return record


def bootstrap() -> RoutingModel | None:
    """A database with no version yet: the shipped set's model (trained once per process) is stored
    as the first version and serves. None when another process stored one meanwhile."""
    model, seconds = training.shipped_model()
    try:
        with transaction.atomic():
            if RoutingModel.objects.exists():
                return None
            record = RoutingModel.objects.create(
                version=1,
                reason=SHIPPED_REASON,
                artifact=training.shipped_blob(),
                metrics=training.shipped_metrics(),
                train_seconds=round(seconds, 2),
                shipped_examples=training.shipped_count(),
                label_count=len(model.labels),
                status=ModelStatus.READY,
            )
            # Called while the serving cache loads (its lock held): no cache bump here — no process
            # serves a stored version yet, and the others load this one on their next look.
            _activate(record, None, tell_processes=False)
            return record
    except IntegrityError:
        return None


def _prune_artifacts() -> None:
    """Model files are several MB: only the newest few ready versions keep theirs (older ones stay
    listed with their figures, but can no longer serve)."""
    ready = RoutingModel.objects.filter(status=ModelStatus.READY).exclude(artifact=None).order_by("-version")
    old = list(ready.values_list("pk", flat=True)[KEEP_ARTIFACTS:])
    if old:
        RoutingModel.objects.filter(pk__in=old).update(artifact=None)


def _not_worse(new: dict, old: dict) -> bool:
    if not old.get("top1") or not new.get("top1"):
        return True
    return new["top1"] >= old["top1"] - MAX_TOP1_DROP


def _activate(record: RoutingModel, user, *, tell_processes: bool = True) -> None:
    previous = RoutingModel.objects.select_for_update().filter(status=ModelStatus.ACTIVE).exclude(pk=record.pk)
    old = previous.first()
    previous.update(status=ModelStatus.READY)
    record.status, record.activated_at = ModelStatus.ACTIVE, timezone.now()
    record.save(update_fields=["status", "activated_at"])
    record_change(
        record,
        ChangeAction.UPDATE,
        acting_user=user,
        before={"serving": old.version if old else None},
        after={"serving": record.version},
    )
    if tell_processes:
        serving.changed()


@transaction.atomic
def activate(user, record: RoutingModel) -> RoutingModel:
    """Serve this version (a rollback to an earlier one, or a ready one that was held back)."""
    require_admin(user)
    record = RoutingModel.objects.select_for_update().get(pk=record.pk)
    if record.status == ModelStatus.ACTIVE:
        return record
    if record.status != ModelStatus.READY or not record.artifact:
        raise ValidationError({"version": _("Only a trained version can serve.")})
    _activate(record, user)
    return record


# ---------------------------------------------------------------------------------------------
# Cases


def suggestion_for(case: Case) -> CaseSuggestion | None:
    """The case's stored suggestions (made now, by the serving model, when there are none): which
    model suggested what stays with the case."""
    existing = CaseSuggestion.objects.filter(case=case).select_related("model").first()
    if existing is not None:
        return existing
    if not (case.description or "").strip():
        return existing
    departments = case_roles.dispatchable_departments(case)
    suggestions, version = suggest(case.description[: dataset.MAX_DESCRIPTION], departments=departments)
    model = RoutingModel.objects.filter(version=version).first() if version is not None else None
    if model is None:
        return existing
    with transaction.atomic():
        row, _created = CaseSuggestion.objects.update_or_create(
            case=case, defaults={"model": model, "suggestions": suggestions}
        )
    return row


def auto_route(case_id: int) -> CaseSuggestion | None:
    """Under an active rule for the top suggestion's matter item and the case's command level, with
    enough confidence: register and dispatch the case as the system. Run by the worker after intake."""
    case = Case.objects.filter(pk=case_id, status=Status.REPORTED).select_related("area").first()
    if case is None:
        return None
    row = suggestion_for(case)
    top = row.top if row is not None else None
    if not top or not top.get("matter_item") or not top.get("department"):
        return row
    rule = (
        AutoDispatchRule.objects.filter(
            is_active=True, matter_item__code=top["matter_item"], command_level=case.command_level
        )
        .select_related("matter_item")
        .first()
    )
    if rule is None or top["score"] < rule.threshold:
        return row
    note = _("Dispatched automatically: %(name)s, confidence %(p)s%% (routing model version %(v)s).") % {
        "name": top["category_name"],
        "p": round(top["score"] * 100),
        "v": row.model.version,
    }
    try:
        with transaction.atomic():
            case_actions.transition(
                case,
                None,
                "dispatch",
                version=case.version,
                departments=[top["department"]],
                matter_item=top["matter_item"],
                category=top["category"],
                note=note,
            )
            CaseSuggestion.objects.filter(pk=row.pk).update(auto_rule=rule, auto_routed_at=timezone.now())
    except (case_actions.TransitionRefused, ValidationError) as error:
        log.info("auto-dispatch of case %s not done: %s", case.pk, error)  # a dispatcher acted first
    row.refresh_from_db()
    return row


@transaction.atomic
def undo_auto_route(user, case: Case, *, version: int, note: str = "") -> Case:
    """A dispatcher takes back an automatic dispatch: the departments' assignments are cancelled (none
    may have accepted yet) and the case waits at the desk again, marked undone."""
    row = CaseSuggestion.objects.select_for_update().filter(case=case).first()
    if row is None or row.auto_routed_at is None:
        raise ValidationError({"case": _("This case was not dispatched automatically.")})
    if row.undone_at is not None:
        raise ValidationError({"case": _("The automatic dispatch was undone already.")})
    text = (note or "").strip() or _("Automatic dispatch undone.")
    case = case_actions.transition(case, user, "recall", version=version, note=text)
    row.undone_at, row.undone_by = timezone.now(), user
    row.save(update_fields=["undone_at", "undone_by"])
    return case


# ---------------------------------------------------------------------------------------------
# Auto-dispatch rules


def save_rule(user, *, matter_item, command_level, threshold, is_active=True, rule=None) -> AutoDispatchRule:
    require_admin(user)
    errors = {}
    try:
        threshold = float(threshold)
        if not 0 < threshold <= 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["threshold"] = _("A confidence between 0 and 1, e.g. 0.9.")
    from wangge.cases.models import COMMAND_LEVELS

    if command_level not in COMMAND_LEVELS:
        errors["command_level"] = _("Choose the village, town or city command level.")
    if matter_item is None:
        errors["matter_item"] = _("Choose a matter item.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        clash = AutoDispatchRule.objects.filter(matter_item=matter_item, command_level=command_level)
        if rule is not None:
            clash = clash.exclude(pk=rule.pk)
        if clash.exists():
            raise ValidationError({"matter_item": _("There is a rule for this matter item and level already.")})
        before = None
        if rule is None:
            rule = AutoDispatchRule(created_by=user)
        else:
            before = {"threshold": rule.threshold, "is_active": rule.is_active}
        rule.matter_item, rule.command_level = matter_item, command_level
        rule.threshold, rule.is_active = threshold, bool(is_active)
        rule.save()
        after = {"threshold": threshold, "is_active": rule.is_active}
        action = ChangeAction.UPDATE if before else ChangeAction.CREATE
        record_change(rule, action, acting_user=user, before=before, after=after)
    return rule


@transaction.atomic
def delete_rule(user, rule: AutoDispatchRule) -> None:
    require_admin(user)
    record_change(rule, ChangeAction.DELETE, acting_user=user, before={"threshold": rule.threshold})
    rule.delete()
