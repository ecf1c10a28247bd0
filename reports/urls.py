from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("<slug:name>/", views.report, name="report"),
    path("<slug:name>/csv", views.report_csv_view, name="csv"),
    path("<slug:name>/pdf", views.report_pdf_view, name="pdf"),
]
