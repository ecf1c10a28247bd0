"""seed_demo: deterministic with --seed, one login per role, idempotent, resettable."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from animals.models import Animal
from appointments.models import Appointment, AppointmentEvent, AppointmentType, BookException, WorkingHours
from clients.models import Client
from vetpms.management.seeding.common import DEMO_STAFF
from vetpms.models import AuditEntry, Role, User, Vet
from vetpms.timeutils import local_day_bounds, to_local

OVERLAPPING_PAIRS_SQL = """
    SELECT a.id, b.id FROM appointments_appointment a
    JOIN appointments_appointment b ON a.vet_id = b.vet_id AND a.id < b.id
     AND a.start < b."end" AND b.start < a."end"
    WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _names() -> tuple[list, list, list]:
    clients = list(Client.objects.order_by("id").values_list("last_name", "first_name", "organisation", "home_phone"))
    animals = list(Animal.objects.order_by("id").values_list("name", "species__name", "microchip", "owner__last_name"))
    # The book's structure (not the statuses of today, which depend on the time of day it was built).
    book = sorted(
        Appointment.objects.values_list("vet__user__username", "start", "end", "type__name", "animal__name", "reason")
    )
    return clients, animals, book


@pytest.mark.django_db
def test_seed_demo_is_deterministic_with_a_seed():
    _seed("--seed", "11")
    first = _names()
    _seed("--seed", "11", "--reset")
    assert _names() == first
    _seed("--seed", "12", "--reset")
    assert _names() != first


@pytest.mark.django_db
def test_seed_demo_creates_each_role_and_a_believable_practice():
    output = _seed("--seed", "3")
    for username, (_first, _last, role, password) in DEMO_STAFF.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert user.has_role(role)
        assert f"{username}" in output and password in output
    assert {r for _f, _l, r, _p in DEMO_STAFF.values()} == set(Role.values)
    assert Vet.objects.filter(user__username__in=["vet", "vet2"]).count() == 2
    assert Client.objects.count() == 60
    assert Animal.objects.count() == 90
    assert Animal.objects.filter(deceased_on__isnull=False).exists()
    assert Animal.objects.filter(is_active=False).exists()
    assert Animal.objects.filter(ownerships__ended_at__isnull=False).exists()  # a transferred animal
    assert Animal.objects.filter(alerts__icontains="bites").exists()
    assert Animal.objects.filter(alerts__icontains="penicillin").exists()
    assert Client.objects.filter(is_active=False).exists()
    assert AuditEntry.objects.filter(action="transfer").exists()  # written through the services
    for client in Client.objects.all():
        client.full_clean()  # valid phone numbers, emails and names
        assert client.email == "" or client.email.endswith(("example.com", "example.org"))


@pytest.mark.django_db
def test_seed_demo_leaves_existing_data_alone_without_reset():
    _seed("--seed", "5")
    before = _names()
    output = _seed("--seed", "6")
    assert "already loaded" in output
    assert _names() == before


@pytest.mark.django_db
def test_seed_demo_books_the_vets_today_without_overlaps():
    _seed("--seed", "4")
    vets = list(Vet.objects.filter(user__username__in=["vet", "vet2"]))
    start, end = local_day_bounds(timezone.localdate())
    for vet in vets:
        assert Appointment.objects.filter(vet=vet, start__gte=start, start__lt=end).exists(), vet
        assert WorkingHours.objects.filter(vet=vet, weekday=0).count() == 2  # morning and afternoon
    assert WorkingHours.objects.filter(weekday=5).count() == 1  # one vet works Saturday mornings
    assert BookException.objects.filter(kind="leave", date__gt=timezone.localdate()).count() == 5
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_PAIRS_SQL)
        assert cursor.fetchall() == []

    types = {t.name: t for t in AppointmentType.objects.all()}
    assert {n: t.default_minutes for n, t in types.items()} == {
        "Consultation": 15,
        "Vaccination": 15,
        "Dental": 60,
        "Surgery admit": 30,
        "Post-op check": 10,
        "Nurse clinic": 20,
    }
    assert len({t.colour for t in types.values()}) == len(types)
    assert types["Dental"].recall_text == "Dental recheck in 6 months"

    now = timezone.now()
    past = Appointment.objects.filter(end__lt=now - timezone.timedelta(hours=1))
    assert {"completed", "no_show", "cancelled"} <= set(past.values_list("status", flat=True))
    assert not past.filter(status__in=["booked", "confirmed"]).filter(start__lt=now - timezone.timedelta(days=1))
    future = Appointment.objects.filter(start__gt=now)
    # a pet may already have arrived for an appointment that starts in the next few minutes
    assert set(future.filter(start__gt=now + timezone.timedelta(minutes=10)).values_list("status", flat=True)) <= {
        "booked",
        "confirmed",
        "cancelled",
    }
    assert future.filter(start__gt=now + timezone.timedelta(days=12)).exists()  # two weeks ahead
    assert AuditEntry.objects.filter(action="book").count() == future.count()  # booked through the service
    for appointment in Appointment.objects.select_related("animal").prefetch_related("events"):
        events = list(appointment.events.all())
        assert events[0].to_status == "booked" and events[-1].to_status == appointment.status
        assert appointment.client_id == appointment.animal.owner_id
        assert to_local(appointment.start).date() == to_local(appointment.end).date()
    assert AppointmentEvent.objects.filter(to_status="cancelled", note="").count() == 0
