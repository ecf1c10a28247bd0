"""The exchange app's pages (webhooks, import, export, data rights), mounted under /exchange/ by vetpms/web_urls.py."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "exchange"

urlpatterns: list[URLPattern | URLResolver] = [
    path("import/", include("exchange.importing.urls")),
]
