"""Finalising and claiming under concurrency, each attempt on its own database connection."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from invoicing.models import ClaimLine, Invoice, Payor, Policy, Product, RevenueDay, RevenueMonth, TaxCategory
from invoicing.services import claim_create, invoice_add_line, invoice_draft_for, invoice_finalise
from invoicing.signals import document_finalised
from tests.factories import AnimalFactory, UserFactory
from tests.reference_data import ensure_reference_data
from vetpms.errors import DomainError
from vetpms.models import Role

ATTEMPTS = 20


def run_at_once(count, work):
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(i):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", work(i))
        except Exception as exc:  # a failure of any kind is a result the test inspects
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_finalisations_with_failures_leave_no_gap():
    ensure_reference_data()
    desk = UserFactory(username="desk", role=Role.RECEPTIONIST)
    product = Product.objects.create(
        code="C",
        name="Consultation",
        category="consultation",
        unit_price=Decimal("40.00"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    drafts = []
    for _ in range(ATTEMPTS):
        pet = AnimalFactory()
        draft = invoice_draft_for(client=pet.owner, by=desk)
        invoice_add_line(invoice=draft, by=desk, product=product, quantity=Decimal(1), animal=pet)
        drafts.append(draft)
    doomed = {d.pk for d in drafts[::4]}  # every fourth fails after its number was taken

    def fail_some(sender, invoice, **kwargs):
        if invoice.pk in doomed:
            raise Boom(f"fails after taking number {invoice.number}")

    document_finalised.connect(fail_some, dispatch_uid="test-fail-some")
    try:
        results = run_at_once(ATTEMPTS, lambda i: invoice_finalise(invoice=drafts[i], by=desk).number)
    finally:
        document_finalised.disconnect(dispatch_uid="test-fail-some")

    failures = [r[1] for r in results if r[0] == "error"]
    assert len(failures) == len(doomed) and all(isinstance(f, Boom) for f in failures)
    numbers = sorted(Invoice.objects.filter(status="finalised").values_list("number", flat=True))
    assert numbers == list(range(1, ATTEMPTS - len(doomed) + 1))
    assert Invoice.objects.filter(pk__in=doomed, status="draft", number__isnull=True).count() == len(doomed)
    # The revenue summary of the day (one row: same day, product, category, no vet) added every committed
    # finalisation once, though they all upserted that one row at once, and none of those rolled back.
    issued = Invoice.objects.filter(status="finalised")
    (day,) = RevenueDay.objects.all()
    (month,) = RevenueMonth.objects.all()
    for row in (day, month):
        assert row.lines == issued.count() == ATTEMPTS - len(doomed)
        assert row.gross == sum(issued.values_list("gross_total", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_line_enters_one_live_claim_even_when_two_desks_try_at_once():
    ensure_reference_data()
    desk = UserFactory(username="desk2", role=Role.RECEPTIONIST)
    product = Product.objects.create(
        code="V",
        name="Vaccine",
        category="vaccine",
        unit_price=Decimal("30.00"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    pet = AnimalFactory()
    draft = invoice_draft_for(client=pet.owner, by=desk)
    invoice_add_line(invoice=draft, by=desk, product=product, quantity=Decimal(1), animal=pet)
    invoice = invoice_finalise(invoice=draft, by=desk)
    payor = Payor.objects.create(name="Insurer")
    policies = [
        Policy.objects.create(
            animal=pet, payor=payor, policy_number=f"P{i}", starts_on="2000-01-01", ends_on="2999-12-31"
        )
        for i in range(8)
    ]
    line = invoice.lines.get()
    results = run_at_once(8, lambda i: claim_create(invoice=invoice, policy=policies[i], lines=[line], by=desk).pk)
    outcomes = [r for r in results if r[0] == "ok"]
    refusals = [r[1] for r in results if r[0] == "error"]
    assert len(outcomes) == 1
    assert len(refusals) == 7 and all(isinstance(e, DomainError) for e in refusals)
    assert ClaimLine.objects.filter(line=line, live=True).count() == 1
