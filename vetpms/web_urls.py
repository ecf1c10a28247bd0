"""The HTML pages. The REST API is mounted separately (vetpms/urls.py)."""

from django.urls import include, path

from animals import views as animal_views
from appointments import views as appointment_views
from vetpms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", animal_views.search, name="search"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/role/", views.staff_role, name="staff_role"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/active/", views.staff_active, name="staff_active"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
    path("staff/tokens/", views.token_list, name="token_list"),
    path("staff/tokens/new/", views.token_create, name="token_create"),
    path("staff/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/<str:model>/<int:pk>/", views.audit_trail, name="audit"),
    path("clients/", include("clients.urls")),
    path("appointments/", include("appointments.urls")),
    path("", include("invoicing.urls")),
    path("clinical/", include("clinical.urls")),
    path("reminders/", include("reminders.urls")),
    path("r/", include("reminders.public_urls")),
    path("reports/", include("reports.urls")),
    path("exchange/", include("exchange.urls")),
    path("calendar/<str:token>.ics", appointment_views.calendar_feed, name="calendar_feed"),
    path("", include("animals.urls")),
]
