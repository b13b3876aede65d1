from django.urls import path, re_path

from . import views

app_name = "open311"

FMT = r"(?P<fmt>json|xml)"
urlpatterns = [
    re_path(rf"^v2/discovery\.{FMT}$", views.discovery, name="discovery"),
    re_path(rf"^v2/services\.{FMT}$", views.services, name="services"),
    re_path(rf"^v2/services/(?P<code>[^/]+?)\.{FMT}$", views.definition, name="definition"),
    re_path(rf"^v2/requests\.{FMT}$", views.requests, name="requests"),
    re_path(rf"^v2/requests/(?P<number>[^/]+?)\.{FMT}$", views.one_request, name="request"),
    # Anything else under v2/: the specification's 404 (JSON unless it asked for XML).
    re_path(r"^v2/(?P<path>.*?)(?:\.(?P<fmt>json|xml))?$", views.unknown, name="unknown"),
    path("keys/", views.key_list, name="keys"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
]
