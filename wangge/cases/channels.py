"""Who may file a case through which channel, and who may mark it urgent (an urgent case texts the
leaders): one table, read by intake (every door: API, pages, sensors, the phone app), by the staff
form's choices and by the "new case" button.

A channel is a statistic the city is judged by (grid-manager reports, hotline calls) and urgency
costs a leader an SMS, so neither is the filer's free choice.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from wangge.accounts.models import Role

from .models import Channel, Severity

SYSTEM = "system"  # the platform itself: a sensor alarm
PUBLIC = "public"  # a citizen without an account
OPEN311 = "open311"  # a client application of the Open311 API, by its key (wangge.open311)

DISPATCHERS = frozenset({Role.VILLAGE_DISPATCHER, Role.TOWN_DISPATCHER, Role.CITY_DISPATCHER})
# Only a hotline operator (the 12345 desk, wangge.hotline) files `hotline` cases: the channel is a
# figure the city is judged by.
HOTLINE_OPERATORS = frozenset({Role.CALL_TAKER})
STAFF = DISPATCHERS | {Role.ADMIN, Role.CALL_TAKER, Role.GRID_MANAGER, Role.DEPARTMENT_HANDLER, Role.LEADER}


@dataclass(frozen=True)
class ChannelRule:
    channel: str
    filers: frozenset  # roles, PUBLIC or SYSTEM
    on_staff_form: bool  # offered on the staff "new case" page
    # The command center's own cases (未诉先办): filing is registering (no registration queue), and
    # they are not checked as duplicates of the reports they answer.
    own: bool = False


CHANNEL_RULES = {
    rule.channel: rule
    for rule in [
        ChannelRule(Channel.GRID_MANAGER, frozenset({Role.GRID_MANAGER}), True),
        ChannelRule(Channel.HOTLINE, HOTLINE_OPERATORS, True),
        ChannelRule(Channel.LANDLORD, frozenset({Role.LANDLORD}), True),
        # Another system posting through the API, under a staff account's token.
        ChannelRule(Channel.API, STAFF, False),
        ChannelRule(Channel.SENSOR, frozenset({SYSTEM}), False),
        # A work order pushed by an external hotline platform (workorders app), filed by the platform.
        ChannelRule(Channel.WORKORDER, frozenset({SYSTEM}), False),
        ChannelRule(Channel.CITIZEN_WEB, frozenset({PUBLIC, Role.CITIZEN}), False),
        ChannelRule(Channel.OPEN311, frozenset({OPEN311}), False),
        # 未诉先办 (wangge.proactive): a dispatcher turning a recurring spot into a case, or a spot rule.
        ChannelRule(Channel.PROACTIVE, DISPATCHERS | {SYSTEM}, False, own=True),
    ]
}
# Who may set the urgency that alerts leaders.
URGENCY_FILERS = DISPATCHERS | {Role.ADMIN} | HOTLINE_OPERATORS
# Whose choice of a matter item that is urgent by default (a gas leak) makes the case urgent; for
# anyone else (citizens, landlords) it is important, and a dispatcher decides when registering.
URGENT_MATTER_FILERS = STAFF | {SYSTEM}
# The channel a filer gets when they name none (the API), first that applies.
DEFAULT_ORDER = [Channel.GRID_MANAGER, Channel.LANDLORD, Channel.CITIZEN_WEB, Channel.API]


def filer_kinds(user, *, system: bool | str = False) -> set[str]:
    """system: True for the platform itself, or the kind of a system filer that is not a user (OPEN311)."""
    if system:
        return {system if isinstance(system, str) else SYSTEM}
    if user is None or not user.is_authenticated:
        return {PUBLIC}
    # A superuser may act as any staff member (as on the case pages), never as a citizen.
    return set(user.roles | (STAFF if user.is_superuser else set()))


def channels_for(user, *, system: bool | str = False, staff_form: bool = False) -> list[str]:
    kinds = filer_kinds(user, system=system)
    return [c for c, rule in CHANNEL_RULES.items() if rule.filers & kinds and (rule.on_staff_form or not staff_form)]


def command_centers_own(channel: str) -> bool:
    rule = CHANNEL_RULES.get(channel)
    return rule is not None and rule.own


def may_set_urgency(user, *, system: bool | str = False) -> bool:
    return bool(URGENCY_FILERS & filer_kinds(user, system=system))


def severity_for(user, severity: str, default: str, *, system: bool | str = False) -> str:
    """The severity a new case gets: the one asked for (checked by refusal()), else the matter
    item's default, which is urgent only for filers trusted with it."""
    if severity:
        return severity
    if default == Severity.URGENT and not URGENT_MATTER_FILERS & filer_kinds(user, system=system):
        return Severity.IMPORTANT
    return default


def may_use_staff_form(user) -> bool:
    return bool(channels_for(user, staff_form=True))


def default_channel(user) -> str:
    allowed = channels_for(user)
    return next((c for c in DEFAULT_ORDER if c in allowed), Channel.API)


def refusal(user, channel: str, severity: str, *, system: bool | str = False) -> dict:
    """Field → reason for what this filer may not do ({} when all is allowed)."""
    errors = {}
    rule = CHANNEL_RULES.get(channel)
    if rule is not None and not rule.filers & filer_kinds(user, system=system):
        errors["channel"] = _("Your role cannot file cases through the channel “%(c)s”.") % {
            "c": Channel(channel).label
        }
    if severity == Severity.URGENT and not may_set_urgency(user, system=system):
        errors["severity"] = _("Only dispatchers and hotline operators may mark a case urgent (it alerts the leaders).")
    return errors
