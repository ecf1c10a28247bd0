"""Tables of the reminder pages (django-tables2): the due and overdue list, the reminder types, the delivery log,
the runs. Every cell reads what the selector joined or prefetched: no query per row."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from clients.tables import ClientNameColumn
from reminders import selectors
from reminders.models import Reminder, ReminderDelivery, ReminderRun, ReminderType
from vetpms.tables import DateColumn

NUMERIC = {"td": {"class": "text-end num"}, "th": {"class": "text-end"}}
STATUS_BADGES = {
    Reminder.Status.PENDING: "text-bg-info",
    Reminder.Status.COMPLETED: "text-bg-success",
    Reminder.Status.CANCELLED: "text-bg-secondary",
}
DELIVERY_BADGES = {
    ReminderDelivery.Status.PENDING: "text-bg-light border",
    ReminderDelivery.Status.SENDING: "text-bg-info",
    ReminderDelivery.Status.RETRY: "text-bg-warning",
    ReminderDelivery.Status.SENT: "text-bg-success",
    ReminderDelivery.Status.FAILED: "text-bg-danger",
    ReminderDelivery.Status.NO_CHANNEL: "text-bg-dark",
    ReminderDelivery.Status.SKIPPED: "text-bg-secondary",
    ReminderDelivery.Status.UNCONFIRMED: "text-bg-warning",
}
RUN_BADGES = {
    ReminderRun.Status.QUEUED: "text-bg-light border",
    ReminderRun.Status.RUNNING: "text-bg-info",
    ReminderRun.Status.FINISHED: "text-bg-success",
    ReminderRun.Status.FAILED: "text-bg-danger",
    ReminderRun.Status.TIMED_OUT: "text-bg-warning",
    ReminderRun.Status.STOPPED: "text-bg-warning",
}
_PK = "987654321"


def day(value) -> str:
    return dateformat.format(value, "j M Y")


def moment(value) -> str:
    return dateformat.format(timezone.localtime(value), "j M Y H:i")


def reminder_status_badge(reminder: Reminder, today=None) -> str:
    today = today or timezone.localdate()
    if reminder.status == Reminder.Status.PENDING and reminder.due_on < today:
        return format_html('<span class="badge text-bg-danger">{}</span>', "Overdue")
    css = STATUS_BADGES.get(reminder.status, "text-bg-secondary")
    return format_html('<span class="badge {}">{}</span>', css, reminder.get_status_display())


def delivery_status_badge(delivery: ReminderDelivery) -> str:
    css = DELIVERY_BADGES.get(delivery.status, "text-bg-secondary")
    return format_html('<span class="badge {}">{}</span>', css, delivery.get_status_display())


def notice_items(delivery: ReminderDelivery) -> str:
    """ "Rex: Rabies vaccination, due 3 Mar 2026" per notice, from the prefetched notices."""
    notices = list(delivery.notices.all())
    if not notices:
        return format_html('<span class="text-body-secondary">{}</span>', "—")
    return format_html(
        '<ul class="list-unstyled mb-0 small">{}</ul>',
        format_html_join(
            "",
            "<li><strong>{}</strong>: {}, due {}</li>",
            ((n.reminder.animal.name, n.reminder.type.name, day(n.reminder.due_on)) for n in notices),
        ),
    )


class ReminderTable(tables.Table):
    due_on = tables.Column(verbose_name="Due", order_by=("due_on", "id"))
    animal = tables.Column(verbose_name="Pet", accessor="animal__name", order_by=("animal__name", "id"))
    owner = ClientNameColumn(
        "animal__owner",
        verbose_name="Owner",
        order_by=("animal__owner__last_name", "animal__owner__first_name", "id"),
    )
    type = tables.Column(verbose_name="Reminder", accessor="type__name", order_by=("type__name", "due_on"))
    vet_name = tables.Column(verbose_name="Vet", orderable=False, default="—")
    channel = tables.Column(verbose_name="Channel", orderable=False, empty_values=())
    status = tables.Column(verbose_name="Status", empty_values=())
    actions = tables.Column(verbose_name="", orderable=False, empty_values=(), attrs={"td": {"class": "text-end"}})

    class Meta:
        model = Reminder
        fields = ("due_on", "animal", "owner", "type", "vet_name", "channel", "status", "actions")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0 reminder-table"}
        row_attrs = {
            "class": lambda record: "" if record.status == Reminder.Status.PENDING else "row-muted",
            "data-reminder": lambda record: record.pk,
        }
        empty_text = "No reminders match these filters."
        orderable = True

    def __init__(self, *args, can_change: bool = False, csrf_token: str = "", next_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.can_change = can_change
        self.csrf_token = csrf_token
        self.next_url = next_url
        self.today = timezone.localdate()
        self._detail = reverse("reminders:detail", args=[_PK])
        self._complete = reverse("reminders:complete", args=[_PK])
        self._animal = reverse("animals:detail", args=[_PK])
        self._client = reverse("clients:detail", args=[_PK])

    def _url(self, template: str, pk: int) -> str:
        return template.replace(_PK, str(pk))

    def render_due_on(self, record):
        return format_html(
            '<a class="text-nowrap" href="{}">{}</a>', self._url(self._detail, record.pk), day(record.due_on)
        )

    def render_animal(self, record):
        animal = record.animal
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a> <span class="small text-body-secondary">{}</span>',
            self._url(self._animal, animal.pk),
            animal.name,
            animal.species.name,
        )

    def render_owner(self, record):
        owner = record.animal.owner
        phones = owner.phones
        phone = format_html('<div class="small text-nowrap">{}</div>', phones[0][1]) if phones else ""
        return format_html('<a href="{}">{}</a>{}', self._url(self._client, owner.pk), owner.display_name, phone)

    def render_channel(self, record):
        if selectors.channel_of(record) == selectors.CHANNEL_EMAIL:
            return format_html('<span class="badge text-bg-light border">{}</span>', "Email")
        owner = record.animal.owner
        why = "no consent" if not owner.reminder_consent else "no email"
        return format_html('<span class="badge text-bg-warning" title="{}">{}</span>', why, "Phone")

    def render_status(self, record):
        return reminder_status_badge(record, self.today)

    def render_actions(self, record):
        if not self.can_change or record.status != Reminder.Status.PENDING:
            return ""
        return format_html(
            '<div class="d-inline-flex gap-1">'
            '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<button class="btn btn-sm btn-outline-success" type="submit" aria-label="Complete {} for {}">Complete'
            "</button></form>"
            '<a class="btn btn-sm btn-outline-secondary" href="{}" aria-label="Cancel or move {} for {}">'
            "Cancel / move</a>"
            "</div>",
            self._url(self._complete, record.pk),
            self.csrf_token,
            self.next_url,
            record.type.name,
            record.animal.name,
            self._url(self._detail, record.pk),
            record.type.name,
            record.animal.name,
        )


class ReminderTypeTable(tables.Table):
    name = tables.Column(verbose_name="Name")
    species = tables.Column(verbose_name="Species", orderable=False, empty_values=())
    interval = tables.Column(verbose_name="Every", orderable=False, empty_values=())
    stages = tables.Column(verbose_name="Notices (days from due)", orderable=False, empty_values=())
    renewed_by = tables.Column(verbose_name="Renewed by", orderable=False, empty_values=())
    is_active = tables.Column(verbose_name="Status", orderable=False, empty_values=())

    class Meta:
        model = ReminderType
        fields = ("name", "species", "interval", "stages", "renewed_by", "is_active")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0"}
        row_attrs = {"class": lambda record: "" if record.is_active else "row-muted"}
        empty_text = "No reminder types yet."
        orderable = False

    can_edit = False

    def render_name(self, record):
        if self.can_edit:
            return format_html('<a href="{}">{}</a>', reverse("reminders:type_update", args=[record.pk]), record.name)
        return record.name

    def render_species(self, record):
        names = [s.name for s in record.species.all()]
        return ", ".join(sorted(names)) if names else "Every species"

    def render_interval(self, record):
        return f"{record.interval} {record.get_interval_unit_display()}"

    def render_stages(self, record):
        return ", ".join(f"{s:+d}" if s else "0" for s in record.stages)

    def render_renewed_by(self, record):
        parts = [link.product.name for link in record.products.all()]
        if record.appointment_type_id:
            parts.append(f"recall of {record.appointment_type.name}")
        return "; ".join(parts) if parts else "—"

    def render_is_active(self, record):
        if record.is_active:
            return format_html('<span class="badge text-bg-success">{}</span>', "Active")
        return format_html('<span class="badge text-bg-secondary">{}</span>', "Inactive")


class DeliveryTable(tables.Table):
    created_at = DateColumn(verbose_name="Made", format="j M Y H:i", orderable=False)
    client = ClientNameColumn("client", verbose_name="Owner", orderable=False)
    channel = tables.Column(verbose_name="Channel", orderable=False)
    status = tables.Column(verbose_name="Status", orderable=False)
    items = tables.Column(verbose_name="Pets and items", orderable=False, empty_values=())
    detail = tables.Column(verbose_name="Details", orderable=False, empty_values=())

    class Meta:
        model = ReminderDelivery
        fields = ("created_at", "client", "channel", "status", "items", "detail")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0 delivery-table"}
        empty_text = "No reminder emails or calls match these filters."
        orderable = False

    def render_channel(self, record):
        return record.get_channel_display()

    def render_status(self, record):
        return delivery_status_badge(record)

    def render_items(self, record):
        return notice_items(record)

    def render_detail(self, record):
        parts = []
        if record.to_email:
            parts.append(format_html("To {}", record.to_email))
        if record.subject:
            parts.append(format_html("“{}”", record.subject))
        if record.sent_at:
            parts.append(format_html("sent {}", moment(record.sent_at)))
        if record.attempts:
            parts.append(format_html("{} attempt{}", record.attempts, "" if record.attempts == 1 else "s"))
        if record.reason:
            parts.append(format_html("{}", record.reason))
        if record.last_error and record.status in (ReminderDelivery.Status.FAILED, ReminderDelivery.Status.RETRY):
            parts.append(format_html('<span class="text-danger">{}</span>', record.last_error[:200]))
        if record.followed_up_at:
            parts.append(
                format_html(
                    "phoned {} by {}{}",
                    moment(record.followed_up_at),
                    record.followed_up_by or "someone",
                    format_html(": {}", record.follow_up_note) if record.follow_up_note else "",
                )
            )
        return format_html('<div class="small">{}</div>', mark_safe("<br>".join(parts)))  # noqa: S308 - parts built by format_html


class RunTable(tables.Table):
    created_at = DateColumn(verbose_name="Started", format="j M Y H:i", orderable=False)
    trigger = tables.Column(verbose_name="How", orderable=False)
    for_date = DateColumn(verbose_name="For", format="j M Y", orderable=False)
    status = tables.Column(verbose_name="Status", orderable=False)
    emails_sent = tables.Column(verbose_name="Sent", attrs=NUMERIC, orderable=False)
    emails_failed = tables.Column(verbose_name="Failed", attrs=NUMERIC, orderable=False)
    emails_deferred = tables.Column(verbose_name="Retrying", attrs=NUMERIC, orderable=False)
    no_channel = tables.Column(verbose_name="To phone", attrs=NUMERIC, orderable=False)

    class Meta:
        model = ReminderRun
        fields = (
            "created_at",
            "trigger",
            "for_date",
            "status",
            "emails_sent",
            "emails_failed",
            "emails_deferred",
            "no_channel",
        )
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No runs yet."
        orderable = False

    def render_created_at(self, record):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("reminders:run_detail", args=[record.pk]),
            moment(record.created_at),
        )

    def render_trigger(self, record):
        by = f" by {record.started_by}" if record.started_by else ""
        return f"{record.get_trigger_display()}{by}"

    def render_status(self, record):
        css = RUN_BADGES.get(record.status, "text-bg-secondary")
        return format_html('<span class="badge {}">{}</span>', css, record.get_status_display())
