from django.urls import path

from . import views

app_name = "proactive"
urlpatterns = [
    path("command/proactive/", views.work_list, name="list"),
    path("command/spots/act/", views.act, name="act"),
]
