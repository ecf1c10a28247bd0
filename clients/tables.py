"""The client list table (django-tables2). Rows come from clients.selectors.client_list, with animal_count."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from clients.models import Client
from vetpms.tables import DateColumn, pk_url


class ClientNameColumn(tables.Column):
    """A client's name in any list, as everywhere else (Client.display_name), linked to their page.

    ``path`` leads from the row to the client ("client", "animal__owner"). The column reads the client itself,
    never ``last_name``: an organisation has none, and a column whose value is empty shows "—" without asking
    its render method (so the invoice list showed "—" for every farm and shelter)."""

    def __init__(self, path: str = "client", **kwargs) -> None:
        kwargs.setdefault("verbose_name", "Client")
        kwargs.setdefault(
            "order_by", (f"{path}__last_name", f"{path}__organisation", f"{path}__first_name", f"{path}__id")
        )
        super().__init__(accessor=path, empty_values=(), **kwargs)

    def render(self, value, record=None):
        if value is None:
            return "—"
        return format_html('<a href="{}">{}</a>', pk_url("clients:detail", value.pk), value.display_name)

    def value(self, value, record=None):
        return value.display_name if value is not None else ""


class ClientTable(tables.Table):
    name = tables.Column(
        accessor="sort_name", verbose_name="Name", order_by=("last_name", "first_name", "organisation", "id")
    )
    phone = tables.Column(accessor="mobile_phone", verbose_name="Phone", orderable=False, empty_values=())
    email = tables.EmailColumn(verbose_name="Email")
    town = tables.Column(verbose_name="Town", order_by=("town", "last_name"))
    animal_count = tables.Column(verbose_name="Pets", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    reminder_consent = tables.BooleanColumn(verbose_name="Reminders", yesno="✔,—")
    created_at = DateColumn(verbose_name="Created", format="j M Y")

    class Meta:
        model = Client
        fields = ("name", "phone", "email", "town", "animal_count", "reminder_consent", "created_at")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0"}
        row_attrs = {"class": lambda record: "" if record.is_active else "row-muted"}
        empty_text = "No clients match these filters."
        orderable = True

    def render_name(self, record):
        url = pk_url("clients:detail", record.pk)
        label = record.list_name
        if not record.is_active:
            return format_html('<a href="{}">{}</a> <span class="badge text-bg-secondary">Inactive</span>', url, label)
        return format_html('<a href="{}">{}</a>', url, label)

    def render_phone(self, record):
        return record.main_phone or "—"

    def value_phone(self, record):
        return record.main_phone
