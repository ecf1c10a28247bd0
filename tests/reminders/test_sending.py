"""The notice job against a real SMTP server (aiosmtpd): who gets what, once; consent; headers; escaping; retries
and permanent rejections; catching up missed days; the send day across DST."""

import datetime as dt
import re
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from clients.services import client_set_consent
from reminders import sending
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType
from reminders.services import reminder_complete, reminder_create
from tests.factories import AnimalFactory, ClientFactory, species

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 3, 10)


@pytest.fixture
def dog_type(manager):
    return ReminderType.objects.create(
        name="DHPP booster",
        interval=12,
        interval_unit="months",
        stages=[-14, 0, 30],
        subject="{pets}: due on {first_due_date}",
        body_text="Dear {owner_first_name},\n\n{items}\n\nTo book, {booking_contact}.\n{practice_name}",
        body_html="<p>Dear {owner_first_name},</p>{items}<p>To book, {booking_contact}.</p>",
    )


@pytest.fixture
def dental_type():
    return ReminderType.objects.create(
        name="Dental recheck",
        interval=6,
        interval_unit="months",
        stages=[0],
        subject="Dental recheck for {pets}",
        body_text="Hello {owner_name}, {items}",
    )


def due(manager, reminder_type, *, pet=None, owner=None, due_on, name="Rex"):
    pet = pet or AnimalFactory(name=name, species=species("Dog"), **({"owner": owner} if owner else {}))
    return reminder_create(animal=pet, reminder_type=reminder_type, due_on=due_on, by=manager)


def run_for(day=TODAY):
    run = ReminderRun.objects.create(trigger=ReminderRun.Trigger.MANUAL, for_date=day)
    return sending.execute_run(run_id=run.pk)


def keys(message: EmailMessage) -> set[tuple[int, int]]:
    return {tuple(int(x) for x in key.split(":")) for key in message["X-VetPMS-Notices"].split()}


def received_keys(inbox) -> list[tuple[int, int]]:
    return [key for message in inbox.messages for key in keys(message)]


def test_each_owner_gets_one_email_with_exactly_their_items_due(smtp_server, manager, dog_type, dental_type):
    smith = ClientFactory(first_name="Ann", last_name="Smith", email="ann@example.com")
    rex = due(manager, dog_type, owner=smith, due_on=TODAY, name="Rex")  # stage 0 today
    bella = due(manager, dog_type, owner=smith, due_on=TODAY + dt.timedelta(days=14), name="Bella")  # stage -14
    teeth = due(manager, dental_type, pet=rex.animal, due_on=TODAY)  # a second type, same pet
    jones = ClientFactory(first_name="Bob", last_name="Jones", email="bob@example.com")
    max_ = due(manager, dog_type, owner=jones, due_on=TODAY - dt.timedelta(days=30), name="Max")  # stage +30
    # Not today: a stage date tomorrow, a completed reminder, a stage date between stages.
    due(manager, dog_type, owner=jones, due_on=TODAY + dt.timedelta(days=15), name="Not yet")
    done = due(manager, dog_type, due_on=TODAY, name="Done")
    reminder_complete(reminder=done, by=manager)
    due(manager, dog_type, due_on=TODAY + dt.timedelta(days=3), name="Between")

    run = run_for()

    assert run.status == ReminderRun.Status.FINISHED
    assert sorted(m["To"] for m in smtp_server.messages) == ["ann@example.com", "bob@example.com"]
    by_to = {m["To"]: m for m in smtp_server.messages}
    assert keys(by_to["ann@example.com"]) == {(rex.pk, 0), (bella.pk, -14), (teeth.pk, 0)}
    assert keys(by_to["bob@example.com"]) == {(max_.pk, 30)}
    ann = by_to["ann@example.com"]
    text = ann.get_body(("plain",)).get_content()
    assert "- Rex: DHPP booster, due 10 March 2027" in text
    assert "- Rex: Dental recheck, due 10 March 2027" in text
    assert "- Bella: DHPP booster, due 24 March 2027" in text
    # Two types: the neutral frame gives the subject (no type speaks for the other); {pets} names each pet once.
    assert ann["Subject"] == f"Reminders for Rex and Bella from {settings_practice_name()}"
    assert by_to["bob@example.com"]["Subject"] == "Max: due on 8 February 2027"  # one type: its own templates
    assert run.emails_sent == 2 and run.notices_planned == 4
    assert ReminderNotice.objects.filter(status=ReminderNotice.Status.SENT).count() == 4
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {ReminderDelivery.Status.SENT}


