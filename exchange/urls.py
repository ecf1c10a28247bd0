"""The exchange app's pages (webhooks, import, export, data rights), mounted under /exchange/ by vetpms/web_urls.py."""

from django.urls import URLPattern, URLResolver, include, path

from exchange.exporting import views as export_views

app_name = "exchange"

urlpatterns: list[URLPattern | URLResolver] = [
    path("export/", export_views.export_page, name="export"),
    path("export/download", export_views.export_download, name="export_download"),
    path("import/", include("exchange.importing.urls")),
    path("data-rights/", include("exchange.datarights.urls")),
]
