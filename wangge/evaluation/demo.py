"""The demo city's evaluation: last month's drafts for every shipped scheme, two of them published,
and appeals from a department (one accepted, one refused, one waiting), so that the ranking, the
drill-downs and the appeal desk mean something to someone trying the demo. Idempotent."""

from django.db import transaction

from wangge.accounts.models import Membership, Role, User

from . import actions, appeals, compute
from .models import Appeal, Report, ReportStatus, Scheme
from .period import last_month

PUBLISHED = ("cjj-department", "cjj-area")


def seed_evaluation(log=print) -> None:
    period = last_month()
    if Report.objects.filter(period_key=period.key).exists():
        return
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    _demo_appeals(period, log)
    for scheme in Scheme.objects.filter(is_active=True):
        report = actions.compute_report(scheme, period, admin)
        if scheme.code in PUBLISHED:
            actions.publish_report(report, admin)
    published = Report.objects.filter(period_key=period.key, status=ReportStatus.PUBLISHED).count()
    log(f"evaluation: {period.key} drafts for every scheme, {published} published, "
        f"{Appeal.objects.filter(period_key=period.key).count()} appeals")  # fmt: skip


def _demo_appeals(period, log) -> None:
    """A department contests three overdue cases of last month; the town dispatcher decides two."""
    handler = Membership.objects.filter(role=Role.DEPARTMENT_HANDLER, department__isnull=False).select_related(
        "user", "department"
    )
    decider = User.objects.filter(memberships__role=Role.TOWN_DISPATCHER).order_by("pk").first()
    for membership in handler.order_by("pk"):
        key = membership.department.code
        ids = compute.counted_case_ids("department", period, key, "overdue")
        if len(ids) < 3 or decider is None:
            continue
        reasons = [
            "派遣时选错了部门,本部门收到时已超期。",
            "现场为私人物业,需业主配合,已多次联系。",
            "暴雨天气无法施工,已申请延期未获及时答复。",
        ]
        filed = []
        for case_id, reason in zip(ids[:3], reasons, strict=False):
            with transaction.atomic():
                filed.append(
                    appeals.file_appeal(membership.user, subject_type="department", subject_key=key,
                                        case_id=case_id, period_key=period.key, reason=reason)
                )  # fmt: skip
        visible = appeals.decidable_appeals(decider)
        if len(filed) == 3 and visible.filter(pk=filed[0].pk).exists():
            appeals.decide_appeal(decider, filed[0].pk, accept=True, note="核实属派遣错误,不计入该部门。")
            appeals.decide_appeal(decider, filed[1].pk, accept=False, note="联系业主属部门职责,不予支持。")
        log(f"evaluation: {len(filed)} demo appeals by {key}")
        return
