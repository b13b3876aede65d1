"""Every state change of the evaluation: scheme versions, reports (compute → publish, frozen,
revisions), appeals (file → decide). Each checks its rule, writes, records the change and queues
notifications in one transaction."""

import json
import zlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Max, Value, When
from django.db.models import Case as When_
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.actions.errors import TransitionRefused
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction

from . import notices
from .compute import compute, context
from .indicators import SOURCES
from .models import Report, ReportRow, ReportStatus, Scheme, SchemeVersion, SubjectType
from .period import Period
from .scoring import check_body, score


class Conflict(TransitionRefused):
    """Someone else did it first (HTTP 409)."""

    status = 409


# ---- schemes


@transaction.atomic
def save_scheme_version(scheme: Scheme, body, valid_from, user, note: str = "") -> SchemeVersion:
    """The scheme's next version, in force from `valid_from`. A published period keeps the version
    it was scored with: a new version may not start on or before the end of a published period."""
    clean = check_body(scheme.subject_type, body)
    if valid_from is None:
        raise ValidationError({"valid_from": _("Say from which day the new version is in force.")})
    published_until = scheme.reports.filter(status=ReportStatus.PUBLISHED).aggregate(m=Max("period_end"))["m"]
    if published_until and valid_from <= published_until:
        raise ValidationError(
            {
                "valid_from": _("A published report covers the days up to %(d)s: start the new version after it.")
                % {"d": published_until}
            }
        )
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    number = (scheme.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = SchemeVersion.objects.create(
        scheme=scheme, number=number, valid_from=valid_from, body=clean, note=note[:2000], created_by=user
    )
    record_change(
        version, ChangeAction.CREATE, acting_user=user, after={"number": number, "body": clean}, related=scheme
    )
    return version


@transaction.atomic
def create_scheme(code: str, name: str, subject_type: str, body, valid_from, user, description="") -> Scheme:
    errors = {}
    if not code or Scheme.objects.filter(code=code).exists():
        errors["code"] = _("Give a code not used by another scheme.")
    if not name.strip():
        errors["name"] = _("Give the scheme a name.")
    if subject_type not in dict(Scheme._meta.get_field("subject_type").choices):
        errors["subject_type"] = _("Choose who is evaluated.")
    if errors:
        raise ValidationError(errors)
    scheme = Scheme.objects.create(code=code, name=name.strip(), subject_type=subject_type, description=description)
    record_change(scheme, ChangeAction.CREATE, acting_user=user, after={"code": code, "name": name})
    save_scheme_version(scheme, body, valid_from, user, note=_("First version"))
    return scheme


# ---- reports


def _version_in_force(scheme: Scheme, period: Period) -> SchemeVersion:
    version = scheme.version_for(period.start)
    if version is None:
        raise ValidationError({"period": _("The scheme has no version in force for this period.")})
    return version


def score_rows(version: SchemeVersion, results) -> list[ReportRow]:
    """ReportRows (unsaved) for computed results, ranked within each slice (best score first)."""
    rows = []
    for result in results:
        value, grade, points = score(version.body, result.indicators)
        rows.append(
            ReportRow(
                subject_key=result.subject.key,
                subject_label=result.subject.label,
                subject_path=result.subject.path,
                slice_path=result.slice_path,
                score=value,
                grade=grade,
                measures=result.measures,
                indicators=result.indicators,
                points=points,
            )
        )
    # Ranked among peers: within a slice, and areas and desks within their level (a town is not
    # ranked against grids, nor a village's desk against the city's).
    by_level = version.scheme.subject_type in (SubjectType.AREA, SubjectType.DESK)
    groups: dict[tuple, list[ReportRow]] = {}
    for row in rows:
        groups.setdefault((row.slice_path, row.subject_path.count("/") if by_level else 0), []).append(row)
    for group in groups.values():
        scored = sorted((r for r in group if r.score is not None), key=lambda r: (-r.score, r.subject_key))
        for rank, row in enumerate(scored, start=1):
            row.rank = rank
    return rows


def compute_report(scheme: Scheme, period: Period, user=None, as_of=None) -> Report:
    """A fresh draft of the scheme's report for an ended period (replacing the previous draft)."""
    if not period.has_ended:
        raise ValidationError(
            {
                "period": _("The period has not ended yet: it can be scored from %(d)s.")
                % {"d": period.end + timedelta(days=1)}
            }
        )
    version = _version_in_force(scheme, period)
    as_of = as_of or timezone.now()
    # Reads before the write transaction (SQLite: one writer at a time). The counted case ids are
    # kept with the draft, so that what is reviewed — figures and lists — is what gets published.
    ctx = context(scheme.subject_type, period, as_of)
    rows = score_rows(version, compute(scheme.subject_type, period, as_of, ctx=ctx))
    frozen = frozen_case_ids(scheme.subject_type, ctx)
    for row in rows:
        row.case_ids = pack_ids(frozen.get((row.subject_key, row.slice_path), {}))
    with transaction.atomic():
        Report.objects.filter(scheme=scheme, period_key=period.key, status=ReportStatus.DRAFT).delete()
        report = Report.objects.create(
            scheme=scheme,
            version=version,
            period_key=period.key,
            period_start=period.start,
            period_end=period.end,
            as_of=as_of,
            computed_by=user,
        )
        for row in rows:
            row.report = report
        ReportRow.objects.bulk_create(rows, batch_size=500)
    return report


def frozen_case_ids(subject_type: str, ctx) -> dict[tuple[str, str], dict[str, list[int]]]:
    """{(subject, slice): {measure: case ids}} for every counted measure: one query per source, its
    rows with a flag per measure (the measure's filter), so the period's rows are read once, not once
    per measure."""
    out: dict[tuple[str, str], dict[str, set[int]]] = {}
    for source in SOURCES[subject_type]:
        if not source.links_cases:
            continue
        measures = [m for m in source.measures(ctx) if m.counts_cases]
        flags = {
            f"counts_{n}": When_(When(m.filter, then=Value(True)), default=Value(False), output_field=BooleanField())
            if m.filter
            else Value(True, output_field=BooleanField())
            for n, m in enumerate(measures)
        }
        fields = (*source.group_fields, source.case_field)
        width = len(fields)
        targets_of: dict[tuple, list] = {}
        for row in source.rows(ctx).values_list(*fields).annotate(**flags).order_by().iterator(chunk_size=5000):
            group = row[: width - 1]
            targets = targets_of.get(group)
            if targets is None:
                named = dict(zip(source.group_fields, group, strict=True))
                targets = targets_of[group] = source.subjects_of(named, ctx)
            case_id = row[width - 1]
            for n, measure in enumerate(measures):
                if row[width + n]:
                    for target in targets:
                        out.setdefault(target, {}).setdefault(measure.code, set()).add(case_id)
    return {t: {m: sorted(ids) for m, ids in by_measure.items()} for t, by_measure in out.items()}


def pack_ids(ids: dict[str, list[int]]) -> bytes:
    return zlib.compress(json.dumps(ids, separators=(",", ":")).encode())


def unpack_ids(blob) -> dict[str, list[int]]:
    return json.loads(zlib.decompress(bytes(blob))) if blob else {}


def publish_report(report: Report, user, reason: str = "") -> Report:
    """Freeze a draft as it was reviewed: its scores and the cases behind every figure no longer move
    with the trail. Publishing again (a new draft of a published period) needs a reason and keeps the
    old revision."""
    try:
        with transaction.atomic():
            report = Report.objects.select_for_update().select_related("scheme").get(pk=report.pk)
            if report.status != ReportStatus.DRAFT:
                raise Conflict(_("This report was already published (revision %(r)s).") % {"r": report.revision})
            previous = Report.objects.filter(
                scheme=report.scheme, period_key=report.period_key, status=ReportStatus.PUBLISHED
            ).first()
            if previous and not reason.strip():
                raise ValidationError({"reason": _("This period is already published: say why it is published again.")})
            if previous:
                previous.status = ReportStatus.SUPERSEDED
                previous.save(update_fields=["status"])
            last = Report.objects.filter(scheme=report.scheme, period_key=report.period_key).aggregate(
                m=Max("revision")
            )["m"]
            report.status, report.revision = ReportStatus.PUBLISHED, (last or 0) + 1
            report.published_at, report.published_by, report.reason = timezone.now(), user, reason.strip()[:2000]
            report.save(update_fields=["status", "revision", "published_at", "published_by", "reason"])
            rows = list(report.rows.all())
            after = {"status": ReportStatus.PUBLISHED, "revision": report.revision, "reason": reason}
            record_change(
                report, ChangeAction.UPDATE, acting_user=user, before={"status": ReportStatus.DRAFT}, after=after
            )
            notices.report_published(report, rows)
    except IntegrityError as exc:  # the other publication of this period committed first
        raise Conflict(_("Someone else published this period at the same time. Reload the page.")) from exc
    return report


def report_url(report: Report) -> str:
    return reverse("evaluation:report", args=[report.pk])


def appeal_deadline(period: Period):
    return period.end + timedelta(days=settings.EVALUATION_APPEAL_DAYS)
