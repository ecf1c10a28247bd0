"""Issue 4 measurements: invoicing at practice scale (about 500k invoices with 2M lines over ten years).

    invoice_finalise on a fresh draft of 5 lines         p95 <= 50 ms (number from the locked counter, snapshot)
    the PDF of a 20-line invoice (render_invoice)        p95 <= 100 ms
    a client's balance with 300 documents                p95 <= 20 ms (invoicing.selectors.client_balance)
    the invoice list page /invoices/                     <= 10 queries whatever the page size (p50/p95 too)
    the client account page /clients/<id>/account/       for reference (balance, outstanding, statement)

Everything the bench makes is marked (drafts and their documents by a note, the 300-document client's documents by
their own series) and removed afterwards, also after an interrupted run: the issued documents with the freezing
triggers switched off inside the deleting transaction only, and the invoice counter put back to where it was, so
the numbering stays gapless and the data is as the seed left it.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

from bench.run import QUERY_TARGET, Result, get_ok, measure

FINALISE_MS = 50.0
PDF_MS = 100.0
BALANCE_MS = 20.0
MARKER = "bench: invoicing"
BIG_SERIES = "BENCH-"  # the 300-document client's invoices and credit notes (not a real series)
BIG_DOCUMENTS = 300


# --- making and removing bench data ------------------------------------------------------------------------------


def cleanup() -> int:
    """Delete every document the bench made (drafts and issued), their lines, payments, allocations and audit
    entries, and put the counters back to the last number still in the table."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.db.models import Max, Q

    from invoicing import balances
    from invoicing.models import Allocation, DocumentCounter, Invoice, InvoiceLine, OpenInvoice, Payment
    from reminders.models import Reminder
    from vetpms.models import AuditEntry

    mine = Invoice.objects.filter(Q(notes=MARKER) | Q(series__startswith=BIG_SERIES))
    ids = list(mine.values_list("pk", flat=True))
    if not ids:
        return 0
    series = set(mine.exclude(series="").values_list("series", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        # Issued documents refuse DELETE (invoicing migration 0002). The triggers are off for this transaction
        # only: ALTER TABLE is transactional in PostgreSQL and holds the tables' locks until the commit.
        cursor.execute("ALTER TABLE invoicing_invoiceline DISABLE TRIGGER invoiceline_frozen")
        cursor.execute("ALTER TABLE invoicing_invoice DISABLE TRIGGER invoice_frozen")
        # What finalising set off elsewhere: the reminders the bench's vaccines renewed (the new ones go, the ones
        # they completed are pending again) and the list of open invoices.
        lines = InvoiceLine.objects.filter(invoice_id__in=ids)
        Reminder.objects.filter(source_line__in=lines).delete()
        Reminder.objects.filter(completed_by_line__in=lines).update(
            status=Reminder.Status.PENDING, closed_at=None, closed_by=None, completed_by_line=None, note=""
        )
        OpenInvoice.objects.filter(invoice_id__in=ids).delete()
        clients = set(mine.values_list("client_id", flat=True))
        payments = list(Allocation.objects.filter(invoice_id__in=ids).values_list("payment_id", flat=True))
        Allocation.objects.filter(invoice_id__in=ids)._raw_delete(connection.alias)
        Payment.objects.filter(pk__in=payments, notes=MARKER)._raw_delete(connection.alias)
        InvoiceLine.objects.filter(invoice_id__in=ids)._raw_delete(connection.alias)
        Invoice.objects.filter(pk__in=ids, kind="credit_note")._raw_delete(connection.alias)
        Invoice.objects.filter(pk__in=ids)._raw_delete(connection.alias)
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Invoice), object_id__in=[str(i) for i in ids]
        )._raw_delete(connection.alias)
        balances.refresh(clients)  # the bench's clients' balances as they were before it
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign-key checks now, before ALTER TABLE
        cursor.execute("ALTER TABLE invoicing_invoice ENABLE TRIGGER invoice_frozen")
        cursor.execute("ALTER TABLE invoicing_invoiceline ENABLE TRIGGER invoiceline_frozen")
        for name in series:
            last = Invoice.objects.filter(series=name).aggregate(m=Max("number"))["m"] or 0
            if name.startswith(BIG_SERIES):
                DocumentCounter.objects.filter(series=name).delete()
            else:
                DocumentCounter.objects.filter(series=name).update(last_number=last)
    return len(ids)


