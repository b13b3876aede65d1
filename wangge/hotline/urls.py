from django.urls import path

from . import views

app_name = "hotline"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("caller/", views.caller, name="caller"),
    path("nearby/", views.nearby, name="nearby"),
    path("link/", views.link, name="link"),
]
