"""Who is told what when a report is published: each subject its own score (in-app; department heads
also by SMS when the scheme says so), and the leaders over a subject that fell below the scheme's
alert threshold."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from wangge.accounts.models import Membership, Role, User
from wangge.notify import actions as notify

from .models import SubjectType
from .scoring import GRADES


def _recipients(subject_type: str, row) -> list[tuple[User, bool]]:
    """(user, is_head) pairs told about one row of a report."""
    if subject_type == SubjectType.GRID_MANAGER:
        user = User.objects.filter(pk=int(row.subject_key), is_active=True).first()
        return [(user, False)] if user else []
    if subject_type == SubjectType.DEPARTMENT:
        members = Membership.objects.filter(department__code=row.subject_key, user__is_active=True)
    else:
        code = row.subject_key.partition(":")[2] if subject_type == SubjectType.DESK else row.subject_key
        members = Membership.objects.filter(area__code=code, user__is_active=True).filter(
            role__in=[Role.LEADER, Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER]
        )
    seen, out = set(), []
    for m in members.select_related("user").order_by("user_id"):
        if m.user_id not in seen:
            seen.add(m.user_id)
            out.append((m.user, m.role == Role.LEADER))
    return out


def _leaders_over(path: str) -> list[User]:
    prefixes = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    found = Membership.objects.filter(role=Role.LEADER, area__path__in=prefixes, user__is_active=True)
    return list(User.objects.filter(Q(pk__in=found.values("user_id"))).order_by("pk"))


def report_published(report, rows) -> None:
    body = report.version.body
    subject_type = report.scheme.subject_type
    url = reverse("evaluation:report", args=[report.pk])
    flag_below = body.get("flag_below")
    for row in rows:
        if row.slice_path:
            continue  # the town slices of a department are the same work, told once
        score = "—" if row.score is None else f"{row.score:g}"
        grade = GRADES.get(row.grade, "")
        subject = _("%(scheme)s %(period)s: %(who)s scored %(score)s %(grade)s") % {
            "scheme": report.scheme.name,
            "period": report.period_key,
            "who": row.subject_label,
            "score": score,
            "grade": grade,
        }
        for user, is_head in _recipients(subject_type, row):
            notify.notify(
                user,
                subject,
                _("Rank %(r)s.") % {"r": row.rank or "—"},
                url=url,
                sms=bool(body.get("sms_heads")) and is_head and subject_type == SubjectType.DEPARTMENT,
                dedupe_key=f"evaluation:{report.pk}:{row.subject_key}",
            )
        if flag_below is not None and row.score is not None and row.score < float(flag_below):
            for leader in _leaders_over(row.subject_path or ""):
                notify.notify(
                    leader,
                    _("Below %(t)s: %(who)s, %(score)s in %(scheme)s %(period)s")
                    % {
                        "t": f"{float(flag_below):g}",
                        "who": row.subject_label,
                        "score": score,
                        "scheme": report.scheme.name,
                        "period": report.period_key,
                    },
                    url=url,
                    dedupe_key=f"evaluation:{report.pk}:{row.subject_key}:flag",
                )


def appeal_filed(appeal, deciders) -> None:
    url = reverse("evaluation:appeal", args=[appeal.pk])
    for user in deciders:
        notify.notify(
            user,
            _("Appeal on case %(n)s (%(p)s)") % {"n": appeal.case, "p": appeal.period_key},
            appeal.reason[:150],
            url=url,
            dedupe_key=f"evaluation:appeal:{appeal.pk}:filed",
        )


def appeal_decided(appeal) -> None:
    if appeal.filed_by_id:
        url = reverse("evaluation:appeal", args=[appeal.pk])
        notify.notify(
            appeal.filed_by,
            _("Appeal on case %(n)s: %(s)s") % {"n": appeal.case, "s": appeal.get_status_display()},
            appeal.decision_note[:150],
            url=url,
            dedupe_key=f"evaluation:appeal:{appeal.pk}:decided",
        )
