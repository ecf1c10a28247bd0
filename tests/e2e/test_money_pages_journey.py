"""The money pages in a real browser: a manager ticks two vets on the revenue report (no Ctrl-click) and reads the
receivables "as of" a day; a receptionist opens their cash-up and the open claims from the menu."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from invoicing.services import payment_record
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role

PASSWORD = "correct-horse-battery"
D = Decimal


@pytest.fixture
def people(transactional_db):
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER, password=PASSWORD)
    desk = UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST,
                       password=PASSWORD)  # fmt: skip
    for name in ("Dr Maximiliana Featherstonehaugh-Cholmondeley", "Dr Amy Ng"):
        user = UserFactory(username=name[-5:].lower(), first_name=name.split()[1], last_name="V", role=Role.VET)
        user.vet.display_name = name
        user.vet.save()
    return manager, desk


def test_report_filters_are_ticked_and_receivables_are_as_of(page, log_in, screenshot, people):
    log_in("mona", PASSWORD)
    page.goto("/reports/revenue/")
    page.get_by_label("Dr Maximiliana Featherstonehaugh-Cholmondeley").check()
    page.get_by_label("Dr Amy Ng").check()
    page.get_by_label("Vaccine").check()
    screenshot("revenue-filters")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("load")
    expect(page.get_by_label("Dr Amy Ng")).to_be_checked()
    expect(page.get_by_label("Dr Maximiliana Featherstonehaugh-Cholmondeley")).to_be_checked()
    page.goto("/reports/receivables/")
    page.get_by_label("As of").fill("2025-03-31")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("report-period")).to_have_text("as of 31 Mar 2025")
    screenshot("receivables-as-of")


def test_the_receptionist_finds_the_cash_up_and_claims_in_the_menu(page, log_in, screenshot, people):
    _, desk = people
    pet = AnimalFactory(owner__organisation="Hill Top Farm", owner__last_name="")
    payment_record(client=pet.owner, amount=D("25.00"), method="cash", by=desk)
    page.set_viewport_size({"width": 768, "height": 900})
    log_in("rita", PASSWORD)
    page.goto("/")
    page.set_viewport_size({"width": 1280, "height": 900})  # the full menu
    page.get_by_role("button", name="Money").click()
    page.get_by_role("link", name="Cash-up", exact=True).first.click()
    page.set_viewport_size({"width": 768, "height": 900})
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("net-takings")).to_have_text("£25.00")
    expect(page.get_by_role("link", name="Hill Top Farm")).to_be_visible()
    screenshot("cash-up-768")
    page.goto("/claims/")
    expect(page.get_by_role("heading", name="Open insurance claims")).to_be_visible()
