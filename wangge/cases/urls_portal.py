"""The portal's report pages, under /me/ (namespace portal; wangge/web/portal.py lets citizens and
landlords reach them)."""

from django.urls import path

from . import views_portal

app_name = "portal"
urlpatterns = [
    path("report/", views_portal.report, name="report"),
    path("reports/", views_portal.reports, name="reports"),
    path("reports/<int:pk>/", views_portal.report_detail, name="report_detail"),
]
