"""Appointment pages, under /appointments/. The public iCalendar feed (/calendar/<token>.ics) is mounted by
vetpms/web_urls.py, outside this namespace, because it is the one page without a login."""

from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("book/", views.day_grid, name="day_grid"),
    path("week/", views.week_view, name="week"),
    path("day/", views.day_list, name="day_list"),
    path("day/pdf/", views.day_list_pdf, name="day_list_pdf"),
    path("new/", views.book_start, name="start"),
    path("new/<int:animal_pk>/", views.book, name="book"),
    path("slots/", views.free_slots, name="slots"),
    path("types.css", views.types_css, name="types_css"),
    path("<int:pk>/", views.appointment_detail, name="detail"),
    path("<int:pk>/status/", views.appointment_transition, name="transition"),
    path("<int:pk>/reschedule/", views.appointment_reschedule, name="reschedule"),
    path("<int:pk>/undo/", views.appointment_undo, name="undo"),
    path("setup/", views.setup, name="setup"),
    path("setup/vets/<int:vet_pk>/hours/", views.hours_edit, name="hours"),
    path("setup/vets/<int:vet_pk>/exceptions/", views.exceptions, name="exceptions"),
    path("setup/exceptions/<int:pk>/remove/", views.exception_remove, name="exception_remove"),
    path("setup/closure/", views.closure, name="closure"),
    path("setup/vets/<int:vet_pk>/calendar/", views.feed_manage, name="feeds"),
    path("setup/types/", views.type_list, name="type_list"),
    path("setup/types/new/", views.type_edit, name="type_create"),
    path("setup/types/<int:pk>/edit/", views.type_edit, name="type_update"),
]
