"""Who works the callback queue (回访): the hotline desk's operators and the city's and towns' dispatchers."""

from wangge.accounts.models import Role
from wangge.cases.models import Channel

CALLBACK_ROLES = frozenset({Role.CALL_TAKER, Role.CITY_DISPATCHER, Role.TOWN_DISPATCHER, Role.ADMIN})

# Channels a citizen files through (the public report page and the portal, the hotline, and the
# channels other apps add: apps, WeChat, Open311 clients, external hotline work orders). Staff's and
# sensors' cases get no callback: nobody to ask.
CITIZEN_CHANNELS = frozenset(
    {Channel.CITIZEN_WEB, Channel.HOTLINE, Channel.LANDLORD, Channel.OPEN311, Channel.WORKORDER}
)


def works_callbacks(user) -> bool:
    from wangge.cases.roles import memberships_of  # cached on the user for the request

    if not user.is_authenticated:
        return False
    return user.is_superuser or any(str(role) in CALLBACK_ROLES for role, _path, _dep in memberships_of(user))
