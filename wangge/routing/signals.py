"""After a case is filed, the worker looks at it for an automatic dispatch — only while some
auto-dispatch rule is active (read from a per-process cache), so intake pays nothing otherwise."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from wangge.cases.models import CaseEvent
from wangge.core import refcache

from .models import AutoDispatchRule

RULES_CACHE = "routing.rules"


def _load_rules() -> frozenset:
    return frozenset(AutoDispatchRule.objects.filter(is_active=True).values_list("command_level", flat=True))


_rules = refcache.RefCache(RULES_CACHE, _load_rules)


def _rules_changed(sender, **kwargs):
    refcache.bump(RULES_CACHE)


def _case_filed(sender, instance: CaseEvent, created, **kwargs):
    if not created or instance.action != "report":
        return
    levels = _rules.get()
    if not levels or instance.case.command_level not in levels:
        return
    case_id = instance.case_id

    def enqueue():
        from .tasks import auto_route_task

        auto_route_task(case_id)

    transaction.on_commit(enqueue)


post_save.connect(_case_filed, sender=CaseEvent, dispatch_uid="routing_case_filed")
post_save.connect(_rules_changed, sender=AutoDispatchRule, dispatch_uid="routing_rules_saved")
post_delete.connect(_rules_changed, sender=AutoDispatchRule, dispatch_uid="routing_rules_deleted")
