"""Invoicing for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py): the price list,
what each kind of visit is charged, the insurers.

Demo scale, through the invoicing services with their clock stopped at each visit: the catalogue, the charges of
the completed appointments (and a few earlier visits), a void and a credit note, policies and claims in every
state, payments. Practice scale: about 500,000 invoices with 2M lines over ten years, their claims, payments and
credit notes, written with COPY, then the open-invoice list, balances and revenue summaries rebuilt.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments.seeding import HISTORY_DAYS, practice_first_day
from invoicing import calc
from vetpms.management.seeding.common import (
    SeedContext,
    Step,
    analyse_tables,
    bulk,
    insert_rows,
    reserve_ids,
    services_at,
)
from vetpms.money import ZERO, quantize_money

# code -> (name, category, unit, unit price in GBP, tax category code). UK high-street prices of 2026; vet services,
# drugs and pet food are standard-rated (20%); feed for food-producing animals and statutory fees are zero-rated.
CATALOGUE: dict[str, tuple[str, str, str, str, str]] = {
    "CONS": ("Consultation", "consultation", "each", "52.00", "standard"),
    "CONS-FU": ("Follow-up consultation", "consultation", "each", "32.00", "standard"),
    "CONS-NURSE": ("Nurse clinic", "consultation", "each", "22.00", "standard"),
    "CONS-OOH": ("Out-of-hours consultation", "consultation", "each", "165.00", "standard"),
    "VAC-DHPP": (
        "DHPP booster (distemper, hepatitis, parvovirus, parainfluenza)",
        "vaccine",
        "each",
        "62.00",
        "standard",
    ),
    "VAC-KC": ("Kennel cough vaccine (intranasal)", "vaccine", "each", "45.00", "standard"),
    "VAC-RAB": ("Rabies vaccination", "vaccine", "each", "68.00", "standard"),
    "VAC-FELV": ("FeLV vaccination", "vaccine", "each", "58.00", "standard"),
    "VAC-RHD": ("Myxomatosis and RHD vaccination", "vaccine", "each", "55.00", "standard"),
    "MED-MELOX": ("Meloxicam 1.5 mg/ml oral suspension", "medication", "ml", "0.85", "standard"),
    "MED-AMOXI": ("Amoxicillin/clavulanate 250 mg", "medication", "tablet", "0.95", "standard"),
    "MED-MARO": ("Maropitant 10 mg/ml injection", "medication", "ml", "6.20", "standard"),
    "MED-PRED": ("Prednisolone 5 mg", "medication", "tablet", "0.40", "standard"),
    "MED-GABA": ("Gabapentin 100 mg", "medication", "tablet", "0.70", "standard"),
    "MED-WORM": ("Milbemycin/praziquantel wormer", "medication", "tablet", "6.50", "standard"),
    "PRO-DENTAL": ("Dental scale and polish", "procedure", "each", "285.00", "standard"),
    "PRO-EXT": ("Tooth extraction", "procedure", "each", "45.00", "standard"),
    "PRO-GA": ("General anaesthesia and monitoring", "procedure", "each", "120.00", "standard"),
    "PRO-SPAY": ("Spay (ovariohysterectomy)", "procedure", "each", "395.00", "standard"),
    "PRO-CAST": ("Castration", "procedure", "each", "175.00", "standard"),
    "PRO-LUMP": ("Lump removal", "procedure", "each", "240.00", "standard"),
    "PRO-NAIL": ("Nail clip", "procedure", "each", "14.00", "standard"),
    "LAB-PANEL": ("Haematology and biochemistry panel", "laboratory", "each", "98.00", "standard"),
    "LAB-URINE": ("Urinalysis", "laboratory", "each", "38.00", "standard"),
    "LAB-T4": ("Total T4 (thyroid)", "laboratory", "each", "45.00", "standard"),
    "LAB-CYTO": ("Cytology (external laboratory)", "laboratory", "each", "72.00", "standard"),
    "IMG-XRAY": ("Radiograph", "imaging", "view", "95.00", "standard"),
    "IMG-US": ("Abdominal ultrasound", "imaging", "each", "185.00", "standard"),
    "HOSP-DAY": ("Hospitalisation", "hospitalisation", "day", "68.00", "standard"),
    "HOSP-FLUIDS": ("Intravenous fluid therapy", "hospitalisation", "day", "45.00", "standard"),
    "RET-RENAL": ("Renal support dry food 2 kg", "retail", "bag", "28.99", "standard"),
    "RET-GI": ("Gastrointestinal diet wet food 400 g", "retail", "tin", "2.79", "standard"),
    "RET-FLEA": ("Fipronil flea and tick spot-on (3 pipettes)", "retail", "pack", "18.50", "standard"),
    "RET-LAYERS": ("Layers pellets 20 kg (poultry feed)", "retail", "bag", "14.50", "zero"),
    "OTH-CHIP": ("Microchip implant and registration", "other", "each", "25.00", "standard"),
    "OTH-PASSPORT": ("Equine passport application (statutory fee)", "other", "each", "40.00", "zero"),
    "OTH-CREM": ("Communal cremation", "other", "each", "95.00", "standard"),
}

# Fictional insurers: name -> (contact, claims email, address, phone, payor reference)
PAYORS: dict[str, tuple[str, str, str, str, str]] = {
    "Petsure Insurance": (
        "Claims team",
        "claims@petsure.example.com",
        "Petsure House\n12 Harbour Road\nBristol\nBS1 4QA",
        "0117 496 0999",
        "PS-4471",
    ),
    "Animal Friends Cover": (
        "Vet liaison desk",
        "vetclaims@animalfriendscover.example.org",
        "3 Mill Lane\nLeeds\nLS2 8NE",
        "0113 496 0555",
        "AFC-0932",
    ),
}

VACCINES = {"Dog": "VAC-DHPP", "Cat": "VAC-FELV", "Rabbit": "VAC-RHD", "Ferret": "VAC-RAB"}
TABLETS = [Decimal("7"), Decimal("10"), Decimal("14"), Decimal("14"), Decimal("28")]
MILLILITRES = [Decimal("0.5"), Decimal("1.5"), Decimal("2.5"), Decimal("5"), Decimal("10"), Decimal("15")]


def _dose(rng: random.Random, code: str) -> tuple[str, Decimal]:
    unit = CATALOGUE[code][2]
    if unit == "ml":
        return code, rng.choice(MILLILITRES)
    if unit == "tablet":
        return code, rng.choice(TABLETS)
    return code, Decimal(1)


def _extras(rng: random.Random, species: str, count: int) -> list[tuple[str, Decimal]]:
    """Medicines, tests and shop items added to a visit: ``count`` different ones."""
    pool = ["MED-MELOX", "MED-AMOXI", "MED-MARO", "MED-PRED", "MED-GABA", "LAB-PANEL", "LAB-URINE", "LAB-T4"]
    pool += ["IMG-XRAY", "IMG-US", "RET-GI", "RET-RENAL", "RET-FLEA", "MED-WORM"]
    weights = [16, 12, 6, 8, 5, 8, 5, 3, 4, 2, 5, 3, 8, 8]
    if species == "Bird":
        pool, weights = [*pool, "RET-LAYERS"], [*weights, 6]
    chosen: list[str] = []
    while len(chosen) < count:
        code = rng.choices(pool, weights=weights)[0]
        if code not in chosen:
            chosen.append(code)
    items = [_dose(rng, code) for code in chosen]
    return [(c, Decimal(rng.choice([1, 2, 3]))) if c == "IMG-XRAY" else (c, q) for c, q in items]


def treatment_plan(rng: random.Random, type_name: str, species: str) -> list[tuple[str, Decimal]]:
    """What a visit of ``type_name`` is charged: (product code, quantity) rows, about four on average."""
    extra = rng.choices([0, 1, 2, 3, 4, 5, 6], weights=[3, 9, 20, 26, 21, 13, 8])[0]
    if type_name == "Consultation":
        first = rng.choices(["CONS", "CONS-FU", "CONS-OOH"], weights=[78, 20, 2])[0]
        return [(first, Decimal(1)), *_extras(rng, species, extra)]
    if type_name == "Vaccination":
        items = [(VACCINES.get(species, "CONS"), Decimal(1))]
        if species == "Dog" and rng.random() < 0.3:
            items.append(("VAC-KC", Decimal(1)))
        if rng.random() < 0.05:
            items.append(("OTH-CHIP", Decimal(1)))
        return items + _extras(rng, species, max(0, extra - 1))
    if type_name == "Dental":
        items = [("PRO-DENTAL", Decimal(1)), ("PRO-GA", Decimal(1)), ("MED-MELOX", rng.choice(MILLILITRES))]
        if rng.random() < 0.6:
            items.append(("PRO-EXT", Decimal(rng.randint(1, 5))))
        if rng.random() < 0.5:
            items.append(("LAB-PANEL", Decimal(1)))
        return items + [("MED-AMOXI", rng.choice(TABLETS))] * (rng.random() < 0.5)
    if type_name == "Surgery admit":
        surgery = rng.choice(["PRO-SPAY", "PRO-CAST", "PRO-LUMP"])
        items = [(surgery, Decimal(1)), ("PRO-GA", Decimal(1)), ("HOSP-DAY", Decimal(rng.choice([1, 1, 2])))]
        items += [("MED-MELOX", rng.choice(MILLILITRES)), ("MED-AMOXI", rng.choice(TABLETS))]
        if surgery == "PRO-LUMP":
            items.append(("LAB-CYTO", Decimal(1)))
        if rng.random() < 0.4:
            items.append(("HOSP-FLUIDS", Decimal(1)))
        return items
    if type_name == "Post-op check":
        return [("CONS-FU", Decimal(1)), *_extras(rng, species, max(0, extra - 2))]
    # Nurse clinic
    items = [("CONS-NURSE", Decimal(1))]
    if rng.random() < 0.35:
        items.append(("PRO-NAIL", Decimal(1)))
    return items + _extras(rng, species, max(1, extra - 1))


# --- Demo scale -------------------------------------------------------------------------------------------------------

EARLIER_VISITS = 12  # charged 5-11 weeks ago, before the appointment history: some of them are now overdue
OPEN_DRAFTS = 3  # the last charges of the day are left on drafts, as if the desk had not finalised them yet
UNPAID_RECENT = 0.35  # share of the last week's invoices not paid yet
INSURED_ANIMALS = 7
CLAIM_FATES = ["settled", "accepted", "submitted", "partly_accepted", "declined", "settled", "submitted"]


@contextmanager
def services_clock(at: dt.datetime) -> Iterator[None]:
    """Issue documents on the day they belong to. ``invoice_finalise`` dates and numbers an invoice "now"; a
    history built in one go would otherwise be issued entirely today (and nothing could be overdue). Only the
    invoicing and reminder services' clocks are moved (a finalised vaccine completes its reminder when it was
    given); everything else they do (numbering, snapshots, audit) is unchanged."""
    from invoicing import services
    from reminders import services as reminder_services

    with services_at(at, [services, reminder_services]):
        yield


def seed_catalogue(ctx: SeedContext) -> None:
    """The price list, through ``product_save`` as the manager."""
    from invoicing.models import TaxCategory
    from invoicing.services import product_save

    categories = {c.code: c for c in TaxCategory.objects.all()}
    for code, (name, category, unit, price, tax) in CATALOGUE.items():
        data = {
            "code": code,
            "name": name,
            "category": category,
            "unit": unit,
            "unit_price": Decimal(price),
            "tax_category": categories[tax],
            "is_active": True,
        }
        ctx.products[code] = product_save(by=ctx.staff["manager"], data=data)
    ctx.counts["products"] = len(ctx.products)


@dataclass
class _Visit:
    at: dt.datetime  # when the visit ended (the invoice is finalised a few minutes later)
    animal: Any
    vet: Any
    items: list[tuple[str, Decimal]]
    appointment: Any = None


def _visits(ctx: SeedContext) -> list[_Visit]:
    """What was charged: most completed appointments of the history, and a few earlier visits (before it)."""
    from animals.models import Animal
    from appointments.models import Appointment

    visits = []
    completed = Appointment.objects.filter(status="completed").select_related("animal__species", "type", "vet")
    for appointment in completed.order_by("start", "pk"):
        type_name = appointment.type.name
        skip = 0.6 if type_name == "Post-op check" else 0.04  # most post-op checks are free
        roll = ctx.rng.random()
        # at most three lines a visit: the demo is charged through the services, which take a while per line
        items = treatment_plan(ctx.rng, type_name, appointment.animal.species.name)[:3]
        if roll >= skip:
            visits.append(_Visit(appointment.end, appointment.animal, appointment.vet, items, appointment))
    pets = list(
        Animal.objects.filter(pk__in=[a.pk for a in ctx.animals], is_active=True, owner__is_active=True)
        .select_related("species")
        .order_by("pk")
    )
    first_history_day = ctx.today - dt.timedelta(days=HISTORY_DAYS)
    for _ in range(EARLIER_VISITS):
        animal = ctx.rng.choice(pets)
        day = first_history_day - dt.timedelta(days=ctx.rng.randint(7, 50))
        at = dt.datetime.combine(day, dt.time(ctx.rng.randint(9, 17), ctx.rng.choice([0, 15, 30, 45])))
        items = treatment_plan(ctx.rng, "Consultation", animal.species.name)[:3]
        vet = ctx.rng.choice(ctx.vets)
        visits.append(_Visit(timezone.make_aware(at), animal, vet, items))
    return sorted(visits, key=lambda v: v.at)


def seed_charges(ctx: SeedContext) -> None:
    """Charge the visits in the order they happened, each finalised by the receptionist minutes later (numbers
    follow the dates); the very last ones stay on drafts. Appointments go through ``charge_appointment``, the
    earlier visits through ``invoice_add_line`` (a charge made at the desk)."""
    from invoicing.services import charge_appointment, invoice_add_line, invoice_draft_for, invoice_finalise
    from vetpms.timeutils import to_local

    reception = ctx.staff["reception"]
    visits = _visits(ctx)
    lines = 0
    for n, visit in enumerate(visits):
        items = [(ctx.products[code], quantity) for code, quantity in visit.items]
        with services_clock(visit.at):
            if visit.appointment is not None:
                invoice = charge_appointment(appointment=visit.appointment, by=visit.vet.user, items=items)
            else:
                invoice = invoice_draft_for(client=visit.animal.owner, by=reception)
                for product, quantity in items:
                    invoice_add_line(
                        invoice=invoice,
                        by=visit.vet.user,
                        product=product,
                        quantity=quantity,
                        animal=visit.animal,
                        vet=visit.vet,
                        service_date=to_local(visit.at).date(),
                    )
            lines += len(items)
            if n < len(visits) - OPEN_DRAFTS:
                at = visit.at + dt.timedelta(minutes=ctx.rng.randint(2, 20))
                with services_clock(at):
                    ctx.invoices.append(invoice_finalise(invoice=invoice, by=reception))
    ctx.counts["invoices"] = len(ctx.invoices)
    ctx.counts["invoice lines"] = lines


def seed_corrections(ctx: SeedContext) -> None:
    """A void invoice (charged to the wrong client, voided the same day) and a partial credit note (unused
    tablets taken back a few days later), both by the manager."""
    from invoicing.models import InvoiceLine
    from invoicing.services import credit_note_issue, invoice_void

    manager = ctx.staff["manager"]
    older = [i for i in ctx.invoices if i.issue_date < ctx.today - dt.timedelta(days=10)]
    voided = older[len(older) // 3]
    tablets = InvoiceLine.objects.filter(invoice__in=older[len(older) // 2 :], unit="tablet", quantity__gte=10)
    line = tablets.select_related("invoice").order_by("invoice__issue_date", "pk").first()
    corrections: list[tuple[dt.datetime, Any, Any]] = [(voided.finalised_at + dt.timedelta(hours=1), voided, None)]
    if line is not None and line.invoice.finalised_at is not None:  # (an issued invoice's line: it is set)
        when = line.invoice.finalised_at + dt.timedelta(days=ctx.rng.randint(1, 4))
        corrections.append((min(when, timezone.now()), line.invoice, line))
    for at, invoice, line in sorted(corrections, key=lambda c: c[0]):
        with services_clock(at):
            if line is None:
                invoice_void(invoice=invoice, by=manager, reason="Charged to the wrong client's account.")
            else:
                back = (line.quantity / 2).to_integral_value()
                reason = f"{back:f} unused tablets returned."
                credit_note_issue(invoice=invoice, by=manager, reason=reason, lines=[(line, back)])
    ctx.invoices = [i for i in ctx.invoices if i.pk != voided.pk]
    ctx.counts["credit notes"] = len(corrections)


def seed_insurance(ctx: SeedContext) -> None:
    """Two insurers, policies for a few insured pets, and claims in every state through the claim services."""
    from invoicing.models import InvoiceLine
    from invoicing.services import (
        claim_create,
        claim_decide,
        claim_settle,
        claim_submit,
        payor_save,
        policy_save,
    )
    from vetpms.money import quantize_money

    manager, reception = ctx.staff["manager"], ctx.staff["reception"]
    payors = []
    for name, (contact, email, address, phone, reference) in PAYORS.items():
        data = {
            "name": name,
            "contact_name": contact,
            "claims_email": email,
            "address": address,
            "phone": phone,
            "reference": reference,
            "is_active": True,
        }
        payors.append(payor_save(by=manager, data=data))

    credited = set(
        InvoiceLine.objects.filter(credited_line__isnull=False).values_list("credited_line__invoice", flat=True)
    )
    claimable: dict[int | None, list] = {}  # by animal (lines with an animal only)
    for invoice in ctx.invoices:
        if invoice.status != "finalised" or invoice.pk in credited:
            continue
        for line in InvoiceLine.objects.filter(invoice=invoice, animal__isnull=False).select_related("animal"):
            claimable.setdefault(line.animal_id, []).append((invoice, line))
    # The pets with the biggest bills are the insured ones (that is why they were insured).
    ranked = sorted(claimable, key=lambda pk: -sum(line.gross for _i, line in claimable[pk]))[:INSURED_ANIMALS]
    claims = []
    for n, animal_pk in enumerate(ranked):
        animal = claimable[animal_pk][0][1].animal
        payor = payors[n % len(payors)]
        starts = ctx.today - dt.timedelta(days=ctx.rng.randint(60, 300))
        policy = policy_save(
            by=manager,
            data={
                "animal": animal,
                "payor": payor,
                "policy_number": f"{payor.reference[:3]}{ctx.rng.randint(10**6, 10**7 - 1)}",
                "starts_on": starts,
                "ends_on": starts + dt.timedelta(days=364),
                "excess": Decimal(ctx.rng.choice(["0.00", "50.00", "99.00", "120.00"])),
                "copay_percent": Decimal(ctx.rng.choice(["0", "0", "10", "20"])),
            },
        )
        by_invoice: dict[int, list] = {}
        for invoice, line in claimable[animal_pk]:
            by_invoice.setdefault(invoice.pk, [invoice, []])[1].append(line)
        biggest = max(by_invoice.values(), key=lambda pair: sum(line.gross for line in pair[1]))
        claims.append((policy, biggest[0], biggest[1]))
    claims.sort(key=lambda c: c[1].issue_date)
    states = []
    for n, (policy, invoice, lines) in enumerate(claims):
        fate = CLAIM_FATES[n % len(CLAIM_FATES)] if n < len(claims) - 1 else "draft"
        claim = claim_create(invoice=invoice, policy=policy, lines=lines, by=reception)
        if fate != "draft" and claim.amount_claimed > 0:
            submitted = min(ctx.today, invoice.issue_date + dt.timedelta(days=ctx.rng.randint(1, 3)))
            claim = claim_submit(claim=claim, by=reception, on=submitted)
            if fate in ("accepted", "partly_accepted", "declined", "settled"):
                decided = min(ctx.today, submitted + dt.timedelta(days=ctx.rng.randint(5, 12)))
                accepted = {
                    "declined": Decimal(0),
                    "partly_accepted": quantize_money(claim.amount_claimed * Decimal("0.8")),
                }
                amount = accepted.get(fate, claim.amount_claimed)
                reference = f"{policy.payor.reference[:3]}-C{ctx.rng.randint(10**5, 10**6 - 1)}"
                claim = claim_decide(claim=claim, by=reception, accepted=amount, reference=reference, on=decided)
                if fate == "settled":
                    paid_on = min(ctx.today, decided + dt.timedelta(days=ctx.rng.randint(3, 10)))
                    claim = claim_settle(claim=claim, by=reception, amount=amount, received_on=paid_on)
        states.append(claim.status)
    ctx.counts.update(payors=len(payors), policies=len(claims), claims=len(states))


def seed_payments(ctx: SeedContext) -> None:
    """Most invoices paid at the desk when issued (card or cash; some by bank transfer days later), through
    ``payment_record``. Left unpaid: a share of the last week's invoices, a few of the earlier visits (overdue
    by now) and invoices whose claim is still a draft (waiting for the insurer's share)."""
    from invoicing.models import Claim
    from invoicing.selectors import client_outstanding
    from invoicing.services import payment_record
    from vetpms.money import quantize_money

    reception = ctx.staff["reception"]
    waiting = set(Claim.objects.filter(status="draft").values_list("invoice_id", flat=True))
    overdue_before = ctx.today - dt.timedelta(days=HISTORY_DAYS)
    paid = 0
    for invoice in ctx.invoices:
        roll = ctx.rng.random()
        method = ctx.rng.choices(["card", "cash", "bank_transfer"], weights=[70, 20, 10])[0]
        if invoice.pk in waiting:
            continue
        if invoice.issue_date < overdue_before and roll < 0.3:
            continue  # overdue
        if invoice.issue_date > ctx.today - dt.timedelta(days=7) and roll < UNPAID_RECENT:
            continue  # issued this week, not paid yet
        owed = quantize_money(client_outstanding(invoice))  # SQLite sums come back with more places
        if owed <= 0:
            continue
        received = invoice.issue_date
        if method == "bank_transfer":
            received = min(ctx.today, received + dt.timedelta(days=ctx.rng.randint(2, 9)))
        payment_record(
            client=invoice.client,
            amount=owed,
            method=method,
            by=reception,
            received_on=received,
            reference=invoice.reference if method == "bank_transfer" else "",
            allocate_to=[(invoice, owed)],
        )
        paid += 1
    ctx.counts["payments"] = paid


# --- Practice scale ---------------------------------------------------------------------------------------------------

INVOICE_BATCH = 20_000  # invoices written (with their lines, claims and payments) per transaction
SKIP_POST_OP = 0.5  # most post-op checks are free
SKIP_OTHER = 0.03  # and a few other visits were never charged (goodwill, staff pets)
SHOP_SALES_PER_DAY = (0, 1, 2, 3, 4, 5)  # over-the-counter sales (food, flea treatment) without an appointment
INSURED_SHARE = 0.08  # animals with a policy at some point
CLAIM_FROM = Decimal("100.00")  # bills worth claiming
CLAIM_CHANCE = 0.7
CREDIT_CHANCE = 0.012  # a line credited on a later credit note
VOID_CHANCE = 0.003  # charged to the wrong client: voided by a full credit note
DISCOUNT_CHANCE = 0.04  # a 10% loyalty discount on the whole bill


def _issue(rows: list[tuple[int, int, str]]) -> None:
    """Draft -> finalised (or void) with its number, one statement per batch. The documents were written as
    drafts so that their lines could be inserted (the triggers of migration 0002 refuse lines on issued
    documents); everything else about them (date, totals, snapshots) was written in its final state."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE invoicing_invoice AS i SET status = v.status, number = v.number "
                "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, number, status) WHERE i.id = v.id",
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
            )
        else:
            cursor.executemany(
                "UPDATE invoicing_invoice SET number = %s, status = %s WHERE id = %s", [(n, s, i) for i, n, s in rows]
            )


INVOICE_FIELDS = [
    "id", "kind", "status", "client", "series", "issue_date", "due_date", "credits", "reason", "client_name",
    "client_address", "net_total", "tax_total", "gross_total", "notes", "created_by", "finalised_by", "finalised_at",
    "created_at", "updated_at",
]  # fmt: skip
LINE_FIELDS = [
    "id", "invoice", "position", "product", "description", "animal", "vet", "appointment", "service_date",
    "category", "quantity", "unit", "unit_price", "price_overridden", "discount_percent", "discount_amount",
    "tax_rate", "net", "tax", "gross", "credited_line",
]  # fmt: skip
CLAIM_FIELDS = [
    "id", "policy", "invoice", "status", "direct_settlement", "amount_claimed", "amount_accepted", "amount_paid",
    "insurer_reference", "notes", "submitted_on", "decided_on", "settled_on", "created_by", "created_at",
    "updated_at",
]  # fmt: skip
CLAIM_LINE_FIELDS = ["claim", "line", "live"]
PAYMENT_FIELDS = [
    "id", "kind", "client", "payor", "method", "amount", "received_on", "reference", "notes", "created_by",
    "created_at",
]  # fmt: skip
ALLOCATION_FIELDS = ["payment", "invoice", "claim", "amount", "created_at"]


def seed_practice_catalogue(ctx: SeedContext) -> None:
    """The price list (the same as the demo's) and the two insurers."""
    from invoicing.models import Payor, Product, TaxCategory

    categories = {c.code: c for c in TaxCategory.objects.all()}
    Product.objects.bulk_create(
        [
            Product(code=code, name=name, category=category, unit=unit, unit_price=Decimal(price),
                    tax_category=categories[tax])
            for code, (name, category, unit, price, tax) in CATALOGUE.items()
        ]
    )  # fmt: skip
    ctx.products = {p.code: p for p in Product.objects.select_related("tax_category")}
    Payor.objects.bulk_create(
        [
            Payor(name=name, contact_name=contact, claims_email=email, address=address, phone=phone, reference=ref)
            for name, (contact, email, address, phone, ref) in PAYORS.items()
        ]
    )
    ctx.counts["products"] = len(ctx.products)


def seed_policies(ctx: SeedContext) -> None:
    """Policies for INSURED_SHARE of the animals: one to four years of cover from a day of their life."""
    from animals.models import Animal
    from invoicing.models import Payor, Policy

    payors = list(Payor.objects.order_by("name"))
    first = practice_first_day(ctx)
    rows: list[Policy] = []
    for pk, born, died in Animal.objects.order_by("pk").values_list("pk", "date_of_birth", "deceased_on"):
        if ctx.rng.random() >= INSURED_SHARE:
            continue
        start = max(first, born or first) + dt.timedelta(days=ctx.rng.randint(0, 2000))
        if start > (died or ctx.today):
            continue
        payor = payors[len(rows) % len(payors)]
        rows.append(
            Policy(
                animal_id=pk,
                payor=payor,
                policy_number=f"{payor.reference[:3]}{len(rows) + 1:07d}",
                starts_on=start,
                ends_on=start + dt.timedelta(days=365 * ctx.rng.randint(1, 4) - 1),
                excess=Decimal(ctx.rng.choice(["0.00", "50.00", "99.00", "120.00", "150.00"])),
                copay_percent=Decimal(ctx.rng.choice(["0", "0", "0", "10", "20"])),
            )
        )
    ctx.counts["policies"] = len(bulk(Policy, rows))


class _Amounts:
    """invoicing.calc.line_amounts, remembered: two million lines are made of a few hundred distinct ones."""

    def __init__(self) -> None:
        self.cache: dict[tuple, Any] = {}

    def __call__(self, quantity: Decimal, price: Decimal, rate: Decimal, discount: Decimal) -> Any:
        key = (quantity, price, rate, discount)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = calc.line_amounts(
                quantity=quantity, unit_price=price, tax_rate=rate, discount_percent=discount
            )
        return found


class _Ledger:
    """Numbers, rows and the running counts of the invoicing load."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.counters: dict[str, int] = {}
        self.invoices: list[tuple] = []
        self.lines: list[tuple] = []
        self.claims: list[tuple] = []
        self.claim_lines: list[tuple] = []
        self.payments: list[tuple] = []
        self.allocations: list[tuple] = []
        self.issue: list[tuple[int, int, str]] = []
        self.credit_notes: list[dict] = []  # written last, numbered in date order
        self.next_claim = 0  # the next reserved primary keys (set once the keys are reserved)
        self.next_payment = 0
        self.totals = {"invoices": 0, "lines": 0, "claims": 0, "payments": 0}

    def number(self, prefix: str, day: dt.date) -> tuple[str, int]:
        series = f"{prefix}{day.year}"
        self.counters[series] = self.counters.get(series, 0) + 1
        return series, self.counters[series]

    def flush(self) -> None:
        from invoicing.models import Allocation, Claim, ClaimLine, Invoice, InvoiceLine, Payment

        with transaction.atomic():
            insert_rows(Invoice, INVOICE_FIELDS, self.invoices)
            insert_rows(InvoiceLine, LINE_FIELDS, self.lines)
            _issue(self.issue)
            insert_rows(Claim, CLAIM_FIELDS, self.claims)
            insert_rows(ClaimLine, CLAIM_LINE_FIELDS, self.claim_lines)
            insert_rows(Payment, PAYMENT_FIELDS, self.payments)
            insert_rows(Allocation, ALLOCATION_FIELDS, self.allocations)
        self.totals["invoices"] += len(self.invoices)
        self.totals["lines"] += len(self.lines)
        self.totals["claims"] += len(self.claims)
        self.totals["payments"] += len(self.payments)
        for rows in (self.invoices, self.lines, self.issue, self.claims, self.claim_lines, self.payments):
            rows.clear()
        self.allocations.clear()


def _practice_visits(ctx: SeedContext) -> Iterator[tuple]:
    """(end, appointment id, animal id, client id, vet id, type name, start) of the completed appointments to
    charge, merged in time order with over-the-counter sales (appointment id None)."""
    from animals.models import Animal
    from appointments.models import Appointment, AppointmentType

    types = dict(AppointmentType.objects.values_list("pk", "name"))
    now = timezone.now()
    rows = Appointment.objects.filter(status="completed", end__lte=now).order_by("start", "pk")
    visits = []
    for pk, animal, client, vet, type_id, start, end in rows.values_list(
        "pk", "animal_id", "client_id", "vet_id", "type_id", "start", "end"
    ).iterator(chunk_size=20_000):
        name = types[type_id]
        if ctx.rng.random() < (SKIP_POST_OP if name == "Post-op check" else SKIP_OTHER):
            continue
        visits.append((end, pk, animal, client, vet, name, start))
    first = visits[0][0].date() if visits else ctx.today
    pets: dict[int, list[int]] = {}
    for pk, owner in Animal.objects.filter(is_active=True).values_list("pk", "owner_id"):
        pets.setdefault(owner, []).append(pk)
    owners = sorted(pets)
    from vetpms.timeutils import practice_tz

    tz = practice_tz()
    shop = []
    day = first
    while day < ctx.today:
        if day.weekday() != 6:
            for _ in range(ctx.rng.choice(SHOP_SALES_PER_DAY)):
                client = owners[int(ctx.rng.random() * len(owners))]
                at = dt.datetime.combine(day, dt.time(ctx.rng.randint(9, 17), ctx.rng.randint(0, 59)), tzinfo=tz)
                shop.append((at, None, ctx.rng.choice(pets[client]), client, None, "", at))
        day += dt.timedelta(days=1)
    shop.sort(key=lambda v: v[0])
    return heapq.merge(visits, shop, key=lambda v: v[0])


def seed_invoices(ctx: SeedContext) -> None:
    """About 500k invoices with 2M lines over ten years, their claims and payments (DESIGN.md section 5).

    One invoice per charged completed appointment (line animal, vet and service date from the appointment), plus
    over-the-counter sales; numbered in date order per yearly series; amounts by invoicing.calc, totals the sums
    of the lines; a snapshot of the client's name and address. Claims for insured pets' bigger bills, in states by
    age; payments for about 95% (the client's share, allocated to the invoice); some credit notes and voids.
    Written with COPY in batches: each invoice as a draft, its lines, then draft -> finalised in one UPDATE per
    batch (the triggers accept lines on drafts only). Counters end at the last numbers.
    """
    from animals.models import Animal
    from clients.models import Client
    from invoicing.models import Claim, DocumentCounter, Invoice, InvoiceLine, Payment, Policy, Product, TaxRate
    from invoicing.services import claim_amount
    from vetpms.models import Vet
    from vetpms.timeutils import practice_tz

    started = time.perf_counter()
    rng, today, tz = ctx.rng, ctx.today, practice_tz()
    reception = ctx.staff["reception"].pk
    vet_users = dict(Vet.objects.values_list("pk", "user_id"))
    species = dict(Animal.objects.values_list("pk", "species__name"))
    snapshot = {
        c.pk: (c.display_name, "\n".join(c.address_lines))
        for c in Client.objects.only(
            "title", "first_name", "last_name", "organisation", "address_line1", "address_line2", "town", "county",
            "postcode", "country",
        )
    }  # fmt: skip
    rates: dict[int, list[tuple]] = {}
    for row in TaxRate.objects.order_by("valid_from"):
        rates.setdefault(row.category_id, []).append((row.valid_from, row.valid_until or dt.date.max, row.rate))

    def rate_on(category_id: int, day: dt.date) -> Decimal:
        for start, until, rate in rates[category_id]:
            if start <= day < until:
                return rate
        raise ValueError(f"no tax rate on {day}")

    products = ctx.products or {p.code: p for p in Product.objects.all()}
    policies: dict[int, list] = {}
    for policy in Policy.objects.select_related("payor"):
        policies.setdefault(policy.animal_id, []).append(policy)
    amounts = _Amounts()
    ledger = _Ledger(ctx)
    due_days = dt.timedelta(days=settings.INVOICE_DUE_DAYS)
    shop_codes = ["RET-GI", "RET-RENAL", "RET-FLEA", "MED-WORM", "RET-FLEA"]

    visits = list(_practice_visits(ctx))
    invoice_id = reserve_ids(Invoice, len(visits))
    next_line = reserve_ids(InvoiceLine, len(visits) * 7)  # more than enough; the sequence just skips the rest
    ledger.next_claim = reserve_ids(Claim, len(visits) // 20 + 1000)
    ledger.next_payment = reserve_ids(Payment, len(visits) * 2)
    voids = credits = 0

    for end, appointment, animal, client, vet, type_name, start in visits:
        day = start.astimezone(tz).date()
        if appointment is None:
            plan = [(code, Decimal(rng.choice([1, 1, 2]))) for code in rng.sample(shop_codes, rng.choice([1, 1, 2]))]
            created_by = reception
        else:
            plan = treatment_plan(rng, type_name, species[animal])
            created_by = vet_users[vet]
        discount = Decimal(10) if rng.random() < DISCOUNT_CHANCE else Decimal(0)
        lines = []
        for position, (code, quantity) in enumerate(plan, start=1):
            product = products[code]
            rate = rate_on(product.tax_category_id, day)
            money = amounts(quantity, product.unit_price, rate, discount)
            lines.append(
                (next_line, invoice_id, position, product.pk, product.name, animal, vet, appointment, day,
                 product.category, quantity, product.unit, product.unit_price, False, discount, ZERO, rate,
                 money.net, money.tax, money.gross, None)
            )  # fmt: skip
            next_line += 1
        net = sum((line[17] for line in lines), ZERO)
        tax = sum((line[18] for line in lines), ZERO)
        gross = sum((line[19] for line in lines), ZERO)
        finalised = end + dt.timedelta(minutes=rng.randint(2, 25))
        name, address = snapshot[client]
        series, number = ledger.number(settings.INVOICE_SERIES_PREFIX, day)
        ledger.invoices.append(
            (invoice_id, "invoice", "draft", client, series, day, day + due_days, None, "", name, address, net, tax,
             gross, "", created_by, reception, finalised, end, finalised)
        )  # fmt: skip
        ledger.lines.extend(lines)
        age = (today - day).days
        roll = rng.random()
        if roll < VOID_CHANCE:
            ledger.issue.append((invoice_id, number, "void"))
            ledger.credit_notes.append(
                {"credits": invoice_id, "client": client, "day": day, "at": finalised + dt.timedelta(hours=2),
                 "lines": lines, "reason": "Charged to the wrong client's account.", "name": name, "address": address}
            )  # fmt: skip
            voids += 1
            invoice_id += 1
            continue
        ledger.issue.append((invoice_id, number, "finalised"))
        owed = gross
        claim_status = None
        cover = next((p for p in policies.get(animal, ()) if p.starts_on <= day <= p.ends_on), None)
        if roll < VOID_CHANCE + CREDIT_CHANCE and len(lines) > 1:
            credited = lines[-1]
            when = min(today, day + dt.timedelta(days=rng.randint(0, 10)))
            at = max(finalised, dt.datetime.combine(when, dt.time(16, 30), tzinfo=tz))
            ledger.credit_notes.append(
                {"credits": invoice_id, "client": client, "day": when, "at": at, "lines": [credited],
                 "reason": "Not given: taken off the bill.", "name": name, "address": address}
            )  # fmt: skip
            owed -= credited[19]
            credits += 1
        elif cover is not None and gross >= CLAIM_FROM and rng.random() < CLAIM_CHANCE:
            claimed = claim_amount(lines=[_Gross(line[19]) for line in lines], policy=cover)
            if claimed > 0:
                claim_status, share = _claim(ledger, cover, invoice_id, lines, claimed, day)
                owed -= share
        pay_chance = 0.965 if age > 60 else (0.88 if age > 30 else 0.6)  # about 95% in all
        if claim_status != "draft" and owed > 0 and rng.random() < pay_chance:
            method = rng.choices(["card", "cash", "bank_transfer"], weights=[72, 16, 12])[0]
            received = day if method != "bank_transfer" else min(today, day + dt.timedelta(days=rng.randint(2, 14)))
            at = max(finalised, dt.datetime.combine(received, dt.time(12), tzinfo=tz))
            reference = f"{series}-{number:05d}" if method == "bank_transfer" else ""
            ledger.payments.append(
                (ledger.next_payment, "payment", client, None, method, owed, received, reference, "", reception, at)
            )
            ledger.allocations.append((ledger.next_payment, invoice_id, None, owed, at))
            ledger.next_payment += 1
        invoice_id += 1
        if len(ledger.invoices) >= INVOICE_BATCH:
            ledger.flush()
            ctx.out.write(f"    {ledger.totals['invoices']:,} invoices ({time.perf_counter() - started:.0f} s)\n")
    ledger.flush()
    _credit_notes(ledger)
    # Written with COPY, so no model signal kept the list of open invoices or the revenue summaries: build them in
    # one statement each, after fresh planner statistics (on tables the planner still thinks empty the rebuild can
    # run for many minutes).
    from invoicing import balances, open_invoices, summaries

    analyse_tables()
    open_count = open_invoices.rebuild()
    balances.rebuild()
    summary_counts = summaries.rebuild()
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(series=series, last_number=last) for series, last in sorted(ledger.counters.items())]
    )
    elapsed = time.perf_counter() - started
    total = ledger.totals
    ctx.out.write(
        f"  invoicing: {total['invoices']:,} documents, {total['lines']:,} lines, {total['claims']:,} claims, "
        f"{total['payments']:,} payments in {elapsed:.0f} s ({total['lines'] / elapsed:,.0f} lines/s)\n"
    )
    ctx.counts.update(
        {
            "invoices and credit notes": total["invoices"],
            "invoice lines": total["lines"],
            "credit notes": credits + voids,
            "void invoices": voids,
            "claims": total["claims"],
            "payments": total["payments"],
            "open invoices": open_count,
            "revenue summary rows (days, months, payment days)": sum(summary_counts.values()),
        }
    )


@dataclass
class _Gross:
    gross: Decimal


def _claim(
    ledger: _Ledger, policy: Any, invoice_id: int, lines: list[tuple], claimed: Decimal, day: dt.date
) -> tuple[str, Decimal]:
    """A claim for every line of an insured pet's bill, in a state that fits its age; returns (status, the
    insurer's share as the balance counts it). Settled claims come with the insurer's payment."""
    rng, today = ledger.ctx.rng, ledger.ctx.today
    age, roll = (today - day).days, rng.random()
    if age > 60:
        status = "settled" if roll < 0.8 else ("declined" if roll < 0.88 else "partly_settled")
    elif age > 20:
        status = "accepted" if roll < 0.4 else ("settled" if roll < 0.8 else "submitted")
    else:
        status = "draft" if roll < 0.3 else ("submitted" if roll < 0.9 else "accepted")
    accepted: Decimal | None = None
    submitted: dt.date | None = None
    decided: dt.date | None = None
    settled: dt.date | None = None
    if status != "draft":
        submitted = min(today, day + dt.timedelta(days=rng.randint(1, 5)))
        if status in ("accepted", "settled", "partly_settled", "declined"):
            decided = min(today, submitted + dt.timedelta(days=rng.randint(7, 30)))
            accepted = {"declined": ZERO, "partly_settled": quantize_money(claimed * Decimal("0.75"))}.get(
                status, claimed
            )
            if status in ("settled", "partly_settled"):
                settled = min(today, decided + dt.timedelta(days=rng.randint(3, 14)))
                status = "settled"
    share = ZERO if status in ("draft", "declined") else (claimed if accepted is None else accepted)
    paid = accepted if settled else ZERO
    reference = f"{policy.payor.reference[:3]}-C{ledger.next_claim:07d}" if decided else ""
    stamp = dt.datetime.combine(submitted or day, dt.time(15), tzinfo=dt.UTC)
    changed = dt.datetime.combine(settled or decided or submitted or day, dt.time(15), tzinfo=dt.UTC)
    claim_id = ledger.next_claim
    ledger.next_claim += 1
    ledger.claims.append(
        (claim_id, policy.pk, invoice_id, status, True, claimed, accepted, paid, reference, "", submitted, decided,
         settled, ledger.ctx.staff["reception"].pk, stamp, changed)
    )  # fmt: skip
    ledger.claim_lines.extend((claim_id, line[0], status != "declined") for line in lines)
    if settled:
        ledger.payments.append(
            (ledger.next_payment, "payment", None, policy.payor_id, "insurance", paid, settled, reference, "",
             ledger.ctx.staff["reception"].pk, changed)
        )  # fmt: skip
        ledger.allocations.append((ledger.next_payment, invoice_id, claim_id, paid, changed))
        ledger.next_payment += 1
    return status, share


def _credit_notes(ledger: _Ledger) -> None:
    """The credit notes (full ones for the voided invoices), numbered in date order per yearly series."""
    from invoicing.models import Invoice, InvoiceLine

    notes = sorted(ledger.credit_notes, key=lambda n: (n["day"], n["credits"]))
    if not notes:
        return
    manager = ledger.ctx.staff["manager"].pk
    note_id = reserve_ids(Invoice, len(notes))
    line_id = reserve_ids(InvoiceLine, sum(len(n["lines"]) for n in notes))
    for note in notes:
        lines = []
        for position, line in enumerate(note["lines"], start=1):
            lines.append(
                (line_id, note_id, position, *line[3:10], -line[10], *line[11:17], -line[17], -line[18], -line[19],
                 line[0])
            )  # fmt: skip
            line_id += 1
        net, tax, gross = (sum((line[i] for line in lines), ZERO) for i in (17, 18, 19))
        at = note["at"]
        series, number = ledger.number(settings.CREDIT_NOTE_SERIES_PREFIX, note["day"])
        ledger.invoices.append(
            (note_id, "credit_note", "draft", note["client"], series, note["day"], None, note["credits"],
             note["reason"], note["name"], note["address"], net, tax, gross, "", manager, manager, at, at, at)
        )  # fmt: skip
        ledger.lines.extend(lines)
        ledger.issue.append((note_id, number, "finalised"))
        note_id += 1
    ledger.flush()


DEMO_STEPS: list[Step] = [seed_catalogue, seed_charges, seed_corrections, seed_insurance, seed_payments]
PRACTICE_STEPS: list[Step] = [seed_practice_catalogue, seed_policies, seed_invoices]
