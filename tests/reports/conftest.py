"""Fixtures for the report figures: a clock set to a chosen practice-local moment (documents take their issue date
from it, as they do when finalised), and ``books``, which drafts, finalises, credits, pays and claims through
the invoicing services exactly as the practice would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing import services
from invoicing.models import Invoice, Payor, Policy, Product, TaxCategory
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime

D = Decimal


class Clock:
    """``clock.set(2025, 3, 31, 23, 30)``: from then on ``timezone.now()`` is that practice-local moment."""

    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, year: int, month: int, day: int, hour: int = 12, minute: int = 0, fold: int = 0) -> dt.datetime:
        moment = local_datetime(dt.date(year, month, day), dt.time(hour, minute), fold=fold).astimezone(dt.UTC)
        self.monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


class Books:
    """Documents made through the services, at the clock's moment."""

    def __init__(self, clock: Clock, by) -> None:
        self.clock = clock
        self.by = by
        standard = TaxCategory.objects.get(code="standard")
        zero = TaxCategory.objects.get(code="zero")
        self.products = {
            "consult": Product.objects.create(
                code="CONS", name="Consultation", category="consultation", unit_price=D("45.00"), tax_category=standard
            ),
            "vaccine": Product.objects.create(
                code="VAC", name="Vaccine", category="vaccine", unit_price=D("38.50"), tax_category=standard
            ),
            "food": Product.objects.create(
                code="FOOD", name="Dog food", category="retail", unit_price=D("12.99"), tax_category=zero
            ),
            "xray": Product.objects.create(
                code="XR", name="X-ray", category="imaging", unit_price=D("120.00"), tax_category=standard
            ),
        }

    def invoice(self, when: tuple, lines: list[tuple], client=None, pet=None) -> Invoice:
        """``lines``: (product key, quantity, vet or None[, unit price])."""
        self.clock.set(*when)
        if pet is None:
            pet = AnimalFactory(owner=client) if client is not None else AnimalFactory()
        draft = services.invoice_draft_for(client=pet.owner, by=self.by)
        for line in lines:
            key, quantity, vet, *price = line
            services.invoice_add_line(
                invoice=draft,
                by=self.by,
                product=self.products[key],
                quantity=D(quantity),
                animal=pet,
                vet=vet,
                unit_price=D(price[0]) if price else None,
            )
        return services.invoice_finalise(invoice=draft, by=self.by)

    def credit(self, invoice: Invoice, when: tuple, lines=None) -> Invoice:
        self.clock.set(*when)
        return services.credit_note_issue(invoice=invoice, by=self.by, reason="Overcharged", lines=lines)

    def recorded_on(self, day: dt.date) -> None:
        """Money is recorded on its day or later, never ahead of it: a later day moves the clock there."""
        if day > timezone.localdate():
            self.clock.set(day.year, day.month, day.day)

    def pay(self, client, amount: str, on: dt.date, method: str = "card", allocate_to=None):
        self.recorded_on(on)
        return services.payment_record(
            client=client, amount=D(amount), method=method, by=self.by, received_on=on, allocate_to=allocate_to
        )

    def refund(self, client, amount: str, on: dt.date, method: str = "card"):
        self.recorded_on(on)
        return services.refund_record(client=client, amount=D(amount), method=method, by=self.by, received_on=on)

    def policy(self, pet, payor: Payor, excess="0.00", copay="0") -> Policy:
        return Policy.objects.create(
            animal=pet, payor=payor, policy_number=f"P-{pet.pk}-{payor.pk}", starts_on=dt.date(2000, 1, 1),
            ends_on=dt.date(2099, 12, 31), excess=D(excess), copay_percent=D(copay),
        )  # fmt: skip

    def claim(self, invoice: Invoice, policy: Policy, submitted: dt.date, accepted: str | None = None):
        claim = services.claim_create(invoice=invoice, policy=policy, lines=list(invoice.lines.all()), by=self.by)
        self.recorded_on(submitted)
        claim = services.claim_submit(claim=claim, by=self.by, on=submitted)
        if accepted is not None:
            claim = services.claim_decide(claim=claim, by=self.by, accepted=D(accepted), on=submitted)
        return claim


@pytest.fixture
def books(db, clock, manager):
    return Books(clock, manager)


@pytest.fixture
def vets(db):
    """Two vets (Ng and Shah) with their users."""
    ng = UserFactory(username="ng", first_name="Amy", last_name="Ng", role=Role.VET)
    shah = UserFactory(username="shah", first_name="Raj", last_name="Shah", role=Role.VET)
    return ng.vet, shah.vet
