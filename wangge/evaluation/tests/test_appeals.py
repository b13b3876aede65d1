"""Appeal rules (appeals.file_appeal / decide_appeal): an accepted appeal moves the draft scores and
the drill-down with them, a refused one changes nothing; the window, the "counted for you" rule,
one appeal per case, and the case's trail."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from wangge.accounts.models import User
from wangge.cases.models import Assignment, CaseEvent
from wangge.cases.tests.conftest import jpeg_bytes
from wangge.evaluation import actions, appeals, queries
from wangge.evaluation.models import AppealStatus, Report, Scheme
from wangge.evaluation.period import by_dates, current_month, month
from wangge.evaluation.tests.conftest import act

pytestmark = pytest.mark.django_db


def dispatched(new_case, departments=("fire",), overdue=True):
    case = new_case()
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "dispatch", departments=list(departments))
    if overdue:
        Assignment.objects.filter(case=case).update(deadline=timezone.now() - timedelta(hours=1))
    return case


def u(name):
    return User.objects.get(username=name)


def file(case, period, who="fire_handler", key="fire", reason="派错部门,应由住建处置", **kw):
    return appeals.file_appeal(u(who), subject_type="department", subject_key=key, case_id=case.pk,
                               period_key=period.key, reason=reason, **kw)  # fmt: skip


def fire_row(period, code="fire"):
    sheet = queries.sheet(u("admin"), Scheme.objects.get(code="cjj-department"), period)
    return sheet, next(r for r in sheet.rows if r.subject_key == code and r.slice_path == "")


def behind(sheet, row, measure):
    return sorted(queries.cases_behind(u("admin"), sheet, row, measure).values_list("pk", flat=True))


def test_an_accepted_appeal_takes_the_case_out_of_the_live_figures_and_their_list(new_case):
    period = current_month()
    contested, other = dispatched(new_case), dispatched(new_case)
    sheet, before = fire_row(period)
    assert {contested.pk, other.pk} <= set(behind(sheet, before, "overdue"))
    appeal = file(contested, period)
    assert fire_row(period)[1].measures == before.measures  # filed, not decided: nothing moves

    appeals.decide_appeal(u("village_dispatcher"), appeal.pk, accept=True, note="确系派遣错误")
    sheet, after = fire_row(period)
    assert after.measures["due"] == before.measures["due"] - 1
    assert after.measures["overdue"] == before.measures["overdue"] - 1
    for measure in ("due", "overdue"):
        ids = behind(sheet, after, measure)
        assert contested.pk not in ids and other.pk in ids
        assert len(ids) == after.measures[measure]  # the figure and its list agree


def test_an_accepted_appeal_can_count_the_case_for_another_department(new_case):
    period = current_month()
    contested = dispatched(new_case)
    _s, fire_before = fire_row(period)
    _s, housing_before = fire_row(period, "housing")
    appeal = file(contested, period)
    appeals.decide_appeal(u("town_dispatcher"), appeal.pk, accept=True, note="应由住建处置", reattribute_to="housing")
    sheet, fire_after = fire_row(period)
    _s, housing_after = fire_row(period, "housing")
    assert fire_after.measures["overdue"] == fire_before.measures["overdue"] - 1
    assert housing_after.measures["overdue"] == housing_before.measures["overdue"] + 1
    housing_list = behind(sheet, housing_after, "overdue")
    assert contested.pk in housing_list and len(housing_list) == housing_after.measures["overdue"]
    assert contested.pk not in behind(sheet, fire_after, "overdue")


def test_a_refused_appeal_changes_nothing(new_case):
    period = current_month()
    contested = dispatched(new_case)
    sheet, before = fire_row(period)
    appeal = file(contested, period)
    appeals.decide_appeal(u("village_dispatcher"), appeal.pk, accept=False, note="派遣无误")
    sheet, after = fire_row(period)
    assert after.measures == before.measures and after.score == before.score
    assert contested.pk in behind(sheet, after, "overdue")


def test_a_stored_draft_is_dropped_by_an_accepted_appeal_and_recomputed_without_the_case(new_case):
    yesterday = timezone.localdate() - timedelta(days=1)
    period = by_dates(yesterday, yesterday)  # ended, and its appeal window still open
    contested = dispatched(new_case)
    Assignment.objects.filter(case=contested).update(created_at=timezone.now() - timedelta(days=1))
    scheme = Scheme.objects.get(code="cjj-department")
    draft = actions.compute_report(scheme, period, u("admin"))
    due = draft.rows.get(subject_key="fire", slice_path="").measures["due"]
    appeal = file(contested, period)
    appeals.decide_appeal(u("village_dispatcher"), appeal.pk, accept=True, note="确系派遣错误")
    assert not Report.objects.filter(pk=draft.pk).exists()  # stale: its figures no longer match the trail
    sheet, live = fire_row(period)
    assert sheet.state == "live" and live.measures["due"] == due - 1
    again = actions.compute_report(scheme, period, u("admin"))
    row = again.rows.get(subject_key="fire", slice_path="")
    assert row.measures["due"] == due - 1
    assert len(behind(queries.sheet(u("admin"), scheme, period), row, "due")) == due - 1


def test_appeals_close_after_the_window(new_case, settings):
    case = dispatched(new_case)
    today = timezone.localdate()
    closed_on = today - timedelta(days=settings.EVALUATION_APPEAL_DAYS + 1)  # its window ended yesterday
    old = by_dates(closed_on, closed_on)
    with pytest.raises(ValidationError) as exc:
        file(case, old)
    assert set(exc.value.message_dict) == {"period"}
    last_year = month(today.year - 1, today.month)
    with pytest.raises(ValidationError) as exc:
        file(case, last_year)
    assert set(exc.value.message_dict) == {"period"}


def test_a_case_not_counted_for_the_subject_cannot_be_appealed(new_case):
    yesterday = timezone.localdate() - timedelta(days=1)
    case = dispatched(new_case)  # dispatched today: not in yesterday's figures
    with pytest.raises(ValidationError) as exc:
        file(case, by_dates(yesterday, yesterday))
    assert set(exc.value.message_dict) == {"case"}
    housing_only = dispatched(new_case, departments=("housing",))
    with pytest.raises(ValidationError) as exc:  # fire does not even see it
        file(housing_only, current_month())
    assert set(exc.value.message_dict) == {"case"}


def test_one_appeal_per_case_and_period_and_a_reason_is_needed(new_case):
    case = dispatched(new_case)
    with pytest.raises(ValidationError) as exc:
        file(case, current_month(), reason="  ")
    assert set(exc.value.message_dict) == {"reason"}
    file(case, current_month())
    with pytest.raises(ValidationError) as exc:
        file(case, current_month())
    assert set(exc.value.message_dict) == {"case"}


def test_only_the_subject_appeals_and_only_the_command_center_decides(new_case):
    from wangge.cases.actions.errors import NotPermitted

    case = dispatched(new_case)
    with pytest.raises(NotPermitted):
        file(case, current_month(), who="grid_manager2")
    appeal = file(case, current_month())
    with pytest.raises(ValidationError) as exc:  # not over the case's area: as if it did not exist
        appeals.decide_appeal(u("liaobu_dispatcher"), appeal.pk, accept=True, note="x")
    assert set(exc.value.message_dict) == {"appeal"}
    appeals.decide_appeal(u("village_dispatcher"), appeal.pk, accept=False, note="派遣无误")
    with pytest.raises(actions.Conflict):
        appeals.decide_appeal(u("town_dispatcher"), appeal.pk, accept=True, note="改判")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REFUSED


def test_the_trail_gets_both_steps_with_the_photos(new_case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wangge.cases.models import ACTION_LABELS
    from wangge.cases.photos import store_photo

    case = dispatched(new_case)
    photo = store_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"), user=u("fire_handler"))
    appeal = file(case, current_month(), photo_ids=[photo.pk])
    appeals.decide_appeal(
        u("village_dispatcher"), appeal.pk, accept=True, note="确系派遣错误", reattribute_to="housing"
    )
    events = list(CaseEvent.objects.filter(case=case, action__in=["appeal", "appeal_decision"]).order_by("pk"))
    assert [e.action for e in events] == ["appeal", "appeal_decision"]
    assert all(e.action in ACTION_LABELS and not e.is_public for e in events)
    assert events[0].data["appeal"] == appeal.pk and events[0].actor.username == "fire_handler"
    assert events[1].data == {"appeal": appeal.pk, "accepted": True, "reattribute_to": "housing"}
    photo.refresh_from_db()
    assert (photo.case_id, photo.event_id) == (case.pk, events[0].pk)  # on the trail: the deciders see it
    assert list(appeal.photos.all()) == [photo]


def test_another_cases_photo_cannot_be_brought_to_an_appeal(new_case, photo_of):
    case, other = dispatched(new_case), dispatched(new_case)
    act(other, "fire_handler", "accept")
    act(other, "fire_handler", "feedback", note="已处理", photo_ids=[photo_of(u("fire_handler"))])
    evidence = other.photos.get()
    with pytest.raises(ValidationError) as exc:
        file(case, current_month(), photo_ids=[evidence.pk])
    assert set(exc.value.message_dict) == {"photo_ids"}


def test_ids_from_another_jurisdiction_are_field_errors(new_case):
    """A grid manager names another grid's case (his own subject, not his case); a decider counts the
    case for a department code that does not serve it: field errors, nothing written."""
    others = dispatched(new_case)  # in grid_manager's grid, not grid_manager2's
    with pytest.raises(ValidationError) as exc:
        appeals.file_appeal(u("grid_manager2"), subject_type="grid_manager", subject_key=str(u("grid_manager2").pk),
                            case_id=others.pk, period_key=current_month().key, reason="不是我的")  # fmt: skip
    assert set(exc.value.message_dict) == {"case"}
    appeal = file(others, current_month())
    with pytest.raises(ValidationError) as exc:
        appeals.decide_appeal(u("village_dispatcher"), appeal.pk, accept=True, note="改计", reattribute_to="nowhere")
    assert set(exc.value.message_dict) == {"reattribute_to"}
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.PENDING
