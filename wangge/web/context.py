from django.conf import settings

from wangge.accounts.models import Role
from wangge.areas.home import city_home
from wangge.callbacks.roles import works_callbacks
from wangge.evaluation.queries import may_use as may_use_evaluation
from wangge.patrol.queries import sees_tracks
from wangge.summons.queries import sees_summonses
from wangge.web.portal import menu


def reads_api_docs(user) -> bool:
    """The API's docs are for whoever connects another system (a sensor gateway, the 12345 desk's
    software, a department's own case system, webhooks): the system administrators. The field app
    calls the API as its grid manager, but the app is the API's reader, not the grid manager; the
    other roles work through the pages. The docs themselves stay public at /api/v1/docs."""
    return user.is_superuser or user.is_staff or user.has_role(Role.ADMIN)


def map_config():
    """What every map script reads (base.html's json_script "wangge-map-config"): the tiles, if any,
    and the city's own extent for a map with nothing else to fit."""
    return {
        "url": settings.MAP_TILE_URL,
        "crs": settings.MAP_TILE_CRS,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "subdomains": settings.MAP_TILE_SUBDOMAINS,
        "overlay": settings.MAP_TILE_OVERLAY_URL,
        "home": city_home(),
    }


def site(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    portal = signed_in and user.is_personal  # citizens and landlords: the portal's menu (web/portal.py)
    return {
        "map_tiles": {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "crs": settings.MAP_TILE_CRS,
        },
        "map_config": map_config,  # a callable: computed only by pages that render it
        # Which optional entries of the main menu this user gets.
        "nav": {
            "tracks": signed_in and sees_tracks(user),
            "field_app": signed_in and user.has_role(Role.GRID_MANAGER),
            "evaluation": signed_in and may_use_evaluation(user),
            "callbacks": signed_in and works_callbacks(user),
            "summons": signed_in and not portal and sees_summonses(user),
            "portal": portal and menu(user),
            "api_docs": signed_in and reads_api_docs(user),
        },
    }
