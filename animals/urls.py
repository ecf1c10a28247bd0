"""Animal, species and breed pages. Mounted at the site root: new animals are created from their owner's page
(/clients/<client_pk>/animals/new/), everything else lives under /animals/, /species/ and /breeds/."""

from django.urls import path

from animals import views

app_name = "animals"

urlpatterns = [
    path("clients/<int:client_pk>/animals/new/", views.animal_create, name="create"),
    path("animals/breed-options/", views.breed_options, name="breed_options"),
    path("animals/<int:pk>/", views.animal_detail, name="detail"),
    path("animals/<int:pk>/edit/", views.animal_update, name="update"),
    path("animals/<int:pk>/transfer/", views.animal_transfer, name="transfer"),
    path("animals/<int:pk>/deceased/", views.animal_deceased, name="deceased"),
    path("animals/<int:pk>/deactivate/", views.animal_deactivate, name="deactivate"),
    path("animals/<int:pk>/reactivate/", views.animal_reactivate, name="reactivate"),
    path("animals/<int:pk>/weights/new/", views.weight_add, name="weight_add"),
    path("species/", views.species_list, name="species_list"),
    path("species/new/", views.species_create, name="species_create"),
    path("species/<int:pk>/edit/", views.species_update, name="species_update"),
    path("species/<int:species_pk>/breeds/new/", views.breed_create, name="breed_create"),
    path("breeds/<int:pk>/edit/", views.breed_update, name="breed_update"),
]
