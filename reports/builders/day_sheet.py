"""The day sheet: one day's documents, payments by method (cash-up) and completed appointments."""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from appointments.models import Appointment, AppointmentStatus
from invoicing.models import (
    Invoice,
    InvoiceLine,
    Payment,
)
from invoicing.selectors import ISSUED
from reports.base import Chart, Column, ReportParams, ReportResult
from reports.builders.common import column_totals, money, result, vet_scope
from vetpms.timeutils import local_day_bounds, to_local


def day_sheet(params: ReportParams) -> ReportResult:
    """One local day (the period's last day): the documents issued, the payments by method (the cash-up) and the
    appointments completed. A vet's own day sheet shows their lines and appointments, not the till."""
    day = params.end
    notes = [] if params.start == params.end else [f"The day sheet is for one day: {day.day} {day:%b %Y}."]
    vets = vet_scope(params)
    docs = Invoice.objects.filter(status__in=ISSUED, issue_date=day)
    if vets or params.categories:
        lines = InvoiceLine.objects.filter(invoice__in=docs)
        if vets:
            lines = lines.filter(vet_id__in=vets)
        if params.categories:
            lines = lines.filter(category__in=params.categories)
        raw = list(
            lines.values("invoice_id", "invoice__series", "invoice__number", "invoice__kind", "invoice__client_name")
            .annotate(net=Sum("net"), tax=Sum("tax"), gross=Sum("gross"))
            .order_by("invoice__series", "invoice__number")
        )
        doc_rows = [
            {
                "reference": f"{r['invoice__series']}-{r['invoice__number']:05d}",
                "kind": Invoice.Kind(r["invoice__kind"]).label,
                "client": r["invoice__client_name"],
                "net": money(r["net"]),
                "tax": money(r["tax"]),
                "gross": money(r["gross"]),
            }
            for r in raw
        ]
    else:
        doc_rows = [
            {
                "reference": doc.reference,
                "kind": doc.get_kind_display(),
                "client": doc.client_name,
                "net": doc.net_total,
                "tax": doc.tax_total,
                "gross": doc.gross_total,
            }
            for doc in docs.only(
                "series", "number", "kind", "client_name", "net_total", "tax_total", "gross_total"
            ).order_by("series", "number")
        ]
    columns = [
        Column("reference", "Document"),
        Column("kind", "Kind"),
        Column("client", "Client"),
        Column("net", "Net", "money"),
        Column("tax", "Tax", "money"),
        Column("gross", "Gross", "money"),
    ]
    sections = []
    chart = None
    if vets or params.categories:
        notes.append("Payments are not shown: they settle whole invoices, not one vet's or category's lines.")
    else:
        method_labels = dict(Payment.Method.choices)
        raw_payments = (
            Payment.objects.live()
            .filter(received_on=day)
            .values("method")
            .annotate(
                payments=Count("id", filter=Q(kind=Payment.Kind.PAYMENT)),
                received=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)),
                refunds=Count("id", filter=Q(kind=Payment.Kind.REFUND)),
                refunded=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)),
            )
            .order_by("method")
        )
        pay_rows = []
        for r in raw_payments:
            received, refunded = money(r["received"]), money(r["refunded"])
            pay_rows.append(
                {
                    "method": method_labels.get(r["method"], r["method"]),
                    "payments": r["payments"],
                    "received": received,
                    "refunds": r["refunds"],
                    "refunded": -refunded,
                    "net": received - refunded,
                }
            )
        sections.append(
            ReportResult(
                name="day_sheet",
                title="Payments by method (cash-up)",
                params=params,
                columns=[
                    Column("method", "Method"),
                    Column("payments", "Payments", "int"),
                    Column("received", "Received", "money"),
                    Column("refunds", "Refunds", "int"),
                    Column("refunded", "Refunded", "money"),
                    Column("net", "Net takings", "money"),
                ],
                rows=pay_rows,
                totals=column_totals(pay_rows, ["payments", "received", "refunds", "refunded", "net"]),
            )
        )
        chart = Chart(
            kind="bar",
            title="Takings by payment method",
            x_label="Method",
            y_label="Net takings",
            categories=[r["method"] for r in pay_rows],
            series=[("Net takings", [r["net"] for r in pay_rows])],
        )
    lo, hi = local_day_bounds(day)
    done = Appointment.objects.filter(start__gte=lo, start__lt=hi, status=AppointmentStatus.COMPLETED)
    if vets:
        done = done.filter(vet_id__in=vets)
    appointment_rows = [
        {
            "time": to_local(a.start).strftime("%H:%M"),
            "vet": a.vet.display_name,
            "animal": a.animal.name,
            "client": a.client.display_name,
            "type": a.type.name,
        }
        for a in done.select_related("vet", "animal", "client", "type").order_by("start", "id")
    ]
    sections.append(
        ReportResult(
            name="day_sheet",
            title="Completed appointments",
            params=params,
            columns=[
                Column("time", "Time"),
                Column("vet", "Vet"),
                Column("animal", "Animal"),
                Column("client", "Client"),
                Column("type", "Type"),
            ],
            rows=appointment_rows,
            totals={"time": f"{len(appointment_rows)} completed"} if appointment_rows else None,
        )
    )
    return result(
        params,
        "day_sheet",
        f"Day sheet, {day.day} {day:%b %Y}",
        columns,
        doc_rows,
        totals=column_totals(doc_rows, ["net", "tax", "gross"]),
        chart=chart,
        notes=notes,
        sections=sections,
    )
