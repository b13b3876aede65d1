from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve

from wangge.api import api, unknown_path
from wangge.web import login_views, pickers, views
from wangge.worker.views import readyz

urlpatterns = [
    # First: the API serves phones and other systems at volume, and Django tries patterns in order.
    path("api/v1/", api.urls),
    re_path(r"^api/v1/", unknown_path),  # any other path under it (a newline too): JSON 404
    path("", views.home, name="home"),
    path("workbench/panels/", views.workbench_panels, name="workbench_panels"),
    path("login/", login_views.login, name="login"),
    path("login/code/", login_views.login_code, name="login_code"),
    path("login/unlock/", login_views.login_unlock, name="login_unlock"),
    path("profile/two-factor/", login_views.two_factor, name="two_factor"),
    path("profile/two-factor/qr.svg", login_views.two_factor_qr, name="two_factor_qr"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("profile/", views.profile, name="profile"),
    path("areas/", views.area_tree, name="area_tree"),
    path("areas/<str:code>/", views.area_detail, name="area_detail"),
    path("areas/<str:code>/children/", views.area_children, name="area_children"),
    path("areas/<str:code>/geojson/", views.area_geojson, name="area_geojson"),
    path("pick/areas/", pickers.areas, name="pick_areas"),
    path("pick/categories/", pickers.categories, name="pick_categories"),
    path("pick/matter-items/", pickers.matter_items, name="pick_matter_items"),
    path("notifications/", include("wangge.notify.urls")),
    path("me/", include("wangge.cases.urls_portal")),  # the citizens' and landlords' portal
    path("", include("wangge.cases.urls")),
    path("patrol/", include("wangge.patrol.urls")),
    path("", include("wangge.jobs.urls")),
    path("watch/", include("wangge.watch.urls")),
    path("privacy/", include("wangge.privacy.urls")),
    path("sensors/", include("wangge.sensors.urls")),
    path("hotline/", include("wangge.hotline.urls")),
    path("evaluation/", include("wangge.evaluation.urls")),
    path("open311/", include("wangge.open311.urls")),
    path("callbacks/", include("wangge.callbacks.urls")),
    path("routing/", include("wangge.routing.urls")),
    path("summons/", include("wangge.summons.urls")),
    path("", include("wangge.registry.urls")),
    path("", include("wangge.proactive.urls")),
    path("", include("wangge.insight.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", login_views.admin_login),  # one login door for all (throttled, second factor)
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))

# Error pages in the site's layout and language, JSON under /api/ (wangge/web/errors.py).
handler400 = "wangge.web.errors.bad_request"
handler403 = "wangge.web.errors.permission_denied"
handler404 = "wangge.web.errors.page_not_found"
# Unhandled exceptions: JSON for the API, 503 + Retry-After for a busy database or a full/read-only file store.
handler500 = "wangge.core.faults.server_error"
