"""The notice job: from due reminders to emails accepted by the SMTP server, each (reminder, stage) exactly once.

A run has three steps, each safe to repeat and to run in several workers at once:

1. **Plan** (``plan_notices``): for every active type and each of its stages, the pending reminders whose stage
   date (due date + stage) is today or fell within the catch-up window (``REMINDER_CATCH_UP_DAYS``) get a
   ``ReminderNotice`` row. The unique key (reminder, stage) makes planning idempotent: a second run, a task
   delivered twice, or three missed days all plan each notice once.
2. **Group** (``group_notices``): unassigned notices are grouped per owner, in one transaction, into a
   ``ReminderDelivery``: one email listing every pet and item due. A notice whose reminder was completed or
   cancelled meanwhile is skipped; of several stages of one reminder due together (after missed days) only the
   latest is sent. Owners without consent or without an email address get a delivery with no channel: the
   follow-up list for phone calls.
3. **Send** (``send_due``): deliveries are claimed in batches (``status=sending``, a claim token, in a short
   transaction; ``SKIP LOCKED`` on PostgreSQL, the serialised write transaction on SQLite), rendered, handed to
   Django's email backend over one SMTP connection, and marked sent, with their notices, only after the server
   accepted the message. A temporary failure (4xx, a dropped connection, a server that is down) is retried with
   exponential backoff by the retry schedule; a permanent rejection (5xx) or too many attempts marks it failed.
   Each step of an email's SMTP conversation is written down as it is taken (``Delivery.phase``): an attempt
   counts only once the conversation for that email began, and a claim whose worker died (SIGKILL, power cut,
   the task timeout) is settled by how far it got: not begun, it simply waits for the next run; begun but not
   finished (the server discards an unfinished message), it is sent again; the whole message sent and the reply
   awaited, it is "possibly sent" and kept for a check (``manage.py reminders_unconfirmed``) rather than sent twice.
   Claims of a task stopped by the timeout are settled at once, those of a killed worker when their lease
   (``REMINDER_SEND_LEASE_SECONDS``) ends; its run is then closed as stopped, with counters that say what it did
   (each outcome is counted in the transaction that records it).

What no outbox can close: a worker killed between the end of the message's DATA and the database receiving the
"awaiting the reply" mark (the time to hand one UPDATE to the database) leaves an email that may go twice, with the
same ``Message-ID`` (many mail programs then show one). A kill while the server processes the message leaves
a possibly sent email: the server had all of it, so it was almost surely delivered; someone checks the mail
server's log for its Message-ID and marks it sent or sends it again. Everything else (a kill at any other moment,
the server down, a task run twice, concurrent workers) ends with every notice received exactly once;
tests/reminders/test_faults.py shows it.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from clients.models import Client
from reminders import rendering
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType
from reminders.smtp import reminder_connection
from reminders.unsubscribe import unsubscribe_url
from vetpms import events
from vetpms.errors import DomainError
from vetpms.mail import practice_sender
from vetpms.models import User
from vetpms.timeutils import to_local

logger = logging.getLogger(__name__)

Delivery = ReminderDelivery
Notice = ReminderNotice


def local_today(at: dt.datetime | None = None) -> dt.date:
    return to_local(at or timezone.now()).date()


class Reachable(Protocol):
    """What ``channel_for`` reads of an owner: a Client, or the lighter row the practice-scale seeding keeps."""

    @property
    def reminder_consent(self) -> bool: ...

    @property
    def email(self) -> str: ...


def channel_for(client: Reachable) -> tuple[str, str]:
    """(channel, reason): an owner is emailed only with consent and an address."""
    if not client.reminder_consent:
        return Delivery.Channel.NONE, "no consent to reminder emails"
    if not client.email:
        return Delivery.Channel.NONE, "no email address"
    return Delivery.Channel.EMAIL, ""


# --- 1. Plan ----------------------------------------------------------------------------------------------------


def plan_notices(*, today: dt.date) -> int:
    """Create the outbox rows of every notice whose day is ``today`` or was missed within the catch-up window.
    Returns how many rows were new."""
    window_start = today - dt.timedelta(days=max(settings.REMINDER_CATCH_UP_DAYS, 0))
    created = 0
    for reminder_type in ReminderType.objects.filter(is_active=True).only("id", "stages"):
        for stage in reminder_type.stages or []:
            offset = dt.timedelta(days=stage)
            due = (
                Reminder.objects.filter(
                    type=reminder_type,
                    status=Reminder.Status.PENDING,
                    due_on__gte=window_start - offset,
                    due_on__lte=today - offset,
                    animal__is_active=True,
                    animal__deceased_on__isnull=True,
                    animal__owner__is_active=True,
                )
                .filter(~Exists(Notice.objects.filter(reminder=OuterRef("pk"), stage=stage)))
                .values_list("id", "due_on")
            )
            rows = [Notice(reminder_id=pk, stage=stage, send_on=due_on + offset) for pk, due_on in due.iterator()]
            for start in range(0, len(rows), 1000):
                # ignore_conflicts: a concurrent planner may have written the same key; the unique index decides.
                Notice.objects.bulk_create(rows[start : start + 1000], ignore_conflicts=True)
            created += len(rows)
    return created


# --- 2. Group ---------------------------------------------------------------------------------------------------


@dataclass
class GroupResult:
    emails: int = 0
    no_channel: int = 0
    skipped: int = 0


def _lock(queryset):
    """Row locks for the claim; PostgreSQL skips rows another worker holds, SQLite serialises write transactions."""
    return queryset.select_for_update(skip_locked=True, of=("self",))


GROUP_CHUNK_OWNERS = 500


def group_notices(*, run: ReminderRun | None) -> GroupResult:
    """Put every unassigned pending notice into its owner's email (or follow-up entry), a few hundred owners per
    transaction: the memory and the write lock stay small whatever the day's volume."""
    result = GroupResult()
    unassigned = Notice.objects.filter(status=Notice.Status.PENDING, delivery__isnull=True)
    owners = sorted(set(unassigned.values_list("reminder__animal__owner_id", flat=True)))
    for start in range(0, len(owners), GROUP_CHUNK_OWNERS):
        chunk = _group_chunk(run=run, owner_ids=owners[start : start + GROUP_CHUNK_OWNERS])
        result.emails += chunk.emails
        result.no_channel += chunk.no_channel
        result.skipped += chunk.skipped
    return result


