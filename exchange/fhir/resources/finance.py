"""Organization (the practice and the insurers), Coverage (an insurance policy), Claim, ClaimResponse (the
insurer's decision on a claim) and Invoice.

Money is FHIR Money (value and currency). Invoices map their lines' prices to lineItem.priceComponent (base, discount,
tax); a credit note has no FHIR construct of its own, so it is an Invoice whose type says so, with negative amounts,
and an invoice voided by one is status cancelled.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from exchange.fhir import systems
from exchange.fhir.errors import bad_request
from exchange.fhir.registry import Query, ResourceType, SearchPage, register
from exchange.fhir.resources.common import instant, reference, without_empty
from exchange.fhir.search import (
    NOTHING,
    SearchParam,
    choice_param,
    date_param,
    int_id,
    parse_token,
    reference_id,
    reference_param,
    token_param,
)
from invoicing.models import Claim, Invoice, InvoiceLine, Payor, Policy
from vetpms.keyset import InvalidCursor, keyset_page
from vetpms.money import quantize_money
from vetpms.params import is_ascii_number

PRACTICE_ID = "practice"
_CURRENCIES = {"£": "GBP", "€": "EUR", "$": "USD"}
COPAY_TYPE = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"


def currency() -> str:
    return getattr(settings, "CURRENCY_CODE", "") or _CURRENCIES.get(getattr(settings, "CURRENCY_SYMBOL", "£"), "GBP")


def money(value: Decimal) -> dict:
    return {"value": value, "currency": currency()}


def practice_reference() -> dict:
    return reference("Organization", PRACTICE_ID, settings.PRACTICE["name"])


# --- Organization ---------------------------------------------------------------------------------------------------


class Practice:
    """The practice itself, from settings (it has no row)."""

    pk = PRACTICE_ID


def _org_type(code: str, display: str) -> dict:
    return {"coding": [{"system": systems.ORGANIZATION_TYPE, "code": code, "display": display}], "text": display}


@register
class OrganizationResource(ResourceType):
    """The practice (id ``practice``) and the insurers (payors, by id). Searching lists the practice first."""

    type_name = "Organization"
    model = Payor
    read_permissions = ("invoicing.view_payor",)
    last_updated = None
    ordering = ("id",)
    documentation = "The practice (Organization/practice) and insurers (payors)."
    search_params = [
        SearchParam("name", "string", lambda value, modifier: Q(), "Name (starts with, any case)."),
        SearchParam("type", "token", lambda value, modifier: Q(), "prov (the practice) or ins (insurers)."),
    ]

    def get(self, request: HttpRequest, resource_id: str) -> Any:
        if resource_id == PRACTICE_ID:
            return Practice()
        return super().get(request, resource_id)

    def to_fhir(self, obj: Any, request: HttpRequest) -> dict:
        if isinstance(obj, Practice):
            practice = settings.PRACTICE
            return without_empty(
                {
                    "active": True,
                    "type": [_org_type("prov", "Healthcare Provider")],
                    "name": practice["name"],
                    "telecom": without_empty_list(
                        [
                            {"system": "phone", "value": practice.get("phone")} if practice.get("phone") else None,
                            {"system": "email", "value": practice.get("email")} if practice.get("email") else None,
                        ]
                    ),
                    "address": [{"text": practice["address"]}] if practice.get("address") else None,
                }
            )
        return without_empty(
            {
                "identifier": [{"system": systems.practice("payor"), "value": obj.reference}]
                if obj.reference
                else None,
                "active": obj.is_active,
                "type": [_org_type("ins", "Insurance Company")],
                "name": obj.name,
                "telecom": without_empty_list(
                    [
                        {"system": "phone", "value": obj.phone} if obj.phone else None,
                        {"system": "email", "value": obj.claims_email} if obj.claims_email else None,
                    ]
                ),
                "address": [{"text": obj.address}] if obj.address else None,
            }
        )

    def search(self, request: HttpRequest, query: Query) -> SearchPage:
        qs = Payor.objects.all()
        practice_matches = True
        for param, modifier, values in query.filters:
            if param.name == "_id":
                ids = [int_id(v) for v in values]
                qs = qs.filter(pk__in=[i for i in ids if i is not None])
                practice_matches &= PRACTICE_ID in values
            elif param.name == "name":
                if modifier not in ("", "contains", "exact"):
                    raise bad_request(f"name has no modifier :{modifier}.")
                lookup = {"": "istartswith", "contains": "icontains", "exact": "exact"}[modifier]
                condition = NOTHING
                for value in values:
                    condition |= Q(**{f"name__{lookup}": value})
                qs = qs.filter(condition)
                name = settings.PRACTICE["name"]
                practice_matches &= any(_string_matches(name, v, modifier) for v in values)
            elif param.name == "type":
                codes = {parse_token(v)[1] for v in values}
                if "ins" not in codes:
                    qs = qs.none()
                practice_matches &= "prov" in codes
        try:
            page = keyset_page(qs.order_by("id"), cursor=query.cursor, per_page=query.count, count=False)
        except InvalidCursor as exc:
            raise bad_request("_cursor: not a cursor of this search (start the search again).") from exc
        rows: list[Any] = list(page.rows)
        if practice_matches and not query.cursor:  # the practice heads the first page
            rows.insert(0, Practice())
        return SearchPage(rows, page.next_cursor, page.previous_cursor)


def _string_matches(text: str, value: str, modifier: str) -> bool:
    if modifier == "exact":
        return text == value
    if modifier == "contains":
        return value.lower() in text.lower()
    return text.lower().startswith(value.lower())


def without_empty_list(items: list) -> list:
    return [item for item in items if item]


# --- Coverage -------------------------------------------------------------------------------------------------------


def _policy_number_q(system: str | None, code: str) -> Q:
    if system not in (None, systems.practice("policy-number")):
        return NOTHING
    return Q(policy_number=code)


@register
class CoverageResource(ResourceType):
    type_name = "Coverage"
    model = Policy
    read_permissions = ("invoicing.view_policy",)
    last_updated = None
    documentation = "An insurance policy: beneficiary the animal, payor the insurer."
    search_params = [
        reference_param("beneficiary", "animal_id", "Patient", documentation="The insured animal."),
        reference_param("patient", "animal_id", "Patient", documentation="The insured animal."),
        reference_param("payor", "payor_id", "Organization", documentation="The insurer."),
        token_param("identifier", _policy_number_q, documentation="The policy number."),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Policy.objects.select_related("animal", "payor")

    def to_fhir(self, obj: Policy, request: HttpRequest) -> dict:
        cost = []
        if obj.copay_percent:
            cost.append(
                {
                    "type": {"coding": [{"system": COPAY_TYPE, "code": "copaypct"}]},
                    "valueQuantity": {"value": obj.copay_percent, "unit": "%", "system": systems.UCUM, "code": "%"},
                }
            )
        if obj.excess:
            cost.append(
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/coverage-copay-type",
                                "code": "deductible",
                            }
                        ]
                    },
                    "valueMoney": money(obj.excess),
                }
            )
        return without_empty(
            {
                "identifier": [{"system": systems.practice("policy-number"), "value": obj.policy_number}],
                "status": "active",
                "subscriberId": obj.policy_number,
                "beneficiary": reference("Patient", obj.animal_id, obj.animal.name),
                "period": {"start": obj.starts_on.isoformat(), "end": obj.ends_on.isoformat()},
                "payor": [reference("Organization", obj.payor_id, obj.payor.name)],
                "costToBeneficiary": cost,
            }
        )


# --- Claim ----------------------------------------------------------------------------------------------------------

CLAIM_STATUS = {
    Claim.Status.DRAFT: "draft",
    Claim.Status.SUBMITTED: "active",
    Claim.Status.ACCEPTED: "active",
    Claim.Status.PARTLY_ACCEPTED: "active",
    Claim.Status.DECLINED: "active",
    Claim.Status.SETTLED: "active",
}
CLAIM_SEARCH_STATUS: dict[str, list[str]] = {"draft": [], "active": [], "cancelled": [], "entered-in-error": []}
for _internal, _code in CLAIM_STATUS.items():
    CLAIM_SEARCH_STATUS[_code].append(_internal)


def _patient_of_claim(value: str, modifier: str) -> Q:
    pk = reference_id(value, "Patient", "patient")
    return Q(policy__animal_id=pk) if pk is not None else NOTHING


@register
class ClaimResource(ResourceType):
    """An insurance claim on an invoice. FHIR's Claim.status is the state of the claim resource (draft until it
    is submitted, then active); the insurer's decision (submitted, accepted, declined, settled) has no element of
    its own in R4 Claim: it is the ClaimResponse of the same id once there is one, and also travels here as a
    supportingInfo entry in the practice's claim-info code system (so a reader of the Claim alone sees it)."""

    type_name = "Claim"
    model = Claim
    read_permissions = ("invoicing.view_claim",)
    last_updated = "updated_at"
    documentation = "An insurance claim (the insurer's decision in supportingInfo; amounts in total)."
    search_params = [
        SearchParam("patient", "reference", _patient_of_claim, "The insured animal.", frozenset({"Patient"})),
        reference_param("insurer", "policy__payor_id", "Organization", documentation="The insurer."),
        date_param("created", "created_at", documentation="When the claim was made."),
        choice_param("status", "status", CLAIM_SEARCH_STATUS, documentation="draft or active."),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Claim.objects.select_related("policy__animal", "policy__payor", "invoice").prefetch_related(
            "claim_lines__line"
        )

    def to_fhir(self, obj: Claim, request: HttpRequest) -> dict:
        items = []
        for sequence, claim_line in enumerate((cl for cl in obj.claim_lines.all() if cl.live), start=1):
            line = claim_line.line
            items.append(
                without_empty(
                    {
                        "sequence": sequence,
                        "productOrService": {"text": line.description},
                        "servicedDate": line.service_date.isoformat(),
                        "quantity": {"value": line.quantity},
                        "unitPrice": money(line.unit_price),
                        "net": money(line.gross),
                    }
                )
            )
        decision = [
            {
                "sequence": 1,
                "category": {"coding": [{"system": systems.practice("claim-info"), "code": "decision"}]},
                "valueString": obj.get_status_display(),
            }
        ]
        return without_empty(
            {
                "identifier": (
                    [{"system": systems.practice("insurer-claim-reference"), "value": obj.insurer_reference}]
                    if obj.insurer_reference
                    else None
                ),
                "status": CLAIM_STATUS[Claim.Status(obj.status)],
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]
                },
                "use": "claim",
                "patient": reference("Patient", obj.policy.animal_id, obj.policy.animal.name),
                "created": instant(obj.created_at),
                "insurer": reference("Organization", obj.policy.payor_id, obj.policy.payor.name),
                "provider": practice_reference(),
                "priority": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]
                },
                "supportingInfo": decision,
                "insurance": [{"sequence": 1, "focal": True, "coverage": reference("Coverage", obj.policy_id)}],
                "item": items,
                "total": money(obj.amount_claimed),
            }
        )


