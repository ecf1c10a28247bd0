"""The exchange app's pages (webhooks, import, export, data rights), mounted under /exchange/ by vetpms/web_urls.py."""

from django.urls import URLPattern, URLResolver, include, path

from exchange.exporting import views as export_views
from exchange.webhooks import urls as webhook_urls

app_name = "exchange"

urlpatterns: list[URLPattern | URLResolver] = [
    path("webhooks/", include(webhook_urls.urlpatterns)),
    path("export/", export_views.export_page, name="export"),
    path("export/download", export_views.export_download, name="export_download"),
    path("import/", include("exchange.importing.urls")),
    path("data-rights/", include("exchange.datarights.urls")),
]
