from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_update, name="update"),
    path("<int:pk>/deactivate/", views.client_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", views.client_reactivate, name="reactivate"),
]
