"""The import pages, included by exchange/urls.py under /exchange/import/."""

from django.urls import path

from exchange.importing import views

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("<int:pk>/report.csv", views.import_issues_csv, name="import_issues_csv"),
    path("<int:pk>/files/<int:file_pk>/save-mapping/", views.import_save_mapping, name="import_save_mapping"),
    path("<int:pk>/files/<int:file_pk>/use-mapping/", views.import_use_mapping, name="import_use_mapping"),
]
