"""Property tests: whatever the lines, the totals are the sums of the quantised lines, shares add up, and what is
stored comes back equal."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing import calc
from invoicing.models import Invoice, Payor, Policy, Product, TaxCategory, TaxRate
from invoicing.selectors import insurer_share, owner_share
from invoicing.services import claim_create, claim_submit, invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import AnimalFactory
from vetpms.money import quantize_money

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("500"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
percents = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
line_inputs = st.tuples(quantities, prices, rates, percents)


@given(line_inputs)
def test_a_line_is_consistent_and_rounded(values):
    quantity, price, rate, discount = values
    amounts = calc.line_amounts(quantity=quantity, unit_price=price, tax_rate=rate, discount_percent=discount)
    for value in (amounts.net, amounts.tax, amounts.gross, amounts.discount):
        assert value == quantize_money(value)
    assert amounts.gross == amounts.net + amounts.tax
    assert amounts.net == quantize_money(quantity * price) - amounts.discount
    assert amounts.net >= 0 and amounts.tax >= 0
    negative = calc.line_amounts(quantity=-quantity, unit_price=price, tax_rate=rate, discount_percent=discount)
    assert (negative.net, negative.tax, negative.gross) == (-amounts.net, -amounts.tax, -amounts.gross)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line_inputs, min_size=1, max_size=6), st.decimals(min_value=0, max_value=300, places=2), percents)
def test_stored_totals_equal_the_sum_of_lines_and_shares_add_up(manager, lines, excess, copay):
    pet = AnimalFactory()
    draft = invoice_draft_for(client=pet.owner, by=manager)
    in_memory = []
    for quantity, price, rate, discount in lines:
        category, _ = TaxCategory.objects.get_or_create(code=f"r{rate}", defaults={"name": f"{rate} %"})
        TaxRate.objects.get_or_create(category=category, valid_from="2000-01-01", defaults={"rate": rate})
        product = Product.objects.create(
            code=f"P{Product.objects.count()}", name="Item", category="other", unit_price=price, tax_category=category
        )
        line = invoice_add_line(
            invoice=draft, by=manager, product=product, quantity=quantity, discount_percent=discount, animal=pet
        )
        in_memory.append(line)
    invoice = invoice_finalise(invoice=draft, by=manager)
    stored = Invoice.objects.get(pk=invoice.pk)
    memory_totals = calc.document_totals(in_memory)
    db_totals = calc.document_totals(stored.lines.all())
    assert memory_totals == db_totals
    assert (stored.net_total, stored.tax_total, stored.gross_total) == (db_totals.net, db_totals.tax, db_totals.gross)
    for line, again in zip(in_memory, stored.lines.order_by("position"), strict=True):
        assert (line.net, line.tax, line.gross) == (again.net, again.tax, again.gross)

    payor = Payor.objects.create(name=f"Payor {invoice.pk}")
    policy = Policy.objects.create(
        animal=pet,
        payor=payor,
        policy_number=str(invoice.pk),
        starts_on="2000-01-01",
        ends_on="2999-12-31",
        excess=excess,
        copay_percent=copay,
    )
    claim = claim_create(invoice=invoice, policy=policy, lines=list(stored.lines.all()), by=manager)
    claim_submit(claim=claim, by=manager)
    assert owner_share(stored) + insurer_share(stored) == stored.gross_total
    assert 0 <= insurer_share(stored) <= stored.gross_total
