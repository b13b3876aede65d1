"""Reports: only ended periods, drafts replaced, publication freezes scores and case lists,
re-publication needs a reason and keeps the old revision, and one of two publications wins."""

import pytest
from django.core.exceptions import ValidationError

from wangge.evaluation import actions
from wangge.evaluation.models import Report, ReportStatus, Scheme
from wangge.evaluation.tests.conftest import act, shift_back

pytestmark = pytest.mark.django_db


def fire_row(report):
    return report.rows.get(subject_key="fire", slice_path="")


def handled_case(new_case):
    case = new_case()
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "feedback", note="好了")
    return case


def test_a_period_that_has_not_ended_cannot_be_scored(today):
    scheme = Scheme.objects.get(code="cjj-department")
    with pytest.raises(ValidationError) as err:
        actions.compute_report(scheme, today)
    assert "period" in err.value.message_dict


def test_publication_freezes_scores_and_case_lists(new_case, user, yesterday):
    scheme = Scheme.objects.get(code="cjj-department")
    first = handled_case(new_case)
    shift_back(1)
    draft = actions.compute_report(scheme, yesterday, user("admin"))
    assert draft.status == ReportStatus.DRAFT and fire_row(draft).measures["due"] == 1
    report = actions.publish_report(draft, user("admin"))
    assert (report.status, report.revision) == (ReportStatus.PUBLISHED, 1)
    assert actions.unpack_ids(fire_row(report).case_ids)["due"] == [first.pk]
    frozen_score = fire_row(report).score
    # The trail changes afterwards: another case lands in the period; the published report stays.
    shift_back(1, cases=[handled_case(new_case)])
    report.refresh_from_db()
    assert fire_row(report).score == frozen_score
    assert actions.unpack_ids(fire_row(report).case_ids)["due"] == [first.pk]
    # Publishing again needs a reason, then makes revision 2 and keeps revision 1.
    redo = actions.compute_report(scheme, yesterday, user("admin"))
    assert fire_row(redo).measures["due"] == 2
    with pytest.raises(ValidationError) as err:
        actions.publish_report(redo, user("admin"))
    assert "reason" in err.value.message_dict
    second = actions.publish_report(redo, user("admin"), reason="补录两件漏报案卷")
    assert second.revision == 2
    statuses = dict(Report.objects.filter(scheme=scheme, period_key=yesterday.key).values_list("revision", "status"))
    assert statuses == {1: ReportStatus.SUPERSEDED, 2: ReportStatus.PUBLISHED}


def test_publishing_the_same_draft_twice_is_a_conflict(new_case, user, yesterday):
    scheme = Scheme.objects.get(code="cjj-department")
    handled_case(new_case)
    shift_back(1)
    draft = actions.compute_report(scheme, yesterday)
    actions.publish_report(draft, user("admin"))
    with pytest.raises(actions.Conflict):
        actions.publish_report(draft, user("admin"), reason="again")


def test_a_new_draft_replaces_the_old_draft(yesterday):
    scheme = Scheme.objects.get(code="cjj-area")
    actions.compute_report(scheme, yesterday)
    actions.compute_report(scheme, yesterday)
    assert Report.objects.filter(scheme=scheme, period_key=yesterday.key).count() == 1


def test_scores_ranks_and_grades(new_case, user, yesterday):
    handled_case(new_case)
    shift_back(1)
    report = actions.compute_report(Scheme.objects.get(code="cjj-department"), yesterday)
    row = fire_row(report)
    # Handled on time and handled: full marks; no rework: full marks; no rating: its weight shared out.
    assert row.score == 100 and row.grade == "excellent" and row.rank == 1
    idle = report.rows.exclude(subject_key="fire").filter(slice_path="").first()
    assert idle.score is None and idle.rank is None  # nothing due: not scored, not ranked last


def test_areas_are_ranked_among_their_own_level(new_case, yesterday):
    handled_case(new_case)  # scores for its grid, village and town
    shift_back(1)
    report = actions.compute_report(Scheme.objects.get(code="cjj-area"), yesterday)
    rows = list(report.rows.filter(slice_path=""))
    assert sum(1 for r in rows if r.rank == 1) == 3
    for depth in {r.subject_path.count("/") for r in rows}:
        ranks = sorted(r.rank for r in rows if r.subject_path.count("/") == depth and r.rank is not None)
        assert ranks == list(range(1, len(ranks) + 1))
