"""未诉先办: turning a recurring spot into proactive work, by a dispatcher (act_on_spot) or by the
spot rules (run_spot_rules, the worker). One transaction each: the case (through cases intake) or
the ad-hoc task (through patrol.adhoc), the ProactiveWork row, its change record, notifications.

A spot is its category and centre. While a work of that category whose centre lies within the
radius is open, the spot is not acted on again (AlreadyActedOn → 409 for a dispatcher, skipped by
the rules); a rule acts on a spot again only once the previous work is finished and new reports
came in after it, so running the rules twice creates nothing."""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wangge.areas.coords import distance_m
from wangge.areas.locate import OutsideCity, locate
from wangge.areas.models import Area
from wangge.cases import refs
from wangge.cases import roles as case_roles
from wangge.cases.actions import Report, report_case
from wangge.cases.models import Case, Category, Channel, Status
from wangge.history.actions import record_change
from wangge.history.models import ChangeAction
from wangge.patrol import adhoc

from .models import ProactiveWork, SpotRule, WorkKind

logger = logging.getLogger(__name__)

RADIUS_RANGE = (10, 2000)  # metres
DAYS_RANGE = (1, 365)
NOTE_MAX = 500
TASK_DUE_DAYS = 2  # an ad-hoc spot check is due the day after tomorrow
NUMBERS_IN_DESCRIPTION = 20


class AlreadyActedOn(Exception):
    """The spot has open proactive work already (HTTP 409, naming it)."""

    def __init__(self, work: ProactiveWork):
        self.work = work
        super().__init__(_("This spot is already being acted on."))


# ---------------------------------------------------------------------------------------------
# Reading the spot


def box(lat: float, radius_m: float) -> tuple[float, float]:
    """The half-sides in degrees (latitude, longitude) of the square around a point."""
    dlat = radius_m / 111_000
    return dlat, radius_m / (111_000 * max(math.cos(math.radians(lat)), 0.1))


def reports_near(category_id: int, lat: float, lng: float, radius_m: float, start, end=None, cases=None):
    """The reports (not merged, not the command center's own) of a category within radius_m of the
    point, created from start up to end (inclusive): a list of (id, number, created_at), oldest first."""
    dlat, dlng = box(lat, radius_m)
    found = (
        (Case.objects.all() if cases is None else cases)
        .filter(
            category_id=category_id,
            lat__range=(lat - dlat, lat + dlat),
            lng__range=(lng - dlng, lng + dlng),
            created_at__gte=start,
        )
        .exclude(status=Status.MERGED)
        .exclude(channel=Channel.PROACTIVE)
    )
    if end is not None:
        found = found.filter(created_at__lte=end)
    rows = found.order_by("created_at").values_list("id", "number", "created_at", "lat", "lng")
    return [(pk, number, at) for pk, number, at, y, x in rows if distance_m(lng, lat, x, y) <= radius_m]


def works_near(category_id: int, lat: float, lng: float, radius_m: float):
    """Proactive work of the category whose centre lies within radius_m of the point, newest first."""
    dlat, dlng = box(lat, radius_m)
    candidates = ProactiveWork.objects.filter(
        category_id=category_id, lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng)
    ).select_related("case", "task")
    return within(candidates.order_by("-created_at", "-pk"), lat, lng, radius_m)


def within(works, lat: float, lng: float, radius_m: float) -> list[ProactiveWork]:
    """The works (in their order) whose centre lies within radius_m of the point."""
    return [w for w in works if distance_m(lng, lat, w.lng, w.lat) <= radius_m]


def open_work_near(category_id: int, lat: float, lng: float, radius_m: float) -> ProactiveWork | None:
    return next((w for w in works_near(category_id, lat, lng, radius_m) if w.is_open), None)


# ---------------------------------------------------------------------------------------------
# Checking what is asked


def may_act_on(user, area_path: str) -> bool:
    """Command-center dispatchers whose area holds the place (and superusers) turn spots into work."""
    if user.is_superuser:
        return True
    return any(
        role in case_roles.DISPATCHER_LEVELS and path and area_path.startswith(path)
        for role, path, _d in case_roles.memberships_of(user)
    )


def is_dispatcher(user) -> bool:
    return user.is_superuser or any(
        role in case_roles.DISPATCHER_LEVELS for role, _p, _d in case_roles.memberships_of(user)
    )


