from django.urls import path

from . import views_appeals, views_reports, views_schemes

app_name = "evaluation"

urlpatterns = [
    # Rankings and reports (views_reports)
    path("", views_reports.ranking, name="ranking"),  # ?type=&scheme=&period=&slice=
    path("compute/", views_reports.compute, name="compute"),  # POST: queue a draft (worker job)
    path("reports/<int:pk>/", views_reports.report, name="report"),
    path("reports/<int:pk>/publish/", views_reports.publish, name="publish"),  # POST
    path("reports/<int:pk>/print/", views_reports.print_report, name="print"),
    path("reports/<int:pk>/export.xlsx", views_reports.export, name="export"),
    path("subjects/<str:scheme>/<str:key>/", views_reports.subject, name="subject"),  # ?period=
    path("cases/", views_reports.cases, name="cases"),  # ?scheme=&period=&key=&measure=&slice=&report=
    # Schemes (views_schemes)
    path("schemes/", views_schemes.scheme_list, name="schemes"),
    path("schemes/new/", views_schemes.scheme_new, name="scheme_new"),
    path("schemes/<str:code>/", views_schemes.scheme_detail, name="scheme"),
    path("schemes/<str:code>/edit/", views_schemes.scheme_edit, name="scheme_edit"),  # a new version
    # Appeals (views_appeals)
    path("appeals/", views_appeals.appeal_list, name="appeals"),
    path("appeals/new/", views_appeals.appeal_new, name="appeal_new"),  # ?case=&scheme=&period=&key=
    path("appeals/<int:pk>/", views_appeals.appeal_detail, name="appeal"),  # + POST decision
]
