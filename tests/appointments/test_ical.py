import datetime as dt

import pytest
from icalendar import Calendar

from appointments.ical import vet_feed
from appointments.selectors import feed_appointments, live_feed
from appointments.services import appointment_book, appointment_transition, calendar_feed_create, calendar_feed_revoke
from tests.factories import AnimalFactory
from vetpms.errors import DomainError
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db


def test_vet_feed_carries_pet_reason_and_times_but_no_owner_contact(vet, consult, receptionist, monday):
    animal = AnimalFactory(name="Biscuit", owner__email="owner@example.com", owner__mobile_phone="+441134960555")
    kept = appointment_book(
        animal=animal,
        vet=vet,
        type=consult,
        by=receptionist,
        reason="Itchy ears",
        start=local_datetime(monday, dt.time(10)),
    )
    dropped = appointment_book(
        animal=AnimalFactory(), vet=vet, type=consult, by=receptionist, start=local_datetime(monday, dt.time(11))
    )
    appointment_transition(appointment=dropped, to="cancelled", by=receptionist, note="owner rang")
    body = vet_feed(vet.display_name, feed_appointments(vet=vet))
    cal = Calendar.from_ical(body)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert "Biscuit" in str(event["summary"]) and "Itchy ears" in str(event["description"])
    assert event.decoded("dtstart") == kept.start and event.decoded("dtend") == kept.end
    text = body.decode()
    assert "owner@example.com" not in text and "4960555" not in text and animal.owner.last_name not in text


def test_revoked_feed_token_no_longer_resolves(vet, manager):
    feed = calendar_feed_create(vet=vet, by=manager)
    assert live_feed(token=feed.token) == feed
    calendar_feed_revoke(feed=feed, by=manager)
    assert live_feed(token=feed.token) is None
    with pytest.raises(DomainError):
        calendar_feed_revoke(feed=feed, by=manager)