def _number(value, field: str, errors: dict, low=None, high=None, *, integer=False):
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer beyond a float
        errors[field] = _("Give a number.")
        return None
    if not math.isfinite(number) or (integer and number != int(number)):
        errors[field] = _("Give a whole number.") if integer else _("Give a number.")
        return None
    if low is not None and not low <= number <= high:
        errors[field] = _("Between %(low)s and %(high)s.") % {"low": low, "high": high}
        return None
    return int(number) if integer else number


def check_spot(*, category, lat, lng, radius_m=None, days=None, kind="", note="") -> dict:
    """The values asked for, checked; ValidationError naming every bad field."""
    errors = {}
    found = None
    if isinstance(category, Category):
        found = category
    elif not category or not str(category).strip():
        errors["category"] = _("Choose the category.")
    else:
        code_kind, _sep, code = str(category).strip().rpartition(":")
        found = refs.category(code, code_kind)
        if found is None:
            errors["category"] = _("Unknown category %(code)s.") % {"code": category}
    lat_value = _number(lat, "lat", errors, -90, 90)
    lng_value = _number(lng, "lng", errors, -180, 180)
    for field, value in (("lat", lat_value), ("lng", lng_value)):
        if value is None and field not in errors:
            errors[field] = _("Give the spot's latitude and longitude.")
    radius = _number(radius_m, "radius_m", errors, *RADIUS_RANGE, integer=True)
    window = _number(days, "days", errors, *DAYS_RANGE, integer=True)
    if kind not in WorkKind.values:
        errors["kind"] = _("Choose a case for the command center or an inspection task.")
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)s characters.") % {"n": NOTE_MAX}
    area = None
    if lat_value is not None and lng_value is not None:
        try:
            located = locate(lat_value, lng_value)
            area = Area.objects.defer("boundary").get(pk=located.id)
        except OutsideCity:
            errors["lat"] = _("This place is outside the city.")
    if errors:
        raise ValidationError(errors)
    return {
        "category": found,
        "lat": lat_value,
        "lng": lng_value,
        "radius_m": radius or int(settings.INSIGHT_SPOT_RADIUS_M),
        "days": window or settings.INSIGHT_SPOT_DAYS,
        "kind": kind,
        "note": note.strip(),
        "area": area,
    }


# ---------------------------------------------------------------------------------------------
# Acting


def act_on_spot(user, *, category, lat, lng, radius_m=None, days=None, kind="", note="") -> ProactiveWork:
    """A dispatcher turns a spot into a case at the command level of its area (registered, ready to
    dispatch) or a spot check for its grid managers. 403 for other roles, 404 for a place outside
    their areas, 400 naming the field, AlreadyActedOn while the spot's work is open."""
    if not is_dispatcher(user):
        raise PermissionDenied(_("Only the command center's dispatchers act on recurring spots."))
    spot = check_spot(category=category, lat=lat, lng=lng, radius_m=radius_m, days=days, kind=kind, note=note)
    if not may_act_on(user, spot["area"].path):
        raise Http404("the spot is outside your areas")
    return _act(spot, user=user, rule=None, cases=case_roles.visible_cases(user))