def test_a_second_run_on_the_same_day_sends_nothing_more(smtp_server, manager, dog_type):
    due(manager, dog_type, due_on=TODAY)
    run_for()
    second = run_for()
    assert len(smtp_server.messages) == 1
    assert second.notices_planned == 0 and second.emails_sent == 0


def test_owners_without_consent_or_email_go_on_the_follow_up_list(smtp_server, manager, dog_type):
    no_consent = ClientFactory(reminder_consent=False, email="quiet@example.com")
    no_email = ClientFactory(email="")
    due(manager, dog_type, owner=no_consent, due_on=TODAY, name="Quiet")
    due(manager, dog_type, owner=no_email, due_on=TODAY, name="Offline")

    run = run_for()

    assert smtp_server.messages == []
    entries = ReminderDelivery.objects.filter(status=ReminderDelivery.Status.NO_CHANNEL).order_by("reason")
    assert [(e.client_id, e.reason) for e in entries] == [
        (no_consent.pk, "no consent to reminder emails"),
        (no_email.pk, "no email address"),
    ]
    assert run.no_channel == 2
    assert set(ReminderNotice.objects.values_list("status", flat=True)) == {ReminderNotice.Status.NO_CHANNEL}


def test_every_email_has_one_click_unsubscribe_headers_and_link(smtp_server, manager, dog_type):
    reminder = due(manager, dog_type, due_on=TODAY)
    run_for()
    (message,) = smtp_server.messages
    header = message["List-Unsubscribe"].strip()  # a long header may be folded onto its own line
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.fullmatch(r"<(https?://\S+/r/unsubscribe/\S+/)>", header)
    assert match, header
    url = match.group(1)
    assert url in message.get_body(("plain",)).get_content()
    assert url in message.get_body(("html",)).get_content()
    delivery = ReminderDelivery.objects.get(client=reminder.animal.owner)
    assert message["Message-ID"] == delivery.message_id == sending.message_id(delivery)


def test_user_data_is_escaped_in_the_html_part(smtp_server, manager, dog_type):
    owner = ClientFactory(first_name="<b>Eve</b>", email="eve@example.com")
    due(manager, dog_type, owner=owner, due_on=TODAY, name='<script>alert("x")</script>')
    run_for()
    (message,) = smtp_server.messages
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Eve</b>" not in html and "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "<ul><li><strong>" in html  # the template's own markup stays markup
    assert '<script>alert("x")</script>' in message.get_body(("plain",)).get_content()


def test_a_reminder_completed_after_planning_is_not_sent(smtp_server, manager, dog_type):
    reminder = due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    reminder_complete(reminder=reminder, by=manager)
    result = sending.send_due()
    assert smtp_server.messages == []
    assert result.skipped == 1
    assert ReminderNotice.objects.get().status == ReminderNotice.Status.SKIPPED


def test_consent_withdrawn_after_planning_moves_the_owner_to_the_follow_up_list(smtp_server, manager, dog_type):
    reminder = due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    client_set_consent(client=reminder.animal.owner, by=None, consent=False)
    sending.send_due()
    assert smtp_server.messages == []
    assert ReminderDelivery.objects.get().status == ReminderDelivery.Status.NO_CHANNEL


def test_three_missed_days_are_caught_up_once_and_only_the_latest_stage_goes(smtp_server, manager, settings):
    settings.REMINDER_CATCH_UP_DAYS = 7
    daily = ReminderType.objects.create(
        name="Flea treatment",
        interval=1,
        interval_unit="months",
        stages=[-2, -1, 0],
        subject="{pets}",
        body_text="{items}",
    )
    both = due(manager, daily, due_on=TODAY - dt.timedelta(days=1), name="Both")  # -2, -1 and 0 all missed
    once = due(manager, daily, due_on=TODAY + dt.timedelta(days=1), name="Once")  # only -2 missed (yesterday)
    too_old = due(manager, daily, due_on=TODAY - dt.timedelta(days=20), name="Old")  # beyond the window

    run_for(TODAY)  # the job did not run on the three days before
    run_for(TODAY)

    assert sorted(received_keys(smtp_server)) == sorted([(both.pk, 0), (once.pk, -1)])
    skipped = ReminderNotice.objects.filter(status=ReminderNotice.Status.SKIPPED)
    assert {(n.reminder_id, n.stage) for n in skipped} == {(both.pk, -2), (both.pk, -1), (once.pk, -2)}
    assert not ReminderNotice.objects.filter(reminder=too_old).exists()


