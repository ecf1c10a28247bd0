"""Forms of the invoicing pages. They parse and check shapes (a number, a date, at most so many decimals); the
rules (a draft only, a price override needs a permission, no over-allocation, ...) stay in invoicing.services,
whose errors the views put back on these forms with vetpms.forms.apply_service_error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone

from invoicing.models import Claim, Invoice, InvoiceLine, Payment, Payor, Policy, Product
from vetpms.forms import BootstrapMixin, DateInput
from vetpms.models import User, Vet
from vetpms.money import plain_number

MONEY_ATTRS = {"inputmode": "decimal", "class": "text-end money-input"}
PAYMENT_METHODS = [(m.value, m.label) for m in Payment.Method if m != Payment.Method.INSURANCE]


def money_field(label: str, *, required: bool = True, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(  # digits 0-9 only, as every number field (vetpms.params.ascii_only)
        label=label,
        max_digits=12,
        decimal_places=2,
        required=required,
        widget=forms.NumberInput(attrs={**MONEY_ATTRS, "step": "0.01"}),
        **kwargs,
    )


def quantity_field(label: str = "Quantity", *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(  # digits 0-9 only, as every number field (vetpms.params.ascii_only)
        label=label,
        max_digits=10,
        decimal_places=3,
        required=required,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "class": "text-end qty-input"}),
    )


class LineForm(BootstrapMixin, forms.Form):
    """A line of a draft: the product is chosen in the search; its price is editable only with override_price."""

    product = forms.ModelChoiceField(queryset=Product.objects.filter(is_active=True), widget=forms.HiddenInput)
    description = forms.CharField(max_length=300, required=False)
    quantity = quantity_field()
    animal = forms.ModelChoiceField(queryset=None, required=False, empty_label="No animal (e.g. retail)")
    vet = forms.ModelChoiceField(queryset=Vet.objects.bookable(), required=False, empty_label="—")
    unit_price = money_field("Unit price")
    discount_percent = forms.DecimalField(
        label="Discount %",
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.01", "class": "text-end", "inputmode": "decimal"}),
    )
    discount_amount = money_field("Discount amount", initial=Decimal("0.00"))
    service_date = forms.DateField(label="Date", widget=DateInput)

    def __init__(self, *args, invoice: Invoice, can_override: bool, with_product: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["animal"].queryset = invoice.client.animals.order_by("name")
        self.fields["service_date"].initial = timezone.localdate()
        if not with_product:
            del self.fields["product"]
        if not can_override:
            # A disabled field ignores what is posted: the service charges the catalogue price.
            self.fields["unit_price"].disabled = True
            self.fields["unit_price"].required = False
            self.fields["unit_price"].help_text = "The catalogue price; your role cannot change it."
            # A discount changes the price as surely as the price box does: the same permission for both.
            for name in ("discount_percent", "discount_amount"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            self.fields["discount_amount"].help_text = "Your role cannot give discounts."
        if not self.is_bound:
            # A product just picked (by mouse or keyboard): the quantity is the next thing to type. htmx focuses
            # an autofocus field it swaps in; a form with errors puts the keyboard on the first error instead.
            self.fields["quantity"].widget.attrs["autofocus"] = True

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("unit_price", "discount_percent", "discount_amount"):
            if self.fields[name].disabled:
                data.pop(name, None)
        data.pop("product", None)
        if "discount_percent" in data:
            data["discount_percent"] = data["discount_percent"] or Decimal("0")
        if "discount_amount" in data:
            data["discount_amount"] = data["discount_amount"] or Decimal("0")
        return data


def line_initial(line: InvoiceLine) -> dict:
    return {
        "description": line.description,
        "quantity": plain_number(line.quantity),
        "animal": line.animal_id,
        "vet": line.vet_id,
        "unit_price": line.unit_price,
        "discount_percent": plain_number(line.discount_percent),
        "discount_amount": line.discount_amount,
        "service_date": line.service_date,
    }


class QuantitiesForm(BootstrapMixin, forms.Form):
    """One optional quantity box per row (``qty_<id>``); an empty box means "not this one"."""

    prefix_name = "qty"

    def __init__(self, *args, rows: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            field = quantity_field(required=False)
            field.widget.attrs["class"] += " form-control form-control-sm"
            field.label = str(row)
            field.widget.attrs["aria-label"] = f"Quantity of {row}"
            self.fields[self.key(row)] = field

    def key(self, row) -> str:
        return f"{self.prefix_name}_{row.pk}"

    def bound_rows(self) -> list:
        return [(row, self[self.key(row)]) for row in self.rows]

    def chosen(self) -> list[tuple]:
        return [(row, self.cleaned_data[self.key(row)]) for row in self.rows if self.cleaned_data.get(self.key(row))]


class ChargeForm(QuantitiesForm):
    def clean(self):
        cleaned = super().clean()
        for row in self.rows:
            value = cleaned.get(self.key(row))
            if value is not None and value <= 0:
                self.add_error(self.key(row), "A quantity is more than zero.")
        if not self.errors and not self.chosen():
            raise forms.ValidationError("Enter a quantity for at least one treatment.")
        return cleaned


class CreditNoteForm(QuantitiesForm):
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"placeholder": "e.g. vaccine not given"}))

    def __init__(self, *args, remaining: dict[int, Decimal], **kwargs):
        super().__init__(*args, **kwargs)
        self.remaining = remaining

    def clean(self):
        cleaned = super().clean()
        if self.data.get("everything"):
            return cleaned
        for row in self.rows:
            value = cleaned.get(self.key(row))
            if value is not None and value <= 0:
                self.add_error(self.key(row), "Credit a quantity more than zero.")
        if not self.errors and not self.chosen():
            raise forms.ValidationError("Enter the quantity to credit on at least one line, or credit everything.")
        return cleaned


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(max_length=300)


class PaymentForm(BootstrapMixin, forms.Form):
    amount = money_field("Amount")
    method = forms.ChoiceField(choices=PAYMENT_METHODS, initial=Payment.Method.CARD)
    received_on = forms.DateField(label="Received on", widget=DateInput)
    reference = forms.CharField(max_length=100, required=False, help_text="Card slip, transfer reference, …")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError("A payment is more than zero.")
        return amount

    def __init__(self, *args, invoices: list[tuple[Invoice, Decimal]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.invoices = invoices
        for invoice, owed in invoices:
            field = money_field(f"Allocate to {invoice.reference}", required=False)
            field.widget.attrs["class"] += " form-control form-control-sm"
            field.widget.attrs["aria-label"] = f"Amount for {invoice.reference}"
            field.widget.attrs["max"] = str(owed)
            self.fields[f"alloc_{invoice.pk}"] = field

    def allocation_rows(self) -> list:
        return [(invoice, owed, self[f"alloc_{invoice.pk}"]) for invoice, owed in self.invoices]


class RefundForm(BootstrapMixin, forms.Form):
    amount = money_field("Amount")
    method = forms.ChoiceField(choices=PAYMENT_METHODS, initial=Payment.Method.BANK_TRANSFER)
    received_on = forms.DateField(label="Paid on", widget=DateInput)
    reference = forms.CharField(max_length=100, required=False)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError("A refund is more than zero.")
        return amount

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()


class StatementForm(BootstrapMixin, forms.Form):
    start = forms.DateField(label="From", widget=DateInput)
    end = forms.DateField(label="To", widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The period ends before it starts.")
        return cleaned


class PayorForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Payor
        fields = ["name", "contact_name", "claims_email", "phone", "address", "reference", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class PolicyForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Policy
        fields = ["payor", "policy_number", "starts_on", "ends_on", "excess", "copay_percent"]
        widgets = {"starts_on": DateInput, "ends_on": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.payor_id if self.instance.pk else None
        self.fields["payor"].queryset = Payor.objects.filter(is_active=True) | Payor.objects.filter(pk=current)


class ClaimForm(BootstrapMixin, forms.Form):
    policy = forms.ModelChoiceField(queryset=Policy.objects.none(), empty_label=None)
    lines = forms.ModelMultipleChoiceField(queryset=InvoiceLine.objects.none(), widget=forms.CheckboxSelectMultiple)
    direct_settlement = forms.BooleanField(
        required=False, initial=True, help_text="The insurer pays the practice; the client owes only the rest."
    )
    notes = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, invoice: Invoice, **kwargs):
        super().__init__(*args, **kwargs)
        animals = invoice.lines.exclude(animal=None).values("animal_id")
        self.fields["policy"].queryset = Policy.objects.filter(animal__in=animals).select_related("payor", "animal")
        self.fields["policy"].label_from_instance = lambda p: (
            f"{p.animal.name}: {p.payor} {p.policy_number} ({p.starts_on:%d %b %Y}–{p.ends_on:%d %b %Y})"  # noqa: RUF001
        )
        self.fields["lines"].queryset = invoice.lines.select_related("animal")
        self.fields["lines"].label_from_instance = lambda line: (
            f"{line.description} · {line.animal.name if line.animal else 'no animal'} · {line.service_date:%d %b %Y}"
        )


class ClaimDecideForm(BootstrapMixin, forms.Form):
    accepted = money_field("Amount accepted", help_text="0 means the claim was declined.")
    reference = forms.CharField(max_length=60, required=False, label="Insurer's reference")


class ClaimSettleForm(BootstrapMixin, forms.Form):
    amount = money_field("Amount received")
    received_on = forms.DateField(label="Received on", widget=DateInput)
    reference = forms.CharField(max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()


class ProductForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "category", "unit", "unit_price", "tax_category", "is_active"]
        widgets = {"unit_price": forms.NumberInput(attrs={**MONEY_ATTRS, "step": "0.01"})}

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TaxRateForm(BootstrapMixin, forms.Form):
    rate = forms.DecimalField(
        label="Rate %", max_digits=5, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01"})
    )
    valid_from = forms.DateField(label="From", widget=DateInput)


WAITING_CHOICES = [("", "Any age"), ("14", "14 days or more"), ("30", "30 days or more"), ("60", "60 days or more"),
                   ("90", "90 days or more")]  # fmt: skip


class OpenClaimsFilterForm(BootstrapMixin, forms.Form):
    """The filters of the open claims list: which open statuses, which insurer, how long the claim has waited."""

    status = forms.MultipleChoiceField(
        label="Status",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (s.value, s.label)
            for s in (Claim.Status.DRAFT, Claim.Status.SUBMITTED, Claim.Status.ACCEPTED, Claim.Status.PARTLY_ACCEPTED)
        ],
    )
    payor = forms.ModelChoiceField(label="Insurer", required=False, queryset=Payor.objects.order_by("name"))
    waiting = forms.TypedChoiceField(
        label="Waiting", required=False, choices=WAITING_CHOICES, coerce=int, empty_value=None
    )
    after = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)


class CashUpForm(BootstrapMixin, forms.Form):
    """The cash-up's day, and (for those who see the practice's figures) whose takings: empty means everyone's."""

    day = forms.DateField(label="Day", widget=DateInput)
    taken_by = forms.ModelChoiceField(label="Taken by", required=False, queryset=User.objects.none(),
                                      empty_label="Everyone")  # fmt: skip

    def __init__(self, *args, can_choose: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = timezone.localdate()
        if can_choose:
            self.fields["taken_by"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name")
        else:
            del self.fields["taken_by"]

    def clean_day(self):
        day = self.cleaned_data["day"]
        if not dt.date(1900, 1, 1) <= day <= dt.date(2999, 12, 31):
            raise forms.ValidationError("Choose a day between 1900 and 2999.")
        return day
