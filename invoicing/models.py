"""The catalogue, invoices and credit notes with itemised lines, payments, and insurance payors, policies, claims.

Money rules (DESIGN.md section 3): Decimal(12, 2) everywhere, quantised half up by vetpms.money; a line's amounts
and an invoice's totals are computed by invoicing.calc only, and the stored totals always equal the sum of the
stored lines. A finalised document is frozen: the models refuse to save or delete it, and database triggers
(migration 0002) refuse the same at the SQL level, so no path (UI, API, admin, a service, a raw UPDATE) can alter
what was issued. Corrections are credit notes.

Reminder types are attached to products by the reminders app (it sits above invoicing) through its own table.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from animals.models import Animal
from appointments.models import Appointment
from clients.models import Client
from vetpms.models import User, Vet

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class FrozenError(Exception):
    """Raised by the models when something tries to change or delete an issued document."""


# --- Catalogue ---------------------------------------------------------------------------------------------------


class TaxCategory(models.Model):
    """A kind of tax treatment ("Standard", "Reduced", "Zero"); its rate over time lives in TaxRate."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "tax categories"

    def __str__(self) -> str:
        return self.name


class TaxRate(models.Model):
    """The rate of a tax category from ``valid_from`` until the day before ``valid_until`` (open when empty)."""

    category = models.ForeignKey(TaxCategory, on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField("rate (%)", max_digits=5, decimal_places=2, validators=PERCENT)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True, help_text="First day it no longer applies.")

    class Meta:
        ordering = ["category", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=100), name="taxrate_between_0_and_100"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="taxrate_period_positive",
            ),
            models.UniqueConstraint(fields=["category", "valid_from"], name="taxrate_one_start_per_category"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.rate}% from {self.valid_from}"