def _reject(smtp_server, address: str, reply: str):
    """Make the server answer RCPT TO ``address`` with ``reply`` (aiosmtpd looks the hook up on each command)."""

    async def handle_RCPT(server, session, envelope, rcpt, options):
        if rcpt == address:
            return reply
        envelope.rcpt_tos.append(rcpt)
        return "250 OK"

    smtp_server.handle_RCPT = handle_RCPT


def test_a_permanent_rejection_marks_the_email_failed_and_it_is_not_retried(smtp_server, manager, dog_type):
    bad = ClientFactory(email="nobody@invalid.example")
    good = ClientFactory(email="good@example.com")
    due(manager, dog_type, owner=bad, due_on=TODAY, name="Lost")
    due(manager, dog_type, owner=good, due_on=TODAY, name="Found")
    _reject(smtp_server, "nobody@invalid.example", "550 5.1.1 No such user")

    run = run_for()
    run_for()
    sending.send_due()

    assert [m["To"] for m in smtp_server.messages] == ["good@example.com"]
    failed = ReminderDelivery.objects.get(client=bad)
    assert failed.status == ReminderDelivery.Status.FAILED
    assert failed.attempts == 1 and "550" in failed.last_error
    assert failed.notices.get().status == ReminderNotice.Status.FAILED
    assert run.emails_failed == 1 and run.emails_sent == 1


def test_a_temporary_rejection_is_retried_with_backoff_then_failed(smtp_server, manager, dog_type, settings):
    settings.REMINDER_MAX_ATTEMPTS = 3
    settings.REMINDER_RETRY_SECONDS = 60
    owner = ClientFactory(email="greylisted@example.com")
    due(manager, dog_type, owner=owner, due_on=TODAY)
    _reject(smtp_server, "greylisted@example.com", "451 4.7.1 Try again later")

    run_for()
    delivery = ReminderDelivery.objects.get()
    assert delivery.status == ReminderDelivery.Status.RETRY and delivery.attempts == 1
    first_retry = delivery.next_attempt_at
    assert 59 <= (first_retry - timezone.now()).total_seconds() <= 61

    sending.send_due()  # not yet due: nothing is tried
    delivery.refresh_from_db()
    assert delivery.attempts == 1

    ReminderDelivery.objects.update(next_attempt_at=timezone.now())
    sending.send_due()
    delivery.refresh_from_db()
    assert delivery.status == ReminderDelivery.Status.RETRY and delivery.attempts == 2
    assert 119 <= (delivery.next_attempt_at - timezone.now()).total_seconds() <= 121  # doubled

    ReminderDelivery.objects.update(next_attempt_at=timezone.now())
    sending.send_due()
    delivery.refresh_from_db()
    assert delivery.status == ReminderDelivery.Status.FAILED and delivery.attempts == 3
    assert smtp_server.messages == []


def test_the_server_down_then_up_sends_everything_once(smtp_server, manager, dog_type, settings):
    reminders = [due(manager, dog_type, due_on=TODAY, name=f"Pet {i}") for i in range(5)]
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9  # discard port: nothing listens, the connection is refused

    run = run_for()
    assert run.emails_sent == 0 and run.emails_deferred == 5
    assert "unavailable" in run.error
    statuses = sorted(ReminderDelivery.objects.values_list("status", "attempts"))
    assert statuses == [("pending", 0)] * 5  # no SMTP conversation began: no attempt is counted

    settings.EMAIL_PORT = port
    ReminderDelivery.objects.update(next_attempt_at=timezone.now())
    sending.send_due()
    assert sorted(received_keys(smtp_server)) == sorted((r.pk, 0) for r in reminders)
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_run_sends_for_the_practice_day_of_the_schedule_across_dst(smtp_server, manager, dog_type, settings):
    from reminders.tasks import daily_run

    settings.TIME_ZONE = "Europe/London"
    due(manager, dog_type, due_on=dt.date(2027, 3, 28), name="Clocks")  # the day the clocks go forward
    # 07:00 BST on 28 March 2027 is 06:00 UTC; the intended time is what django-q2 passes.
    daily_run(intended_at="2027-03-28T06:00:00+00:00")
    run = ReminderRun.objects.get(trigger=ReminderRun.Trigger.SCHEDULE)
    assert run.for_date == dt.date(2027, 3, 28)
    assert len(smtp_server.messages) == 1
    # A task picked up 23:30 UTC on 30 October 2027 (00:30 BST on the 31st, the autumn change day) sends for the 31st.
    daily_run(intended_at="2027-10-30T23:30:00+00:00")
    assert ReminderRun.objects.filter(for_date=dt.date(2027, 10, 31)).exists()


