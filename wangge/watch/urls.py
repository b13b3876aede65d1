from django.urls import path

from . import views

app_name = "watch"

urlpatterns = [
    path("", views.index, name="index"),
    path("lists/<int:pk>/", views.list_detail, name="list"),
    path("screen/", views.screen, name="screen"),
    path("hits/", views.hits, name="hits"),
    path("hits/<int:pk>/review/", views.review, name="review"),
]
