from django.urls import path

from . import search_views, views, views_landlords

app_name = "registry"
urlpatterns = [
    path("registry/", views.index, name="index"),
    path("registry/addresses/", views.address_list, name="address_list"),
    path("registry/addresses/new/", views.address_edit, name="address_new"),
    path("registry/addresses/<int:pk>/", views.address_detail, name="address_detail"),
    path("registry/addresses/<int:pk>/edit/", views.address_edit, name="address_edit"),
    path("registry/buildings/", views.building_list, name="building_list"),
    path("registry/buildings/new/", views.building_edit, name="building_new"),
    path("registry/buildings/<int:pk>/", views.building_detail, name="building_detail"),
    path("registry/buildings/<int:pk>/edit/", views.building_edit, name="building_edit"),
    path("registry/buildings/<int:pk>/rooms/", views.room_add, name="room_add"),
    path("registry/buildings/<int:pk>/rooms/<int:room_pk>/edit/", views.room_edit, name="room_edit"),
    path("registry/buildings/<int:pk>/plate.svg", views.building_qr_svg, name="building_qr_svg"),
    path("registry/plates/<str:code>.png", views.qr_sheet, name="qr_sheet"),
    path("registry/people/", views.person_list, name="person_list"),
    path("registry/people/search/", search_views.person_search, name="person_search"),
    path("registry/people/new/", views.person_edit, name="person_new"),
    path("registry/people/<int:pk>/", views.person_detail, name="person_detail"),
    path("registry/people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("registry/people/<int:pk>/move/", views.person_move, name="person_move"),
    path("registry/rentals/", views.rental_list, name="rental_list"),
    path("registry/rentals/new/", views.rental_edit, name="rental_new"),
    path("registry/rentals/<int:pk>/", views.rental_detail, name="rental_detail"),
    path("registry/rentals/<int:pk>/edit/", views.rental_edit, name="rental_edit"),
    path(
        "registry/rentals/<int:pk>/declarations/<int:decl_pk>/review/",
        views_landlords.declaration_review,
        name="declaration_review",
    ),
    path("registry/places/", views.place_list, name="place_list"),
    path("registry/places/new/", views.place_edit, name="place_new"),
    path("registry/places/<int:pk>/", views.place_detail, name="place_detail"),
    path("registry/places/<int:pk>/edit/", views.place_edit, name="place_edit"),
    path("registry/my-rentals/", views_landlords.my_rentals, name="my_rentals"),
    path("registry/my-rentals/<int:pk>/", views_landlords.my_rental, name="my_rental"),
    path("registry/my-rentals/<int:pk>/tenants/", views_landlords.my_rental_tenant, name="my_rental_tenant"),
    path("registry/my-rentals/<int:pk>/move-outs/", views_landlords.my_rental_move_out, name="my_rental_move_out"),
    path("q/<str:token>/", views.qr_building, name="qr_building"),
]
