"""The patient history on the animal page and its own page: one time-ordered list, filtered by kind and dates,
paged by key ("Older entries"), the same number of queries for a puppy and an old cat."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from animals.models import Weight
from clinical.models import Consultation
from clinical.services import consultation_open, consultation_save_draft, consultation_set_diagnoses
from tests.clinical.conftest import days_ago

HTMX = {"HTTP_HX_REQUEST": "true"}


def _as(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _grow(animal, vet_user, *, consultations: int, weights: int, diagnosis=None) -> None:
    """Consultations (through the service, then dated back) and weights on distinct past days."""
    for i in range(consultations):
        c = consultation_open(animal=animal, by=vet_user)
        consultation_save_draft(consultation=c, by=vet_user, data={"complaint": f"Visit number {i}"})
        if diagnosis is not None:
            consultation_set_diagnoses(consultation=c, by=vet_user, diagnoses=[(diagnosis, "confirmed")])
        Consultation.objects.filter(pk=c.pk).update(opened_at=timezone.now() - dt.timedelta(days=3 * i + 1))
    Weight.objects.bulk_create(
        [Weight(animal=animal, kg=Decimal("30") + i, measured_on=days_ago(3 * i + 2)) for i in range(weights)]
    )


def test_animal_page_shows_the_history_newest_first(dog, vet_user, otitis):
    _grow(dog, vet_user, consultations=3, weights=2, diagnosis=otitis)
    http = _as(vet_user)
    page = http.get(reverse("animals:detail", args=[dog.pk])).content.decode()
    assert "Patient history" in page
    # The card's entries load right after the page, from the history view (htmx, as a browser does it); without
    # JavaScript the card links to the history page.
    url = reverse("clinical:history", args=[dog.pk])
    loader = page.split('id="history-entries"', 1)[1].split("</ol>", 1)[0]
    assert f'hx-get="{url}"' in loader and 'hx-trigger="load"' in loader and f'href="{url}"' in loader
    entries = http.get(url, **HTMX).content.decode()
    assert entries.index("Visit number 0") < entries.index("Visit number 1") < entries.index("Visit number 2")
    assert "Otitis externa" in entries and "Weight:</span> 31 kg" in entries


def test_receptionist_sees_the_entries_but_not_the_note_text(dog, vet_user, receptionist, settings):
    _grow(dog, vet_user, consultations=1, weights=0)
    page = _as(receptionist).get(reverse("clinical:history", args=[dog.pk])).content.decode()
    assert "Consultation</a>" in page and "Visit number 0" not in page
    settings.CLINICAL_NOTES_FOR_RECEPTION = True
    assert "Visit number 0" in _as(receptionist).get(reverse("clinical:history", args=[dog.pk])).content.decode()


def test_filter_by_kind_and_dates(dog, vet_user):
    _grow(dog, vet_user, consultations=4, weights=4)
    http = _as(vet_user)
    only_weights = http.get(reverse("clinical:history", args=[dog.pk]), {"kind": "weight"}, **HTMX).content.decode()
    assert "Weight:" in only_weights and "Visit number" not in only_weights
    recent = http.get(
        reverse("clinical:history", args=[dog.pk]), {"since": days_ago(5).isoformat(), "until": days_ago(0).isoformat()}
    ).content.decode()
    assert "Visit number 0" in recent and "Visit number 1" in recent and "Visit number 2" not in recent
    # A filtered htmx answer also points the PDF link at the same filter.
    assert 'id="history-pdf"' in only_weights and "kind=weight" in only_weights


def test_older_entries_page_by_key_without_gaps_or_repeats(dog, vet_user):
    _grow(dog, vet_user, consultations=40, weights=0)
    http = _as(vet_user)
    url = reverse("clinical:history", args=[dog.pk])
    seen: list[str] = []
    params = {"kind": "consultation"}
    for _ in range(5):
        body = http.get(url, params, **HTMX).content.decode()
        seen += [f"Visit number {i}" for i in range(40) if f"Visit number {i}<" in body]
        if "cursor=" not in body:
            break
        cursor = body.split("cursor=", 1)[1].split('"', 1)[0]
        params = {"kind": "consultation", "cursor": cursor}
    assert seen == [f"Visit number {i}" for i in range(40)]


def test_bad_cursor_and_bad_dates(dog, vet_user):
    http = _as(vet_user)
    url = reverse("clinical:history", args=[dog.pk])
    assert http.get(url, {"cursor": "not-a-cursor"}).status_code == 404
    assert http.get(url, {"since": "2026-02-31", "kind": "nonsense"}).status_code == 200


@pytest.mark.parametrize("path", ["animal", "history"])
def test_history_costs_the_same_queries_for_a_puppy_and_an_old_cat(dog, vet_user, otitis, path, animal_factory):
    old = animal_factory()

    def count(animal) -> int:
        url = (
            reverse("animals:detail", args=[animal.pk])
            if path == "animal"
            else reverse("clinical:history", args=[animal.pk])
        )
        http = _as(vet_user)
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url).status_code == 200
        return len(ctx.captured_queries)

    _grow(dog, vet_user, consultations=2, weights=1, diagnosis=otitis)
    _grow(old, vet_user, consultations=45, weights=40, diagnosis=otitis)
    assert count(old) == count(dog)


@pytest.fixture
def animal_factory(db):
    from tests.factories import AnimalFactory, breed, species

    return lambda: AnimalFactory(name="Old Tom", species=species("Dog"), breed=breed("Dog", "Labrador Retriever"))


def _page_queries(user, url: str) -> int:
    http = _as(user)
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_consultation_page_costs_the_same_queries_for_a_small_and_a_large_record(dog, vet_user, otitis, animal_factory):
    from clinical.models import Problem

    old = animal_factory()
    _grow(dog, vet_user, consultations=1, weights=1)
    _grow(old, vet_user, consultations=30, weights=30, diagnosis=otitis)
    # Problems (one an alert, linked to every visit) stand at the top of the page: still no more queries.
    for condition, alert in (("Otitis externa", True), ("Arthritis", False)):
        problem = Problem.objects.create(animal=old, condition=condition, is_alert=alert, created_by=vet_user)
        problem.consultations.set(Consultation.objects.filter(animal=old))

    def latest(animal) -> str:
        consultation = Consultation.objects.filter(animal=animal).order_by("-opened_at").first()
        return reverse("clinical:consultation", args=[consultation.pk])

    assert _page_queries(vet_user, latest(old)) == _page_queries(vet_user, latest(dog))
    page = _as(vet_user).get(latest(old)).content.decode()
    assert "Otitis externa" in page and "Arthritis" in page


def test_animal_page_lists_the_latest_weights_and_charts_a_bounded_sample(dog, vet_user, otitis, animal_factory):
    from clinical.models import Problem

    old = animal_factory()
    _grow(dog, vet_user, consultations=1, weights=2)
    # 150 weights, one a month: the lightest is neither the newest nor the oldest.
    Weight.objects.bulk_create(
        [
            Weight(animal=old, kg=Decimal("2.5") if i == 77 else Decimal("30") + i % 7, measured_on=days_ago(30 * i))
            for i in range(150)
        ]
    )
    problem = Problem.objects.create(animal=old, condition="Arthritis", created_by=vet_user)
    _grow(old, vet_user, consultations=5, weights=0, diagnosis=otitis)
    problem.consultations.set(Consultation.objects.filter(animal=old))
    small = _page_queries(vet_user, reverse("animals:detail", args=[dog.pk]))
    assert _page_queries(vet_user, reverse("animals:detail", args=[old.pk])) == small

    page = _as(vet_user).get(reverse("animals:detail", args=[old.pk])).content.decode()
    assert "Weight history (150)" in page
    table = page.split("Weight history (150)", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 10  # the header and the latest ten
    assert f'{reverse("clinical:history", args=[old.pk])}?kind=weight">All 150 weights' in table
    assert f"<td>{days_ago(0):%-d %b %Y}</td>" in table and f"<td>{days_ago(270):%-d %b %Y}</td>" in table
    assert f"<td>{days_ago(300):%-d %b %Y}</td>" not in table
    chart = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 50 <= chart.count('<circle class="point"') <= 61
    assert f"kg on {days_ago(0):%-d %b %Y}<" in chart and f"kg on {days_ago(30 * 149):%-d %b %Y}<" in chart
    assert "150 weights from" in chart and "lowest 2.5 kg, highest 36 kg" in chart and "shows" in chart
    assert "5 consultations" in page  # the problem's linked visits, counted in the problems' query

    few = _as(vet_user).get(reverse("animals:detail", args=[dog.pk])).content.decode()
    assert "Weight history (2)" in few and "All 2 weights" not in few and few.count('<circle class="point"') == 2