def test_a_stale_claim_of_a_dead_worker_is_released_and_sent(smtp_server, manager, dog_type, settings):
    reminder = due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    _token, batch = sending.claim_batch(size=10)  # a worker claims, then dies
    assert [d.status for d in batch] == ["sending"]
    assert sending.send_due().sent == 0  # the lease still holds: nobody else sends it
    ReminderDelivery.objects.update(
        claimed_at=timezone.now() - dt.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS + 1)
    )
    assert sending.send_due().sent == 1
    assert received_keys(smtp_server) == [(reminder.pk, 0)]
    assert ReminderDelivery.objects.get().attempts == 1  # the dead worker never began to send it


def _die_holding_a_claim(settings, phase: str = ReminderDelivery.Phase.NOT_BEGUN) -> None:
    """A worker claims the due emails, gets as far as ``phase`` (what it writes down as it goes) and dies; then
    its lease runs out."""
    _token, batch = sending.claim_batch(size=10)
    assert batch
    if phase:
        ReminderDelivery.objects.filter(pk__in=[d.pk for d in batch]).update(attempts=F("attempts") + 1, phase=phase)
    ReminderDelivery.objects.filter(pk__in=[d.pk for d in batch]).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS + 1)
    )


def test_claims_released_after_workers_died_before_sending_are_not_attempts(smtp_server, manager, dog_type, settings):
    settings.REMINDER_MAX_ATTEMPTS = 3
    reminder = due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    for _ in range(settings.REMINDER_MAX_ATTEMPTS + 1):  # more crashes than attempts allowed, none while sending
        _die_holding_a_claim(settings)
        assert sending.release_stale_claims() == 1
        delivery = ReminderDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert sending.send_due().sent == 1
    assert received_keys(smtp_server) == [(reminder.pk, 0)]
    assert ReminderDelivery.objects.get().attempts == 1


def test_a_worker_that_died_mid_conversation_counts_an_attempt_and_the_email_goes_again(
    smtp_server, manager, dog_type, settings
):
    settings.REMINDER_MAX_ATTEMPTS = 2
    reminder = due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    _die_holding_a_claim(settings, ReminderDelivery.Phase.TALKING)  # the server never had the whole message
    sending.release_stale_claims()
    delivery = ReminderDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("retry", 1) and delivery.next_attempt_at <= timezone.now()
    assert sending.send_due().sent == 1
    assert received_keys(smtp_server) == [(reminder.pk, 0)]
    assert ReminderDelivery.objects.get().attempts == 2


def test_a_worker_that_died_awaiting_the_servers_reply_leaves_a_possibly_sent_email_for_a_check(
    smtp_server, manager, dog_type, settings
):
    from reminders.management.commands.reminders_unconfirmed import Command

    reminder = due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    _die_holding_a_claim(settings, ReminderDelivery.Phase.AWAITING_REPLY)  # the server had it all
    sending.release_stale_claims()
    delivery = ReminderDelivery.objects.get()
    assert delivery.status == ReminderDelivery.Status.UNCONFIRMED
    assert delivery.message_id == sending.message_id(delivery) and "Message-ID" in delivery.last_error
    assert sending.send_due().sent == 0 and smtp_server.messages == []  # not sent again blindly

    with pytest.raises(CommandError):
        call_command(Command(), sent=delivery.pk + 1000)
    call_command(Command(), resend=delivery.pk)  # checked: the server's log has no such Message-ID
    assert sending.send_due().sent == 1
    (message,) = smtp_server.messages
    assert message["Message-ID"] == delivery.message_id and keys(message) == {(reminder.pk, 0)}
    assert ReminderNotice.objects.get().status == ReminderNotice.Status.SENT
    with pytest.raises(CommandError, match="not possibly sent"):
        call_command(Command(), sent=delivery.pk)


def test_a_possibly_sent_email_checked_as_delivered_is_marked_sent(smtp_server, manager, dog_type, settings):
    due(manager, dog_type, due_on=TODAY)
    sending.plan_notices(today=TODAY)
    sending.group_notices(run=None)
    _die_holding_a_claim(settings, ReminderDelivery.Phase.AWAITING_REPLY)
    sending.release_stale_claims()
    delivery = ReminderDelivery.objects.get()
    sending.unconfirmed_resolve(delivery=delivery, was_sent=True)
    delivery.refresh_from_db()
    assert delivery.status == ReminderDelivery.Status.SENT and delivery.sent_at
    assert ReminderNotice.objects.get().status == ReminderNotice.Status.SENT
    sending.send_due()
    assert smtp_server.messages == []


