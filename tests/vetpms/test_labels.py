"""What the screens say: an organisation's name in every list, English plurals, numbers never in exponent form,
no database id that reads like an invoice number on a draft, audit-trail times in the practice's zone and
format, and a home page that offers what exists."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.services import client_create
from invoicing.models import Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import AnimalFactory
from vetpms import audit
from vetpms.money import plain_number
from vetpms.text import plural

pytestmark = pytest.mark.django_db
D = Decimal
ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIRS = ["animals", "appointments", "clients", "invoicing", "reminders", "reports", "vetpms", "clinical"]


@pytest.fixture
def farm(receptionist):
    return client_create(by=receptionist, organisation="Hill Top Farm", confirm_new=True)


@pytest.fixture
def product(db):
    return Product.objects.create(
        code="LAB", name="Lab test", category="laboratory", unit_price=D("12.50"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )  # fmt: skip


def test_an_organisation_shows_its_name_in_every_client_column(farm, product, receptionist, as_manager):
    from reminders.models import Reminder, ReminderDelivery, ReminderType

    pet = AnimalFactory(owner=farm, name="Bessie")
    draft = invoice_draft_for(client=farm, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=product, quantity=D(1), animal=pet)
    invoice_finalise(invoice=draft, by=receptionist)
    kind = ReminderType.objects.create(
        name="Booster", interval=12, interval_unit="months", stages=[0], subject="{pets}", body_text="{items}"
    )
    Reminder.objects.create(animal=pet, type=kind, due_on=timezone.localdate())
    ReminderDelivery.objects.create(client=farm, channel="email", to_email="farm@example.com")
    for url in ("/invoices/", "/reminders/", "/reminders/log/", "/clients/"):
        html = as_manager.get(url).content.decode()
        assert "Hill Top Farm" in html, url


def test_plural_forms():
    assert plural("delivery", 43) == "deliveries" and plural("delivery", 1) == "delivery"
    assert plural("day", 2) == "days" and plural("category", 3) == "categories" and plural("box", 0) == "boxes"
    assert plural("reminder delivery") == "reminder deliveries" and plural("species", 5) == "species"


def test_no_template_appends_pluralize_to_a_variable_noun():
    """``{{ noun }}{{ n|pluralize }}`` makes "deliverys"; nouns that vary go through ``|plural:n``."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\{\{\s*[a-z_.]+\s*\}\}\{\{[^}]*\|pluralize", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_delivery_log_counts_in_english(as_manager, receptionist):
    from reminders.models import ReminderDelivery

    for n in range(2):
        owner = client_create(by=receptionist, last_name=f"Owner{n}", email=f"o{n}@example.com")
        ReminderDelivery.objects.create(client=owner, channel="email", to_email=owner.email)
    html = as_manager.get("/reminders/log/").content.decode()
    assert "2 deliveries" in html and "deliverys" not in html


def test_numbers_never_show_in_exponent_form(product, manager, as_manager):
    assert [plain_number(v) for v in (D("10.000"), D("12.50"), D("0.001"), D("100"), D("0"))] == [
        "10", "12.5", "0.001", "100", "0",
    ]  # fmt: skip
    pet = AnimalFactory()
    draft = invoice_draft_for(client=pet.owner, by=manager)
    line = invoice_add_line(
        invoice=draft, by=manager, product=product, quantity=D(10), discount_percent=D(10), animal=pet
    )
    form = as_manager.get(reverse("invoicing:line_edit", args=[draft.pk, line.pk])).content.decode()
    assert 'value="10"' in form and "E+" not in form
    zero = TaxCategory.objects.get(code="zero").pk
    added = as_manager.post(
        reverse("invoicing:tax_rates"),
        {"category": zero, f"c{zero}-rate": "10", f"c{zero}-valid_from": "2099-01-01"},
        follow=True,
    )
    page = added.content.decode()
    assert "10 % from" in page and "E+" not in page


def test_no_number_is_shown_in_exponent_form_anywhere_in_the_code():
    """``Decimal.normalize()`` prints 10 as "1E+1": it is used for display only inside vetpms.money.plain_number."""
    offenders = []
    for folder in PROJECT_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts or path.name == "money.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                # Allowed: counting decimal places (.as_tuple()) and formatting with "f" (never an exponent).
                if re.search(r"\.normalize\(\)(?!\.as_tuple|:f\}|, \"f\")", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_a_draft_shows_no_number_that_looks_like_an_invoice_number(product, receptionist, as_receptionist):
    pet = AnimalFactory()
    draft = invoice_draft_for(client=pet.owner, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=product, quantity=D(1), animal=pet)
    assert draft.reference == "Draft invoice"
    for url in ("/invoices/", f"/invoices/{draft.pk}/", f"/clients/{pet.owner.pk}/account/"):
        html = as_receptionist.get(url).content.decode()
        assert "Draft invoice" in html and f"#{draft.pk}" not in html, url


def test_audit_trail_times_are_in_the_practices_zone_and_format(as_manager, manager, receptionist):
    client = client_create(by=receptionist, last_name="Audited")
    summer = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in London (BST)
    audit.record(
        actor=manager, obj=client, action="update",
        changes={"consent_changed_at": [None, summer.isoformat()], "birthday": ["2020-02-29", None]},
    )  # fmt: skip
    html = as_manager.get(f"/audit/client/{client.pk}/").content.decode()
    assert "1 Jul 2026, 09:00" in html and "29 Feb 2020" in html
    assert "+00:00" not in html and "2026-07-01T" not in html


def test_the_home_page_offers_what_exists(as_receptionist):
    html = as_receptionist.get("/").content.decode()
    assert "once appointment books arrive" not in html
    cards = re.findall(r'<a class="card card-body[^"]*" href="([^"]+)"', html)
    assert {"/appointments/book/", "/appointments/day/", "/invoices/", "/payments/cash-up/", "/claims/"} <= set(cards)
    for url in cards:
        assert as_receptionist.get(url).status_code == 200, url
