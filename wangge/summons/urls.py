from django.urls import path

from . import views

app_name = "summons"
urlpatterns = [
    path("", views.summons_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/board/", views.board, name="board"),
    path("<int:pk>/arrive/", views.arrive, name="arrive"),
    path("<int:pk>/close/", views.close, name="close"),
]
