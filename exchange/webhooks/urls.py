"""The webhook pages, included under /exchange/webhooks/ by exchange/urls.py (names in the "exchange" namespace)."""

from django.urls import path

from exchange.webhooks import views

urlpatterns = [
    path("", views.endpoint_list, name="webhook_list"),
    path("new", views.endpoint_create, name="webhook_create"),
    path("<int:pk>/", views.endpoint_detail, name="webhook_detail"),
    path("<int:pk>/edit", views.endpoint_edit, name="webhook_edit"),
    path("<int:pk>/rotate", views.endpoint_rotate, name="webhook_rotate"),
    path("<int:pk>/delete", views.endpoint_delete, name="webhook_delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/replay", views.delivery_replay, name="webhook_replay"),
]