# --- ClaimResponse --------------------------------------------------------------------------------------------------

DECIDED = [Claim.Status.ACCEPTED, Claim.Status.PARTLY_ACCEPTED, Claim.Status.DECLINED, Claim.Status.SETTLED]
CLAIM_RESPONSE_STATUS: dict[str, list[str]] = {"active": list(DECIDED), "cancelled": [], "draft": []}
CLAIM_RESPONSE_STATUS["entered-in-error"] = []
CLAIM_RESPONSE_OUTCOME: dict[str, list[str]] = {"complete": list(DECIDED), "queued": [], "error": [], "partial": []}


def _adjudication(code: str, display: str) -> dict:
    return {"coding": [{"system": ADJUDICATION, "code": code, "display": display}]}


@register
class ClaimResponseResource(ResourceType):
    """The insurer's decision on a claim, once there is one (accepted, partly accepted, declined, settled); its
    id is the Claim's. outcome is complete (the insurer finished with the claim; a decline is a finished claim
    with nothing payable), disposition says the decision, total has the amount claimed (submitted) and accepted
    (benefit), payment what the insurer has paid the practice so far. A claim not decided yet has none (404)."""

    type_name = "ClaimResponse"
    model = Claim
    read_permissions = ("invoicing.view_claim",)
    last_updated = "updated_at"
    documentation = "The insurer's decision on a Claim (same id): outcome, disposition, amounts accepted and paid."
    search_params = [
        SearchParam("patient", "reference", _patient_of_claim, "The insured animal.", frozenset({"Patient"})),
        reference_param("request", "pk", "Claim", documentation="The claim decided."),
        reference_param("insurer", "policy__payor_id", "Organization", documentation="The insurer."),
        date_param("created", "decided_on", is_date=True, documentation="When the insurer decided."),
        choice_param("outcome", "status", CLAIM_RESPONSE_OUTCOME, documentation="complete (every decision)."),
        choice_param("status", "status", CLAIM_RESPONSE_STATUS, documentation="active (every decision)."),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Claim.objects.filter(status__in=DECIDED).select_related("policy__animal", "policy__payor")

    def to_fhir(self, obj: Claim, request: HttpRequest) -> dict:
        payment = None
        if obj.amount_paid:
            payment = without_empty(
                {
                    "type": {
                        "coding": [
                            {
                                "system": PAYMENT_TYPE,
                                "code": "complete" if obj.status == Claim.Status.SETTLED else "partial",
                            }
                        ]
                    },
                    "date": obj.settled_on.isoformat() if obj.settled_on else None,
                    "amount": money(obj.amount_paid),
                }
            )
        return without_empty(
            {
                "identifier": (
                    [{"system": systems.practice("insurer-claim-reference"), "value": obj.insurer_reference}]
                    if obj.insurer_reference
                    else None
                ),
                "status": "active",
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]
                },
                "use": "claim",
                "patient": reference("Patient", obj.policy.animal_id, obj.policy.animal.name),
                "created": obj.decided_on.isoformat() if obj.decided_on else instant(obj.updated_at),
                "insurer": reference("Organization", obj.policy.payor_id, obj.policy.payor.name),
                "requestor": practice_reference(),
                "request": reference("Claim", obj.pk),
                "outcome": "complete",
                "disposition": obj.get_status_display(),
                "total": [
                    {"category": _adjudication("submitted", "Submitted Amount"), "amount": money(obj.amount_claimed)},
                    {
                        "category": _adjudication("benefit", "Benefit Amount"),
                        "amount": money(obj.amount_accepted or Decimal("0.00")),
                    },
                ],
                "payment": payment,
            }
        )