def _clients_without_drafts(count: int, rng: random.Random) -> list:
    """Active clients with an active pet and no open draft (a draft per client), at random."""
    from animals.models import Animal
    from clients.models import Client

    owners = (
        Animal.objects.filter(is_active=True, deceased_on__isnull=True, owner__is_active=True)
        .exclude(owner__invoices__status="draft")
        .values_list("owner_id", flat=True)
        .distinct()
    )
    picked = rng.sample(list(owners[: count * 20]), count)
    return list(Client.objects.filter(pk__in=picked).order_by("pk"))


def make_drafts(*, clients: list, lines: int, rng: random.Random, by) -> list:
    """A draft per client with ``lines`` lines for one of its pets, through the services (not timed)."""
    from invoicing.models import Invoice, Product
    from invoicing.services import invoice_add_line, invoice_draft_for
    from vetpms.models import Vet

    products = list(Product.objects.filter(is_active=True).order_by("code"))
    vets = list(Vet.objects.order_by("pk"))
    drafts = []
    for client in clients:
        animal = client.animals.filter(is_active=True, deceased_on__isnull=True).first()
        draft = invoice_draft_for(client=client, by=by)
        Invoice.objects.filter(pk=draft.pk).update(notes=MARKER)
        for product in rng.sample(products, lines) if lines <= len(products) else rng.choices(products, k=lines):
            quantity = Decimal(rng.choice(["1", "2", "0.5", "7"])) if product.unit in ("ml", "tablet") else Decimal(1)
            invoice_add_line(
                invoice=draft, by=by, product=product, quantity=quantity, animal=animal, vet=rng.choice(vets)
            )
        drafts.append(draft)
    return drafts


def make_big_client(*, rng: random.Random, by) -> tuple:
    """A client with BIG_DOCUMENTS issued documents over ten years (invoices, 5% credit notes) and payments for
    most, written as the seeder writes them (drafts, lines, then issued; amounts by invoicing.calc) in a series of
    their own (BENCH-<year>), so the practice's numbering is untouched. Returns (client, documents)."""
    from django.db import transaction
    from django.utils import timezone

    from invoicing import calc
    from invoicing.models import Allocation, Invoice, InvoiceLine, Payment, Product

    client = _clients_without_drafts(1, rng)[0]
    animal = client.animals.order_by("pk").first()
    products = list(Product.objects.select_related("tax_category").order_by("code"))
    today = timezone.localdate()
    rates = {p.pk: p.tax_category.rates.order_by("-valid_from").first().rate for p in products}
    with transaction.atomic():
        numbers: dict[str, int] = {}

        def document(day: dt.date, credits=None) -> Invoice:
            return Invoice(
                kind="credit_note" if credits else "invoice",
                client=client,
                credits=credits,
                reason="Bench credit note" if credits else "",
                issue_date=day,
                due_date=None if credits else day + dt.timedelta(days=30),
                client_name=client.display_name,
                client_address="\n".join(client.address_lines),
                notes=MARKER,
                created_by=by,
                finalised_by=by,
                finalised_at=timezone.now(),
            )

        days = [
            today - dt.timedelta(days=int(3650 * (BIG_DOCUMENTS - n) / BIG_DOCUMENTS)) for n in range(BIG_DOCUMENTS)
        ]
        credit_days = days[19::20]  # every 20th document is a credit note for the invoice before it
        invoices = Invoice.objects.bulk_create([document(day) for n, day in enumerate(days) if n % 20 != 19])
        by_day = {invoice.issue_date: invoice for invoice in invoices}
        notes = Invoice.objects.bulk_create(
            [document(day, credits=by_day[days[days.index(day) - 1]]) for day in credit_days]
        )
        invoices = sorted([*invoices, *notes], key=lambda i: (i.issue_date, i.pk))
        lines = []
        for invoice in invoices:
            sign = -1 if invoice.kind == "credit_note" else 1
            chosen = rng.sample(products, 1 if sign < 0 else rng.randint(2, 6))
            for position, product in enumerate(chosen, start=1):
                quantity = Decimal(sign * rng.choice([1, 1, 2]))
                amounts = calc.line_amounts(
                    quantity=quantity, unit_price=product.unit_price, tax_rate=rates[product.pk]
                )
                lines.append(
                    InvoiceLine(
                        invoice=invoice, position=position, product=product, description=product.name,
                        animal=animal, service_date=invoice.issue_date, category=product.category,
                        quantity=quantity, unit=product.unit, unit_price=product.unit_price,
                        tax_rate=rates[product.pk], net=amounts.net, tax=amounts.tax, gross=amounts.gross,
                    )
                )  # fmt: skip
        InvoiceLine.objects.bulk_create(lines)
        by_invoice: dict[int, list] = {}
        for line in lines:
            by_invoice.setdefault(line.invoice_id, []).append(line)
        payments, allocations = [], []
        for invoice in invoices:
            totals = calc.document_totals(by_invoice[invoice.pk])
            series = f"{BIG_SERIES}{invoice.issue_date.year}"
            numbers[series] = numbers.get(series, 0) + 1
            Invoice.objects.filter(pk=invoice.pk).update(
                net_total=totals.net, tax_total=totals.tax, gross_total=totals.gross, series=series
            )
            Invoice.objects.filter(pk=invoice.pk).update(status="finalised", number=numbers[series])
            if invoice.kind == "invoice" and totals.gross > 0 and rng.random() < 0.9:  # some products are free
                payment = Payment(
                    client=client, method="card", amount=totals.gross, received_on=invoice.issue_date,
                    notes=MARKER, created_by=by,
                )  # fmt: skip
                payments.append(payment)
                allocations.append((payment, invoice, totals.gross))
        Payment.objects.bulk_create(payments)
        Allocation.objects.bulk_create([Allocation(payment=p, invoice=i, amount=a) for p, i, a in allocations])
    return client, len(invoices)