@transaction.atomic
def _group_chunk(*, run: ReminderRun | None, owner_ids: list[int]) -> GroupResult:
    result = GroupResult()
    notices = list(
        _lock(
            Notice.objects.filter(
                status=Notice.Status.PENDING, delivery__isnull=True, reminder__animal__owner_id__in=owner_ids
            )
        ).select_related("reminder__animal__owner")
    )
    if not notices:
        return result
    now = timezone.now()
    skipped: list[Notice] = []
    latest_stage: dict[int, int] = {}
    for notice in notices:
        latest_stage[notice.reminder_id] = max(latest_stage.get(notice.reminder_id, notice.stage), notice.stage)
    by_client: dict[int, list[Notice]] = defaultdict(list)
    clients: dict[int, Client] = {}
    for notice in notices:
        reminder = notice.reminder
        animal = reminder.animal
        if reminder.status != Reminder.Status.PENDING:
            notice.skip_reason = f"reminder {reminder.status} before it was sent"
        elif animal.is_deceased or not animal.is_active or not animal.owner.is_active:
            notice.skip_reason = "animal or owner no longer active"
        elif notice.stage < latest_stage[notice.reminder_id]:
            notice.skip_reason = "a later notice of the same reminder went instead"
        else:
            by_client[animal.owner_id].append(notice)
            clients[animal.owner_id] = animal.owner
            continue
        notice.status = Notice.Status.SKIPPED
        skipped.append(notice)
    Notice.objects.bulk_update(skipped, ["status", "skip_reason"], batch_size=500)
    result.skipped = len(skipped)

    # An email still waiting (pending, or waiting for a retry) takes the owner's new items too: one email each.
    open_deliveries = {
        d.client_id: d
        for d in _lock(
            Delivery.objects.filter(
                client_id__in=list(by_client),
                channel=Delivery.Channel.EMAIL,
                status__in=[Delivery.Status.PENDING, Delivery.Status.RETRY],
            ).order_by("id")
        )
    }
    new: list[Delivery] = []
    for client_id, client in clients.items():
        channel, reason = channel_for(client)
        if channel == Delivery.Channel.EMAIL and client_id in open_deliveries:
            continue
        new.append(
            Delivery(
                client_id=client_id,
                run=run,
                channel=channel,
                status=Delivery.Status.PENDING if channel == Delivery.Channel.EMAIL else Delivery.Status.NO_CHANNEL,
                reason=reason,
                to_email=client.email if channel == Delivery.Channel.EMAIL else "",
            )
        )
    Delivery.objects.bulk_create(new, batch_size=500)
    target: dict[int, Delivery] = {**open_deliveries}
    for delivery in new:
        target[delivery.client_id] = delivery
    assigned: list[Notice] = []
    for client_id, client_notices in by_client.items():
        delivery = target[client_id]
        for notice in client_notices:
            notice.delivery = delivery
            if delivery.channel == Delivery.Channel.NONE:
                notice.status = Notice.Status.NO_CHANNEL
            assigned.append(notice)
        if delivery.channel == Delivery.Channel.NONE:
            result.no_channel += 1
        else:
            result.emails += 1
    Notice.objects.bulk_update(assigned, ["delivery", "status"], batch_size=500)
    if run is not None:
        ReminderRun.objects.filter(pk=run.pk).update(no_channel=F("no_channel") + result.no_channel)
    logger.info(
        "grouped %s notices: %s emails, %s no channel (at %s)", len(assigned), result.emails, result.no_channel, now
    )
    return result


