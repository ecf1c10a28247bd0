"""Template helpers of the invoicing pages: money with the currency symbol, status badges, and the cards other
apps' pages show without importing invoicing (a client's account summary; an animal's policies and charges)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils import timezone

from invoicing import selectors
from invoicing.access import sees_payments
from invoicing.models import Claim, Invoice, InvoiceLine, Policy
from vetpms.money import format_money, plain_number

register = template.Library()

INVOICE_BADGES = {
    Invoice.Status.DRAFT: "text-bg-light border",
    Invoice.Status.FINALISED: "text-bg-primary",
    Invoice.Status.VOID: "text-bg-dark",
}
CLAIM_BADGES = {
    Claim.Status.DRAFT: "text-bg-light border",
    Claim.Status.SUBMITTED: "text-bg-info",
    Claim.Status.ACCEPTED: "text-bg-success",
    Claim.Status.PARTLY_ACCEPTED: "text-bg-warning",
    Claim.Status.DECLINED: "text-bg-danger",
    Claim.Status.SETTLED: "text-bg-secondary",
}


def currency_symbol() -> str:
    return getattr(settings, "CURRENCY_SYMBOL", "£")


@register.filter
def money(value) -> str:
    """12.5 -> "£12.50"; -3 -> "\u2212£3.00" (a real minus sign, U+2212); empty for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    text = f"{currency_symbol()}{format_money(abs(amount))}"
    return f"\u2212{text}" if amount < 0 else text


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros: 1.000 -> "1", 0.500 -> "0.5"."""
    if value is None:
        return ""
    return plain_number(value)


@register.filter
def percent(value) -> str:
    if value is None:
        return ""
    return f"{qty(value)} %"


@register.simple_tag
def invoice_badge_class(invoice) -> str:
    return INVOICE_BADGES.get(invoice.status, "text-bg-secondary")


@register.simple_tag
def claim_badge_class(claim) -> str:
    return CLAIM_BADGES.get(claim.status, "text-bg-secondary")


@register.inclusion_tag("invoicing/_client_account_card.html", takes_context=True)
def client_account_summary(context, client):
    """The account card of the client page: balance, what is outstanding, the open draft (a few queries)."""
    user = context["request"].user
    if not user.has_perm("invoicing.view_invoice"):
        return {"allowed": False}
    draft = Invoice.objects.filter(client=client, kind=Invoice.Kind.INVOICE, status=Invoice.Status.DRAFT).first()
    if not sees_payments(user):
        return {
            "allowed": True,
            "client": client,
            "draft": draft,
            "show_payments": False,
            "perms": context.get("perms"),
        }
    balance = selectors.client_balance(client=client).balance
    outstanding = selectors.invoices_outstanding(client=client)
    return {
        "allowed": True,
        "show_payments": True,
        "client": client,
        "balance": balance,
        "credit": -balance if balance < 0 else Decimal("0.00"),
        "outstanding_count": len(outstanding),
        "outstanding_total": sum((owed for _, owed in outstanding), Decimal("0.00")),
        "draft": draft,
        "perms": context.get("perms"),
    }


@register.inclusion_tag("invoicing/_animal_policies.html", takes_context=True)
def animal_policies(context, animal):
    """The animal's insurance policies (one query), for those who may see policies."""
    user = context["request"].user
    if not user.has_perm("invoicing.view_policy"):
        return {"allowed": False}
    policies = list(Policy.objects.filter(animal=animal).select_related("payor").order_by("-starts_on", "-id"))
    today = timezone.localdate()
    return {
        "allowed": True,
        "animal": animal,
        "rows": [(p, p.covers(today)) for p in policies],
        "perms": context.get("perms"),
    }


@register.inclusion_tag("invoicing/_animal_lines.html", takes_context=True)
def animal_invoice_lines(context, animal, limit: int = 15):
    """What was charged for the animal, newest first (one query), for those who may see invoices."""
    user = context["request"].user
    if not user.has_perm("invoicing.view_invoice"):
        return {"allowed": False}
    lines = list(
        InvoiceLine.objects.filter(animal=animal)
        .select_related("invoice", "vet")
        .order_by("-service_date", "-id")[:limit]
    )
    return {"allowed": True, "animal": animal, "lines": lines, "limit": limit}
