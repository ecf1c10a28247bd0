"""The patient history: one time-ordered list over every kind of entry, filtered by kind and date, paged by key
with a fixed number of queries however long the history is."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from animals.models import Weight
from clinical import selectors
from clinical.models import Consultation, ConsultationDiagnosis, Prescription, Vaccination
from clinical.services import consultation_open, consultation_set_diagnoses
from invoicing.services import invoice_add_line, invoice_draft_for
from tests.factories import AnimalFactory
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db


def _long_history(animal, vet_user, rabies, amoxicillin, otitis, days: int) -> None:
    """One consultation (with a diagnosis), weight, vaccination and prescription a day for ``days`` days, written
    in bulk (the services would refuse back-dated consultations, and this is about reading)."""
    today = timezone.localdate()
    weights, consultations, vaccinations, prescriptions = [], [], [], []
    for n in range(days):
        day = today - dt.timedelta(days=n)
        weights.append(Weight(animal=animal, kg=Decimal("4.2"), measured_on=day))
        consultations.append(
            Consultation(
                animal=animal, vet=vet_user.vet, opened_by=vet_user, opened_at=local_datetime(day, dt.time(10))
            )
        )
        vaccinations.append(
            Vaccination(
                animal=animal, product=rabies, batch=f"B{n}", batch_expiry=day, given_on=day, given_by=vet_user,
                supervising_vet=vet_user.vet,
            )
        )  # fmt: skip
        prescriptions.append(
            Prescription(
                animal=animal, product=amoxicillin, dose="1 ml", frequency="daily", quantity=Decimal(5),
                prescribed_by=vet_user.vet, dispensed_by=vet_user, dispensed_on=day,
            )
        )  # fmt: skip
    Weight.objects.bulk_create(weights)
    made = Consultation.objects.bulk_create(consultations)
    ConsultationDiagnosis.objects.bulk_create(
        [ConsultationDiagnosis(consultation=c, diagnosis=otitis) for c in made if c.pk is not None]
        or [ConsultationDiagnosis(consultation=c, diagnosis=otitis) for c in Consultation.objects.filter(animal=animal)]
    )
    Vaccination.objects.bulk_create(vaccinations)
    Prescription.objects.bulk_create(prescriptions)


def _queries(**kwargs) -> tuple[int, selectors.HistoryPage]:
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.history(**kwargs)
        for entry in page.entries:
            selectors.entry_summary(entry, notes_visible=True)
    return len(ctx.captured_queries), page


def test_a_600_entry_patient_costs_what_a_puppy_costs(vet_user, rabies, amoxicillin, otitis):
    old_cat = AnimalFactory(name="Tibbles")
    _long_history(old_cat, vet_user, rabies, amoxicillin, otitis, days=150)  # 600 entries
    puppy = AnimalFactory(name="Biscuit")
    _long_history(puppy, vet_user, rabies, amoxicillin, otitis, days=2)
    old_count, old_page = _queries(animal=old_cat, limit=50)
    puppy_count, puppy_page = _queries(animal=puppy, limit=50)
    assert len(old_page.entries) == 50 and old_page.next_cursor
    assert len(puppy_page.entries) == 8 and puppy_page.next_cursor is None
    assert old_count == puppy_count == 8  # one per kind and one for the consultations' diagnoses
    deep_count, _ = _queries(animal=old_cat, limit=50, cursor=old_page.next_cursor)
    assert deep_count == old_count


def test_a_list_page_reads_the_diagnoses_in_the_consultations_query(vet_user, rabies, amoxicillin, otitis):
    """``full=False`` (the history page, the API): no query for the diagnoses, whatever the record."""
    old_cat = AnimalFactory(name="Tibbles")
    _long_history(old_cat, vet_user, rabies, amoxicillin, otitis, days=150)
    puppy = AnimalFactory(name="Biscuit")
    _long_history(puppy, vet_user, rabies, amoxicillin, otitis, days=2)
    old_count, old_page = _queries(animal=old_cat, limit=50, full=False)
    puppy_count, _ = _queries(animal=puppy, limit=50, full=False)
    assert old_count == puppy_count == 7  # one per kind
    consultation = next(e for e in old_page.entries if e.kind == "consultation")
    assert selectors.entry_summary(consultation, notes_visible=True)[2] == ["Otitis externa"]


@pytest.mark.parametrize("full", [True, False])
def test_diagnoses_are_listed_in_their_order(consultation, vet_user, otitis, gastritis, full):
    for order in ([gastritis, otitis], [otitis, gastritis]):
        consultation_set_diagnoses(consultation=consultation, by=vet_user, diagnoses=[(d, "confirmed") for d in order])
        entry = selectors.history(animal=consultation.animal, kinds=["consultation"], full=full).entries[0]
        assert selectors.entry_summary(entry, notes_visible=True)[2] == [d.name for d in order]
        assert entry.diagnosis_names == [d.name for d in order]
    consultation_set_diagnoses(consultation=consultation, by=vet_user, diagnoses=[])
    entry = selectors.history(animal=consultation.animal, kinds=["consultation"], full=full).entries[0]
    assert entry.diagnosis_names == []


def test_paging_by_key_walks_every_entry_once_in_order(vet_user, rabies, amoxicillin, otitis):
    animal = AnimalFactory()
    _long_history(animal, vet_user, rabies, amoxicillin, otitis, days=12)
    seen, cursor = [], None
    while True:
        page = selectors.history(animal=animal, cursor=cursor, limit=7)
        seen.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 48 and len({(e.kind, e.id) for e in seen}) == 48
    keys = [e.key for e in seen]
    assert keys == sorted(keys, reverse=True)
    # On one day the consultation (10:00) comes first, the date-only entries under it.
    first_day = [e.kind for e in seen[:4]]
    assert first_day[0] == "consultation" and set(first_day[1:]) == {"vaccination", "prescription", "weight"}


def test_filters_by_kind_and_date(vet_user, rabies, amoxicillin, otitis):
    animal = AnimalFactory()
    _long_history(animal, vet_user, rabies, amoxicillin, otitis, days=10)
    today = timezone.localdate()
    page = selectors.history(animal=animal, kinds=["weight"], since=today - dt.timedelta(days=2), until=today)
    assert [e.kind for e in page.entries] == ["weight"] * 3
    page = selectors.history(animal=animal, kinds=["consultation"], until=today - dt.timedelta(days=8))
    assert len(page.entries) == 2 and all(e.kind == "consultation" for e in page.entries)
    with pytest.raises(ValueError):
        selectors.history(animal=animal, kinds=["gossip"])


def test_charges_and_appointments_are_in_the_history(consultation, consult_fee, vet_user, otitis):
    consultation_set_diagnoses(consultation=consultation, by=vet_user, diagnoses=[(otitis, "confirmed")])
    invoice = invoice_draft_for(client=consultation.animal.owner, by=vet_user)
    invoice_add_line(invoice=invoice, by=vet_user, product=consult_fee, quantity=Decimal(1), animal=consultation.animal)
    kinds = {e.kind for e in selectors.history(animal=consultation.animal).entries}
    assert kinds == {"consultation", "appointment", "charge"}


def test_a_walk_in_today_is_at_the_top(dog, vet_user):
    consultation = consultation_open(animal=dog, by=vet_user)
    assert selectors.history(animal=dog).entries[0].obj == consultation


def test_paging_through_a_clock_change_day_keeps_order(vet_user):
    """On the autumn change the hour 01:00-02:00 happens twice; entries in both, and date-only ones standing at
    that day's midnight, page in time order without loss."""
    from tests.appointments.conftest import next_dst_change

    day = next_dst_change(10)
    animal = AnimalFactory()
    times = [
        local_datetime(day, dt.time(0, 30)),
        local_datetime(day, dt.time(1, 30), fold=0),
        local_datetime(day, dt.time(1, 30), fold=1),
        local_datetime(day, dt.time(12, 0)),
    ]
    Consultation.objects.bulk_create(
        [Consultation(animal=animal, vet=vet_user.vet, opened_by=vet_user, opened_at=t) for t in times]
    )
    Weight.objects.create(animal=animal, kg=Decimal("5"), measured_on=day)
    seen, cursor = [], None
    while True:
        page = selectors.history(animal=animal, cursor=cursor, limit=1)
        seen.extend(page.entries)
        cursor = page.next_cursor
        if not cursor:
            break
    # (Compared in UTC: Python orders two times of one zone by their wall clock, ignoring fold.)
    in_utc = sorted((t.astimezone(dt.UTC) for t in times), reverse=True)
    assert [e.at.astimezone(dt.UTC) for e in seen if e.kind == "consultation"] == in_utc
    assert seen[-1].kind == "weight" and len(seen) == 5