# --- Invoice --------------------------------------------------------------------------------------------------------


def invoice_status(invoice: Invoice) -> str:
    if invoice.status == Invoice.Status.DRAFT:
        return "draft"
    if invoice.status == Invoice.Status.VOID:
        return "cancelled"
    return "issued"


INVOICE_SEARCH_STATUS = {
    "draft": [Invoice.Status.DRAFT],
    "issued": [Invoice.Status.FINALISED],
    "cancelled": [Invoice.Status.VOID],
    "balanced": [],
    "entered-in-error": [],
}


def _patient_of_invoice(value: str, modifier: str) -> Q:
    pk = reference_id(value, "Patient", "patient")
    if pk is None:
        return NOTHING
    return Q(pk__in=InvoiceLine.objects.filter(animal_id=pk).values("invoice_id"))


def _invoice_identifier(system: str | None, code: str) -> Q:
    if system not in (None, systems.practice("invoice-number")):
        return NOTHING
    series, _, number = code.rpartition("-")
    if not series or not is_ascii_number(number) or len(number) > 9:
        return NOTHING
    return Q(series=series, number=int(number))


def _price_components(line: InvoiceLine) -> list[dict]:
    """base (unit price x quantity) - discount + tax = the line's gross, with the line's own signs (a credit
    note's lines are negative); the discount is what the stored net falls short of the base."""
    base = quantize_money(line.unit_price * line.quantity)
    components = [{"type": "base", "amount": money(base)}]
    discount = base - line.net
    if discount:
        components.append({"type": "discount", "amount": money(discount)})
    if line.tax:
        components.append(
            {
                "type": "tax",
                "code": {"text": f"Tax {line.tax_rate}%"},
                "factor": line.tax_rate / Decimal(100),
                "amount": money(line.tax),
            }
        )
    return components


