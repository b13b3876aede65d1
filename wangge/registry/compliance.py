"""Compliance of a rental house, computed from the register (never stored): a score and what is missing.

Each check is one function in CHECKS returning a Check; a check that does not apply (the safety
inspection, when no inspection rule covers rental houses) is left out of the score.
"""

from dataclasses import dataclass

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


def _rooms(rental: RentalHouse):
    chosen = list(rental.rooms.all())
    return chosen or list(Room.objects.filter(building=rental.building))


def registered(rental: RentalHouse) -> Check:
    ok = rental.status == RentalStatus.ACTIVE
    return Check("registered", _("Registered as a rental"), ok, [] if ok else [str(_("The registration has ended."))])


def basic_info(rental: RentalHouse) -> Check:
    missing = []
    b = rental.building
    if not (rental.landlord_name or rental.landlord_user_id):
        missing.append(str(_("the landlord")))
    if not rental.landlord_phone_encrypted and not (rental.landlord_user_id and rental.landlord_user.phone_encrypted):
        missing.append(str(_("the landlord's phone")))
    if not b.contact_name:
        missing.append(str(_("the building's owner or manager")))
    if not _rooms(rental):
        missing.append(str(_("the rooms of the building")))
    return Check("basic_info", _("Basic information complete"), not missing, missing)


def tenants_declared(rental: RentalHouse) -> Check:
    rooms = _rooms(rental)
    with_tenants = set(
        Tenancy.objects.filter(room__in=[r.pk for r in rooms], moved_out__isnull=True).values_list("room_id", flat=True)
    )
    missing = [
        str(_("tenants of room %(r)s") % {"r": r.number if not r.unit else f"{r.unit}-{r.number}"})
        for r in rooms
        if r.is_occupied and r.pk not in with_tenants
    ]
    return Check("tenants_declared", _("Every occupied room's tenants declared"), not missing, missing)


def inspection(rental: RentalHouse) -> Check:
    """Safety inspection not overdue: applies when an inspection rule covers rental houses."""
    from wangge.patrol.models import InspectionRule, InspectionTask, TargetKind, TaskStatus

    label = _("Safety inspection not overdue")
    if not InspectionRule.objects.filter(target_kind=TargetKind.RENTAL, is_active=True).exists():
        return Check("inspection", label, True, [], applies=False)
    overdue = InspectionTask.objects.filter(
        target_key=f"{TargetKind.RENTAL}:{rental.pk}", status=TaskStatus.OPEN, due_date__lt=timezone.localdate()
    ).first()
    missing = [str(_("the safety inspection due on %(d)s") % {"d": overdue.due_date.isoformat()})] if overdue else []
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
    checks = [check(rental) for check in CHECKS]
    applicable = [c for c in checks if c.applies]
    score = round(100 * sum(c.ok for c in applicable) / len(applicable)) if applicable else 100
    return Compliance(score, checks)
