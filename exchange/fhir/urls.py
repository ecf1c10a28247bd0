"""The FHIR R4 server, mounted at /fhir/R4/ by vetpms/urls.py."""

from django.urls import URLPattern, URLResolver

app_name = "fhir"

urlpatterns: list[URLPattern | URLResolver] = []
