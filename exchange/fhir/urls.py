"""The FHIR R4 server, mounted at /fhir/R4/ by vetpms/urls.py.

Operations (``$export``) go in ``urlpatterns`` BEFORE the generic ``[type]`` / ``[type]/[id]`` patterns, which would
otherwise take ``Patient/$export`` for a read of a Patient with the id ``$export``.
"""

from django.urls import URLPattern, URLResolver, path, re_path

from exchange.fhir import bulk_views, resources, views

assert resources  # imported for its side effect: the resource types register themselves

app_name = "fhir"

urlpatterns: list[URLPattern | URLResolver] = [
    path("metadata", views.metadata, name="metadata"),
    # Bulk Data $export (before the generic type/id patterns).
    path("$export", bulk_views.export_system, name="export"),
    path("Patient/$export", bulk_views.export_patients, name="export_patients"),
    path("$export-status/<uuid:job_id>", bulk_views.export_status, name="export_status"),
    path("$export-status/<uuid:job_id>/files/<str:name>", bulk_views.export_file, name="export_file"),
    # The registry's types (exchange.fhir.registry).
    re_path(r"^(?P<type_name>[A-Z][A-Za-z]{1,63})/?$", views.type_endpoint, name="type"),
    re_path(
        r"^(?P<type_name>[A-Z][A-Za-z]{1,63})/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/?$",
        views.instance_endpoint,
        name="instance",
    ),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
