"""Compliance of a rental house, computed from the register (never stored): a score and what is missing.

Each check is one function in CHECKS returning a Check; a check that does not apply (the safety
inspection, when no inspection rule covers rental houses) is left out of the score.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import RentalHouse, RentalStatus, Room, Tenancy


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    ok: bool
    missing: list[str]
    applies: bool = True


@dataclass
class Facts:
    """What the checks read, loaded once for a whole list of rental houses (no query per row)."""

    rooms: dict[int, list[Room]]  # rental pk → its rooms (the chosen ones, else the building's)
    rooms_with_tenants: set[int]
    inspections_apply: bool
    overdue_since: dict[int, date]  # rental pk → due date of its oldest overdue inspection task


def load_facts(rentals: list[RentalHouse]) -> Facts:
    from wangge.patrol.models import InspectionRule, InspectionTask, TargetKind, TaskStatus

    chosen = defaultdict(list)
    for link in RentalHouse.rooms.through.objects.filter(rentalhouse__in=rentals).select_related("room"):
        chosen[link.rentalhouse_id].append(link.room)
    by_building = defaultdict(list)
    for room in Room.objects.filter(building__in={r.building_id for r in rentals if r.pk not in chosen}):
        by_building[room.building_id].append(room)
    rooms = {r.pk: chosen.get(r.pk) or by_building.get(r.building_id, []) for r in rentals}
    with_tenants = set(
        Tenancy.objects.filter(
            room__in={room.pk for rs in rooms.values() for room in rs}, moved_out__isnull=True
        ).values_list("room_id", flat=True)
    )
    applies = InspectionRule.objects.filter(target_kind=TargetKind.RENTAL, is_active=True).exists()
    overdue = {}
    if applies:
        keys = {f"{TargetKind.RENTAL}:{r.pk}": r.pk for r in rentals}
        tasks = InspectionTask.objects.filter(
            target_key__in=keys, status=TaskStatus.OPEN, due_date__lt=timezone.localdate()
        ).order_by("-due_date")
        overdue = {keys[t.target_key]: t.due_date for t in tasks}  # the oldest one wins
    return Facts(rooms, with_tenants, applies, overdue)


def registered(rental: RentalHouse, facts: Facts) -> Check:
    ok = rental.status == RentalStatus.ACTIVE
    return Check("registered", _("Registered as a rental"), ok, [] if ok else [str(_("The registration has ended."))])


def basic_info(rental: RentalHouse, facts: Facts) -> Check:
    missing = []
    b = rental.building
    if not (rental.landlord_name or rental.landlord_user_id):
        missing.append(str(_("the landlord")))
    if not rental.landlord_phone_encrypted and not (rental.landlord_user_id and rental.landlord_user.phone_encrypted):
        missing.append(str(_("the landlord's phone")))
    if not b.contact_name:
        missing.append(str(_("the building's owner or manager")))
    if not facts.rooms[rental.pk]:
        missing.append(str(_("the rooms of the building")))
    return Check("basic_info", _("Basic information complete"), not missing, missing)


def tenants_declared(rental: RentalHouse, facts: Facts) -> Check:
    missing = [
        str(_("tenants of room %(r)s") % {"r": r.number if not r.unit else f"{r.unit}-{r.number}"})
        for r in facts.rooms[rental.pk]
        if r.is_occupied and r.pk not in facts.rooms_with_tenants
    ]
    return Check("tenants_declared", _("Every occupied room's tenants declared"), not missing, missing)


def inspection(rental: RentalHouse, facts: Facts) -> Check:
    """Safety inspection not overdue: applies when an inspection rule covers rental houses."""
    label = _("Safety inspection not overdue")
    if not facts.inspections_apply:
        return Check("inspection", label, True, [], applies=False)
    due = facts.overdue_since.get(rental.pk)
    missing = [str(_("the safety inspection due on %(d)s") % {"d": due.isoformat()})] if due else []
    return Check("inspection", label, not missing, missing)


CHECKS = [registered, basic_info, tenants_declared, inspection]


@dataclass(frozen=True)
class Compliance:
    score: int  # 0–100: the share of the applicable checks that pass
    checks: list[Check]

    @property
    def missing(self) -> list[str]:
        return [m for c in self.checks if c.applies for m in c.missing]


def compliance(rental: RentalHouse) -> Compliance:
    return compliance_many([rental])[0]


def compliance_many(rentals) -> list[Compliance]:
    """The compliance of each rental house, in order, with a fixed number of queries for the list."""
    rentals = list(rentals)
    if not rentals:
        return []
    facts = load_facts(rentals)
    results = []
    for rental in rentals:
        checks = [check(rental, facts) for check in CHECKS]
        applicable = [c for c in checks if c.applies]
        score = round(100 * sum(c.ok for c in applicable) / len(applicable)) if applicable else 100
        results.append(Compliance(score, checks))
    return results