@register
class InvoiceResource(ResourceType):
    type_name = "Invoice"
    model = Invoice
    read_permissions = ("invoicing.view_invoice",)
    last_updated = "updated_at"
    ordering = ("id",)
    documentation = "Invoices and credit notes (type credit-note, negative amounts); a void invoice is cancelled."
    search_params = [
        SearchParam("patient", "reference", _patient_of_invoice, "An animal charged on it.", frozenset({"Patient"})),
        date_param("date", "issue_date", is_date=True, documentation="The issue date."),
        choice_param("status", "status", INVOICE_SEARCH_STATUS, documentation="draft, issued, cancelled."),
        token_param("identifier", _invoice_identifier, documentation="The invoice number (SERIES-00042)."),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Invoice.objects.select_related("client", "credits").prefetch_related("lines")

    def to_fhir(self, obj: Invoice, request: HttpRequest) -> dict:
        lines = list(obj.lines.all())
        animals = {line.animal_id for line in lines if line.animal_id}
        kind = "credit-note" if obj.is_credit_note else "invoice"
        resource = {
            "identifier": (
                [{"system": systems.practice("invoice-number"), "value": obj.reference}] if obj.number else None
            ),
            "status": invoice_status(obj),
            "cancelledReason": "Voided by a credit note" if obj.status == Invoice.Status.VOID else None,
            "type": {
                "coding": [
                    {"system": systems.practice("invoice-type"), "code": kind, "display": obj.get_kind_display()}
                ]
            },
            "subject": reference("Patient", next(iter(animals))) if len(animals) == 1 else None,
            "recipient": {
                "identifier": {"system": systems.practice("client"), "value": str(obj.client_id)},
                "display": obj.client_name or obj.client.display_name,
            },
            "date": obj.issue_date.isoformat() if obj.issue_date else None,
            "issuer": practice_reference(),
            "lineItem": [
                {
                    "sequence": position,
                    "chargeItemCodeableConcept": {"text": line.description},
                    "priceComponent": _price_components(line),
                }
                for position, line in enumerate(lines, start=1)
            ],
            "totalNet": money(obj.net_total),
            "totalGross": money(obj.gross_total),
            "note": [{"text": f"Corrects {obj.credits.reference}: {obj.reason}"}] if obj.credits_id else None,
        }
        return without_empty(resource)