# --- pages -------------------------------------------------------------------------------------------------------

SESSION_SAVE = 3  # BEGIN, UPDATE django_session, COMMIT: the sliding session expiry, at most once a minute


def measure_page(result: Result, fn, own: list[int]) -> None:
    """``measure``, also noting the statements of the page itself: without the session middleware's sliding-expiry
    save, which falls in whichever request comes a minute after the last one (more often on slow pages)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - started) * 1000
    statements = [q["sql"] for q in captured.captured_queries]
    saved = any(sql.startswith('UPDATE "django_session"') for sql in statements)
    result.add(elapsed, len(statements))
    own.append(len(statements) - (SESSION_SAVE if saved else 0))


def page_verdict(result: Result, own: list[int]) -> None:
    low, high = min(own), max(own)
    result.ok = high <= QUERY_TARGET
    spread = str(low) if low == high else f"{low}-{high}"
    extra = "; +3 in requests that carried the session's once-a-minute sliding save (BEGIN, UPDATE, COMMIT)"
    result.note = (
        (result.note + "; " if result.note else "")
        + f"page's own statements: {spread}"
        + (extra if max(result.queries) > high else "")
    )


# --- plans ---------------------------------------------------------------------------------------------------------


def _captured(fn) -> list[tuple[str, tuple]]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [q["sql"] for q in captured.captured_queries]


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def explain_report(sections: list[tuple[str, str]], dataset: str) -> str:
    parts = [
        "# Query plans of invoicing\n",
        "Made by `make bench` (bench/invoicing.py) on the practice-scale data "
        f"({dataset}): `EXPLAIN (ANALYZE, BUFFERS)` of the queries behind a client's balance, the invoice list page "
        "and the numbering step of finalising.\n",
    ]
    for title, sql in sections:
        parts.append(f"## {title}\n\n```sql\n{sql}\n```\n\n```\n{_explain(sql)}\n```\n")
    return "\n".join(parts)


# --- the measurements ----------------------------------------------------------------------------------------------


def bench_invoicing(args, rng: random.Random) -> tuple[list[Result], dict[str, str], str]:
    from django.db.models import Count
    from django.test import Client as HttpClient
    from django.urls import reverse

    from invoicing import selectors
    from invoicing.models import Claim, DocumentCounter, Invoice, InvoiceLine, Payment
    from invoicing.pdf import render_invoice
    from invoicing.services import invoice_finalise
    from vetpms.models import User

    issued = Invoice.objects.exclude(status="draft")
    invoices = issued.count()
    if invoices < 1000:
        return [Result("invoicing", note="skipped: no practice-scale invoices loaded")], {}, ""
    reception = User.objects.get(username="reception")
    manager = User.objects.get(username="manager")
    as_reception, as_manager = HttpClient(), HttpClient()
    as_reception.force_login(reception)
    as_manager.force_login(manager)
    dataset = (
        f"{invoices:,} issued documents ({issued.filter(kind='credit_note').count():,} credit notes), "
        f"{InvoiceLine.objects.count():,} lines, {Payment.objects.count():,} payments, "
        f"{Claim.objects.count():,} claims"
    )
    removed = cleanup()
    results: list[Result] = []
    sections: list[tuple[str, str]] = []
    try:
        # Finalise: fresh 5-line drafts, each finalised by the receptionist (numbered, snapshot, frozen, committed).
        drafts = make_drafts(clients=_clients_without_drafts(args.finalise, rng), lines=5, rng=rng, by=manager)
        finalise = Result("invoice_finalise (fresh draft, 5 lines)", target=f"p95 <= {FINALISE_MS:.0f} ms")
        counter_sql = ""
        for n, draft in enumerate(drafts):
            if n == 0:  # the first one, untimed, gives the numbering query for the plan
                queries = _captured(lambda draft=draft: invoice_finalise(invoice=draft, by=reception))
                counter_sql = next(q for q in queries if "invoicing_documentcounter" in q and "FOR UPDATE" in q)
                continue
            measure(finalise, lambda draft=draft: invoice_finalise(invoice=draft, by=reception))
        finalise.ok = finalise.p95 <= FINALISE_MS
        finalise.note = f"{len(drafts) - 1} drafts on {invoices:,} issued documents; committed each"
        results.append(finalise)
        sections.append(("Finalise: the series counter, locked", counter_sql))

        # PDF of a 20-line invoice, issued (so the paid/outstanding rows are computed too).
        big = make_drafts(clients=_clients_without_drafts(1, rng), lines=20, rng=rng, by=manager)[0]
        invoice_finalise(invoice=big, by=reception)
        pdf = Result("render_invoice (issued, 20 lines)", target=f"p95 <= {PDF_MS:.0f} ms")
        render_invoice(selectors.invoice_detail(pk=big.pk))  # warm up fonts
        for _ in range(args.pdf_runs):
            measure(pdf, lambda: render_invoice(selectors.invoice_detail(pk=big.pk)))
        pdf.ok = pdf.p95 <= PDF_MS
        pdf.note = "invoice_detail (with prefetches) + render_invoice; 2 pages"
        results.append(pdf)
        pdf_page = Result("GET /invoices/<id>/pdf/ (same invoice)", note="for reference")
        for _ in range(min(args.pdf_runs, 20)):
            measure(pdf_page, get_ok(as_reception, reverse("invoicing:pdf", args=[big.pk])))
        results.append(pdf_page)

        # Balance of a client with 300 documents.
        client, documents = make_big_client(rng=rng, by=manager)
        balance = Result(f"client_balance (a client with {documents} documents)", target=f"p95 <= {BALANCE_MS:.0f} ms")
        selectors.client_balance(client=client)
        for _ in range(args.repeat * 2):
            measure(balance, lambda: selectors.client_balance(client=client))
        balance.ok = balance.p95 <= BALANCE_MS
        paid = Payment.objects.filter(client=client).count()
        balance_queries = _captured(lambda: selectors.client_balance(client=client))
        balance.note = f"{documents} issued documents, {paid} payments"
        results.append(balance)
        typical_ids = list(
            issued.values("client_id").annotate(n=Count("id")).order_by("?").values_list("client_id", flat=True)[:40]
        )
        typical = Result("client_balance (random clients)", note="for reference")
        from clients.models import Client

        for pk in typical_ids:
            measure(typical, lambda pk=pk: selectors.client_balance(client=Client(pk=pk)))
        results.append(typical)
        for n, sql in enumerate(balance_queries, start=1):
            of = f", query {n} of {len(balance_queries)}" if len(balance_queries) > 1 else ""
            sections.append((f"Client balance ({documents} documents{of})", sql))

        # The invoice list page.
        list_url = reverse("invoicing:list")
        vets = list(InvoiceLine.objects.values_list("vet_id", flat=True).exclude(vet_id=None).distinct()[:10])
        payor = Claim.objects.values_list("policy__payor_id", flat=True).first()
        # Pages follow a cursor (vetpms.keyset): the cursors of rows near the top and at random depths, found
        # once here (untimed), are what a reader paging that far would send.
        from bench.pages import deep_cursor

        near = [deep_cursor(selectors.invoice_list(), rng.randint(0, 250)) for _ in range(5)]
        deep = [deep_cursor(selectors.invoice_list(), rng.randint(0, max(0, invoices - 1))) for _ in range(5)]
        for size in (25, 100):
            for label, cursors in (("the first 10 pages", near), (f"random depth in {invoices:,}", deep)):
                listing = Result(f"GET /invoices/?per_page={size} ({label})", target=f"<= {QUERY_TARGET} queries")
                own: list[int] = []
                for i in range(args.repeat):
                    url = f"{list_url}?per_page={size}&cursor={cursors[i % len(cursors)]}"
                    measure_page(listing, get_ok(as_reception, url), own)
                page_verdict(listing, own)
                results.append(listing)
        filtered = Result("GET /invoices/?per_page=100 + filters", target=f"<= {QUERY_TARGET} queries")
        year = rng.randint(2018, 2025)
        filter_sets = [
            f"status=finalised&issued_after={year}-01-01&issued_before={year}-03-31",
            f"vet={rng.choice(vets)}&status=finalised",
            f"payor={payor}",
            "kind=credit_note",
            "client=smith",
        ]
        own = []
        for i in range(args.repeat):
            url = f"{list_url}?per_page=100&{filter_sets[i % len(filter_sets)]}"
            measure_page(filtered, get_ok(as_reception, url), own)
        filtered.note = "status + dates, vet, payor, credit notes, client name (in turn), first page"
        page_verdict(filtered, own)
        results.append(filtered)
        page_queries = _captured(get_ok(as_reception, f"{list_url}?per_page=100&cursor={deep[0]}"))
        for sql in page_queries:
            if 'FROM "invoicing_invoice"' in sql and not sql.startswith(("UPDATE", "INSERT")):
                label = "capped count" if "COUNT(" in sql.upper() else "page of rows"
                sections.append((f"Invoice list, per_page=100, a deep page: {label}", sql))
        vet_queries = _captured(get_ok(as_reception, f"{list_url}?per_page=100&vet={vets[0]}&status=finalised"))
        for sql in vet_queries:
            if "invoicing_invoiceline" in sql and "COUNT(" not in sql.upper():
                sections.append(("Invoice list filtered by vet: page of rows", sql))
                break

        # The client account page (balance, outstanding invoices, this year's statement, recent payments).
        account = Result(f"GET /clients/<id>/account/ ({documents} documents)", note="no stated target")
        account_url = reverse("invoicing:account", args=[client.pk])
        own = []
        for _ in range(args.repeat):
            measure_page(account, get_ok(as_reception, account_url), own)
        page_verdict(account, own)
        account.ok = None
        results.append(account)
        typical_account = Result("GET /clients/<id>/account/ (random clients)", note="no stated target")
        own = []
        for pk in typical_ids:
            measure_page(typical_account, get_ok(as_reception, reverse("invoicing:account", args=[pk])), own)
        page_verdict(typical_account, own)
        typical_account.ok = None
        results.append(typical_account)

        # The open insurance claims across insurers: first pages and a page well in (paged by key, so the same).
        claims_url = reverse("invoicing:open_claims")
        open_ids = list(Claim.objects.filter(status__in=["draft", "submitted", "accepted", "partly_accepted"])
                        .order_by("pk").values_list("pk", flat=True))  # fmt: skip
        claims_page = Result(
            f"GET /claims/ (first page, then after a random key of {len(open_ids):,} open)",
            target=f"<= {QUERY_TARGET} queries",
        )
        own = []
        for i in range(args.repeat):
            after = f"?after={rng.choice(open_ids)}" if open_ids and i % 2 else ""
            measure_page(claims_page, get_ok(as_reception, f"{claims_url}{after}"), own)
        page_verdict(claims_page, own)
        results.append(claims_page)
    finally:
        cleaned = cleanup()
    counters = ", ".join(f"{c.series} {c.last_number:,}" for c in DocumentCounter.objects.order_by("-series")[:2])
    facts = {
        "invoicing data": dataset,
        "bench rows removed": f"{cleaned:,} documents made by this run ({removed} left from an earlier one)",
        "numbering after the run": counters,
    }
    return results, facts, explain_report(sections, dataset)
