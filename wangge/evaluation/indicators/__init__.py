"""Every indicator a scheme can score, by subject type, with its definition (口径)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .areas import AreaCases, DeskCases, DeskRegistrations
from .base import Context, Indicator, Measure, Source
from .callbacks import AreaCallbacks, DepartmentCallbacks
from .departments import Assignments
from .summons import DepartmentSummonses
from .workers import Inspections, Reports, Tracks, Verifications

SOURCES: dict[str, list[Source]] = {
    "department": [Assignments(), DepartmentCallbacks(), DepartmentSummonses()],
    "grid_manager": [Reports(), Verifications(), Inspections(), Tracks()],
    "area": [AreaCases(), AreaCallbacks()],
    "desk": [DeskCases(), DeskRegistrations()],
}


def _i(code, subject_type, name, definition, numerator, denominator=None, kind="count", unit="", higher=True):
    return Indicator(code, subject_type, name, definition, numerator, denominator, kind, unit, higher)


D, G, A, K = "department", "grid_manager", "area", "desk"
PER_CASE = _("cases")
INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in [
        # Departments (专业部门)
        _i(
            "dept_due",
            D,
            pgettext_lazy("evaluation", "Due"),
            _("Assignments due: see the measure's definition."),
            "due",
            unit=PER_CASE,
        ),
        _i(
            "dept_handled",
            D,
            _("Handled"),
            _("Assignments handled: see the measure's definition."),
            "handled",
            unit=PER_CASE,
        ),
        _i("dept_handle_rate", D, _("Handling rate"), _("Handled ÷ due."), "handled", "due", "rate"),
        _i(
            "dept_on_time_rate",
            D,
            _("On-time handling rate"),
            _("Handled on time ÷ due."),
            "handled_on_time",
            "due",
            "rate",
        ),
        _i(
            "dept_overdue",
            D,
            _("Overdue"),
            _("Assignments overdue: see the measure's definition."),
            "overdue",
            unit=PER_CASE,
            higher=False,
        ),
        _i("dept_rework_rate", D, _("Rework rate"), _("Rework ÷ handled."), "rework", "handled", "rate", higher=False),
        _i(
            "dept_rework",
            D,
            _("Rework"),
            _("Assignments found not fixed on site at least once."),
            "rework",
            unit=PER_CASE,
            higher=False,
        ),
        _i(
            "dept_returns_overruled",
            D,
            _("Returns overruled"),
            _("Returns the dispatcher overruled."),
            "returns_overruled",
            unit=PER_CASE,
            higher=False,
        ),
        _i(
            "dept_returns_accepted",
            D,
            pgettext_lazy("evaluation", "Returns accepted"),
            _("Returns the dispatcher accepted (not counted as due)."),
            "returns_accepted",
            unit=PER_CASE,
        ),
        _i(
            "dept_extensions_asked",
            D,
            _("Extensions asked"),
            _("Assignments with more time asked."),
            "extensions_asked",
            unit=PER_CASE,
            higher=False,
        ),
        _i(
            "dept_extensions_granted",
            D,
            _("Extensions granted"),
            _("Assignments with more time granted."),
            "extensions_granted",
            unit=PER_CASE,
        ),
        _i("dept_response_rate", D, _("Response rate"), _("Responded in time ÷ due."), "responded", "due", "rate"),
        _i("dept_resolve_rate", D, _("Resolution rate"), _("Resolved ÷ due."), "resolved", "due", "rate"),
        _i("dept_satisfaction_rate", D, _("Satisfaction rate"), _("Satisfied ÷ rated."), "satisfied", "rated", "rate"),
        _i(
            "dept_satisfaction_avg",
            D,
            _("Average rating"),
            _("Rating points ÷ rated (1–5)."),
            "satisfaction_points",
            "rated",
            "average",
            pgettext_lazy("evaluation", "points"),
        ),
        _i(
            "dept_callback_resolve_rate",
            D,
            _("Resolution rate per callback"),
            _("Resolved per the citizen ÷ callbacks made."),
            "callback_resolved",
            "callbacks_done",
            "rate",
        ),
        _i(
            "dept_callback_satisfaction_rate",
            D,
            _("Satisfaction rate per callback"),
            _("Satisfied per the callback ÷ callbacks made."),
            "callback_satisfied",
            "callbacks_done",
            "rate",
        ),
        _i(
            "dept_callbacks",
            D,
            _("Callbacks made"),
            _("Callbacks in which the citizen was reached."),
            "callbacks_done",
            unit=PER_CASE,
        ),
        _i("dept_summonses", D, _("Summonses received"), _("Times summoned to a place."), "summonses"),
        _i(
            "dept_summons_on_time_rate",
            D,
            _("On-time arrival rate"),
            _("Arrived on time ÷ summonses received."),
            "summons_on_time",
            "summonses",
            "rate",
        ),
        _i(
            "dept_summons_late",
            D,
            _("Arrived late"),
            _("Summonses the department reached after the deadline."),
            "summons_late",
            higher=False,
        ),
        _i(
            "dept_summons_missed",
            D,
            _("Did not arrive"),
            _("Summonses the department did not reach: the deadline passed without an arrival."),
            "summons_missed",
            higher=False,
        ),
        # Grid managers (网格员)
        _i("gm_reports", G, _("Reports"), _("Reports: see the measure's definition."), "reports", unit=PER_CASE),
        _i(
            "gm_valid_reports",
            G,
            _("Valid reports"),
            _("Valid reports: see the measure's definition."),
            "valid_reports",
            unit=PER_CASE,
        ),
        _i(
            "gm_valid_rate",
            G,
            _("Valid report rate"),
            _("Valid reports ÷ reports."),
            "valid_reports",
            "reports",
            "rate",
        ),
        _i(
            "gm_on_site",
            G,
            _("Handled on site"),
            _("Reports handled on the spot by the grid manager."),
            "on_site",
            unit=PER_CASE,
        ),
        _i(
            "gm_verify_on_time_rate",
            G,
            _("On-time verification rate"),
            _("Verified on time ÷ verifications due."),
            "verified_on_time",
            "verify_due",
            "rate",
        ),
        _i(
            "gm_verify_rate",
            G,
            _("Verification rate"),
            _("Verified ÷ verifications due."),
            "verified",
            "verify_due",
            "rate",
        ),
        _i(
            "gm_patrol_rate",
            G,
            _("Inspection completion rate"),
            _("Inspections done ÷ inspections due."),
            "tasks_done",
            "tasks_due",
            "rate",
        ),
        _i(
            "gm_duty_hours",
            G,
            pgettext_lazy("evaluation", "Hours on duty"),
            _("Hours with the patrol switched on in the period."),
            "duty_hours",
            unit=_("hours"),
        ),
        _i(
            "gm_in_grid_share",
            G,
            _("Share of duty in the grid"),
            _("Hours in the grid ÷ hours on duty."),
            "grid_hours",
            "duty_hours",
            "rate",
        ),
        # Areas (镇街、村社区、网格)
        _i("area_reported", A, _("Reported"), _("Reports: see the measure's definition."), "reported", unit=PER_CASE),
        _i(
            "area_registered",
            A,
            _("Registered"),
            _("Registered: see the measure's definition."),
            "registered",
            unit=PER_CASE,
        ),
        _i(
            "area_register_rate",
            A,
            pgettext_lazy("evaluation", "Registration rate"),
            _("Registered ÷ reported."),
            "registered",
            "reported",
            "rate",
        ),
        _i(
            "area_close_rate",
            A,
            pgettext_lazy("evaluation", "Closure rate"),
            _("Closed ÷ registered (a rejected or merged report is never closed work)."),
            "closed",
            "registered",
            "rate",
        ),
        _i(
            "area_close_on_time_rate",
            A,
            _("On-time closure rate"),
            _("Closed on time ÷ registered."),
            "closed_on_time",
            "registered",
            "rate",
        ),
        _i(
            "area_closed_unfixed",
            A,
            _("Closed without a fix"),
            _("Closed without a fix: see the measure's definition."),
            "closed_unfixed",
            unit=PER_CASE,
            higher=False,
        ),
        _i(
            "area_recurrence_rate",
            A,
            _("Recurrence rate"),
            _("Recurring ÷ registered."),
            "recurrent",
            "registered",
            "rate",
            higher=False,
        ),
        _i(
            "area_reopened",
            A,
            _("Reopened"),
            _("Reports reopened after closing."),
            "reopened",
            unit=PER_CASE,
            higher=False,
        ),
        _i(
            "area_response_rate",
            A,
            _("Response rate"),
            _("Taken up in time ÷ registered."),
            "responded",
            "registered",
            "rate",
        ),
        _i("area_resolve_rate", A, _("Resolution rate"), _("Resolved ÷ registered."), "resolved", "registered", "rate"),
        _i("area_satisfaction_rate", A, _("Satisfaction rate"), _("Satisfied ÷ rated."), "satisfied", "rated", "rate"),
        _i(
            "area_callback_resolve_rate",
            A,
            _("Resolution rate per callback"),
            _("Resolved per the citizen ÷ callbacks made."),
            "callback_resolved",
            "callbacks_done",
            "rate",
        ),
        _i(
            "area_callback_satisfaction_rate",
            A,
            _("Satisfaction rate per callback"),
            _("Satisfied per the callback ÷ callbacks made."),
            "callback_satisfied",
            "callbacks_done",
            "rate",
        ),
        _i(
            "area_callbacks",
            A,
            _("Callbacks made"),
            _("Callbacks in which the citizen was reached."),
            "callbacks_done",
            unit=PER_CASE,
        ),
        # Desks (指挥中心受理、派遣)
        _i("desk_received", K, _("Received"), _("Reports received at the desk."), "received", unit=PER_CASE),
        _i(
            "desk_register_hours",
            K,
            _("Average hours to register"),
            _("Hours to register ÷ registered."),
            "register_hours",
            "registered",
            "average",
            _("hours"),
            higher=False,
        ),
        _i(
            "desk_dispatch_hours",
            K,
            _("Average hours to dispatch"),
            _("Hours to dispatch ÷ dispatched."),
            "dispatch_hours",
            "dispatched",
            "average",
            _("hours"),
            higher=False,
        ),
        _i(
            "desk_dispatch_on_time_rate",
            K,
            _("On-time dispatch rate"),
            _("Dispatched on time ÷ dispatched."),
            "dispatched_on_time",
            "dispatched",
            "rate",
        ),
        _i(
            "desk_dispatch_overdue",
            K,
            _("Dispatch overdue"),
            _("Reports not dispatched by the dispatch deadline."),
            "dispatch_overdue",
            unit=PER_CASE,
            higher=False,
        ),
    ]
}


def indicators_for(subject_type: str) -> list[Indicator]:
    return [i for i in INDICATORS.values() if i.subject_type == subject_type]


def measures_for(subject_type: str, ctx: Context) -> dict[str, tuple[Source, Measure]]:
    return {m.code: (source, m) for source in SOURCES[subject_type] for m in source.measures(ctx)}


__all__ = ["INDICATORS", "SOURCES", "Context", "Indicator", "Measure", "indicators_for", "measures_for"]
