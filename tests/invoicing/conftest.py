import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.models import Payor, Policy, Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import AnimalFactory


@pytest.fixture
def standard(db):
    return TaxCategory.objects.get(code="standard")


@pytest.fixture
def zero_rated(db):
    return TaxCategory.objects.get(code="zero")


@pytest.fixture
def consult_fee(standard):
    return Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"), tax_category=standard
    )


@pytest.fixture
def rabies(standard):
    return Product.objects.create(
        code="VAC-RAB", name="Rabies vaccine", category="vaccine", unit_price=Decimal("38.50"), tax_category=standard
    )


@pytest.fixture
def amoxicillin(standard):
    return Product.objects.create(
        code="AMOX",
        name="Amoxicillin 50 mg/ml",
        category="medication",
        unit="ml",
        unit_price=Decimal("1.33"),
        tax_category=standard,
    )


@pytest.fixture
def owner_pet(db):
    pet = AnimalFactory(name="Mírzá", owner__first_name="Zoë", owner__last_name="Ångström")
    return pet.owner, pet


def new_invoice(client, pet, product, by, quantity=1):
    """A finalised invoice of ``quantity`` of ``product`` for ``pet``."""
    draft = invoice_draft_for(client=client, by=by)
    invoice_add_line(invoice=draft, by=by, product=product, quantity=Decimal(quantity), animal=pet)
    return invoice_finalise(invoice=draft, by=by)


@pytest.fixture
def policy(owner_pet):
    """Petsure insures the pet: excess 10.00, no co-payment (test modules with their own ``policy`` keep theirs)."""
    _, pet = owner_pet
    today = timezone.localdate()
    return Policy.objects.create(
        animal=pet,
        payor=Payor.objects.create(name="Petsure"),
        policy_number="PS-9",
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=300),
        excess=Decimal("10.00"),
        copay_percent=Decimal("0"),
    )


@pytest.fixture
def issued(owner_pet, consult_fee, rabies, receptionist):
    """A finalised invoice: consultation 45.00 + rabies vaccine 38.50, 20 % tax -> 100.20."""
    client, pet = owner_pet
    invoice = invoice_draft_for(client=client, by=receptionist)
    invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=Decimal(1), animal=pet)
    invoice_add_line(invoice=invoice, by=receptionist, product=rabies, quantity=Decimal(1), animal=pet)
    return invoice_finalise(invoice=invoice, by=receptionist)


def days_ago(n: int) -> dt.date:
    from django.utils import timezone

    return timezone.localdate() - dt.timedelta(days=n)
