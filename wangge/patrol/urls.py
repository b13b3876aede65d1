from django.urls import path

from . import views

app_name = "patrol"
urlpatterns = [
    path("tracks/", views.track_list, name="track_list"),
    path("tracks/<str:username>/<str:day>/", views.track_playback, name="track_playback"),
    path("tasks/", views.task_list, name="task_list"),
    path("figures/", views.figures, name="figures"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/photos/<int:answer_id>.jpg", views.inspection_photo, name="inspection_photo"),
    path("m/", views.mobile_app, name="mobile_app"),
    path("m/sw.js", views.mobile_service_worker, name="mobile_service_worker"),
    path("m/manifest.webmanifest", views.mobile_manifest, name="mobile_manifest"),
]