def test_new_items_join_an_owner_email_still_waiting_for_a_retry(smtp_server, manager, dog_type, dental_type):
    owner = ClientFactory(email="wait@example.com")
    first = due(manager, dog_type, owner=owner, due_on=TODAY)
    _reject(smtp_server, "wait@example.com", "451 4.3.0 Busy")
    run_for(TODAY)
    second = due(manager, dental_type, pet=first.animal, due_on=TODAY + dt.timedelta(days=1))
    del smtp_server.handle_RCPT
    ReminderDelivery.objects.update(next_attempt_at=timezone.now())
    run_for(TODAY + dt.timedelta(days=1))
    (message,) = smtp_server.messages
    assert keys(message) == {(first.pk, 0), (second.pk, 0)}
    assert ReminderDelivery.objects.count() == 1


def test_an_email_waiting_for_a_retry_goes_to_the_owners_new_address(smtp_server, manager, dog_type):
    owner = ClientFactory(email="old@example.com")
    due(manager, dog_type, owner=owner, due_on=TODAY)
    _reject(smtp_server, "old@example.com", "451 4.2.2 Mailbox full")
    run_for()
    owner.email = "new@example.com"
    owner.save(update_fields=["email"])
    ReminderDelivery.objects.update(next_attempt_at=timezone.now())
    sending.send_due()
    assert [m["To"] for m in smtp_server.messages] == ["new@example.com"]
    assert ReminderDelivery.objects.get().to_email == "new@example.com"


def test_reminders_of_inactive_owners_are_not_planned(smtp_server, manager, dog_type):
    reminder = due(manager, dog_type, due_on=TODAY)
    Reminder.objects.filter(pk=reminder.pk).update(status=Reminder.Status.CANCELLED)
    run_for()
    assert not ReminderNotice.objects.exists() and smtp_server.messages == []


def test_an_email_for_pets_due_different_things_words_each_item_by_its_own_type(smtp_server, manager):
    booster = ReminderType.objects.create(
        name="DHPP booster",
        interval=12,
        stages=[0],
        subject="Booster time for {pets}",
        body_text="Dear {owner_first_name},\nIt is time for the booster against distemper:\n{items}",
        body_html="<p>It is time for the booster against distemper:</p>{items}",
    )
    felv = ReminderType.objects.create(
        name="FeLV",
        interval=12,
        stages=[0],
        subject="FeLV vaccination due for {pets}",
        body_text="Dear {owner_first_name},\nThe feline leukaemia vaccination comes round:\n{items}",
    )
    owner = ClientFactory(first_name="Jane", email="jane@example.com")
    rex = due(manager, booster, owner=owner, due_on=TODAY, name="Rex")
    tom = due(manager, felv, pet=AnimalFactory(name="Tom", owner=owner, species=species("Cat")), due_on=TODAY)

    run_for()

    (message,) = smtp_server.messages
    assert keys(message) == {(rex.pk, 0), (tom.pk, 0)}
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert "distemper" not in text and "distemper" not in html  # the dog's wording does not speak for the cat
    assert "Booster time for Rex\n- Rex: DHPP booster, due 10 March 2027" in text
    assert "FeLV vaccination due for Tom\n- Tom: FeLV, due 10 March 2027" in text
    assert "<strong>FeLV vaccination due for Tom</strong>" in html and "Tom</strong>: FeLV" in html
    assert message["Subject"] == "Reminders for Rex and Tom from " + settings_practice_name()


def test_an_email_for_two_pets_due_the_same_thing_keeps_the_types_own_wording(smtp_server, manager, dog_type):
    owner = ClientFactory(first_name="Jane", email="jane@example.com")
    due(manager, dog_type, owner=owner, due_on=TODAY, name="Rex")
    due(manager, dog_type, owner=owner, due_on=TODAY, name="Fido")
    run_for()
    (message,) = smtp_server.messages
    assert message["Subject"] == "Fido and Rex: due on 10 March 2027"


def test_reminder_emails_come_from_the_practice(smtp_server, manager, dog_type, settings):
    settings.PRACTICE = {**settings.PRACTICE, "name": "Riverside Vets", "email": "hello@riverside.example"}
    due(manager, dog_type, due_on=TODAY)
    run_for()
    (message,) = smtp_server.messages
    assert message["From"] == "Riverside Vets <hello@riverside.example>"
    assert smtp_server.envelopes[0].mail_from == "hello@riverside.example"


def settings_practice_name() -> str:
    from django.conf import settings

    return settings.PRACTICE["name"]