def _act(spot: dict, *, user, rule, cases=None, now=None) -> ProactiveWork:
    now = now or timezone.now()
    category = spot["category"]
    with transaction.atomic():
        # One act per category at a time (PostgreSQL; SQLite writers queue anyway): the open-work
        # check below cannot race another act on the same spot.
        Category.objects.select_for_update().filter(pk=category.pk).first()
        existing = open_work_near(category.pk, spot["lat"], spot["lng"], spot["radius_m"])
        if existing is not None:
            raise AlreadyActedOn(existing)
        reports = reports_near(
            category.pk, spot["lat"], spot["lng"], spot["radius_m"], now - timedelta(days=spot["days"]), cases=cases
        )
        if not reports:
            raise ValidationError(
                {
                    "lat": _("No report of this category within %(r)s m in the last %(d)s days.")
                    % {"r": spot["radius_m"], "d": spot["days"]}
                }
            )
        work = ProactiveWork(
            category=category,
            lat=spot["lat"],
            lng=spot["lng"],
            radius_m=spot["radius_m"],
            days=spot["days"],
            area=spot["area"],
            area_path=spot["area"].path,
            kind=spot["kind"],
            note=spot["note"],
            created_by=user,
            rule=rule,
            created_at=now,
            cases_at_action=len(reports),
            spot_case_ids=[pk for pk, _n, _at in reports],
        )
        # Stored text is in the city's language, whoever (or whatever: the worker) acts.
        with translation.override(settings.LANGUAGE_CODE):
            description = _describe(spot, reports)
        if work.kind == WorkKind.CASE:
            report = Report(
                description=description,
                channel=Channel.PROACTIVE,
                lat=spot["lat"],
                lng=spot["lng"],
                category=f"{category.kind}:{category.code}",
            )
            work.case, _created = report_case(report, user, system=user is None)
        else:
            if not adhoc.grid_managers_over(spot["area"].path).exists():
                raise ValidationError({"kind": _("No grid manager covers this place: file a case instead.")})
            work.task = adhoc.open_spot_task(
                lat=spot["lat"],
                lng=spot["lng"],
                area=spot["area"],
                note=description,
                due_date=timezone.localdate(now) + timedelta(days=TASK_DUE_DAYS),
                acting_user=user,
            )
        work.save()
        record_change(
            work,
            ChangeAction.CREATE,
            acting_user=user,
            after={
                "category": category.pk,  # a field's value: the history shows the category by name
                "lat": work.lat,
                "lng": work.lng,
                "radius_m": work.radius_m,
                "kind": work.kind,
                "case": work.case_id,
                "task": work.task_id,
                "rule": rule.pk if rule else None,
                "cases_at_action": work.cases_at_action,
            },
        )
        return work


def _describe(spot: dict, reports: list) -> str:
    numbers = [n for _pk, n, _at in reports]
    shown = "、".join(numbers[:NUMBERS_IN_DESCRIPTION])
    if len(numbers) > NUMBERS_IN_DESCRIPTION:
        shown += _(" and %(n)s more") % {"n": len(numbers) - NUMBERS_IN_DESCRIPTION}
    text = _(
        "Act before the complaint: %(n)s reports of %(category)s within %(r)s m in %(d)s days in %(area)s "
        "(cases %(numbers)s)."
    ) % {
        "n": len(reports),
        "category": spot["category"].name,
        "r": spot["radius_m"],
        "d": spot["days"],
        "area": spot["area"].name,
        "numbers": shown,
    }
    return f"{text} {spot['note']}".strip()


def run_spot_rules(now=None) -> int:
    """Every active rule over its scope: each spot past its threshold that has no open work, and
    new reports since its last work, becomes work of the rule's kind. Returns the works opened;
    running it again at once opens none."""
    from wangge.insight.queries import recurring_spots

    now = now or timezone.now()
    opened = 0
    for rule in SpotRule.objects.filter(is_active=True).select_related("area", "category").order_by("pk"):
        spots = recurring_spots(
            None,
            rule.area,
            min_cases=rule.min_cases,
            radius_m=rule.radius_m,
            days=rule.days,
            now=now,
            category_id=rule.category_id,
        )
        for found in spots:
            earlier = works_near(found["category_id"], found["lat"], found["lng"], rule.radius_m)
            if any(w.is_open or w.created_at >= found["last"] for w in earlier):
                continue  # acted on already, and nothing new reported since
            try:
                spot = {
                    "category": Category.objects.get(pk=found["category_id"]),
                    "lat": found["lat"],
                    "lng": found["lng"],
                    "radius_m": rule.radius_m,
                    "days": rule.days,
                    "kind": rule.kind,
                    "area": Area.objects.defer("boundary").get(pk=locate(found["lat"], found["lng"]).id),
                }
                with translation.override(settings.LANGUAGE_CODE):
                    spot["note"] = _("Opened by the spot rule “%(name)s”.") % {"name": rule.name}
                _act(spot, user=None, rule=rule, now=now)
            except AlreadyActedOn:
                continue
            except (ValidationError, OutsideCity) as exc:
                # e.g. a spot check where no grid manager works: logged, tried again on the next run
                logger.warning("spot rule %s: spot at %s,%s not acted on: %s", rule.pk, found["lat"], found["lng"], exc)
                continue
            opened += 1
    return opened
