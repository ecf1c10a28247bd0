"""/exchange/data-rights/ (names in the "exchange" namespace, prefixed datarights_)."""

from django.urls import path

from exchange.datarights import views

urlpatterns = [
    path("", views.index, name="datarights_index"),
    path("retention/", views.retention, name="datarights_retention"),
    path("clients/<int:pk>/", views.client_page, name="datarights_client"),
    path("clients/<int:pk>/subject-access.json", views.subject_access_json, name="datarights_json"),
    path("clients/<int:pk>/subject-access.pdf", views.subject_access_pdf, name="datarights_pdf"),
]
