"""The FHIR R4 server, mounted at /fhir/R4/ by vetpms/urls.py."""

from django.urls import URLPattern, URLResolver, path

from exchange.fhir import bulk_views

app_name = "fhir"

urlpatterns: list[URLPattern | URLResolver] = [
    # Bulk Data $export (before the generic type/id patterns).
    path("$export", bulk_views.export_system, name="export"),
    path("Patient/$export", bulk_views.export_patients, name="export_patients"),
    path("$export-status/<uuid:job_id>", bulk_views.export_status, name="export_status"),
    path("$export-status/<uuid:job_id>/files/<str:name>", bulk_views.export_file, name="export_file"),
]
