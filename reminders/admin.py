"""Admin: reminder types are editable (the app's own page adds a preview); reminders, the outbox and runs are
read-only here, because their rules live in the services (reminders.services, reminders.sending). The job's
django-q2 schedules are under "Django Q" (written by migrate; see reminders.schedule)."""

from django.contrib import admin

from invoicing.admin import ReadOnlyAdmin
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType


@admin.register(ReminderType)
class ReminderTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "interval", "interval_unit", "stages", "is_active", "appointment_type"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    filter_horizontal = ["species"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["animal", "type", "due_on", "status", "source"]
    list_filter = ["status", "source", "type"]
    list_select_related = ["animal", "type"]
    date_hierarchy = "due_on"
    raw_id_fields = ["animal", "source_line", "source_appointment", "completed_by_line"]


class NoticeInline(admin.TabularInline):
    model = ReminderNotice
    fields = ["reminder", "stage", "send_on", "status", "skip_reason", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["client", "channel", "status", "to_email", "attempts", "sent_at", "created_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "run"]
    inlines = [NoticeInline]


@admin.register(ReminderRun)
class ReminderRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "trigger", "for_date", "status", "emails_sent", "emails_failed", "no_channel"]
    list_filter = ["trigger", "status"]
