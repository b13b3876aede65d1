"""Background work of the evaluation, run by the worker (huey): a draft report computed on request
(the pages' and the API's "compute"), and last month's drafts computed and refreshed by themselves.

The monthly task runs every hour and is a few small queries when there is nothing to do. For last
month (from 01:00 on the 1st, Asia/Shanghai), for every active scheme with no published report:
- no draft yet → compute one;
- the appeal window (EVALUATION_APPEAL_DAYS after the month's end) has closed since the draft was
  computed → compute it again (the figures the leaders review are those after the appeals);
- an appeal of the month was accepted since the draft was computed → compute it again (an accepted
  appeal moves the figures).
A draft computed after those moments is left alone, so running it again changes nothing."""

import logging
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_task

from wangge.accounts.models import User
from wangge.history.context import change_context
from wangge.notify import actions as notify
from wangge.worker.lease import periodic

from . import actions
from .models import Appeal, AppealStatus, Report, ReportStatus, Scheme
from .period import Period, month, parse

logger = logging.getLogger(__name__)

MONTHLY_FROM_HOUR = 1  # on the 1st, not before 01:00 (the last day's late events are in)


@db_task()
def compute_report_task(scheme_id: int, period_key: str, user_id: int | None = None):
    """Compute a draft of the scheme's report for the period; the user who asked is told in-app
    that it is ready, or why it failed. Returns the draft's id (None when it failed)."""
    with change_context("worker"):
        return run_compute(scheme_id, period_key, user_id)


def run_compute(scheme_id: int, period_key: str, user_id: int | None = None) -> int | None:
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    scheme = Scheme.objects.filter(pk=scheme_id).first()
    if scheme is None:
        logger.warning("evaluation draft: scheme %s is gone", scheme_id)
        return None
    try:
        report = actions.compute_report(scheme, parse(period_key), user)
    except ValidationError as exc:
        logger.info("evaluation draft %s %s refused: %s", scheme.code, period_key, exc.messages)
        _tell_failed(user, scheme, period_key, " ".join(exc.messages))
        return None
    except Exception:
        logger.exception("evaluation draft %s %s failed", scheme.code, period_key)
        _tell_failed(user, scheme, period_key, _("An error occurred; the administrators find it in the worker's log."))
        return None
    if user is not None:
        notify.notify(
            user,
            _("Draft ready: %(scheme)s %(period)s") % {"scheme": scheme.name, "period": period_key},
            _("Review it, then publish it."),
            url=actions.report_url(report),
            dedupe_key=f"evaluation:draft:{report.pk}",
        )
    return report.pk


def _tell_failed(user, scheme: Scheme, period_key: str, why: str) -> None:
    if user is None:
        return
    url = reverse("evaluation:ranking") + f"?type={scheme.subject_type}&scheme={scheme.code}"
    notify.notify(
        user,
        _("Draft not computed: %(scheme)s %(period)s") % {"scheme": scheme.name, "period": period_key},
        why[:1000],
        url=url,
    )


@periodic("evaluation-monthly-drafts", crontab(minute="20"), every=timedelta(hours=1))
def monthly_drafts():
    """Every hour: last month's drafts, computed once the month is over and again after the
    appeals (see the module's doc); nothing when they are up to date."""
    with change_context("worker"):
        return refresh_drafts()


def _local_midnight(day) -> datetime:
    return datetime.combine(day, time(), timezone.get_current_timezone())


def due_drafts(now=None) -> list[tuple[Scheme, Period, str]]:
    """(scheme, period, why) for every draft of last month the monthly task should compute now."""
    now = timezone.localtime(now)
    if now.day == 1 and now.hour < MONTHLY_FROM_HOUR:
        return []
    last = now.date().replace(day=1) - timedelta(days=1)
    period = month(last.year, last.month)
    schemes = list(Scheme.objects.filter(is_active=True))
    if not schemes:
        return []
    published, drafted = set(), {}
    reports = Report.objects.filter(period_key=period.key, scheme__in=schemes)
    for scheme_id, status, as_of in reports.values_list("scheme_id", "status", "as_of"):
        if status == ReportStatus.PUBLISHED:
            published.add(scheme_id)
        elif status == ReportStatus.DRAFT:
            drafted[scheme_id] = as_of
    window_closed = _local_midnight(actions.appeal_deadline(period) + timedelta(days=1))
    accepted = dict(
        Appeal.objects.filter(period_key=period.key, status=AppealStatus.ACCEPTED)
        .values("subject_type")
        .annotate(last=Max("decided_at"))
        .values_list("subject_type", "last")
    )
    due = []
    for scheme in schemes:
        if scheme.pk in published:
            continue
        as_of = drafted.get(scheme.pk)
        last_accepted = accepted.get(scheme.subject_type)
        if as_of is None:
            due.append((scheme, period, "new"))
        elif now >= window_closed and as_of < window_closed:
            due.append((scheme, period, "appeals closed"))
        elif last_accepted is not None and as_of < last_accepted:
            due.append((scheme, period, "appeal accepted"))
    return due


def refresh_drafts(now=None) -> dict[str, str]:
    """Compute the due drafts of last month, the trail read as of `now`: {scheme code: why} for
    those computed. One scheme that fails does not stop the others (the run then ends in error,
    which the task's heartbeat shows)."""
    now = now or timezone.now()
    done, failed = {}, []
    for scheme, period, why in due_drafts(now):
        try:
            actions.compute_report(scheme, period, as_of=now)
        except ValidationError as exc:  # e.g. no version in force for the month: nothing to score
            logger.warning("evaluation draft %s %s not computed: %s", scheme.code, period.key, exc.messages)
            continue
        except Exception:
            logger.exception("evaluation draft %s %s failed", scheme.code, period.key)
            failed.append(scheme.code)
            continue
        done[scheme.code] = why
    if failed:
        raise RuntimeError(f"evaluation drafts failed: {', '.join(failed)} (computed: {', '.join(done) or 'none'})")
    return done