class Product(models.Model):
    class Category(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        PROCEDURE = "procedure", "Procedure"
        VACCINE = "vaccine", "Vaccine"
        MEDICATION = "medication", "Medication"
        LABORATORY = "laboratory", "Laboratory"
        IMAGING = "imaging", "Imaging"
        HOSPITALISATION = "hospitalisation", "Hospitalisation"
        RETAIL = "retail", "Retail"
        OTHER = "other", "Other"

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    unit = models.CharField(max_length=20, default="each", help_text="each, ml, tablet, kg, hour, ...")
    unit_price = money_field(validators=NON_NEGATIVE)
    tax_category = models.ForeignKey(TaxCategory, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("override_price", "Can charge a price other than the catalogue price")]
        constraints = [models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_not_negative")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# --- Numbering ---------------------------------------------------------------------------------------------------


class DocumentCounter(models.Model):
    """The last number used in a series ("INV-2026"). Finalising locks this row, so numbers are gapless: a
    transaction that fails after taking a number rolls the counter back with it."""

    series = models.CharField(max_length=20, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


# --- Invoices and credit notes -----------------------------------------------------------------------------------


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALISED = "finalised", "Finalised"
        VOID = "void", "Void"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    series = models.CharField(max_length=20, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    issue_date = models.DateField(null=True, blank=True, help_text="The practice-local date it was finalised.")
    due_date = models.DateField(null=True, blank=True)
    credits = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        help_text="For a credit note: the invoice it corrects.",
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why a credit note was issued.")
    client_name = models.CharField(max_length=300, blank=True)
    client_address = models.TextField(blank=True)
    net_total = money_field(default=Decimal("0.00"))
    tax_total = money_field(default=Decimal("0.00"))
    gross_total = money_field(default=Decimal("0.00"))
    notes = models.TextField(blank=True, max_length=2000)
    opening_balance = models.BooleanField(
        default=False,
        editable=False,
        help_text="Carries over what the client owed in the system used before (invoicing.services."
        "opening_balance_record): owed money, counted in balances and receivables, never revenue.",
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    finalised_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    finalised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("finalise_invoice", "Can finalise an invoice"),
            ("issue_credit_note", "Can issue credit notes and void invoices"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="invoice_number_unique_in_series"),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(number__isnull=True))
                | (~Q(status="draft") & Q(number__isnull=False) & Q(issue_date__isnull=False)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=(Q(kind="invoice") & Q(credits__isnull=True))
                | (Q(kind="credit_note") & Q(credits__isnull=False)),
                name="credit_note_references_invoice",
            ),
            models.CheckConstraint(
                condition=Q(net_total__gte=0, tax_total__gte=0, gross_total__gte=0, kind="invoice")
                | Q(net_total__lte=0, tax_total__lte=0, gross_total__lte=0, kind="credit_note"),
                name="invoice_totals_sign_by_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "status"], name="invoice_client_status_idx"),
            models.Index(fields=["status", "issue_date"], name="invoice_status_date_idx"),
            # The invoice list's order (issue_date DESC NULLS FIRST, number DESC, id DESC) is this index read
            # backwards: a page is read from the index instead of sorting every document (bench/invoicing.py).
            models.Index(fields=["issue_date", "number", "id"], name="invoice_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not getattr(self, "_allow_issued_change", False):
            stored = Invoice.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored != self.Status.DRAFT:
                raise FrozenError(f"{self.reference} is issued and cannot be changed; issue a credit note instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != self.Status.DRAFT:
            raise FrozenError(f"{self.reference} is issued and cannot be deleted; issue a credit note instead.")
        return super().delete(*args, **kwargs)

    @property
    def reference(self) -> str:
        if self.number is None:
            # No number until it is issued: a draft's database id ("#7") would read as an invoice number.
            return f"Draft {self.get_kind_display().lower()}"
        return f"{self.series}-{self.number:05d}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(max_length=300)
    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines")
    vet = models.ForeignKey(Vet, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoice_lines"
    )
    service_date = models.DateField()
    category = models.CharField(max_length=20, choices=Product.Category.choices, default=Product.Category.OTHER)
    quantity = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=20, default="each")
    unit_price = money_field(validators=NON_NEGATIVE)
    price_overridden = models.BooleanField(default=False)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT)
    discount_amount = money_field(default=Decimal("0.00"), validators=NON_NEGATIVE)
    tax_rate = models.DecimalField("tax rate (%)", max_digits=5, decimal_places=2, validators=PERCENT)
    net = money_field()
    tax = money_field()
    gross = money_field()
    credited_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credits",
        help_text="For a credit-note line: the invoice line it corrects.",
    )

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["invoice", "position"], name="line_invoice_idx"),
            models.Index(fields=["animal", "service_date"], name="line_animal_idx"),
            models.Index(fields=["vet", "service_date"], name="line_vet_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="line_quantity_not_zero"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="line_tax_rate_range"),
        ]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs) -> None:
        if self._invoice_status() not in (None, Invoice.Status.DRAFT):
            raise FrozenError("Lines of an issued document cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._invoice_status() not in (None, Invoice.Status.DRAFT):
            raise FrozenError("Lines of an issued document cannot be deleted.")
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self.quantity is not None and self.quantity == 0:
            raise ValidationError({"quantity": "A quantity cannot be zero."})

    def _invoice_status(self) -> str | None:
        return Invoice.objects.filter(pk=self.invoice_id).values_list("status", flat=True).first()


# --- Insurance ---------------------------------------------------------------------------------------------------


class Payor(models.Model):
    name = models.CharField(max_length=200, unique=True)
    contact_name = models.CharField(max_length=200, blank=True)
    claims_email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    reference = models.CharField("payor reference", max_length=60, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Policy(models.Model):
    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="policies")
    payor = models.ForeignKey(Payor, on_delete=models.PROTECT, related_name="policies")
    policy_number = models.CharField(max_length=60)
    starts_on = models.DateField()
    ends_on = models.DateField()
    excess = money_field(default=Decimal("0.00"), validators=NON_NEGATIVE)
    copay_percent = models.DecimalField(
        "co-pay (%)", max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name_plural = "policies"
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="policy_period_positive"),
            models.UniqueConstraint(fields=["payor", "policy_number"], name="policy_number_unique_per_payor"),
        ]

    def __str__(self) -> str:
        return f"{self.payor} {self.policy_number}"

    def covers(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class Claim(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        PARTLY_ACCEPTED = "partly_accepted", "Partly accepted"
        DECLINED = "declined", "Declined"
        SETTLED = "settled", "Settled"

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    direct_settlement = models.BooleanField(
        default=True, help_text="The insurer pays the practice its share; the client owes only the rest."
    )
    amount_claimed = money_field(default=Decimal("0.00"))
    amount_accepted = money_field(null=True, blank=True)
    amount_paid = money_field(default=Decimal("0.00"))
    insurer_reference = models.CharField(max_length=60, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    submitted_on = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    settled_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("manage_claims", "Can create, submit and record decisions on insurance claims")]
        indexes = [
            # The claims list (API) pages newest first by key, (created_at, id); read backwards, these indexes
            # start where the last page ended, with or without the status filter, instead of sorting every claim.
            models.Index(fields=["created_at", "id"], name="claim_list_idx"),
            models.Index(fields=["status", "created_at", "id"], name="claim_status_list_idx"),
        ]

    def __str__(self) -> str:
        return f"Claim #{self.pk} on {self.invoice}"


class ClaimLine(models.Model):
    """A line in a claim. ``live`` is false once the claim is declined, which frees the line for another claim;
    the partial unique index keeps a line in at most one live claim, also under concurrency."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="claim_lines")
    line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="claim_lines")
    live = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line"], condition=Q(live=True), name="line_in_one_live_claim"),
            models.UniqueConstraint(fields=["claim", "line"], name="claimline_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.line} in claim #{self.claim_id}"


# --- Payments ----------------------------------------------------------------------------------------------------


class PaymentQuerySet(models.QuerySet):
    def live(self) -> PaymentQuerySet:
        """The payments and refunds that count: every one not voided. Every sum of money taken reads these."""
        return self.filter(voided_at__isnull=True)


class Payment(models.Model):
    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CARD = "card", "Card"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        INSURANCE = "insurance", "Insurance"
        OTHER = "other", "Other"

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    payor = models.ForeignKey(Payor, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    method = models.CharField(max_length=20, choices=Method.choices)
    amount = money_field()
    received_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    notes = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A payment recorded by mistake (wrong client, a typo in the amount, a card payment that was declined) is
    # voided: it stays on record, marked, and counts nowhere, as if it had never been taken (invoicing.services.
    # payment_void). A refund, by contrast, is money that really went back to the client.
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    void_reason = models.CharField(max_length=300, blank=True, default="", db_default="")

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        permissions = [
            ("record_refund", "Can pay money back to a client"),
            ("void_payment", "Can void a payment recorded by mistake"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""), name="payment_void_has_reason"
            ),
            models.CheckConstraint(
                condition=(Q(client__isnull=False) & Q(payor__isnull=True))
                | (Q(client__isnull=True) & Q(payor__isnull=False)),
                name="payment_from_client_or_payor",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "received_on"], name="payment_client_idx"),
            # The cash-up and the day sheet read one day's payments (per person who took them); payments of a period
            # (the receivables' payments dated after a day) use it too.
            models.Index(fields=["received_on", "created_by"], name="payment_day_idx"),
            # The payments list (API) pages newest first by key, (received_on, id): read backwards, this index
            # starts where the last page ended instead of sorting every payment ever taken. A client's payments use
            # payment_client_idx; a payor's, the one below.
            models.Index(fields=["received_on", "id"], name="payment_list_idx"),
            models.Index(fields=["payor", "received_on", "id"], name="payment_payor_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.get_method_display()} on {self.received_on}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not getattr(self, "_allow_void", False):
            raise FrozenError("A recorded payment cannot be changed; record a refund instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FrozenError("A recorded payment cannot be deleted; record a refund instead.")

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class Allocation(models.Model):
    """How much of a payment settles which invoice (a claim's payment settles the payor's share)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations")
    amount = money_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]
        indexes = [models.Index(fields=["invoice"], name="allocation_invoice_idx")]

    def __str__(self) -> str:
        return f"{self.amount} of {self.payment} to {self.invoice}"


class OpenInvoice(models.Model):
    """The issued invoices that may still have something for the client to pay: an index for the receivables
    report, so "as of today" does not have to settle half a million paid invoices again.

    It holds no amounts: what is owed is always computed from the documents, claims and payments. The save and
    delete signals of Invoice, Allocation and Claim keep it (invoicing.open_invoices.refresh, in the transaction
    that made the change); `manage.py rebuild_open_invoices` and the bulk seed rebuild it from scratch.
    An invoice listed here that turns out settled costs nothing; one missing would be left out of the report,
    which the tests guard against (tests/invoicing/test_open_invoices.py)."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, primary_key=True, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # What the client owes on it with everything recorded so far, and when it falls due: the manager's dashboard
    # adds up what is overdue from these alone (the receivables report still computes each figure "as of" a day).
    owed = money_field(default=Decimal("0.00"))
    due_date = models.DateField(null=True)

    def __str__(self) -> str:
        return f"open: {self.invoice_id}"


class ClientBalance(models.Model):
    """Every client whose account is not square, with its balance as the account page computes it
    (invoicing.selectors.client_balance: issued documents - insurers' shares - payments + refunds), so the
    receivables report "as of today" reads a row per owing or in-credit client instead of summing every invoice,
    claim and payment ever recorded. A client with a zero balance has no row.

    Kept by invoicing.balances from the save and delete signals of Invoice, Claim and Payment, in the transaction
    that made the change; `manage.py rebuild_open_invoices` and the bulk seed rebuild it. The documents and
    payments stay the record: tests/invoicing/test_client_balances.py checks the two agree after random histories.
    """

    client = models.OneToOneField(Client, on_delete=models.CASCADE, primary_key=True, related_name="+")
    balance = money_field()

    def __str__(self) -> str:
        return f"balance of {self.client_id}: {self.balance}"


# --- Summaries ---------------------------------------------------------------------------------------------------


class RevenueFigures(models.Model):
    """What the issued documents' lines add up to for one kind of document, vet, category and product; the
    dimensions are plain numbers, not foreign keys (0 for a line without a vet or a product), so a key is never
    NULL and an upsert can add to it. Kept by invoicing.summaries in the transaction that issues the document;
    the lines themselves stay the record (tests/invoicing/test_summaries.py checks the two agree)."""

    kind = models.CharField(max_length=12, choices=Invoice.Kind.choices)
    vet_key = models.PositiveIntegerField(help_text="The lines' vet id; 0 for lines without a vet.")
    category = models.CharField(max_length=20, choices=Product.Category.choices)
    product_key = models.PositiveIntegerField(help_text="The lines' product id; 0 for lines typed in.")
    net = money_field()
    tax = money_field()
    gross = money_field()
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    lines = models.PositiveIntegerField()

    class Meta:
        abstract = True


class RevenueDay(RevenueFigures):
    """The issued documents' lines per practice-local issue date (a credit note's lines, negative, on its own
    date)."""

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "vet_key", "category", "product_key"], name="revenue_day_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} vet {self.vet_key} {self.category} product {self.product_key}: {self.gross}"


class RevenueMonth(RevenueFigures):
    """The same figures per calendar month (``month`` is its first day): a period of years reads whole months
    from here and only the days at its ends from RevenueDay."""

    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "kind", "vet_key", "category", "product_key"], name="revenue_month_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} vet {self.vet_key} {self.category} product {self.product_key}"


class PaymentDay(models.Model):
    """Payments and refunds per practice-local day received, by kind and payor (0 for clients' own)."""

    day = models.DateField()
    kind = models.CharField(max_length=10, choices=Payment.Kind.choices)
    payor_key = models.PositiveIntegerField(help_text="The insurer's payor id; 0 for a client's payment or refund.")
    amount = money_field()
    payments = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "kind", "payor_key"], name="payment_day_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} payor {self.payor_key}: {self.amount}"
