from django.contrib import admin

from appointments.models import Appointment, AppointmentEvent, AppointmentType, BookException, WorkingHours


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "default_minutes", "colour", "recall_name", "recall_interval", "recall_unit", "is_active"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["vet", "weekday", "start_time", "end_time"]
    list_filter = ["vet"]


@admin.register(BookException)
class BookExceptionAdmin(admin.ModelAdmin):
    list_display = ["vet", "date", "kind", "start_time", "end_time", "note"]
    list_filter = ["vet", "kind"]


class EventInline(admin.TabularInline):
    model = AppointmentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "by", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Read-only: bookings go through the booking service so the overlap and hours rules always hold."""

    list_display = ["start", "vet", "animal", "type", "status"]
    list_filter = ["status", "vet", "type"]
    date_hierarchy = "start"
    inlines = [EventInline]
    list_select_related = ["vet", "animal", "type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
