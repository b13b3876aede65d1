"""The portal of citizens and landlords (users whose roles are all personal: User.is_personal).

They get their own menu (web/_portal_nav.html), their own home page, and only the pages listed in
PORTAL_VIEWS: every staff page refuses them in one place (PortalMiddleware), whatever that page's own
checks would let through (an empty queue, an empty register list, the staff case page of their own
report with its internal notes).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from wangge.accounts.models import Role

# The pages (url names) a portal user may open; the API (/api/) answers by its own rules.
PORTAL_VIEWS = {
    "home",
    "login",
    "login_code",
    "login_unlock",
    "logout",
    "password_change",
    "profile",
    "two_factor",
    "two_factor_qr",
    "healthz",
    "readyz",
    "set_language",
    "public_report",
    "public_outline",
    "public_areas",  # the report map's area names by zoom
    "public_places",  # the report map's place search (address text and a point only)
    "public_track_form",
    "public_track",
    "case_photo",
    "case_photo_thumb",
    "pick_categories",  # the report form's category picker (the taxonomy is public)
    "notify:list",
    "notify:mark_all_read",
    "notify:open",
    "registry:my_rentals",
    "registry:my_rental",
    "registry:my_rental_tenant",
    "registry:my_rental_move_out",
    "registry:qr_building",
}
PORTAL_NAMESPACE = "portal"


class PortalMiddleware:
    """Citizens and landlords reach the portal's pages only (403 elsewhere, with the way back home)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(("/api/", settings.STATIC_URL, settings.MEDIA_URL)):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_personal:
            return None
        match = request.resolver_match
        if match is None or match.view_name in PORTAL_VIEWS or PORTAL_NAMESPACE in match.namespaces:
            return None
        raise PermissionDenied(_("This page is for the city's staff. Your own pages are on your home page."))


def menu(user) -> dict:
    """Which entries of the portal's menu this user gets (the context processor passes it to base.html)."""
    roles = user.roles
    return {"citizen": Role.CITIZEN in roles, "landlord": Role.LANDLORD in roles}


@login_required
def home(request):
    """The portal's home: the user's reports, rental houses and latest notices, each linking on."""
    from wangge.cases.models import OPEN_STATUSES, Status
    from wangge.cases.views_portal import my_cases
    from wangge.notify.actions import inbox
    from wangge.registry import compliance, queries
    from wangge.registry.models import DeclarationStatus

    user = request.user
    cases = my_cases(user)
    counts = {
        "open": cases.filter(status__in=OPEN_STATUSES).count(),
        "to_rate": cases.filter(status=Status.CLOSED, satisfaction__isnull=True).count(),
        "all": cases.count(),
    }
    rentals = []
    if user.has_role(Role.LANDLORD):
        waiting = Count("declarations", filter=Q(declarations__status=DeclarationStatus.PENDING))
        rentals = list(queries.landlord_rentals(user).annotate(waiting=waiting).order_by("building__name"))
    return render(
        request,
        "web/portal_home.html",
        {
            "cases": cases[:5],
            "counts": counts,
            "rentals": list(zip(rentals, compliance.compliance_many(rentals), strict=True)),
            "notices": inbox(user)[:5],
        },
    )
