"""Who is told what when a report is published: each subject its own score (in-app; department heads
also by SMS when the scheme says so), and the leaders over a subject that fell below the scheme's
alert threshold."""

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from wangge.accounts.models import Membership, Role, User
from wangge.notify import actions as notify

from .models import SubjectType
from .scoring import GRADES

COMMAND_ROLES = [Role.LEADER, Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER]


class _Audience:
    """Who hears about a report's rows, read in a few queries for the whole report (a city's
    report has thousands of rows, most with no one to tell), not a query per row."""

    def __init__(self, subject_type: str, rows):
        keys = {row.subject_key for row in rows if not row.slice_path}
        self.told: dict[str, dict[int, tuple[User, bool]]] = {}  # subject key → user id → (user, is head)
        self._leaders: dict[str, list[User]] | None = None
        if subject_type == SubjectType.GRID_MANAGER:
            ids = [int(k) for k in keys if k.isdigit()]
            for user in User.objects.filter(pk__in=ids, is_active=True):
                self.told[str(user.pk)] = {user.pk: (user, False)}
            return
        if subject_type == SubjectType.DEPARTMENT:
            members = Membership.objects.filter(department__code__in=keys).annotate(key=F("department__code"))
        else:
            # A desk's key is "level:area code"; an area's, its code.
            key_of = {k.partition(":")[2] if subject_type == SubjectType.DESK else k: k for k in keys}
            members = Membership.objects.filter(area__code__in=key_of, role__in=COMMAND_ROLES).annotate(
                key=F("area__code")
            )
        for m in members.filter(user__is_active=True).select_related("user").order_by("user_id", "pk"):
            key = m.key if subject_type == SubjectType.DEPARTMENT else key_of[m.key]
            # One entry per user, a head (leader) if any of their memberships here is a leader's.
            user, was_head = self.told.setdefault(key, {}).get(m.user_id, (m.user, False))
            self.told[key][m.user_id] = (user, was_head or m.role == Role.LEADER)

    def recipients(self, row) -> list[tuple[User, bool]]:
        """(user, is_head) pairs told about one row of a report."""
        return list(self.told.get(row.subject_key, {}).values())

    def leaders_over(self, path: str) -> list[User]:
        """The leaders of the area at `path` and of every area above it."""
        if self._leaders is None:
            self._leaders = {}
            found = Membership.objects.filter(role=Role.LEADER, area__isnull=False, user__is_active=True)
            for m in found.select_related("user").annotate(path=F("area__path")).order_by("user_id"):
                self._leaders.setdefault(m.path, []).append(m.user)
        prefixes = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
        users = {u.pk: u for p in prefixes for u in self._leaders.get(p, [])}
        return [users[pk] for pk in sorted(users)]


def report_published(report, rows) -> None:
    body = report.version.body
    subject_type = report.scheme.subject_type
    url = reverse("evaluation:report", args=[report.pk])
    flag_below = body.get("flag_below")
    audience = _Audience(subject_type, rows)
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
        for user, is_head in audience.recipients(row):
            notify.notify(
                user,
                subject,
                _("Rank %(r)s.") % {"r": row.rank or "—"},
                url=url,
                sms=bool(body.get("sms_heads")) and is_head and subject_type == SubjectType.DEPARTMENT,
                dedupe_key=f"evaluation:{report.pk}:{row.subject_key}",
            )
        if flag_below is not None and row.score is not None and row.score < float(flag_below):
            for leader in audience.leaders_over(row.subject_path or ""):
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
