from django.urls import path

from . import views

urlpatterns = [
    path("command/", views.command, name="command"),
    path("command/board/", views.board_panel, name="command_board"),
    path("command/cases/<int:pk>/", views.case_panel, name="command_case"),
    path("command/cases/<int:pk>/act/", views.case_panel_act, name="command_case_act"),
    path("command/spots/", views.spots, name="command_spots"),
    path("command/screen/", views.screen, name="command_screen"),
    path("command/live/", views.live_stream, name="live_stream"),
    path("stats/", views.dashboard, name="dashboard"),
    path("stats/export/<str:table>.xlsx", views.dashboard_export, name="dashboard_export"),
]
