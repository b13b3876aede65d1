from django.urls import path

from . import views

urlpatterns = [
    path("", views.models_page, name="routing_models"),
    path("train/", views.train, name="routing_train"),
    path("models/<int:version>/serve/", views.serve, name="routing_serve"),
    path("rules/", views.save_rule, name="routing_rule"),
    path("suggest/", views.suggest_box, name="routing_suggest_box"),
    path("cases/<int:pk>/", views.case_panel, name="routing_case_panel"),
    path("cases/<int:pk>/undo/", views.undo, name="routing_undo"),
]