# --- 3. Send ---------------------------------------------------------------------------------------------------


class SmtpUnavailable(Exception):
    """The server cannot be reached or dropped the connection: stop this run, retry later."""


def _permanent(code: int | None) -> bool:
    return code is not None and 500 <= code < 600


def _is_due(now: dt.datetime) -> Q:
    return Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.RETRY, next_attempt_at__lte=now)


# What each outcome adds to the run that produced it, written in the same transaction as the outcome itself: a run
# killed at any moment has counters that say exactly what it did.
RUN_COUNTER: dict[str, str] = {
    Delivery.Status.SENT: "emails_sent",
    Delivery.Status.FAILED: "emails_failed",
    Delivery.Status.RETRY: "emails_deferred",
    Delivery.Status.NO_CHANNEL: "no_channel",
    Delivery.Status.UNCONFIRMED: "emails_unconfirmed",
}
NOTICE_OUTCOME: dict[str, str] = {
    Delivery.Status.FAILED: Notice.Status.FAILED,
    Delivery.Status.SKIPPED: Notice.Status.SKIPPED,
    Delivery.Status.NO_CHANNEL: Notice.Status.NO_CHANNEL,
}


@transaction.atomic
def _settle(claim: Q, delivery: Delivery, *, status: str, run_id: int | None, **fields) -> bool:
    """Give a claimed email its outcome, count it on its run and close its pending notices (except a sent email's:
    ``settle_sent_notices`` does those). False when the claim is no longer ours (the lease ran out)."""
    updated = Delivery.objects.filter(claim).update(
        status=status, claim_token=None, claimed_at=None, phase=Delivery.Phase.NOT_BEGUN, **fields
    )
    if not updated:
        return False
    if run_id is not None and status in RUN_COUNTER:
        counter = RUN_COUNTER[status]
        ReminderRun.objects.filter(pk=run_id).update(**{counter: F(counter) + 1})
    if status in NOTICE_OUTCOME:
        Notice.objects.filter(delivery=delivery, status=Notice.Status.PENDING).update(status=NOTICE_OUTCOME[status])
    if status == Delivery.Status.SENT:
        events.publish("reminder.sent", delivery, changed={"status"})
    return True


def _defer(delivery: Delivery, claim: Q, *, run_id: int | None, now: dt.datetime, error: str, retry_now=False) -> str:
    """A temporary failure of an attempt (already counted in ``delivery.attempts``): try again later with
    exponential backoff, or give up after the last attempt."""
    if delivery.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        _settle(claim, delivery, status=Delivery.Status.FAILED, run_id=run_id, last_error=error[:2000])
        return Delivery.Status.FAILED
    delay = 0 if retry_now else settings.REMINDER_RETRY_SECONDS * 2 ** max(delivery.attempts - 1, 0)
    _settle(
        claim,
        delivery,
        status=Delivery.Status.RETRY,
        run_id=run_id,
        next_attempt_at=now + dt.timedelta(seconds=delay),
        last_error=error[:2000],
    )
    return Delivery.Status.RETRY


