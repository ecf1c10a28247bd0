"""Invoicing pages: the draft editor (htmx product search, live totals), charging an appointment, the issued
invoice page with its actions (payment, PDF, email, credit note, void, claim), the invoice list, a client's account
and statement, payments and refunds, payors, policies, claims, and the managers' catalogue and tax rates.

Views are thin: parse, call a service or selector, render. A broken rule (DomainError) comes back as a form error
or a message naming it; a ValidationError lands beside its field; a missing permission is the 403 page. A POST to a
draft-only page for an issued invoice changes nothing and says why.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_tables2 import RequestConfig

from animals.models import Animal
from appointments.models import Appointment, AppointmentStatus
from clients.models import Client
from invoicing import calc, selectors, services
from invoicing.access import sees_payments
from invoicing.filters import InvoiceFilter, ProductFilter
from invoicing.forms import (
    CashUpForm,
    ChargeForm,
    ClaimDecideForm,
    ClaimForm,
    ClaimSettleForm,
    CreditNoteForm,
    LineForm,
    OpenClaimsFilterForm,
    PaymentForm,
    PayorForm,
    PolicyForm,
    ProductForm,
    ReasonForm,
    RefundForm,
    StatementForm,
    TaxRateForm,
    line_initial,
    money_field,
)
from invoicing.models import Allocation, Claim, Invoice, InvoiceLine, Payment, Payor, Policy, Product, TaxCategory
from invoicing.tables import InvoiceTable, PayorTable, ProductTable, with_outstanding
from invoicing.templatetags.invoicing_tags import money
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.models import Vet
from vetpms.money import ZERO, plain_number
from vetpms.params import is_ascii_number
from vetpms.permissions import permission_required, require_perm
from vetpms.tables import paginate_table
from vetpms.text import file_period, plural

PER_PAGE_CHOICES = (25, 50, 100)
CHARGEABLE = (AppointmentStatus.ARRIVED, AppointmentStatus.IN_CONSULTATION, AppointmentStatus.COMPLETED)
PRODUCT_RESULTS = 12
CHARGE_ROWS = 40
OPEN_CLAIMS_PER_PAGE = 50


def _per_page(request) -> int:
    raw = request.GET.get("per_page", "")
    wanted = int(raw) if is_ascii_number(raw) and len(raw) < 5 else PER_PAGE_CHOICES[0]
    return wanted if wanted in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _download(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_vet(user) -> Vet | None:
    return Vet.objects.filter(user=user, is_active=True).first()


# --- Invoices: one page per invoice (the editor while it is a draft) ----------------------------------------------


def _invoice_or_404(pk: int) -> Invoice:
    try:
        return selectors.invoice_detail(pk=pk)
    except Invoice.DoesNotExist:
        raise Http404("No such invoice.") from None


def _draft_or_refuse(request, pk: int) -> Invoice | None:
    """The draft ``pk``, or None with a message when it has been issued (the caller redirects back)."""
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    if not invoice.is_draft:
        messages.error(request, f"{invoice.reference} is issued and cannot be changed; issue a credit note instead.")
        return None
    return invoice


def _line_form(request, invoice: Invoice, *, data=None, product: Product | None = None) -> LineForm:
    can_override = request.user.has_perm("invoicing.override_price")
    initial = {}
    if product is not None:
        animals = list(invoice.client.animals.filter(is_active=True, deceased_on__isnull=True)[:2])
        initial = {
            "product": product.pk,
            "description": product.name,
            "quantity": 1,
            "unit_price": product.unit_price,
            "animal": animals[0].pk if len(animals) == 1 else None,
            "vet": getattr(_own_vet(request.user), "pk", None),
        }
    form = LineForm(data, invoice=invoice, can_override=can_override, initial=initial)
    form.chosen_product = product
    return form


def _editor_context(invoice: Invoice) -> dict:
    lines = list(invoice.lines.all())
    return {
        "invoice": invoice,
        "lines": lines,
        "breakdown": calc.tax_breakdown(lines),
    }


@permission_required("invoicing.view_invoice")
def invoice_detail(request, pk: int):
    invoice = _invoice_or_404(pk)
    if invoice.is_draft:
        context = _editor_context(invoice) | {
            "form": None,
            "query": request.GET.get("q", "").strip()[:100],
            "nav": "invoices",
        }
        if context["query"]:
            context["products"] = list(selectors.product_search(query=context["query"], limit=PRODUCT_RESULTS))
        product_id = request.GET.get("product", "")
        if is_ascii_number(product_id) and request.user.has_perm("invoicing.change_invoice"):
            product = Product.objects.filter(pk=int(product_id), is_active=True).first()
            if product is not None:
                context["form"] = _line_form(request, invoice, product=product)
        return render(request, "invoicing/editor.html", context)
    return render(request, "invoicing/detail.html", _issued_context(request, invoice))


def _issued_context(request, invoice: Invoice) -> dict:
    lines = list(invoice.lines.all())
    claims = list(invoice.claims.select_related("policy__payor", "policy__animal").order_by("-created_at"))
    allocations = list(invoice.allocations.all())
    context = {
        "invoice": invoice,
        "lines": lines,
        "breakdown": calc.tax_breakdown(lines),
        "credit_notes": list(invoice.credit_notes.all()),
        "allocations": sorted(allocations, key=lambda a: (a.payment.received_on, a.pk)),
        "claims": claims,
        "void_form": ReasonForm(),
        "show_payments": sees_payments(request.user),
        "nav": "invoices",
    }
    if not invoice.is_credit_note:
        insurer = selectors.insurer_share(invoice)
        owner = selectors.owner_share(invoice)
        context |= {
            "insurer_share": insurer,
            "owner_share": owner,
            "outstanding": selectors.client_outstanding(invoice),
            "credited": owner + insurer - invoice.gross_total,
            "claimable": invoice.status == Invoice.Status.FINALISED
            and Policy.objects.filter(animal__in=[ln.animal_id for ln in lines if ln.animal_id]).exists(),
        }
    return context


@require_GET
@permission_required("invoicing.view_product")
def product_search(request, pk: int):
    """Results as you type in the editor (htmx): each result opens the add-line form for that product."""
    invoice = get_object_or_404(Invoice, pk=pk)
    query = request.GET.get("q", "").strip()[:100]
    products = list(selectors.product_search(query=query, limit=PRODUCT_RESULTS)) if query else []
    return render(
        request, "invoicing/_product_results.html", {"invoice": invoice, "products": products, "query": query}
    )


@require_GET
@permission_required("invoicing.change_invoice")
def line_new(request, pk: int):
    """The add-line form for the product picked in the search (htmx swaps it in under the search box)."""
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    product = (
        get_object_or_404(Product, pk=request.GET.get("product") or 0, is_active=True)
        if is_ascii_number(request.GET.get("product") or "")
        else None
    )
    if product is None:
        raise Http404("Choose a product.")
    if not request.htmx:
        return redirect(reverse("invoicing:detail", args=[pk]) + f"?product={product.pk}#add-line")
    return render(
        request,
        "invoicing/_line_form.html",
        {"invoice": invoice, "form": _line_form(request, invoice, product=product)},
    )


@require_POST
@permission_required("invoicing.change_invoice")
def line_add(request, pk: int):
    invoice = _draft_or_refuse(request, pk)
    if invoice is None:
        return _back_to_invoice(request, pk)
    product = (
        Product.objects.filter(pk=request.POST.get("product") or 0).first()
        if is_ascii_number(request.POST.get("product") or "")
        else None
    )
    form = _line_form(request, invoice, data=request.POST, product=product)
    added = None
    if form.is_valid():
        data = form.service_data()
        try:
            added = services.invoice_add_line(
                invoice=invoice, by=request.user, product=form.cleaned_data["product"], **data
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="quantity")
        except PermissionDenied as exc:
            form.add_error("unit_price", str(exc))
    if request.htmx:
        invoice = _invoice_or_404(pk)
        context = _editor_context(invoice) | {"form": None if added else form, "added": added, "oob": bool(added)}
        return render(request, "invoicing/_line_added.html", context)
    if added:
        messages.success(request, f"Added {plain_number(added.quantity)} × {added.description}.")  # noqa: RUF001
        return redirect("invoicing:detail", pk=pk)
    context = _editor_context(_invoice_or_404(pk)) | {"form": form, "query": "", "nav": "invoices"}
    return render(request, "invoicing/editor.html", context, status=200)


def _back_to_invoice(request, pk: int):
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("invoicing:detail", args=[pk])
        return response
    return redirect("invoicing:detail", pk=pk)


@permission_required("invoicing.change_invoice")
def line_edit(request, pk: int, line_pk: int):
    invoice = _draft_or_refuse(request, pk)
    if invoice is None:
        return _back_to_invoice(request, pk)
    line = get_object_or_404(InvoiceLine.objects.select_related("product", "animal"), pk=line_pk, invoice=invoice)
    form = LineForm(
        request.POST or None,
        invoice=invoice,
        can_override=request.user.has_perm("invoicing.override_price"),
        with_product=False,
        initial=line_initial(line),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_change_line(line=line, by=request.user, data=form.service_data())
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="quantity")
        except PermissionDenied as exc:
            form.add_error("unit_price", str(exc))
        else:
            messages.success(request, f"Line “{line.description}” changed.")
            return redirect("invoicing:detail", pk=pk)
    return render(
        request, "invoicing/line_form.html", {"invoice": invoice, "line": line, "form": form, "nav": "invoices"}
    )


@require_POST
@permission_required("invoicing.change_invoice")
def line_remove(request, pk: int, line_pk: int):
    invoice = _draft_or_refuse(request, pk)
    if invoice is None:
        return _back_to_invoice(request, pk)
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    try:
        services.invoice_remove_line(line=line, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    if request.htmx:
        return render(request, "invoicing/_lines.html", _editor_context(_invoice_or_404(pk)))
    messages.success(request, f"Removed “{line.description}”.")
    return redirect("invoicing:detail", pk=pk)


@require_POST
@permission_required("invoicing.finalise_invoice")
def invoice_finalise(request, pk: int):
    invoice = _draft_or_refuse(request, pk)
    if invoice is None:
        return redirect("invoicing:detail", pk=pk)
    try:
        invoice = services.invoice_finalise(invoice=invoice, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Invoice {invoice.reference} issued for {money(invoice.gross_total)}.")
    return redirect("invoicing:detail", pk=pk)


@require_POST
@permission_required("invoicing.change_invoice")
def draft_delete(request, pk: int):
    invoice = _draft_or_refuse(request, pk)
    if invoice is None:
        return redirect("invoicing:detail", pk=pk)
    client = invoice.client
    services.invoice_delete_draft(invoice=invoice, by=request.user)
    messages.success(request, f"The draft invoice of {client.display_name} is deleted.")
    return redirect("clients:detail", pk=client.pk)


@require_POST
@permission_required("invoicing.add_invoice")
def draft_open(request, client_pk: int):
    """The client's draft invoice (created when there is none), to charge directly without an appointment."""
    client = get_object_or_404(Client, pk=client_pk)
    try:
        invoice = services.invoice_draft_for(client=client, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("clients:detail", pk=client.pk)
    return redirect("invoicing:detail", pk=invoice.pk)


# --- Charging an appointment ---------------------------------------------------------------------------------------


@permission_required("invoicing.change_invoice", "appointments.view_appointment")
def charge(request, appointment_pk: int):
    appointment = get_object_or_404(
        Appointment.objects.select_related("animal__owner", "animal__species", "vet", "type", "client"),
        pk=appointment_pk,
    )
    query = request.GET.get("q", "").strip()[:100]
    if request.method == "POST":
        ids = [
            int(k[4:])
            for k in request.POST
            if k.startswith("qty_") and is_ascii_number(k[4:]) and request.POST[k].strip()
        ]
        rows = list(Product.objects.filter(pk__in=ids[:200], is_active=True).order_by("category", "name"))
        shown = {p.pk for p in rows}
        rows += [p for p in selectors.product_search(query=query, limit=CHARGE_ROWS) if p.pk not in shown]
    else:
        rows = list(selectors.product_search(query=query, limit=CHARGE_ROWS))
    rows.sort(key=lambda p: (p.category != "consultation", p.get_category_display(), p.name))
    form = ChargeForm(request.POST or None, rows=rows)
    if appointment.status not in CHARGEABLE:
        messages.warning(
            request,
            f"The appointment is {appointment.get_status_display().lower()}; charges are taken once the pet "
            "has arrived.",
        )
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.charge_appointment(appointment=appointment, by=request.user, items=form.chosen())
        except (DomainError, ValidationError) as exc:
            form.add_error(None, _error_text(exc))
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            count = len(form.chosen())
            messages.success(
                request,
                f"{count} {plural('charge', count)} for {appointment.animal.name} added to the draft "
                f"invoice of {invoice.client.display_name}.",
            )
            return redirect("invoicing:detail", pk=invoice.pk)
    return render(
        request,
        "invoicing/charge.html",
        {"appointment": appointment, "form": form, "query": query, "nav": "appointments"},
    )


# --- Issued documents: PDF, email, credit notes, void -------------------------------------------------------------


@require_GET
@permission_required("invoicing.view_invoice")
def invoice_pdf(request, pk: int):
    invoice = _invoice_or_404(pk)
    if invoice.is_draft:
        messages.error(request, "A draft has no PDF yet; finalise it first.")
        return redirect("invoicing:detail", pk=pk)
    from invoicing.pdf import render_invoice  # the PDF engine is imported only where a PDF is made

    content = render_invoice(invoice, with_payments=sees_payments(request.user))
    return _download(content, f"{invoice.reference}.pdf")


@require_POST
@permission_required("invoicing.view_invoice", "invoicing.finalise_invoice")
def invoice_email(request, pk: int):
    invoice = _invoice_or_404(pk)
    if invoice.is_draft:
        messages.error(request, "A draft cannot be emailed; finalise it first.")
        return redirect("invoicing:detail", pk=pk)
    if not invoice.client.email:
        messages.error(request, f"{invoice.client.display_name} has no email address on record.")
        return redirect("invoicing:detail", pk=pk)
    from invoicing.emails import send_invoice_email

    try:
        send_invoice_email(invoice=invoice, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    except OSError:
        messages.error(request, "The mail server could not be reached; the invoice was not sent. Try again later.")
    else:
        messages.success(request, f"{invoice.reference} emailed to {invoice.client.email}.")
    return redirect("invoicing:detail", pk=pk)


def _remaining_to_credit(invoice: Invoice, lines: list[InvoiceLine]) -> dict[int, Decimal]:
    credited = dict(
        InvoiceLine.objects.filter(credited_line__invoice=invoice)
        .values("credited_line")
        .annotate(q=Sum("quantity"))
        .values_list("credited_line", "q")
    )
    return {line.pk: line.quantity + (credited.get(line.pk) or 0) for line in lines}


@permission_required("invoicing.issue_credit_note")
def credit_note_new(request, pk: int):
    invoice = _invoice_or_404(pk)
    if invoice.is_credit_note or invoice.status != Invoice.Status.FINALISED:
        messages.error(
            request,
            f"Only a finalised invoice can be credited; {invoice.reference} is {invoice.get_status_display().lower()}.",
        )
        return redirect("invoicing:detail", pk=pk)
    lines = list(invoice.lines.all())
    remaining = _remaining_to_credit(invoice, lines)
    form = CreditNoteForm(request.POST or None, rows=lines, remaining=remaining)
    if request.method == "POST" and form.is_valid():
        chosen = None if request.POST.get("everything") else form.chosen()
        try:
            note = services.credit_note_issue(
                invoice=invoice, by=request.user, reason=form.cleaned_data["reason"], lines=chosen
            )
        except (DomainError, ValidationError) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"Credit note {note.reference} issued for {money(note.gross_total)}.")
            return redirect("invoicing:detail", pk=pk)
    rows = [(line, remaining[line.pk], form[form.key(line)]) for line in lines]
    return render(
        request, "invoicing/credit_note.html", {"invoice": invoice, "form": form, "rows": rows, "nav": "invoices"}
    )


@require_POST
@permission_required("invoicing.issue_credit_note")
def invoice_void(request, pk: int):
    invoice = get_object_or_404(Invoice, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the invoice is void.")
        return redirect("invoicing:detail", pk=pk)
    try:
        services.invoice_void(invoice=invoice, by=request.user, reason=form.cleaned_data["reason"])
    except (DomainError, ValidationError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"{invoice.reference} is void; a credit note for the whole invoice was issued.")
    return redirect("invoicing:detail", pk=pk)


# --- The invoice list ----------------------------------------------------------------------------------------------


@permission_required("invoicing.view_invoice")
def invoice_list(request):
    invoice_filter = InvoiceFilter(request.GET, queryset=selectors.invoice_list())
    show_payments = sees_payments(request.user)
    table = InvoiceTable(invoice_filter.qs, exclude=() if show_payments else ("outstanding",))
    page = paginate_table(request, table, per_page=_per_page(request))
    # "Outstanding" is derived per invoice; computed for the rows shown only (one query), not in the page's
    # query, which would then have to work it out for every row it orders.
    records = page.rows if show_payments else []
    owed = dict(
        with_outstanding(Invoice.objects.filter(pk__in=[r.pk for r in records])).values_list("pk", "outstanding")
    )
    for record in records:
        record.outstanding = owed.get(record.pk)
    return render(
        request,
        "invoicing/list.html",
        {"filter": invoice_filter, "table": table, "per_page_choices": PER_PAGE_CHOICES, "nav": "invoices"},
    )


# --- Payments, the client's account, statements, refunds ----------------------------------------------------------


def _parse_allocations(request, client: Client, form: PaymentForm) -> list[tuple[Invoice, Decimal]] | None:
    """The amounts typed against invoices (``alloc_<id>``); None when none were typed (oldest first)."""
    wanted: dict[int, str] = {}
    for key, value in request.POST.items():
        if key.startswith("alloc_") and is_ascii_number(key[6:]) and value.strip():
            wanted[int(key[6:])] = value.strip()
    if not wanted:
        return None
    invoices = {i.pk: i for i in Invoice.objects.filter(client=client, pk__in=list(wanted)[:100])}
    result = []
    for pk, raw in wanted.items():
        invoice = invoices.get(pk)
        if invoice is None:
            raise DomainError("That invoice is not this client's.", field="amount")
        field = form.fields.get(f"alloc_{pk}")
        try:
            amount = (field or money_field("Amount")).clean(raw)
        except (ValidationError, ArithmeticError):
            raise ValidationError({"amount": f"“{raw[:20]}” is not an amount for {invoice.reference}."}) from None
        result.append((invoice, amount))
    return result


@permission_required("invoicing.add_payment")
def payment_new(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    outstanding = selectors.invoices_outstanding(client=client)
    initial: dict = {}
    chosen = request.GET.get("invoice", "")
    chosen_invoice = None
    if is_ascii_number(chosen):
        chosen_invoice = Invoice.objects.filter(pk=int(chosen), client=client).first()
        if chosen_invoice is not None and chosen_invoice.status != Invoice.Status.FINALISED:
            messages.warning(
                request,
                f"{chosen_invoice.reference} is {chosen_invoice.get_status_display().lower()}; "
                "it cannot take a payment.",
            )
            chosen_invoice = None
    owed_total = sum((owed for _, owed in outstanding), ZERO)
    if chosen_invoice is not None:
        owed = next((o for i, o in outstanding if i.pk == chosen_invoice.pk), ZERO)
        initial = {"amount": owed, f"alloc_{chosen_invoice.pk}": owed}
    elif owed_total > 0:
        initial = {"amount": owed_total}
    form = PaymentForm(request.POST or None, invoices=outstanding, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            allocate_to = _parse_allocations(request, client, form)
            payment = services.payment_record(
                client=client,
                amount=data["amount"],
                method=data["method"],
                by=request.user,
                received_on=data["received_on"],
                reference=data["reference"],
                allocate_to=allocate_to,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="amount")
        else:
            allocated = Allocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] or ZERO
            left = payment.amount - allocated
            text = f"Payment of {money(payment.amount)} ({payment.get_method_display().lower()}) recorded."
            if left > 0:
                text += f" {money(left)} left as credit on {client.display_name}'s account."
            messages.success(request, text)
            if chosen_invoice is not None:
                return redirect("invoicing:detail", pk=chosen_invoice.pk)
            return redirect("invoicing:account", client_pk=client.pk)
    return render(
        request,
        "invoicing/payment_form.html",
        {"client": client, "form": form, "owed_total": owed_total, "chosen_invoice": chosen_invoice, "nav": "clients"},
    )


def _statement_period(request) -> tuple[StatementForm, dt.date, dt.date]:
    today = timezone.localdate()
    default_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # the start of last month
    if request.GET.get("start") or request.GET.get("end"):
        form = StatementForm(request.GET)
        if form.is_valid():
            return form, form.cleaned_data["start"], form.cleaned_data["end"]
        return form, default_start, today
    return StatementForm(initial={"start": default_start, "end": today}), default_start, today


@permission_required("invoicing.view_invoice", "invoicing.view_payment")
def account(request, client_pk: int):
    form, start, end = _statement_period(request)
    try:
        account = selectors.client_account(client_pk=client_pk, start=start, end=end)
    except Client.DoesNotExist:
        raise Http404("No such client.") from None
    balance = account.balance
    credit = -balance.balance if balance.balance < 0 else ZERO
    return render(
        request,
        "invoicing/account.html",
        {
            "client": account.client,
            "balance": balance,
            "credit": credit,
            "outstanding": account.outstanding,
            "outstanding_total": sum((o for _, o in account.outstanding), ZERO),
            "payments": account.payments,
            "drafts": account.drafts,
            "statement": account.statement,
            "statement_form": form,
            "nav": "clients",
        },
    )


@require_GET
@permission_required("invoicing.view_invoice", "invoicing.view_payment")
def statement_pdf(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form, start, end = _statement_period(request)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Choose a period whose end is not before its start.")
        return redirect("invoicing:account", client_pk=client.pk)
    from invoicing.pdf import render_statement

    statement = selectors.client_statement(client=client, start=start, end=end)
    return _download(render_statement(statement), f"statement-{client.pk}-{file_period(start, end)}.pdf")


@require_POST
@permission_required("invoicing.add_payment")
def apply_credit(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    applied = services.apply_client_credit(client=client, by=request.user)
    if applied:
        messages.success(request, f"{money(applied)} of credit applied to outstanding invoices.")
    else:
        messages.info(request, "There was no credit to apply, or nothing outstanding to apply it to.")
    return redirect("invoicing:account", client_pk=client.pk)


@permission_required("invoicing.record_refund")
def refund_new(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    credit = selectors.client_credit(client=client)
    form = RefundForm(request.POST or None, initial={"amount": credit} if credit else {})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = services.refund_record(
                client=client,
                amount=data["amount"],
                method=data["method"],
                by=request.user,
                reference=data["reference"],
                received_on=data["received_on"],
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="amount")
        else:
            messages.success(request, f"Refund of {money(refund.amount)} to {client.display_name} recorded.")
            return redirect("invoicing:account", client_pk=client.pk)
    return render(
        request, "invoicing/refund_form.html", {"client": client, "form": form, "credit": credit, "nav": "clients"}
    )


@require_GET
@permission_required("invoicing.add_payment")
def cash_up(request):
    """The cash-up: the takings of one day, per method and payment by payment. Whoever takes money sees their
    own; those who see the practice's figures (reports.view_reports) may choose anyone's, or everyone's."""
    can_choose = request.user.has_perm("reports.view_reports")
    form = CashUpForm(request.GET or None, can_choose=can_choose)
    day, taken_by = timezone.localdate(), request.user
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["day"]
        if can_choose:
            taken_by = form.cleaned_data.get("taken_by")  # None: everyone's
    elif not form.is_bound:
        form = CashUpForm(initial={"day": day, "taken_by": request.user.pk}, can_choose=can_choose)
    return render(
        request,
        "invoicing/cash_up.html",
        {"form": form, "takings": selectors.takings(day=day, taken_by=taken_by), "nav": "cash-up"},
    )


@permission_required("invoicing.void_payment")
def payment_void(request, pk: int):
    """Void a client's payment recorded by mistake (a manager, with a reason): it counts nowhere from then on."""
    payment = get_object_or_404(
        Payment.objects.select_related("client", "created_by").prefetch_related("allocations__invoice"),
        pk=pk,
        client__isnull=False,
    )
    client = payment.client
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_void(payment=payment, by=request.user, reason=form.cleaned_data["reason"])
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="reason")
        else:
            messages.success(
                request,
                f"The {payment.get_kind_display().lower()} of {money(payment.amount)} is void; it counts "
                "nowhere and the invoices it paid are open again.",
            )
            return redirect("invoicing:account", client_pk=client.pk)  # type: ignore[union-attr]
    return render(
        request, "invoicing/payment_void.html", {"client": client, "payment": payment, "form": form, "nav": "clients"}
    )


# --- Payors, policies, claims --------------------------------------------------------------------------------------


@permission_required("invoicing.view_payor")
def payor_list(request):
    payors = Payor.objects.annotate(
        open_claims=Count("policies__claims", filter=Q(policies__claims__status__in=selectors.OPEN_CLAIM_STATUSES))
    )
    table = PayorTable(payors.order_by("-is_active", "name"))
    RequestConfig(request, paginate=False).configure(table)
    table.paginate(per_page=_per_page(request))
    table.page = table.paginator.get_page(request.GET.get("page"))
    return render(request, "invoicing/payor_list.html", {"table": table, "nav": "payors"})


@permission_required("invoicing.view_payor")
def payor_detail(request, pk: int):
    payor = get_object_or_404(Payor, pk=pk)
    claims = []
    if request.user.has_perm("invoicing.view_claim"):
        claims = list(
            Claim.objects.filter(policy__payor=payor, status__in=selectors.OPEN_CLAIM_STATUSES)
            .select_related("policy__animal", "invoice__client")
            .order_by("created_at")[:200]
        )
    owed = sum(
        (
            (c.amount_accepted if c.amount_accepted is not None else c.amount_claimed) - c.amount_paid
            for c in claims
            if c.status != Claim.Status.DRAFT
        ),
        ZERO,
    )
    return render(
        request, "invoicing/payor_detail.html", {"payor": payor, "claims": claims, "owed": owed, "nav": "payors"}
    )


@require_GET
@permission_required("invoicing.view_claim")
def open_claims(request):
    """Every open insurance claim across insurers, oldest first, filtered by status, insurer and how long it has
    waited; paged by key (``?after=<last claim id>``), so a later page costs what the first does."""
    form = OpenClaimsFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = selectors.open_claims(
        statuses=tuple(data.get("status") or ()),
        payor_id=data["payor"].pk if data.get("payor") else None,
        waiting_days=data.get("waiting"),
        after=data.get("after"),
        limit=OPEN_CLAIMS_PER_PAGE,
    )
    rows = [(claim, selectors.claim_waiting_since(claim), selectors.insurer_owes(claim)) for claim in page.claims]
    today = timezone.localdate()
    next_query = None
    if page.next_after is not None:
        query = request.GET.copy()
        query["after"] = str(page.next_after)
        next_query = query.urlencode()
    first_query = None
    if data.get("after"):
        query = request.GET.copy()
        query.pop("after", None)
        first_query = query.urlencode()
    return render(
        request,
        "invoicing/open_claims.html",
        {
            "form": form,
            "rows": [(c, since, (today - since).days, owes) for c, since, owes in rows],
            "next_query": next_query,
            "first_query": first_query,
            "nav": "claims",
        },
    )


@permission_required("invoicing.add_payor")
def payor_edit(request, pk: int | None = None):
    payor = get_object_or_404(Payor, pk=pk) if pk else None
    if payor is not None:
        require_perm(request.user, "invoicing.change_payor")
    heading = payor.name if payor else ""
    form = PayorForm(request.POST or None, instance=payor, initial={} if payor else {"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.payor_save(
                by=request.user, data=form.cleaned_data, payor=Payor.objects.get(pk=pk) if pk else None
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"Insurer {saved} saved.")
            return redirect("invoicing:payor_detail", pk=saved.pk)
    return render(
        request, "invoicing/payor_form.html", {"payor": payor, "heading": heading, "form": form, "nav": "payors"}
    )


@permission_required("invoicing.add_policy")
def policy_new(request, animal_pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner"), pk=animal_pk)
    return _policy_form(request, animal, None)


@permission_required("invoicing.change_policy")
def policy_edit(request, pk: int):
    policy = get_object_or_404(Policy.objects.select_related("animal__owner"), pk=pk)
    return _policy_form(request, policy.animal, policy)


def _policy_form(request, animal: Animal, policy: Policy | None):
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.policy_save(
                by=request.user,
                data=form.cleaned_data | {"animal": animal},
                policy=Policy.objects.get(pk=policy.pk) if policy else None,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="policy_number")
        else:
            messages.success(request, f"Policy {saved} for {animal.name} saved.")
            return redirect("animals:detail", pk=animal.pk)
    return render(
        request, "invoicing/policy_form.html", {"animal": animal, "policy": policy, "form": form, "nav": "clients"}
    )


@permission_required("invoicing.manage_claims")
def claim_new(request, pk: int):
    invoice = _invoice_or_404(pk)
    if invoice.is_credit_note or invoice.status != Invoice.Status.FINALISED:
        messages.error(
            request,
            f"Only a finalised invoice can be claimed; {invoice.reference} is {invoice.get_status_display().lower()}.",
        )
        return redirect("invoicing:detail", pk=pk)
    form = ClaimForm(request.POST or None, invoice=invoice)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = services.claim_create(
                invoice=invoice,
                policy=data["policy"],
                lines=list(data["lines"]),
                by=request.user,
                direct_settlement=data["direct_settlement"],
                notes=data["notes"],
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="lines")
        else:
            messages.success(request, f"Draft claim for {money(claim.amount_claimed)} created.")
            return redirect("invoicing:claim_detail", pk=claim.pk)
    in_claims = set(invoice.lines.filter(claim_lines__live=True).values_list("pk", flat=True))
    return render(
        request,
        "invoicing/claim_form.html",
        {"invoice": invoice, "form": form, "in_claims": in_claims, "nav": "invoices"},
    )


def _claim_or_404(pk: int) -> Claim:
    qs = Claim.objects.select_related("policy__payor", "policy__animal__species", "invoice__client", "created_by")
    return get_object_or_404(qs, pk=pk)


@permission_required("invoicing.view_claim")
def claim_detail(request, pk: int):
    claim = _claim_or_404(pk)
    lines = [cl.line for cl in claim.claim_lines.select_related("line__animal", "line__vet").order_by("line__position")]
    return render(
        request,
        "invoicing/claim_detail.html",
        {
            "claim": claim,
            "lines": lines,
            "lines_gross": sum((ln.gross for ln in lines), ZERO),
            "decide_form": ClaimDecideForm(initial={"accepted": claim.amount_claimed}),
            "settle_form": ClaimSettleForm(initial={"amount": (claim.amount_accepted or ZERO) - claim.amount_paid}),
            "nav": "payors",
        },
    )


@require_POST
@permission_required("invoicing.manage_claims")
def claim_action(request, pk: int, action: str):
    claim = _claim_or_404(pk)
    try:
        if action == "submit":
            services.claim_submit(claim=claim, by=request.user)
            messages.success(request, "Claim submitted to the insurer.")
        elif action == "withdraw":
            invoice_pk = claim.invoice_id
            services.claim_withdraw(claim=claim, by=request.user)
            messages.success(request, "Draft claim withdrawn; its lines can be claimed again.")
            return redirect("invoicing:detail", pk=invoice_pk)
        elif action == "decide":
            form = ClaimDecideForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.get("accepted") or "Give the amount accepted.")
            claim = services.claim_decide(
                claim=claim,
                by=request.user,
                accepted=form.cleaned_data["accepted"],
                reference=form.cleaned_data["reference"],
            )
            messages.success(request, f"Decision recorded: {claim.get_status_display().lower()}.")
        elif action == "settle":
            form = ClaimSettleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.get("amount") or form.errors.get("received_on") or "Check the form.")
            services.claim_settle(
                claim=claim,
                by=request.user,
                amount=form.cleaned_data["amount"],
                received_on=form.cleaned_data["received_on"],
                reference=form.cleaned_data["reference"],
            )
            messages.success(
                request, f"Payment of {money(form.cleaned_data['amount'])} from {claim.policy.payor} recorded."
            )
        else:
            raise Http404("No such action.")
    except (DomainError, ValidationError) as exc:
        messages.error(request, _error_text(exc))
    return redirect("invoicing:claim_detail", pk=pk)


@require_GET
@permission_required("invoicing.view_claim")
def claim_pdf(request, pk: int):
    claim = _claim_or_404(pk)
    from invoicing.pdf import render_claim_form

    return _download(render_claim_form(claim), f"claim-{claim.pk}.pdf")


# --- Catalogue and tax rates (managers) ----------------------------------------------------------------------------


@permission_required("invoicing.view_product")
def product_list(request):
    product_filter = ProductFilter(request.GET, queryset=Product.objects.select_related("tax_category"))
    table = ProductTable(product_filter.qs)
    table.can_edit = request.user.has_perm("invoicing.change_product")
    RequestConfig(request, paginate=False).configure(table)
    table.paginate(per_page=_per_page(request))
    table.page = table.paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "invoicing/product_list.html",
        {"filter": product_filter, "table": table, "per_page_choices": PER_PAGE_CHOICES, "nav": "catalogue"},
    )


@permission_required("invoicing.add_product")
def product_edit(request, pk: int | None = None):
    product = get_object_or_404(Product, pk=pk) if pk else None
    if product is not None:
        require_perm(request.user, "invoicing.change_product")
    heading = product.name if product else ""
    form = ProductForm(
        request.POST or None, instance=product, initial={} if product else {"is_active": True, "unit": "each"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.product_save(
                by=request.user, data=form.service_data(), product=Product.objects.get(pk=pk) if pk else None
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"{saved.name} saved. Issued invoices keep the prices they were issued with.")
            return redirect("invoicing:product_list")
    return render(
        request,
        "invoicing/product_form.html",
        {"product": product, "heading": heading, "form": form, "nav": "catalogue"},
    )


@permission_required("invoicing.view_taxrate")
def tax_rates(request):
    today = timezone.localdate()
    categories = list(TaxCategory.objects.prefetch_related("rates").order_by("name"))
    forms_by_category = {}
    if request.method == "POST":
        require_perm(request.user, "invoicing.add_taxrate")
        raw = request.POST.get("category", "")
        category = next((c for c in categories if str(c.pk) == raw), None)
        if category is None:
            raise Http404("No such tax category.")
        form = TaxRateForm(request.POST, prefix=f"c{category.pk}")
        if form.is_valid():
            try:
                services.tax_rate_add(by=request.user, category=category, **form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                apply_service_error(form, exc, default_field="rate")
            else:
                messages.success(
                    request,
                    f"{category}: {plain_number(form.cleaned_data['rate'])} % from "
                    f"{form.cleaned_data['valid_from']:%d %b %Y}.",
                )
                return redirect("invoicing:tax_rates")
        forms_by_category[category.pk] = form
    rows = []
    for category in categories:
        rates = list(category.rates.all())
        current = next(
            (r for r in rates if r.valid_from <= today and (r.valid_until is None or r.valid_until > today)), None
        )
        form = forms_by_category.get(category.pk) or TaxRateForm(
            prefix=f"c{category.pk}", initial={"valid_from": today}
        )
        rows.append((category, rates, current, form))
    return render(request, "invoicing/tax_rates.html", {"rows": rows, "today": today, "nav": "catalogue"})
