"""A few summonses for the demo and the language walk: one for a case (an arrival on time, one
flagged report), one campaign still waiting, through the real actions."""

from django.utils import timezone

from wangge.accounts.models import User
from wangge.cases.models import OPEN_STATUSES, Case

from . import actions, queries
from .models import Summons


def seed_summonses(log=print) -> int:
    if Summons.objects.exists():  # a demo built again keeps its summonses
        return 0
    dispatcher = User.objects.get(username="village_dispatcher")
    fire = User.objects.get(username="fire_handler")
    village = queries.summoning_paths(dispatcher)[0]
    case = (
        Case.objects.filter(status__in=OPEN_STATUSES, area_path__startswith=village, lat__isnull=False)
        .order_by("-created_at")
        .first()
    )
    made = 0
    if case is not None:
        summons = actions.summon(dispatcher, case=case.pk, departments=["fire"], reason="现场联合处置")
        actions.report_arrival(fire, summons, lat=case.lat + 0.02, lng=case.lng, accuracy=12)  # too far
        actions.report_arrival(fire, summons, lat=case.lat, lng=case.lng, accuracy=8)
        made += 1
        campaign = actions.summon(
            dispatcher,
            departments=["fire", "public_security"],
            lat=case.lat,
            lng=case.lng,
            address="河堤",
            reason="汛期巡查，请到场",
            minutes=60,
        )
        actions.report_arrival(fire, campaign, lat=None, lng=None, accuracy=None)  # no fix: flagged
        made += 1
    log(f"summonses: {made} at {timezone.localtime():%H:%M}")
    return made
