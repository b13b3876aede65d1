from django.urls import path

from . import public_map, views

urlpatterns = [
    path("cases/", views.queue, name="case_queue"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/department/", views.department_queue, name="department_queue"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/act/", views.case_act, name="case_act"),
    path("cases/photos/<str:token>-thumb.jpg", views.photo, {"thumbnail": True}, name="case_photo_thumb"),
    path("cases/photos/<str:token>.jpg", views.photo, name="case_photo"),
    path("report/", views.public_report, name="public_report"),
    path("report/outline.geojson", views.city_outline, name="public_outline"),
    path("report/areas.geojson", public_map.areas_geojson, name="public_areas"),
    path("report/places/", public_map.place_search, name="public_places"),
    path("track/", views.public_track, name="public_track_form"),
    path("track/<str:tracking_number>/", views.public_track, name="public_track"),
]
