"""The report builders: each turns a ReportParams into one ReportResult (reports.base), computed in the database
with GROUP BY, in a fixed number of queries whatever the period. Registered in REPORTS at import (ReportsConfig
imports this module), so pages, exports and the API find them by name.

Definitions every report keeps (the tests recompute each figure from the documents):

- **Issued documents** are finalised or void ones (a void invoice keeps its amounts and is cancelled by the full
  credit note issued with it), as in invoicing.selectors.ISSUED. Drafts never count.
- **Periods are practice-local days.** ``Invoice.issue_date`` is the local date the document was finalised and
  ``Payment.received_on`` a local date, so they are bucketed as they are. Timestamps (appointment starts, notices'
  ``sent_at``, reminders' ``closed_at``) are compared with the UTC bounds of local midnights
  (vetpms.timeutils.local_day_bounds) and bucketed after conversion to the practice's zone; a local day of 23 or
  25 hours is one day.
- **Buckets**: a week starts on Monday (ISO); a quarter on 1 January, April, July, October. The first and last
  buckets hold only the days inside the period.
- **Revenue** = invoiced gross + credited (credit notes are negative and count in the period of their own
  issue date, not the invoice's). **Collected** = payments received in the period (clients' and insurers')
  less refunds paid out.
- **A year earlier** is the same dates one year back (29 February -> 28 February); a bucket is compared with the
  bucket one year before it (for weeks: the same ISO week number).
- **Revenue reads summaries**: the issued lines added up per day and per month by kind, vet, category and product,
  and the payments per day by kind and payor (invoicing.summaries, kept in the transaction that issues a document
  or records a payment), so ten years cost about what a month costs. Under a payor filter the documents' figures
  are read from the claimed documents themselves (the summaries do not know who claimed an invoice).
- **Vet and category filters** apply to the lines (each line keeps its vet and category). Payments settle whole
  invoices, so "collected" cannot be split by vet or category: with such a filter it is left empty, with a note.
  The payor filter keeps the invoices claimed from those payors (and their credit notes), and the payments those
  payors made.
"""

from reports.base import ReportSpec, register
from reports.builders import appointments, day_sheet, receivables, reminders, revenue

# The registry (reports.base.REPORTS): the one list of reports, in the order the reports page shows them.
register(
    ReportSpec(
        name="revenue",
        title="Revenue",
        description="Invoiced, credited and collected, by period, vet, category, product and payor, against a "
        "year earlier.",
        build=revenue.revenue,
        filters=("period", "grain", "vet", "category", "payor", "top_n"),
    )
)
register(
    ReportSpec(
        name="receivables",
        title="Receivables",
        description="What clients and insurers owe as of a day, by age, and who is overdue.",
        build=receivables.receivables,
        filters=("as_of", "payor"),
        for_vets=False,
        period_kind="as_of",
    )
)
register(
    ReportSpec(
        name="appointments",
        title="Appointments",
        description="Volumes by vet, type and weekday; no-show and cancellation rates; book utilisation.",
        build=appointments.appointments,
        filters=("period", "vet"),
    )
)
register(
    ReportSpec(
        name="reminders",
        title="Reminders",
        description="Notices sent, reminders done within 30/60/90 days of their due date, owners with no channel.",
        build=reminders.reminders,
        filters=("period",),
        for_vets=False,
    )
)
register(
    ReportSpec(
        name="day_sheet",
        title="Day sheet",
        description="One day's documents, payments by method (cash-up) and completed appointments.",
        build=day_sheet.day_sheet,
        filters=("day", "vet", "category"),
        period_kind="day",
    )
)