POSSIBLY_SENT = (
    "The worker stopped while the mail server was answering: the server had the whole message and has probably "
    "delivered it. Not sent again automatically; check the mail server's log for its Message-ID, then send it again "
    "or mark it sent (manage.py reminders_unconfirmed)."
)


def _settle_abandoned(deliveries, *, now: dt.datetime, why: str) -> int:
    """Claims whose worker stopped (killed, or stopped by the task timeout) are settled by how far their SMTP
    conversation went, which the worker wrote down as it went (``Delivery.phase``):

    - not begun: nothing was tried, so nothing is counted; the email waits for the next run as if never claimed;
    - talking: the attempt counts; the server never had the whole message (an unfinished DATA is discarded), so
      it is sent again at once (or fails, after the last attempt);
    - awaiting the reply: the server had the whole message and has almost surely accepted it: possibly sent,
      kept for a check rather than sent twice.
    """
    settled = 0
    with transaction.atomic():
        for delivery in _lock(deliveries):
            claim = Q(pk=delivery.pk, status=Delivery.Status.SENDING, claim_token=delivery.claim_token)
            if delivery.phase == Delivery.Phase.NOT_BEGUN:
                Delivery.objects.filter(claim).update(
                    status=Delivery.Status.PENDING, claim_token=None, claimed_at=None, claim_run=None
                )
            elif delivery.phase == Delivery.Phase.TALKING:
                _defer(
                    delivery,
                    claim,
                    run_id=delivery.claim_run_id,
                    now=now,
                    error=f"{why} during the SMTP conversation; sending again",
                    retry_now=True,
                )
            else:
                _settle(
                    claim,
                    delivery,
                    status=Delivery.Status.UNCONFIRMED,
                    run_id=delivery.claim_run_id,
                    message_id=message_id(delivery),
                    last_error=POSSIBLY_SENT,
                )
            settled += 1
    return settled


def release_stale_claims(*, now: dt.datetime | None = None) -> int:
    """Claims older than the lease belong to a worker that died: settle them by how far they got."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS)
    stale = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=cutoff)
    return _settle_abandoned(stale, now=now, why="the worker stopped")


def sendable_count(*, now: dt.datetime | None = None) -> int:
    return Delivery.objects.filter(_is_due(now or timezone.now()), channel=Delivery.Channel.EMAIL).count()


def claim_batch(
    *, size: int, now: dt.datetime | None = None, run: ReminderRun | None = None
) -> tuple[uuid.UUID, list[Delivery]]:
    """Claim up to ``size`` due emails for this worker and load them with everything their email needs (three
    queries for the whole batch). The claim renews the run's lease (its heartbeat)."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            _lock(Delivery.objects.filter(_is_due(now), channel=Delivery.Channel.EMAIL).order_by("id")).values_list(
                "id", flat=True
            )[:size]
        )
        if run is not None:
            ReminderRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
        if not ids:
            return token, []
        Delivery.objects.filter(id__in=ids).update(
            status=Delivery.Status.SENDING,
            claim_token=token,
            claimed_at=now,
            claim_run=run,
            phase=Delivery.Phase.NOT_BEGUN,
        )
    batch = list(
        Delivery.objects.filter(claim_token=token, status=Delivery.Status.SENDING)
        .select_related("client")
        .prefetch_related(
            Prefetch(
                "notices",
                queryset=Notice.objects.filter(status=Notice.Status.PENDING)
                .select_related("reminder__type", "reminder__animal")
                .order_by("reminder__due_on", "id"),
            )
        )
        .order_by("id")
    )
    return token, batch


def message_id(delivery: Delivery) -> str:
    """Stable per delivery: a copy sent again after a crash carries the same Message-ID."""
    return message_id_for(delivery.pk, delivery.created_at)


