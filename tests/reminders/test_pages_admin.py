"""The managers' reminder pages (types with the template preview, runs) and the delivery log and follow-up list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoicing.models import Product, TaxCategory
from reminders.models import ProductReminder, ReminderDelivery, ReminderRun, ReminderType
from tests.factories import AnimalFactory, ClientFactory, species
from tests.reminders.ui_data import make_delivery, make_reminder, make_type

pytestmark = pytest.mark.django_db


def type_data(**overrides) -> dict:
    return {
        "name": "FeLV",
        "interval": "12",
        "interval_unit": "months",
        "stages": "-14, 0, 30",
        "subject": "{pets}: FeLV due",
        "body_text": "Dear {owner_name},\n{items}\nCall {practice_phone}.",
        "body_html": "",
        "is_active": "on",
    } | overrides


def _product(code: str) -> Product:
    return Product.objects.create(
        code=code, name=f"Vaccine {code}", category="vaccine", unit_price="20.00",
        tax_category=TaxCategory.objects.get(code="standard"),
    )  # fmt: skip


# --- Reminder types -------------------------------------------------------------------------------------------------


def test_a_manager_creates_a_type_with_species_stages_and_products(as_manager, manager):
    vaccine = _product("FELV")
    response = as_manager.post(
        reverse("reminders:type_create"),
        type_data(species=[species("Cat").pk], products=[vaccine.pk], stages="30 -14 0"),
    )
    assert response.status_code == 302
    saved = ReminderType.objects.get(name="FeLV")
    assert saved.stages == [-14, 0, 30] and saved.is_active
    assert list(saved.species.all()) == [species("Cat")]
    assert ProductReminder.objects.get(product=vaccine).reminder_type == saved


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "Hello {owner_nmae}", "Unknown placeholder {owner_nmae}"),
        ("body_html", "<p>{pet}</p>", "Unknown placeholder {pet}"),
        ("interval", "0", "The interval must be at least 1"),
        ("stages", "-14, 0, 400", "at most 365 days"),
        ("stages", "-366", "at most 365 days"),
        ("stages", "soon", "is not a whole number of days"),
        ("stages", "0, 0", "only once"),
    ],
)
def test_bad_type_input_is_a_form_error_beside_its_field(as_manager, field, value, message):
    response = as_manager.post(reverse("reminders:type_create"), type_data(**{field: value}))
    assert response.status_code == 422
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert not ReminderType.objects.filter(name="FeLV").exists()


def test_editing_a_type_keeps_what_was_not_changed(as_manager):
    felv = make_type("FeLV", stages=[-7, 0])
    felv.species.set([species("Cat")])
    page = as_manager.get(reverse("reminders:type_update", args=[felv.pk])).content.decode()
    assert 'value="-7, 0"' in page and "{owner_first_name}" in page  # the placeholder list beside the editor
    response = as_manager.post(
        reverse("reminders:type_update", args=[felv.pk]), type_data(species=[species("Cat").pk], stages="-7, 0, 14")
    )
    assert response.status_code == 302
    felv.refresh_from_db()
    assert felv.stages == [-7, 0, 14] and list(felv.species.all()) == [species("Cat")]


def test_a_product_renewing_another_type_is_not_offered_and_refused(as_manager):
    vaccine = _product("RAB")
    rabies = make_type("Rabies vaccination")
    ProductReminder.objects.create(product=vaccine, reminder_type=rabies)
    page = as_manager.get(reverse("reminders:type_create"))
    assert vaccine not in page.context["form"].fields["products"].queryset
    response = as_manager.post(reverse("reminders:type_create"), type_data(products=[vaccine.pk]))
    assert response.status_code == 422 and "products" in response.context["form"].errors
    assert ProductReminder.objects.get(product=vaccine).reminder_type == rabies


def test_the_preview_renders_the_typed_templates_for_a_sample_owner(as_manager):
    response = as_manager.post(
        reverse("reminders:type_preview"),
        {"name": "FeLV", "subject": "{pets}: due", "body_text": "Hello {owner_first_name}", "body_html": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Rex and Bella &amp; Co: due" in body  # the sample pets, escaped
    assert "Hello Jane" in body
    assert 'sandbox=""' in body and "<script" not in body
    # The whole email sits escaped inside srcdoc: its quotes cannot end the attribute.
    srcdoc = body.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert srcdoc.startswith("&lt;!doctype html&gt;") and "&lt;/html&gt;" in srcdoc


def test_the_preview_names_an_unknown_placeholder(as_manager):
    response = as_manager.post(
        reverse("reminders:type_preview"), {"subject": "{pets}", "body_text": "Dear {ownr}", "body_html": ""}
    )
    body = response.content.decode()
    assert "Unknown placeholder {ownr}" in body and "Email text" in body


def test_the_types_list_shows_species_interval_stages_and_renewals(as_receptionist):
    felv = make_type("FeLV", stages=[-14, 0, 30], interval=6)
    felv.species.set([species("Cat")])
    ProductReminder.objects.create(product=_product("FELV"), reminder_type=felv)
    body = as_receptionist.get(reverse("reminders:type_list")).content.decode()
    assert "Cat" in body and "6 months" in body and "-14, 0, +30" in body and "Vaccine FELV" in body
    # Receptionists read the list but have no edit links.
    assert reverse("reminders:type_update", args=[felv.pk]) not in body


# --- The delivery log -----------------------------------------------------------------------------------------------


def test_the_log_shows_each_delivery_with_its_pets_and_items(as_receptionist):
    dhpp, rabies = make_type("DHPP booster"), make_type("Rabies vaccination")
    rex = AnimalFactory(name="Rex")
    bella = AnimalFactory(name="Bella", owner=rex.owner)
    make_delivery([make_reminder(dhpp, animal=rex), make_reminder(rabies, animal=bella)], subject="Rex and Bella")
    failed = make_delivery([make_reminder(dhpp, due=3)], status="failed", last_error="550 mailbox unavailable")
    body = as_receptionist.get(reverse("reminders:delivery_list")).content.decode()
    assert "<strong>Rex</strong>: DHPP booster" in body and "<strong>Bella</strong>: Rabies vaccination" in body
    assert "550 mailbox unavailable" in body and failed.client.display_name in body


def test_the_log_filters_by_status_channel_client_and_per_client_page(as_receptionist):
    dhpp = make_type("DHPP booster")
    # Owners' surnames chosen, not drawn at random: two random ones may be the same and match one filter.
    sent = make_delivery([make_reminder(dhpp, animal=AnimalFactory(owner__last_name="Sentwell"))])
    phone = make_delivery(
        [make_reminder(dhpp, animal=AnimalFactory(owner__last_name="Phoneby"))], status="no_channel", channel="none"
    )
    retry = make_delivery([make_reminder(dhpp, animal=AnimalFactory(owner__last_name="Retryman"))], status="retry")
    url = reverse("reminders:delivery_list")

    def rows(response):
        return [r.record for r in response.context["table"].page.object_list]

    assert rows(as_receptionist.get(url, {"status": "retry"})) == [retry]
    assert rows(as_receptionist.get(url, {"channel": "none"})) == [phone]
    assert rows(as_receptionist.get(url, {"client": sent.client.last_name})) == [sent]
    own = as_receptionist.get(reverse("reminders:client_deliveries", args=[phone.client_id]))
    assert rows(own) == [phone]


def test_the_log_costs_the_same_queries_for_3_or_30_deliveries(as_receptionist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dhpp = make_type("DHPP booster")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            as_receptionist.get(reverse("reminders:delivery_list"), {"per_page": 100})
        return len(ctx.captured_queries)

    for _ in range(3):
        make_delivery([make_reminder(dhpp), make_reminder(make_type(f"T{ReminderType.objects.count()}"))])
    as_receptionist.get(reverse("home"))
    small = count()
    for _ in range(27):
        make_delivery([make_reminder(dhpp)])
    assert count() == small


# --- The follow-up list ---------------------------------------------------------------------------------------------


@pytest.fixture
def to_phone(db):
    owner = ClientFactory(reminder_consent=False, first_name="Pat", last_name="Phoneme", mobile_phone="+447700900123")
    pet = AnimalFactory(name="Rex", owner=owner)
    reminder = make_reminder(make_type("DHPP booster"), due=-2, animal=pet)
    return make_delivery([reminder], status="no_channel", channel="none")


def test_the_follow_up_list_shows_owners_to_phone_with_pets_items_and_numbers(as_receptionist, to_phone):
    make_delivery([make_reminder(make_type("Rabies vaccination"))])  # emailed: not on the list
    response = as_receptionist.get(reverse("reminders:follow_up"))
    body = response.content.decode()
    assert response.context["rows"] == [to_phone]
    number = to_phone.client.phones[0][1]
    assert "Pat Phoneme" in body and "900123" in number and number in body
    assert "<strong>Rex</strong>: DHPP booster" in body
    assert 'href="/static/reminders/reminders.css"' in body and "data-print" in body
    assert "style=" not in body.split("<main", 1)[1]  # the CSP allows no inline styles


def test_marking_as_phoned_takes_the_owner_off_the_list_once(as_receptionist, receptionist, to_phone):
    url = reverse("reminders:follow_up_mark", args=[to_phone.pk])
    response = as_receptionist.post(url, {"note": "Booked for Tuesday"})
    assert response.status_code == 302
    to_phone.refresh_from_db()
    assert to_phone.followed_up_by == receptionist and to_phone.follow_up_note == "Booked for Tuesday"
    assert as_receptionist.get(reverse("reminders:follow_up")).context["rows"] == []
    again = as_receptionist.post(url, {"note": "again"}, follow=True)
    assert "already been phoned" in again.content.decode()
    to_phone.refresh_from_db()
    assert to_phone.follow_up_note == "Booked for Tuesday"


def test_an_emailed_delivery_cannot_be_marked_as_phoned(as_receptionist):
    sent = make_delivery([make_reminder(make_type("DHPP booster"))])
    response = as_receptionist.post(reverse("reminders:follow_up_mark", args=[sent.pk]), {"note": "x"}, follow=True)
    assert "Only an owner on the follow-up list" in response.content.decode()
    sent.refresh_from_db()
    assert sent.followed_up_at is None


# --- Runs -----------------------------------------------------------------------------------------------------------


def test_run_now_queues_a_run_and_shows_its_progress(as_manager, manager):
    response = as_manager.post(reverse("reminders:run_list"))
    run = ReminderRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reminders:run_detail", args=[run.pk])
    assert run.trigger == "manual" and run.started_by == manager and run.is_active
    page = as_manager.get(reverse("reminders:run_detail", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    # A second press while it is active is refused with the reason.
    again = as_manager.post(reverse("reminders:run_list"), follow=True)
    assert "already in progress" in again.content.decode() and ReminderRun.objects.count() == 1


def test_the_progress_fragment_stops_polling_when_the_run_is_finished(as_manager):
    run = ReminderRun.objects.create(
        trigger="manual", for_date="2026-01-05", status="running", emails_total=10, emails_sent=4, emails_failed=1
    )
    url = reverse("reminders:run_detail", args=[run.pk])
    fragment = as_manager.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="run-progress"') and 'hx-trigger="every 2s"' in fragment
    assert 'value="50"' in fragment and "Emails done: 5 of 10" in fragment
    ReminderRun.objects.filter(pk=run.pk).update(status="finished", emails_sent=9)
    fragment = as_manager.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and "Finished" in fragment


def test_the_runs_list_shows_the_counts(as_manager):
    ReminderRun.objects.create(
        trigger="schedule", for_date="2026-01-05", status="finished", emails_sent=12, no_channel=3
    )
    body = as_manager.get(reverse("reminders:run_list")).content.decode()
    assert "Daily schedule" in body and ">12<" in body and ">3<" in body


def test_a_delivery_status_of_every_kind_renders(as_manager):
    dhpp = make_type("DHPP booster")
    for status in ReminderDelivery.Status.values:
        make_delivery([make_reminder(dhpp)], status=status)
    assert as_manager.get(reverse("reminders:delivery_list")).status_code == 200
