"""Invoicing pages: who may open what (per role), the draft editor with htmx search and live totals, charging an
appointment, finalising, payments with allocation and credit, credit notes, void, claims, the account and
statement, the list's filters and query count, the catalogue and tax rates. Bad input never gives a 500."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentType, WorkingHours
from appointments.services import appointment_book, appointment_transition
from clients.models import Client
from invoicing.models import Claim, Invoice, InvoiceLine, Payment, Payor, Policy, Product, TaxRate
from invoicing.selectors import client_account, client_balance, client_outstanding, client_statement
from invoicing.services import (
    claim_create,
    claim_submit,
    credit_note_issue,
    invoice_add_line,
    invoice_draft_for,
    invoice_finalise,
    invoice_void,
    payment_record,
    payment_void,
    policy_save,
)
from tests.factories import AnimalFactory
from tests.invoicing.conftest import new_invoice
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db
D = Decimal
ROLES = ["receptionist", "vet", "manager", "nobody"]


@pytest.fixture
def draft(owner_pet, consult_fee, receptionist):
    client, pet = owner_pet
    invoice = invoice_draft_for(client=client, by=receptionist)
    invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    return invoice


@pytest.fixture
def payor(manager):
    return Payor.objects.create(name="PetCover", claims_email="claims@petcover.example")


@pytest.fixture
def policy(owner_pet, payor, manager):
    _client, pet = owner_pet
    today = timezone.localdate()
    return policy_save(
        by=manager,
        data={
            "animal": pet,
            "payor": payor,
            "policy_number": "PC-1",
            "starts_on": today - dt.timedelta(days=30),
            "ends_on": today + dt.timedelta(days=300),
            "excess": D("10.00"),
            "copay_percent": D("0"),
        },
    )


def body(response) -> str:
    return response.content.decode()


# --- Who may open what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)])
def test_invoice_pages_need_view_invoice(users, login, issued, draft, role, status):
    http = login(users[role])
    for url in [
        reverse("invoicing:list"),
        reverse("invoicing:detail", args=[draft.pk]),
        reverse("invoicing:detail", args=[issued.pk]),
    ]:
        assert http.get(url).status_code == status, url


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_account_and_payment_pages_are_front_desk_money(users, login, issued, role, status):
    http = login(users[role])
    for url in [
        reverse("invoicing:account", args=[issued.client_id]),
        reverse("invoicing:payment_new", args=[issued.client_id]),
    ]:
        assert http.get(url).status_code == status, url


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_credit_notes_refunds_catalogue_edits_and_payors_are_for_managers(
    users, login, issued, consult_fee, payor, role, status
):
    http = login(users[role])
    for url in [
        reverse("invoicing:credit", args=[issued.pk]),
        reverse("invoicing:refund_new", args=[issued.client_id]),
        reverse("invoicing:product_create"),
        reverse("invoicing:product_update", args=[consult_fee.pk]),
        reverse("invoicing:payor_create"),
        reverse("invoicing:payor_update", args=[payor.pk]),
    ]:
        assert http.get(url).status_code == status, url


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)])
def test_catalogue_tax_rates_and_payors_can_be_read_by_staff(users, login, payor, role, status):
    http = login(users[role])
    for url in [
        reverse("invoicing:product_list"),
        reverse("invoicing:tax_rates"),
        reverse("invoicing:payor_list"),
        reverse("invoicing:payor_detail", args=[payor.pk]),
    ]:
        assert http.get(url).status_code == status, url


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_policies_and_claims_need_their_permissions(users, login, issued, policy, role, status):
    http = login(users[role])
    _client, pet = issued.client, issued.lines.first().animal
    assert http.get(reverse("invoicing:policy_create", args=[pet.pk])).status_code == status
    assert http.get(reverse("invoicing:policy_update", args=[policy.pk])).status_code == status
    assert http.get(reverse("invoicing:claim_new", args=[issued.pk])).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, issued, draft):
    for url in [
        reverse("invoicing:list"),
        reverse("invoicing:detail", args=[draft.pk]),
        reverse("invoicing:pdf", args=[issued.pk]),
        reverse("invoicing:account", args=[issued.client_id]),
        reverse("invoicing:payor_list"),
        reverse("invoicing:product_list"),
        reverse("invoicing:tax_rates"),
    ]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND and response.url.startswith(reverse("login")), url


def test_navigation_shows_invoicing_by_role(users, login):
    for role, invoices, catalogue in [
        ("receptionist", True, False),
        ("vet", True, False),
        ("manager", True, True),
        ("nobody", False, False),
    ]:
        page = body(login(users[role]).get(reverse("home")))
        nav = page[page.index("<header") : page.index("</header>")] if "<header" in page else ""
        assert (reverse("invoicing:list") in nav) is invoices, role
        assert (reverse("invoicing:product_list") in nav) is catalogue, role


# --- The draft editor -----------------------------------------------------------------------------------------


def test_editor_shows_lines_totals_and_finalise_only_to_those_who_may(as_receptionist, as_vet, draft):
    page = body(as_receptionist.get(reverse("invoicing:detail", args=[draft.pk])))
    assert "Consultation" in page and "£54.00" in page  # 45.00 + 20 % tax
    assert reverse("invoicing:finalise", args=[draft.pk]) in page
    assert reverse("invoicing:finalise", args=[draft.pk]) not in body(
        as_vet.get(reverse("invoicing:detail", args=[draft.pk]))
    )


def test_product_search_returns_results_as_you_type(as_vet, draft, rabies, consult_fee):
    response = as_vet.get(reverse("invoicing:product_search", args=[draft.pk]), {"q": "rab"}, HTTP_HX_REQUEST="true")
    page = body(response)
    assert "Rabies vaccine" in page and "Consultation" not in page
    assert f"{reverse('invoicing:line_new', args=[draft.pk])}?product={rabies.pk}" in page
    assert "matches" in body(as_vet.get(reverse("invoicing:product_search", args=[draft.pk]), {"q": "zzz"}))


def test_picking_a_product_opens_its_line_form_with_the_catalogue_price_locked(as_vet, as_manager, draft, rabies):
    url = reverse("invoicing:line_new", args=[draft.pk]) + f"?product={rabies.pk}"
    form = body(as_vet.get(url, HTTP_HX_REQUEST="true"))
    assert 'value="38.50"' in form and "disabled" in form[form.index('name="unit_price"') - 200 :][:400]
    form = body(as_manager.get(url, HTTP_HX_REQUEST="true"))
    price_input = form[form.index('name="unit_price"') - 200 :][:400]
    assert "disabled" not in price_input
    # Without htmx the editor itself shows the form.
    response = as_vet.get(url)
    assert response.status_code == HTTPStatus.FOUND and f"product={rabies.pk}" in response.url


def _line_post(product, pet, **extra):
    data = {
        "product": product.pk,
        "description": "",
        "quantity": "1",
        "animal": pet.pk,
        "vet": "",
        "unit_price": str(product.unit_price),
        "discount_percent": "0",
        "discount_amount": "0",
        "service_date": timezone.localdate().isoformat(),
    }
    data.update(extra)
    return data


def test_adding_a_line_by_htmx_rerenders_the_lines_and_totals(as_vet, draft, rabies, owner_pet):
    _client, pet = owner_pet
    response = as_vet.post(
        reverse("invoicing:line_add", args=[draft.pk]), _line_post(rabies, pet, quantity="2"), HTTP_HX_REQUEST="true"
    )
    page = body(response)
    assert response.status_code == 200
    assert 'id="invoice-lines" class="card mb-3" hx-swap-oob="true"' in page
    assert "Added 2 × Rabies vaccine" in page  # noqa: RUF001
    draft.refresh_from_db()
    assert draft.gross_total == D("54.00") + D("92.40")  # 2 x 38.50 = 77.00 + 15.40 tax
    assert "£146.40" in page


def test_a_receptionist_cannot_change_the_price_the_posted_price_is_ignored(as_receptionist, draft, rabies, owner_pet):
    _client, pet = owner_pet
    as_receptionist.post(reverse("invoicing:line_add", args=[draft.pk]), _line_post(rabies, pet, unit_price="1.00"))
    line = InvoiceLine.objects.get(invoice=draft, product=rabies)
    assert line.unit_price == D("38.50") and not line.price_overridden


def test_a_manager_may_override_the_price(as_manager, draft, rabies, owner_pet):
    _client, pet = owner_pet
    as_manager.post(reverse("invoicing:line_add", args=[draft.pk]), _line_post(rabies, pet, unit_price="30.00"))
    line = InvoiceLine.objects.get(invoice=draft, product=rabies)
    assert line.unit_price == D("30.00") and line.price_overridden


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "-1", "more than zero"),
        ("quantity", "0", "more than zero"),
        ("quantity", "1.2345", "3 decimal places"),
        ("quantity", "lots", "Enter a number"),
        ("unit_price", "12.345", "2 decimal places"),
        ("discount_percent", "150", "between 0 and 100"),
        ("discount_amount", "500", "more than the line"),
    ],
)
def test_bad_line_input_is_a_field_error_and_adds_nothing(as_manager, draft, rabies, owner_pet, field, value, message):
    _client, pet = owner_pet
    response = as_manager.post(
        reverse("invoicing:line_add", args=[draft.pk]),
        _line_post(rabies, pet, **{field: value}),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert message in body(response)
    assert not InvoiceLine.objects.filter(invoice=draft, product=rabies).exists()


def test_another_clients_animal_is_refused(as_vet, draft, rabies):
    stranger = AnimalFactory(name="Stray")
    response = as_vet.post(reverse("invoicing:line_add", args=[draft.pk]), _line_post(rabies, stranger))
    assert response.status_code == 200
    assert not InvoiceLine.objects.filter(invoice=draft, product=rabies).exists()


def test_editing_and_removing_lines(as_vet, draft):
    line = draft.lines.get()
    url = reverse("invoicing:line_edit", args=[draft.pk, line.pk])
    assert as_vet.get(url).status_code == 200
    data = {
        "description": "Consultation, long",
        "quantity": "2",
        "animal": line.animal_id,
        "vet": "",
        "discount_percent": "0",
        "discount_amount": "0",
        "service_date": line.service_date.isoformat(),
    }
    assert as_vet.post(url, data).status_code == HTTPStatus.FOUND
    line.refresh_from_db()
    assert (line.description, line.quantity, line.net) == ("Consultation, long", D(2), D("90.00"))
    response = as_vet.post(reverse("invoicing:line_remove", args=[draft.pk, line.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "No lines yet." in body(response) and "£0.00" in body(response)
    assert not draft.lines.exists()


def test_posting_to_a_draft_only_page_of_a_finalised_invoice_changes_nothing(as_manager, issued, rabies, owner_pet):
    _client, pet = owner_pet
    line = issued.lines.first()
    before = list(issued.lines.values_list("pk", "quantity", "net"))
    for url, data in [
        (reverse("invoicing:line_add", args=[issued.pk]), _line_post(rabies, pet)),
        (reverse("invoicing:line_edit", args=[issued.pk, line.pk]), {"quantity": "5"}),
        (reverse("invoicing:line_remove", args=[issued.pk, line.pk]), {}),
        (reverse("invoicing:finalise", args=[issued.pk]), {}),
        (reverse("invoicing:draft_delete", args=[issued.pk]), {}),
    ]:
        response = as_manager.post(url, data, follow=True)
        assert response.status_code == 200, url
        assert "is issued and cannot be changed" in body(response), url
    assert list(issued.lines.values_list("pk", "quantity", "net")) == before


def test_finalising_numbers_the_invoice_and_shows_it_read_only(as_receptionist, draft):
    response = as_receptionist.post(reverse("invoicing:finalise", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.FINALISED and draft.number == 1
    page = body(response)
    assert f"Invoice {draft.reference} issued for £54.00" in page
    assert reverse("invoicing:line_add", args=[draft.pk]) not in page
    assert "Take payment" in page and "£54.00 outstanding" in page


def test_finalising_an_empty_invoice_says_why(as_receptionist, owner_pet, receptionist):
    client, _pet = owner_pet
    empty = invoice_draft_for(client=client, by=receptionist)
    response = as_receptionist.post(reverse("invoicing:finalise", args=[empty.pk]), follow=True)
    assert "An invoice without lines cannot be finalised." in body(response)
    empty.refresh_from_db()
    assert empty.is_draft


def test_a_vet_cannot_finalise(as_vet, draft):
    assert as_vet.post(reverse("invoicing:finalise", args=[draft.pk])).status_code == HTTPStatus.FORBIDDEN
    draft.refresh_from_db()
    assert draft.is_draft


def test_deleting_a_draft_and_opening_a_new_one(as_receptionist, draft):
    client = draft.client
    assert as_receptionist.post(reverse("invoicing:draft_delete", args=[draft.pk])).status_code == HTTPStatus.FOUND
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    response = as_receptionist.post(reverse("invoicing:draft_open", args=[client.pk]))
    new = Invoice.objects.get(client=client, status="draft")
    assert response.url == reverse("invoicing:detail", args=[new.pk])


def test_unknown_invoice_is_404(as_receptionist):
    assert as_receptionist.get(reverse("invoicing:detail", args=[999999])).status_code == 404


# --- Charging an appointment ----------------------------------------------------------------------------------


@pytest.fixture
def consulting(vet_user, receptionist, owner_pet):
    _client, pet = owner_pet
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)]
    )
    kind = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3366cc")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=(7 - today.weekday()) or 7)
    appointment = appointment_book(
        animal=pet, vet=vet, type=kind, start=local_datetime(monday, dt.time(10)), by=receptionist
    )
    appointment_transition(appointment=appointment, to="arrived", by=receptionist)
    return appointment_transition(appointment=appointment, to="in_consultation", by=vet_user)


def test_charge_button_on_the_appointment_page_and_day_list(as_vet, consulting):
    charge_url = reverse("invoicing:charge", args=[consulting.pk])
    assert charge_url in body(as_vet.get(reverse("appointments:detail", args=[consulting.pk])))
    day = consulting.start.astimezone(timezone.get_current_timezone()).date()
    day_list = as_vet.get(reverse("appointments:day_list"), {"vet": consulting.vet_id, "date": day.isoformat()})
    assert charge_url in body(day_list)


def test_charging_an_appointment_puts_lines_on_the_draft(as_vet, consulting, consult_fee, rabies):
    url = reverse("invoicing:charge", args=[consulting.pk])
    page = body(as_vet.get(url))
    assert "Rabies vaccine" in page and "Consultation" in page
    response = as_vet.post(url, {f"qty_{consult_fee.pk}": "1", f"qty_{rabies.pk}": "1"})
    invoice = Invoice.objects.get(client=consulting.animal.owner, status="draft")
    assert response.url == reverse("invoicing:detail", args=[invoice.pk])
    lines = list(invoice.lines.order_by("position"))
    assert [ln.product for ln in lines] == [consult_fee, rabies]
    assert all(
        ln.animal == consulting.animal and ln.vet == consulting.vet and ln.appointment == consulting for ln in lines
    )


@pytest.mark.parametrize(("value", "message"), [("", "at least one"), ("-2", "more than zero"), ("x", "number")])
def test_charging_with_bad_quantities_is_refused(as_vet, consulting, consult_fee, value, message):
    response = as_vet.post(reverse("invoicing:charge", args=[consulting.pk]), {f"qty_{consult_fee.pk}": value})
    assert response.status_code == 200 and message in body(response)
    assert not InvoiceLine.objects.exists()


def test_a_cancelled_appointment_cannot_be_charged(as_vet, vet_user, owner_pet, receptionist, consult_fee):
    _client, pet = owner_pet
    vet = vet_user.vet
    WorkingHours.objects.create(vet=vet, weekday=0, start_time=dt.time(8), end_time=dt.time(18))
    kind = AppointmentType.objects.create(name="Check", default_minutes=15, colour="#3366cc")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=(7 - today.weekday()) or 7)
    appointment = appointment_book(
        animal=pet, vet=vet, type=kind, start=local_datetime(monday, dt.time(9)), by=receptionist
    )
    appointment_transition(appointment=appointment, to="cancelled", by=receptionist, note="owner rang")
    response = as_vet.post(reverse("invoicing:charge", args=[appointment.pk]), {f"qty_{consult_fee.pk}": "1"})
    assert "cannot be charged" in body(response)
    assert not InvoiceLine.objects.exists()


# --- The issued invoice: PDF, email, payments, credit notes, void ---------------------------------------------


def test_pdf_download_is_an_attachment(as_vet, issued):
    response = as_vet.get(reverse("invoicing:pdf", args=[issued.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{issued.reference}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_a_draft_has_no_pdf(as_vet, draft):
    response = as_vet.get(reverse("invoicing:pdf", args=[draft.pk]), follow=True)
    assert "finalise it first" in body(response)


def test_emailing_the_invoice_sends_the_pdf(as_receptionist, issued, mailoutbox):
    response = as_receptionist.post(reverse("invoicing:email", args=[issued.pk]), follow=True)
    assert f"emailed to {issued.client.email}" in body(response)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [issued.client.email]
    assert mailoutbox[0].attachments[0][0].endswith(".pdf")


def test_emailing_needs_an_address_and_the_permission(as_receptionist, as_vet, issued, mailoutbox):
    assert as_vet.post(reverse("invoicing:email", args=[issued.pk])).status_code == HTTPStatus.FORBIDDEN
    type(issued.client).objects.filter(pk=issued.client_id).update(email="")
    response = as_receptionist.post(reverse("invoicing:email", args=[issued.pk]), follow=True)
    assert "has no email address" in body(response) and not mailoutbox


def test_taking_a_payment_for_an_invoice_defaults_to_its_outstanding(as_receptionist, issued):
    url = reverse("invoicing:payment_new", args=[issued.client_id]) + f"?invoice={issued.pk}"
    page = body(as_receptionist.get(url))
    assert 'name="amount" value="100.20"' in page and f'name="alloc_{issued.pk}" value="100.20"' in page
    response = as_receptionist.post(
        url,
        {
            "amount": "100.20",
            "method": "card",
            "received_on": timezone.localdate().isoformat(),
            "reference": "",
            f"alloc_{issued.pk}": "100.20",
        },
        follow=True,
    )
    page = body(response)
    assert "Payment of £100.20 (card) recorded." in page and "left as credit" not in page
    assert "Paid" in page and 'data-testid="outstanding">£0.00' in page


def test_an_overpayment_is_left_as_credit(as_receptionist, issued):
    response = as_receptionist.post(
        reverse("invoicing:payment_new", args=[issued.client_id]),
        {"amount": "150.00", "method": "cash", "received_on": timezone.localdate().isoformat()},
        follow=True,
    )
    assert "£49.80 left as credit" in body(response)
    assert "In credit £49.80" in body(response)


@pytest.mark.parametrize(
    ("amount", "alloc", "message"),
    [
        ("200.00", "150.00", "has only 100.20 outstanding"),
        ("50.00", "60.00", "more than the payment"),
        ("-5", "", "more than zero"),
        ("10.005", "", "2 decimal places"),
    ],
)
def test_bad_payments_are_refused_and_record_nothing(as_receptionist, issued, amount, alloc, message):
    data = {"amount": amount, "method": "card", "received_on": timezone.localdate().isoformat()}
    if alloc:
        data[f"alloc_{issued.pk}"] = alloc
    response = as_receptionist.post(reverse("invoicing:payment_new", args=[issued.client_id]), data)
    assert response.status_code == 200 and message in body(response)
    assert not Payment.objects.exists()


def test_paying_a_void_invoice_is_refused(as_receptionist, issued, manager):
    invoice_void(invoice=issued, by=manager, reason="Entered twice")
    url = reverse("invoicing:payment_new", args=[issued.client_id])
    assert "it cannot take a payment" in body(as_receptionist.get(url + f"?invoice={issued.pk}"))
    response = as_receptionist.post(
        url,
        {
            "amount": "10.00",
            "method": "card",
            "received_on": timezone.localdate().isoformat(),
            f"alloc_{issued.pk}": "10.00",
        },
    )
    assert "is void; it cannot take a payment" in body(response)
    assert not Payment.objects.exists()


def test_partial_credit_note_by_a_manager(as_manager, issued):
    lines = list(issued.lines.order_by("position"))
    url = reverse("invoicing:credit", args=[issued.pk])
    assert "Left to credit" in body(as_manager.get(url))
    response = as_manager.post(url, {f"qty_{lines[1].pk}": "1", "reason": "Vaccine not given"}, follow=True)
    note = Invoice.objects.get(kind="credit_note")
    assert note.gross_total == D("-46.20")
    page = body(response)
    assert f"Credit note {note.reference} issued for −£46.20" in page and "£54.00 outstanding" in page  # noqa: RUF001


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"qty_LINE": "2", "reason": "Too much"}, "of “Consultation” is left to credit"),
        ({"qty_LINE": "1"}, "This field is required"),
        ({"reason": "Nothing chosen"}, "at least one line"),
        ({"qty_LINE": "-1", "reason": "Negative"}, "more than zero"),
    ],
)
def test_a_credit_larger_than_the_invoice_or_without_reason_is_refused(as_manager, issued, data, message):
    line = issued.lines.order_by("position").first()
    data = {k.replace("LINE", str(line.pk)): v for k, v in data.items()}
    response = as_manager.post(reverse("invoicing:credit", args=[issued.pk]), data)
    assert response.status_code == 200 and message in body(response)
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_crediting_everything_then_again_is_refused(as_manager, issued):
    url = reverse("invoicing:credit", args=[issued.pk])
    as_manager.post(url, {"reason": "Wrong client", "everything": "1"})
    assert Invoice.objects.get(kind="credit_note").gross_total == D("-100.20")
    response = as_manager.post(url, {"reason": "Again", "everything": "1"})
    assert "already been credited" in body(response)
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_void_needs_a_reason_and_refuses_a_paid_invoice(as_manager, as_receptionist, issued, receptionist):
    url = reverse("invoicing:void", args=[issued.pk])
    assert as_receptionist.post(url, {"reason": "x"}).status_code == HTTPStatus.FORBIDDEN
    assert "Say why" in body(as_manager.post(url, {"reason": ""}, follow=True))
    payment_record(client=issued.client, amount=D("10.00"), method="cash", by=receptionist)
    assert "has payments allocated" in body(as_manager.post(url, {"reason": "Oops"}, follow=True))
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.FINALISED


def test_void_issues_a_full_credit_note(as_manager, issued):
    response = as_manager.post(reverse("invoicing:void", args=[issued.pk]), {"reason": "Entered twice"}, follow=True)
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.VOID
    assert "is void" in body(response) and "Credit notes" in body(response)


# --- The client's account -------------------------------------------------------------------------------------


def test_client_page_shows_the_account_summary(as_receptionist, issued):
    page = body(as_receptionist.get(reverse("clients:detail", args=[issued.client_id])))
    assert "£100.20 owed" in page and "1 invoice, £100.20" in page
    assert reverse("invoicing:account", args=[issued.client_id]) in page


def test_account_page_balance_outstanding_and_statement(as_receptionist, issued, receptionist):
    payment_record(client=issued.client, amount=D("20.00"), method="cash", by=receptionist, reference="till 4")
    url = reverse("invoicing:account", args=[issued.client_id])
    page = body(as_receptionist.get(url))
    assert 'data-testid="balance">£80.20' in page
    assert issued.reference in page and "till 4" in page and "Opening balance" in page and "Closing balance" in page
    # A period before anything happened shows an empty statement with a zero balance.
    old = body(as_receptionist.get(url, {"start": "2001-01-01", "end": "2001-12-31"}))
    assert "1 Jan 2001" in old
    assert "ends before it starts" in body(as_receptionist.get(url, {"start": "2020-02-01", "end": "2020-01-01"}))
    assert as_receptionist.get(url, {"start": "garbage", "end": "2020-01-01"}).status_code == 200


def _account_history(n, client, pet, product, by, manager):
    """``n`` invoices over the last 90 days of payments: every third paid in full, every third part-paid, every
    third left open; a payment on account, a voided payment, a credit note and a draft."""
    invoices = [new_invoice(client, pet, product, by) for _ in range(n)]
    for i, invoice in enumerate(invoices):
        day = timezone.localdate() - dt.timedelta(days=(90 * i) // max(n, 1))
        if i % 3 == 0:
            payment_record(
                client=client,
                amount=invoice.gross_total,
                method="card",
                by=by,
                received_on=day,
                allocate_to=[(invoice, invoice.gross_total)],
            )
        elif i % 3 == 1:
            payment_record(
                client=client,
                amount=D("10.00"),
                method="cash",
                by=by,
                received_on=day,
                reference=f"part {i}",
                allocate_to=[(invoice, D("10.00"))],
            )
    payment_record(client=client, amount=D("5.00"), method="cash", by=by, allocate_to=[])
    mistake = payment_record(client=client, amount=D("7.00"), method="cash", by=by, allocate_to=[])
    payment_void(payment=mistake, by=manager, reason="wrong client")
    credit_note_issue(invoice=invoices[0], by=manager, reason="goodwill")
    draft = invoice_draft_for(client=client, by=by)
    invoice_add_line(invoice=draft, by=by, product=product, quantity=D(2), animal=pet)


@pytest.mark.parametrize("n", [2, 14])
def test_client_account_agrees_with_the_separate_reads(owner_pet, consult_fee, receptionist, manager, n):
    """The account page's combined reads give what the balance, the outstanding invoices (settled one by one, not
    from the list of open invoices), the statement and the latest payments give on their own."""
    client, pet = owner_pet
    _account_history(n, client, pet, consult_fee, receptionist, manager)
    start, end = timezone.localdate() - dt.timedelta(days=60), timezone.localdate()
    account = client_account(client_pk=client.pk, start=start, end=end)
    assert account.balance == client_balance(client=client)
    every_invoice = Invoice.objects.filter(client=client, kind="invoice", status="finalised").order_by(
        "issue_date", "number"
    )
    owed = [(inv, client_outstanding(inv)) for inv in every_invoice if client_outstanding(inv) > 0]
    assert account.outstanding == owed and len(owed) >= (n + 1) // 3
    assert account.drafts == list(Invoice.objects.filter(client=client, status="draft"))
    assert account.payments == list(Payment.objects.filter(client=client)[:10])
    assert any(p.is_void for p in account.payments)
    alone = client_statement(client=client, start=start, end=end)
    assert account.statement.opening == alone.opening and account.statement.closing == alone.closing
    assert [(e.day, e.kind, e.reference, e.amount, e.balance) for e in account.statement.entries] == [
        (e.day, e.kind, e.reference, e.amount, e.balance) for e in alone.entries
    ]
    with pytest.raises(Client.DoesNotExist):
        client_account(client_pk=client.pk + 1000, start=start, end=end)


def test_account_page_query_count_does_not_grow_with_the_account(
    as_receptionist, owner_pet, consult_fee, receptionist, manager
):
    client, pet = owner_pet
    url = reverse("invoicing:account", args=[client.pk])
    _account_history(2, client, pet, consult_fee, receptionist, manager)
    as_receptionist.get(url)
    with CaptureQueriesContext(connection) as few:
        assert as_receptionist.get(url).status_code == 200
    _account_history(15, client, pet, consult_fee, receptionist, manager)
    with CaptureQueriesContext(connection) as many:
        page = body(as_receptionist.get(url, {"start": "2001-01-01", "end": timezone.localdate().isoformat()}))
    assert "Recent payments" in page and page.count(">Pay</a>") >= 5 and "Void" in page
    assert len(_page_queries(many)) == len(_page_queries(few))
    # The session save (once a minute) adds at most one UPDATE: the whole request stays within 10 queries.
    assert len(_page_queries(many)) + 1 <= 10


def test_account_page_of_no_client_is_404(as_receptionist):
    assert as_receptionist.get(reverse("invoicing:account", args=[999999])).status_code == 404


def test_statement_pdf(as_receptionist, issued):
    today = timezone.localdate().isoformat()
    response = as_receptionist.get(
        reverse("invoicing:statement_pdf", args=[issued.client_id]), {"start": today, "end": today}
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


def test_apply_credit_and_refund(as_manager, issued, receptionist, owner_pet, consult_fee):
    client, pet = owner_pet
    payment_record(client=client, amount=D("150.00"), method="cash", by=receptionist)  # 49.80 credit
    second = invoice_draft_for(client=client, by=receptionist)
    invoice_add_line(invoice=second, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    invoice_finalise(invoice=second, by=receptionist)  # 54.00 outstanding
    response = as_manager.post(reverse("invoicing:apply_credit", args=[client.pk]), follow=True)
    assert "£49.80 of credit applied" in body(response)
    payment_record(client=client, amount=D("10.00"), method="cash", by=receptionist)  # 4.20 owed; 5.80 credit
    url = reverse("invoicing:refund_new", args=[client.pk])
    too_much = as_manager.post(url, {"amount": "50.00", "method": "cash", "received_on": timezone.localdate()})
    assert "cannot be refunded" in body(too_much)
    response = as_manager.post(
        url, {"amount": "5.80", "method": "cash", "received_on": timezone.localdate().isoformat()}, follow=True
    )
    assert "Refund of £5.80" in body(response)
    assert Payment.objects.filter(kind="refund").count() == 1


# --- Invoice list ---------------------------------------------------------------------------------------------


def _many_invoices(n, client, pet, product, by):
    for _ in range(n):
        invoice = invoice_draft_for(client=client, by=by)
        invoice_add_line(invoice=invoice, by=by, product=product, quantity=D(1), animal=pet, vet=by_vet(by))
        invoice_finalise(invoice=invoice, by=by)


def by_vet(user):
    return getattr(user, "vet", None)


def test_invoice_list_query_count_does_not_grow_with_the_page(as_receptionist, owner_pet, consult_fee, receptionist):
    client, pet = owner_pet
    _many_invoices(3, client, pet, consult_fee, receptionist)
    with CaptureQueriesContext(connection) as few:
        assert as_receptionist.get(reverse("invoicing:list")).status_code == 200
    _many_invoices(30, client, pet, consult_fee, receptionist)
    with CaptureQueriesContext(connection) as many:
        page = body(as_receptionist.get(reverse("invoicing:list"), {"per_page": "100"}))
    assert "33 documents" in page
    assert len(_page_queries(many)) == len(_page_queries(few))
    # The session save (every request) adds at most one UPDATE: the whole request stays within 10 queries.
    assert len(_page_queries(many)) + 1 <= 10


def test_invoice_list_cells_are_the_librarys_own(issued, owner_pet, consult_fee, receptionist, manager):
    """The invoice list's cells drawn by table_body's per-column drawers equal django-tables2's own, over a
    finalised, a part-paid, a draft, a credited and a void document."""
    from invoicing.tables import InvoiceTable, with_outstanding
    from tests.vetpms.test_tables import _cells_both_ways

    client, pet = owner_pet
    payment_record(client=client, amount=D("20.00"), method="cash", by=receptionist, allocate_to=[(issued, D("20"))])
    credit_note_issue(invoice=new_invoice(client, pet, consult_fee, receptionist), by=manager, reason="sorry")
    invoice_void(invoice=new_invoice(client, pet, consult_fee, receptionist), by=manager, reason="twice")
    draft = invoice_draft_for(client=client, by=receptionist)
    table = InvoiceTable(with_outstanding(Invoice.objects.select_related("client")))
    ours, theirs, fell_back = _cells_both_ways(table)
    assert ours == theirs and fell_back == 0 and len(ours) == 7 * Invoice.objects.count() >= 7 * 5
    assert draft.pk and any("£80.20" in cell for cell in ours)


def _page_queries(captured) -> list[str]:
    """The page's own queries: without the session save and the test transaction's SAVEPOINT / RELEASE."""
    skip = ("SAVEPOINT", "RELEASE SAVEPOINT", 'UPDATE "django_session"')
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(skip)]


def test_invoice_list_filters(as_receptionist, issued, draft, owner_pet, policy, manager, receptionist):
    other = AnimalFactory(name="Other", owner__last_name="Zebedee")
    assert "Zebedee" not in body(as_receptionist.get(reverse("invoicing:list"), {"client": "Ångström"}))
    url = reverse("invoicing:list")
    assert "1 document" in body(as_receptionist.get(url, {"status": "finalised"}))
    assert "1 document" in body(as_receptionist.get(url, {"status": "draft"}))
    assert "0 documents" in body(as_receptionist.get(url, {"kind": "credit_note"}))
    today = timezone.localdate().isoformat()
    assert "1 document" in body(as_receptionist.get(url, {"issued_after": today, "issued_before": today}))
    assert "0 documents" in body(as_receptionist.get(url, {"client": other.owner.last_name}))
    claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    assert "1 document" in body(as_receptionist.get(url, {"payor": policy.payor_id}))
    # Nonsense in the query string is ignored or shown as a filter error, never a 500.
    for junk in [
        {"status": "bogus"},
        {"issued_after": "notadate"},
        {"vet": "999999"},
        {"page": "x"},
        {"per_page": "7"},
        {"sort": "nonsense"},
    ]:
        assert as_receptionist.get(url, junk).status_code == 200, junk


# --- Payors, policies, claims ---------------------------------------------------------------------------------


def test_payor_create_edit_and_detail_with_open_claims(as_manager, issued, policy, receptionist):
    response = as_manager.post(
        reverse("invoicing:payor_create"), {"name": "Animal Friends", "is_active": "on", "claims_email": "bad"}
    )
    assert "Enter a valid email address" in body(response)
    response = as_manager.post(
        reverse("invoicing:payor_create"), {"name": "Animal Friends", "is_active": "on"}, follow=True
    )
    assert "Insurer Animal Friends saved." in body(response)
    duplicate = as_manager.post(reverse("invoicing:payor_create"), {"name": "Animal Friends", "is_active": "on"})
    assert "already exists" in body(duplicate)
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    claim_submit(claim=claim, by=receptionist)
    page = body(as_manager.get(reverse("invoicing:payor_detail", args=[policy.payor_id])))
    assert f"#{claim.pk}" in page and "Owed £90.20" in page  # 100.20 - 10.00 excess
    listing = body(as_manager.get(reverse("invoicing:payor_list")))
    assert "PetCover" in listing and "Animal Friends" in listing


def test_policies_on_the_animal_page_and_the_policy_form(as_receptionist, as_vet, owner_pet, payor):
    _client, pet = owner_pet
    url = reverse("invoicing:policy_create", args=[pet.pk])
    bad = as_receptionist.post(
        url,
        {
            "payor": payor.pk,
            "policy_number": "X1",
            "starts_on": "2026-05-01",
            "ends_on": "2026-01-01",
            "excess": "0",
            "copay_percent": "0",
        },
    )
    assert bad.status_code == 200 and not Policy.objects.exists()
    as_receptionist.post(
        url,
        {
            "payor": payor.pk,
            "policy_number": "X1",
            "starts_on": "2025-01-01",
            "ends_on": "2030-01-01",
            "excess": "50",
            "copay_percent": "10",
        },
    )
    policy = Policy.objects.get()
    page = body(as_receptionist.get(reverse("animals:detail", args=[pet.pk])))
    assert (
        "PetCover" in page and "Excess £50.00" in page and reverse("invoicing:policy_update", args=[policy.pk]) in page
    )
    vet_page = body(as_vet.get(reverse("animals:detail", args=[pet.pk])))
    assert "PetCover" in vet_page and reverse("invoicing:policy_update", args=[policy.pk]) not in vet_page


def test_animal_page_lists_its_charges(as_vet, issued):
    pet = issued.lines.first().animal
    page = body(as_vet.get(reverse("animals:detail", args=[pet.pk])))
    assert "Rabies vaccine" in page and issued.reference in page


def test_claim_flow_through_the_pages(as_receptionist, issued, policy):
    url = reverse("invoicing:claim_new", args=[issued.pk])
    assert "PetCover" in body(as_receptionist.get(url))
    lines = list(issued.lines.values_list("pk", flat=True))
    response = as_receptionist.post(url, {"policy": policy.pk, "lines": lines, "direct_settlement": "on"}, follow=True)
    claim = Claim.objects.get()
    assert "Draft claim for £90.20 created." in body(response)
    again = as_receptionist.post(url, {"policy": policy.pk, "lines": lines})
    assert "already in a live claim" in body(again)
    act = lambda action, **data: as_receptionist.post(  # noqa: E731
        reverse("invoicing:claim_action", args=[claim.pk, action]), data, follow=True
    )
    assert "Claim submitted" in body(act("submit"))
    assert "cannot accept more" in body(act("decide", accepted="500.00"))
    assert "partly accepted" in body(act("decide", accepted="80.00", reference="INS-9"))
    assert "owes 80.00" in body(act("settle", amount="99.00", received_on=timezone.localdate().isoformat()))
    assert "from PetCover recorded" in body(act("settle", amount="80.00", received_on=timezone.localdate().isoformat()))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED
    assert "A settled claim cannot do that." in body(act("submit"))
    assert as_receptionist.post(reverse("invoicing:claim_action", args=[claim.pk, "explode"])).status_code == 404
    pdf = as_receptionist.get(reverse("invoicing:claim_pdf", args=[claim.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = body(as_receptionist.get(reverse("invoicing:detail", args=[issued.pk])))
    assert "Insurer&#x27;s share" in page or "Insurer's share" in page


def test_a_claim_on_a_draft_or_an_uncovered_line_is_refused(as_receptionist, issued, draft, policy, manager):
    response = as_receptionist.get(reverse("invoicing:claim_new", args=[draft.pk]), follow=True)
    assert "Only a finalised invoice can be claimed" in body(response)
    Policy.objects.filter(pk=policy.pk).update(
        starts_on=timezone.localdate() + dt.timedelta(days=1), ends_on=timezone.localdate() + dt.timedelta(days=30)
    )
    lines = list(issued.lines.values_list("pk", flat=True))
    response = as_receptionist.post(
        reverse("invoicing:claim_new", args=[issued.pk]), {"policy": policy.pk, "lines": lines}
    )
    assert "does not cover" in body(response) and not Claim.objects.exists()


def test_withdrawing_a_draft_claim(as_receptionist, issued, policy, receptionist):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    response = as_receptionist.post(reverse("invoicing:claim_action", args=[claim.pk, "withdraw"]), follow=True)
    assert "withdrawn" in body(response) and not Claim.objects.exists()


# --- Catalogue and tax rates ----------------------------------------------------------------------------------


def test_catalogue_list_search_and_filter(as_vet, consult_fee, rabies, amoxicillin):
    url = reverse("invoicing:product_list")
    page = body(as_vet.get(url, {"q": "rab"}))
    assert "Rabies vaccine" in page and "Amoxicillin" not in page
    page = body(as_vet.get(url, {"category": "medication"}))
    assert "Amoxicillin" in page and "Rabies" not in page
    assert reverse("invoicing:product_update", args=[rabies.pk]) not in page  # vets read, managers edit


def test_managers_create_and_edit_products(as_manager, standard, rabies):
    data = {
        "code": "DENT",
        "name": "Dental scale",
        "category": "procedure",
        "unit": "each",
        "unit_price": "120.00",
        "tax_category": standard.pk,
        "is_active": "on",
    }
    response = as_manager.post(reverse("invoicing:product_create"), data, follow=True)
    assert "Dental scale saved." in body(response)
    bad = as_manager.post(reverse("invoicing:product_create"), data | {"unit_price": "1.999"})
    assert "2 decimal places" in body(bad)
    negative = as_manager.post(reverse("invoicing:product_create"), data | {"code": "N", "unit_price": "-1"})
    assert negative.status_code == 200 and not Product.objects.filter(code="N").exists()
    edit = data | {"code": rabies.code, "name": rabies.name, "unit_price": "40.00", "category": "vaccine"}
    as_manager.post(reverse("invoicing:product_update", args=[rabies.pk]), edit)
    rabies.refresh_from_db()
    assert rabies.unit_price == D("40.00")


def test_tax_rates_page_adds_a_rate_from_a_date(as_manager, as_receptionist, standard):
    url = reverse("invoicing:tax_rates")
    page = body(as_manager.get(url))
    assert "Standard" in page and "20 % today" in page
    later = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    prefix = f"c{standard.pk}"
    assert (
        as_receptionist.post(
            url, {"category": standard.pk, f"{prefix}-rate": "22", f"{prefix}-valid_from": later}
        ).status_code
        == HTTPStatus.FORBIDDEN
    )
    over = as_manager.post(url, {"category": standard.pk, f"{prefix}-rate": "120", f"{prefix}-valid_from": later})
    assert over.status_code == 200 and "100" in body(over)
    response = as_manager.post(
        url, {"category": standard.pk, f"{prefix}-rate": "22", f"{prefix}-valid_from": later}, follow=True
    )
    assert "Standard: 22 % from" in body(response)
    assert TaxRate.objects.filter(category=standard, rate=D("22")).exists()
    old = as_manager.post(url, {"category": standard.pk, f"{prefix}-rate": "5", f"{prefix}-valid_from": "2000-01-01"})
    assert "add rates in date order" in body(old)
    assert as_manager.post(url, {"category": "999999"}).status_code == 404


@pytest.mark.parametrize("role", ["receptionist", "vet_user"])
def test_a_role_that_cannot_change_prices_cannot_give_a_discount_on_the_page(
    request, login, draft, rabies, owner_pet, role
):
    _client, pet = owner_pet
    http = login(request.getfixturevalue(role))
    url = reverse("invoicing:line_new", args=[draft.pk]) + f"?product={rabies.pk}"
    page = body(http.get(url, HTTP_HX_REQUEST="true"))
    assert "Your role cannot give discounts." in page
    assert "disabled" in page[page.index('name="discount_percent"') - 200 :][:400]
    http.post(
        reverse("invoicing:line_add", args=[draft.pk]),
        _line_post(rabies, pet) | {"discount_percent": "100", "discount_amount": "38.50"},
    )
    line = InvoiceLine.objects.get(invoice=draft, product=rabies)
    assert (line.discount_percent, line.discount_amount, line.net) == (D("0"), D("0"), D("38.50"))
    edit = reverse("invoicing:line_edit", args=[draft.pk, line.pk])
    http.post(edit, {"quantity": "1", "discount_percent": "100", "service_date": line.service_date.isoformat()})
    line.refresh_from_db()
    assert line.net == D("38.50")


def test_a_manager_gives_a_discount_on_the_page(as_manager, draft, rabies, owner_pet):
    _client, pet = owner_pet
    as_manager.post(
        reverse("invoicing:line_add", args=[draft.pk]), _line_post(rabies, pet) | {"discount_percent": "100"}
    )
    assert InvoiceLine.objects.get(invoice=draft, product=rabies).net == D("0.00")