def message_id_for(pk: int, created_at: dt.datetime) -> str:
    """The Message-ID of the delivery ``pk`` made at ``created_at`` (the seeding writes it before the row exists)."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "vetpms.invalid"
    return f"<reminder-{pk}-{created_at:%Y%m%d}@{domain}>"


def build_message(delivery: Delivery, notices: list[Notice], *, connection=None) -> EmailMultiAlternatives:
    client = delivery.client
    items = [
        rendering.Item(
            pet=n.reminder.animal.name,
            what=n.reminder.type.name,
            due_on=n.reminder.due_on,
            type_name=n.reminder.type.name,
        )
        for n in notices
    ]
    lead = min(notices, key=lambda n: (n.reminder.due_on, n.reminder.type.name)).reminder.type
    link = unsubscribe_url(client_id=client.pk, delivery_id=delivery.pk)
    types = {n.reminder.type.name: n.reminder.type for n in notices}
    email = rendering.render(reminder_type=lead, client=client, items=items, unsubscribe_url=link, types=types)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=practice_sender(),
        to=[delivery.to_email],
        connection=connection,
        headers={
            "Message-ID": message_id(delivery),
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            # Which outbox rows this email carries: for support questions ("did Rex's reminder go?") and the tests.
            "X-VetPMS-Notices": " ".join(f"{n.reminder_id}:{n.stage}" for n in notices),
        },
    )
    message.attach_alternative(email.html, "text/html")
    return message


def _mark_sent(delivery: Delivery, claim: Q, *, run_id: int | None, message: EmailMultiAlternatives) -> bool:
    """Record the server's acceptance: one short transaction straight after the reply. Its notices follow in
    ``settle_sent_notices`` (the email's notices are fixed while it is claimed: grouping only joins waiting
    emails)."""
    updated = _settle(
        claim,
        delivery,
        status=Delivery.Status.SENT,
        run_id=run_id,
        sent_at=timezone.now(),
        subject=message.subject[:300],
        message_id=message.extra_headers["Message-ID"],
        last_error="",
        next_attempt_at=None,
    )
    if not updated:
        # Our lease ran out and another worker took the email over: it may go twice. Leave its record alone.
        logger.warning("delivery %s was sent after its claim expired", delivery.pk)
    return updated


def settle_sent_notices(delivery_ids: list[int] | None = None) -> int:
    """Mark the notices of sent emails sent, with their email's time: after each batch, and at the start of a run
    for a batch whose worker died before doing it."""
    notices = Notice.objects.filter(status=Notice.Status.PENDING, delivery__status=Delivery.Status.SENT)
    if delivery_ids is not None:
        notices = notices.filter(delivery_id__in=delivery_ids)
    return notices.update(
        status=Notice.Status.SENT,
        sent_at=Subquery(Delivery.objects.filter(pk=OuterRef("delivery_id")).values("sent_at")[:1]),
    )


def _send_one(delivery: Delivery, *, token: uuid.UUID, connection, run_id: int | None) -> str:
    """Send one claimed delivery; returns its new status. Raises SmtpUnavailable, before counting an attempt,
    when the server cannot be reached, and after settling the email when the server went away mid-conversation."""
    now = timezone.now()
    loaded = list(delivery.notices.all())
    notices = [n for n in loaded if n.reminder.status == Reminder.Status.PENDING]
    claim = Q(pk=delivery.pk, claim_token=token, status=Delivery.Status.SENDING)
    if len(notices) < len(loaded):
        # Completed or cancelled since it was planned (the pet was vaccinated yesterday): not worth an email.
        Notice.objects.filter(pk__in=[n.pk for n in loaded if n not in notices]).update(
            status=Notice.Status.SKIPPED, skip_reason="reminder closed before it was sent"
        )
    if not notices:
        _settle(claim, delivery, status=Delivery.Status.SKIPPED, run_id=run_id, last_error="")
        return Delivery.Status.SKIPPED
    channel, reason = channel_for(delivery.client)
    if channel != Delivery.Channel.EMAIL:
        # Consent withdrawn (or the address removed) after the email was planned: to the follow-up list.
        status = Delivery.Status.NO_CHANNEL
        _settle(claim, delivery, status=status, run_id=run_id, channel=Delivery.Channel.NONE, reason=reason)
        return Delivery.Status.NO_CHANNEL
    if delivery.client.email != delivery.to_email:
        # The owner gave a new address since (an email waiting for a retry): it goes to the address of today.
        Delivery.objects.filter(claim).update(to_email=delivery.client.email)
        delivery.to_email = delivery.client.email
    message = build_message(delivery, notices, connection=connection)
    try:
        connection.open()  # opened once and kept open across the batch (send() would close a connection it opened)
    except (OSError, smtplib.SMTPException) as exc:
        _close_quietly(connection)
        raise SmtpUnavailable(f"SMTP server unavailable: {exc}") from exc  # no conversation: not an attempt

    # The conversation for this email begins: that, and only that, is an attempt. Each step is written down before
    # it is taken, so whoever finds the claim of a worker that died knows how far it went (_settle_abandoned).
    if not Delivery.objects.filter(claim).update(attempts=F("attempts") + 1, phase=Delivery.Phase.TALKING):
        return Delivery.Status.SENDING  # the lease ran out and another worker took it over: theirs now
    delivery.attempts += 1
    awaiting = False

    def after_end_of_data() -> None:
        nonlocal awaiting
        awaiting = True
        Delivery.objects.filter(claim).update(phase=Delivery.Phase.AWAITING_REPLY)

    if hasattr(connection, "set_end_of_data_hook"):
        connection.set_end_of_data_hook(after_end_of_data)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (None, b""))
        error = f"{code} {_text(text)}"
        if _permanent(code):
            _settle(claim, delivery, status=Delivery.Status.FAILED, run_id=run_id, last_error=error[:2000])
            return Delivery.Status.FAILED
        return _defer(delivery, claim, run_id=run_id, now=now, error=error)
    except smtplib.SMTPResponseException as exc:  # an answer: the message was not accepted
        error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if _permanent(exc.smtp_code):
            _settle(claim, delivery, status=Delivery.Status.FAILED, run_id=run_id, last_error=error[:2000])
            return Delivery.Status.FAILED
        if exc.smtp_code == 421:  # the server is closing the connection: stop for now
            _close_quietly(connection)
            _defer(delivery, claim, run_id=run_id, now=now, error=error)
            raise SmtpUnavailable(error) from exc
        return _defer(delivery, claim, run_id=run_id, now=now, error=error)
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:  # no answer (SMTPServerDisconnected is one)
        _close_quietly(connection)
        if awaiting:
            # The server had the whole message when the line went quiet: it may well have accepted it.
            _settle(
                claim,
                delivery,
                status=Delivery.Status.UNCONFIRMED,
                run_id=run_id,
                subject=message.subject[:300],
                message_id=message.extra_headers["Message-ID"],
                last_error=f"{POSSIBLY_SENT} ({type(exc).__name__}: {exc})"[:2000],
            )
        else:
            _defer(delivery, claim, run_id=run_id, now=now, error=f"connection lost: {exc}")
        raise SmtpUnavailable(str(exc)) from exc
    finally:
        if hasattr(connection, "set_end_of_data_hook"):
            connection.set_end_of_data_hook(None)
    _mark_sent(delivery, claim, run_id=run_id, message=message)
    return Delivery.Status.SENT


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:
        logger.debug("closing a broken SMTP connection failed", exc_info=True)


def _abort(connection) -> None:
    smtp = getattr(connection, "connection", None)
    if smtp is not None:
        try:
            smtp.close()  # the socket only, no QUIT
        except OSError:
            logger.debug("dropping an SMTP connection failed", exc_info=True)
        connection.connection = None


def _release(deliveries: Iterable[Delivery], *, token: uuid.UUID, run_id: int | None, deferred: bool) -> int:
    """Give back claimed emails that were not tried (the server went away, or this task's time is up): no attempt
    is counted. ``deferred``: count them on the run as waiting for the server."""
    ids = [d.pk for d in deliveries]
    with transaction.atomic():
        released = Delivery.objects.filter(pk__in=ids, claim_token=token, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.PENDING, claim_token=None, claimed_at=None, claim_run=None
        )
        if deferred and run_id is not None:
            ReminderRun.objects.filter(pk=run_id).update(emails_deferred=F("emails_deferred") + released)
    return released


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    no_channel: int = 0
    skipped: int = 0
    unconfirmed: int = 0
    smtp_unavailable: bool = False
    more: bool = False  # stopped because its time was up, with emails still due

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred + self.no_channel + self.skipped + self.unconfirmed

    def add(self, status: str) -> None:
        names: dict[str, str] = {
            Delivery.Status.SENT: "sent",
            Delivery.Status.FAILED: "failed",
            Delivery.Status.RETRY: "deferred",
            Delivery.Status.NO_CHANNEL: "no_channel",
            Delivery.Status.UNCONFIRMED: "unconfirmed",
            Delivery.Status.SKIPPED: "skipped",
        }
        name = names.get(status)
        if name:
            setattr(self, name, getattr(self, name) + 1)


def send_due(
    *, run: ReminderRun | None = None, batch_size: int | None = None, seconds: float | None = None
) -> SendResult:
    """Send every email that is due (new ones and retries whose time has come), batch by batch, over one SMTP
    connection. Stops early, leaving the rest for the retry schedule, when the server is unavailable; with
    ``seconds``, stops claiming once that much time has passed and says so (``more``): a task sends a bounded part
    of a big day and queues the next, so no task meets the queue's timeout."""
    result = SendResult()
    release_stale_claims()
    settle_sent_notices()
    size = batch_size or settings.REMINDER_BATCH_SIZE
    deadline = time.monotonic() + seconds if seconds else None
    run_id = run.pk if run is not None else None
    connection = reminder_connection()
    token: uuid.UUID | None = None
    batch: list[Delivery] = []
    try:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                result.more = sendable_count() > 0
                break
            token, batch = claim_batch(size=size, run=run)
            if not batch:
                break
            for index, delivery in enumerate(batch):
                if deadline is not None and time.monotonic() >= deadline:
                    _release(batch[index:], token=token, run_id=run_id, deferred=False)  # the next task sends them
                    result.more = True
                    break
                try:
                    status = _send_one(delivery, token=token, connection=connection, run_id=run_id)
                except SmtpUnavailable:
                    tried = Delivery.objects.filter(pk=delivery.pk).values_list("status", flat=True).first()
                    result.add(tried or "")
                    result.deferred += _release(batch[index:], token=token, run_id=run_id, deferred=True)
                    result.smtp_unavailable = True
                    break
                result.add(status)
            settle_sent_notices([d.pk for d in batch])
            if result.smtp_unavailable or result.more:
                break
    except BaseException:
        # django-q2's timeout (a SystemExit raised wherever the task is), Ctrl+C: hand back this worker's claims now,
        # by how far each got, rather than leaving them to the lease. The connection is dropped, not closed with a
        # QUIT: a server that stopped answering would hold the worker past the few seconds it has left.
        _abort(connection)
        if token is not None:
            _after_interruption(lambda: _settle_abandoned(_claimed_by(token), now=timezone.now(), why="stopped"))
            _after_interruption(lambda: settle_sent_notices([d.pk for d in batch]))
        raise
    finally:
        _close_quietly(connection)
    return result


def _claimed_by(token: uuid.UUID):
    return Delivery.objects.filter(claim_token=token, status=Delivery.Status.SENDING)


def _after_interruption(write) -> None:
    """A write after an exception raised by a signal, which may have cut a query short and left the database
    connection unusable: one try on the connection as it is, one on a new one; the lease is the last resort."""
    from django.db import DatabaseError, InterfaceError, connection

    try:
        write()
    except (DatabaseError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        try:
            write()
        except (DatabaseError, InterfaceError):
            logger.exception("could not record an interrupted run; the lease will settle it")


# --- Runs -------------------------------------------------------------------------------------------------------


def latest_send_day(now: dt.datetime | None = None) -> dt.date:
    """The last practice day whose send time has come: today after REMINDER_SEND_TIME, else yesterday."""
    from reminders.schedule import send_time

    local_now = to_local(now or timezone.now())
    return local_now.date() if local_now.time() >= send_time() else local_now.date() - dt.timedelta(days=1)


def execute_run(*, run_id: int, seconds: float | None = None) -> ReminderRun:
    """Plan, group and send for ``run``: everything, or, with ``seconds``, for about that long (then the run stays
    running and the caller queues the next part). Safe to execute twice (a task delivered twice): the second pass
    finds nothing new to plan or send. A run already closed (finished, or stopped by the sweep) is left alone."""
    run = ReminderRun.objects.get(pk=run_id)
    if run.status not in (ReminderRun.Status.QUEUED, ReminderRun.Status.RUNNING):
        return run
    now = timezone.now()
    ReminderRun.objects.filter(pk=run.pk).update(
        status=ReminderRun.Status.RUNNING, started_at=run.started_at or now, heartbeat_at=now, error=""
    )
    try:
        # Planning and grouping are idempotent and cheap when nothing is new, so every part of the run repeats them
        # (a first part that died while planning is made good by the next).
        planned = plan_notices(today=run.for_date) if run.trigger != ReminderRun.Trigger.RETRY else 0
        group_notices(run=run)
        ReminderRun.objects.filter(pk=run.pk).update(notices_planned=F("notices_planned") + planned)
        ReminderRun.objects.filter(pk=run.pk).update(
            emails_total=F("emails_sent")
            + F("emails_failed")
            + F("emails_deferred")
            + F("emails_unconfirmed")
            + sendable_count()
        )
        result = send_due(run=run, seconds=seconds)
    except Exception as exc:
        ReminderRun.objects.filter(pk=run.pk).update(
            status=ReminderRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    except BaseException as exc:
        # django-q2 ends a task that outlives Q_CLUSTER["timeout"] with a SystemExit raised inside it.
        error = (
            f"Stopped before the end ({type(exc).__name__}: {exc}). What it did is counted; emails it had not "
            "finished were handed back and the retry schedule sends them."
        )
        _after_interruption(
            lambda: ReminderRun.objects.filter(pk=run.pk, status=ReminderRun.Status.RUNNING).update(
                status=ReminderRun.Status.TIMED_OUT, finished_at=timezone.now(), error=error[:2000]
            )
        )
        raise
    if result.more:
        ReminderRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
    else:
        ReminderRun.objects.filter(pk=run.pk, status=ReminderRun.Status.RUNNING).update(
            status=ReminderRun.Status.FINISHED,
            finished_at=timezone.now(),
            error="The SMTP server was unavailable; the rest will be retried." if result.smtp_unavailable else "",
        )
    run.refresh_from_db()
    return run


def close_stale_runs(*, now: dt.datetime | None = None) -> int:
    """A run whose worker died (SIGKILL, a machine restart, a timeout it could not record) stays "running": once
    its lease has passed it is closed as stopped, with the counters of what it did (each outcome was counted as
    it happened, and its claims are settled first so theirs are too). A run no worker picked up is closed too."""
    now = now or timezone.now()
    release_stale_claims(now=now)
    cutoff = now - dt.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS)
    stopped = ReminderRun.objects.filter(status=ReminderRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    closed = stopped.update(
        status=ReminderRun.Status.STOPPED,
        finished_at=now,
        error="The worker stopped before the end (killed, or the machine restarted). What it did is counted; the "
        "emails it held were handed back.",
    )
    closed += ReminderRun.objects.filter(status=ReminderRun.Status.QUEUED, created_at__lt=cutoff).update(
        status=ReminderRun.Status.STOPPED, finished_at=now, error="No worker picked this run up."
    )
    return closed


def run_start(*, by: User) -> ReminderRun:
    """A manager's "run now": queue a run for today. Refused while another run is queued or running."""
    from django_q.tasks import async_task

    close_stale_runs()
    with transaction.atomic():
        active = ReminderRun.objects.select_for_update().filter(
            status__in=[ReminderRun.Status.QUEUED, ReminderRun.Status.RUNNING]
        )
        if active.exists():
            raise DomainError("A reminder run is already in progress; wait for it to finish.", code="run_active")
        run = ReminderRun.objects.create(
            trigger=ReminderRun.Trigger.MANUAL, for_date=local_today(), started_by=by, status=ReminderRun.Status.QUEUED
        )
    task_id = async_task("reminders.tasks.execute_run", run.pk, task_name=f"reminder run {run.pk}")
    ReminderRun.objects.filter(pk=run.pk).update(task_id=str(task_id or ""))
    run.refresh_from_db()
    return run


# --- Possibly sent: after a check -------------------------------------------------------------------------------


@transaction.atomic
def unconfirmed_resolve(*, delivery: Delivery, was_sent: bool) -> Delivery:
    """After someone checked the mail server's log for a possibly sent email: it went (its notices are marked
    sent), or it did not (it is sent again, with the same Message-ID, by the next run or retry sweep)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != Delivery.Status.UNCONFIRMED:
        raise DomainError(f"This email is {delivery.get_status_display().lower()}, not possibly sent.", code="status")
    now = timezone.now()
    if was_sent:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.SENT, sent_at=delivery.claimed_at or now, last_error="Checked: it was sent."
        )
        settle_sent_notices([delivery.pk])
    else:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.RETRY, next_attempt_at=now, last_error="Checked: not received; sending again."
        )
    delivery.refresh_from_db()
    return delivery
