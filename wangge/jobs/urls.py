from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("jobs/", views.job_list, name="list"),
    path("jobs/<int:pk>/", views.job_detail, name="detail"),
    path("jobs/<int:pk>/status/", views.job_status, name="status"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="confirm"),
    path("jobs/<int:pk>/files/<str:which>/", views.job_download, name="download"),
    path("imports/<str:register>/", views.import_page, name="import"),
    path("imports/<str:register>/template.<str:fmt>", views.import_template, name="template"),
    path("exports/<str:register>/", views.export, name="export"),
]
