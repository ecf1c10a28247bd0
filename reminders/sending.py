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
   A claim whose worker died (SIGKILL, power cut) is released after ``REMINDER_SEND_LEASE_SECONDS`` and sent again.

The one case no outbox can close: a worker killed in the instant between the server's "250 accepted" and the
database commit that records it. That email is sent again when the lease expires, with the same ``Message-ID``
(mail programs show it once). Everything else (a kill at any other moment, the server down, a task run twice,
concurrent workers) ends with every notice received exactly once; tests/reminders/test_faults.py shows it.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from clients.models import Client
from reminders import rendering
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType
from reminders.unsubscribe import unsubscribe_url
from vetpms.errors import DomainError
from vetpms.models import User
from vetpms.timeutils import to_local

logger = logging.getLogger(__name__)

Delivery = ReminderDelivery
Notice = ReminderNotice


def local_today(at: dt.datetime | None = None) -> dt.date:
    return to_local(at or timezone.now()).date()


def channel_for(client: Client) -> tuple[str, str]:
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


# --- 3. Send ----------------------------------------------------------------------------------------------------


class SmtpUnavailable(Exception):
    """The server cannot be reached or dropped the connection: stop this run, retry later."""


def _permanent(code: int | None) -> bool:
    return code is not None and 500 <= code < 600


def _is_due(now: dt.datetime) -> Q:
    return Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.RETRY, next_attempt_at__lte=now)


def release_stale_claims(*, now: dt.datetime | None = None) -> int:
    """Claims older than the lease belong to a worker that died: count the attempt and let them be sent again."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS)
    stale = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=cutoff)
    released = 0
    with transaction.atomic():
        for delivery in _lock(stale):
            _defer(
                delivery, now=now, error="the worker stopped while sending; sending again", token=None, retry_now=True
            )
            released += 1
    return released


def sendable_count(*, now: dt.datetime | None = None) -> int:
    return Delivery.objects.filter(_is_due(now or timezone.now()), channel=Delivery.Channel.EMAIL).count()


def claim_batch(*, size: int, now: dt.datetime | None = None) -> tuple[uuid.UUID, list[Delivery]]:
    """Claim up to ``size`` due emails for this worker and load them with everything their email needs (three
    queries for the whole batch)."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            _lock(Delivery.objects.filter(_is_due(now), channel=Delivery.Channel.EMAIL).order_by("id")).values_list(
                "id", flat=True
            )[:size]
        )
        if not ids:
            return token, []
        Delivery.objects.filter(id__in=ids).update(status=Delivery.Status.SENDING, claim_token=token, claimed_at=now)
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
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "vetpms.invalid"
    return f"<reminder-{delivery.pk}-{delivery.created_at:%Y%m%d}@{domain}>"


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
    email = rendering.render(reminder_type=lead, client=client, items=items, unsubscribe_url=link)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
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


def _defer(
    delivery: Delivery, *, now: dt.datetime, error: str, token: uuid.UUID | None, retry_now: bool = False
) -> str:
    """A temporary failure: try again later with exponential backoff, or give up after the last attempt."""
    attempts = delivery.attempts + 1
    claim = Q(pk=delivery.pk, status=Delivery.Status.SENDING)
    if token is not None:
        claim &= Q(claim_token=token)
    if attempts >= settings.REMINDER_MAX_ATTEMPTS:
        _finish(claim, delivery, status=Delivery.Status.FAILED, attempts=attempts, error=error, now=now)
        return Delivery.Status.FAILED
    delay = 0 if retry_now else settings.REMINDER_RETRY_SECONDS * 2 ** (attempts - 1)
    Delivery.objects.filter(claim).update(
        status=Delivery.Status.RETRY,
        attempts=attempts,
        next_attempt_at=now + dt.timedelta(seconds=delay),
        last_error=error[:2000],
        claim_token=None,
        claimed_at=None,
    )
    return Delivery.Status.RETRY


@transaction.atomic
def _finish(claim: Q, delivery: Delivery, *, status: str, attempts: int, error: str, now: dt.datetime) -> None:
    updated = Delivery.objects.filter(claim).update(
        status=status, attempts=attempts, last_error=error[:2000], claim_token=None, next_attempt_at=None
    )
    if updated:
        notice_status = Notice.Status.FAILED if status == Delivery.Status.FAILED else Notice.Status.SKIPPED
        Notice.objects.filter(delivery=delivery, status=Notice.Status.PENDING).update(status=notice_status)


def _mark_sent(delivery: Delivery, *, token: uuid.UUID, message: EmailMultiAlternatives) -> bool:
    """Record the server's acceptance: one UPDATE, in autocommit, straight after the reply, so the window in which
    a killed worker leaves a sent email unrecorded is one round trip to the database. Its notices follow in
    ``settle_sent_notices`` (the email's notices are fixed while it is claimed: grouping only joins waiting
    emails)."""
    updated = Delivery.objects.filter(pk=delivery.pk, claim_token=token, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        attempts=F("attempts") + 1,
        subject=message.subject[:300],
        message_id=message.extra_headers["Message-ID"],
        last_error="",
        claim_token=None,
        next_attempt_at=None,
    )
    if not updated:
        # Our lease ran out and another worker took the email over: it may go twice. Leave its record alone.
        logger.warning("delivery %s was sent after its claim expired", delivery.pk)
    return bool(updated)


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


def _send_one(delivery: Delivery, *, token: uuid.UUID, connection) -> str:
    """Send one claimed delivery; returns its new status. Raises SmtpUnavailable when the server is unreachable."""
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
        _finish(claim, delivery, status=Delivery.Status.SKIPPED, attempts=delivery.attempts, error="", now=now)
        return Delivery.Status.SKIPPED
    channel, reason = channel_for(delivery.client)
    if channel != Delivery.Channel.EMAIL:
        # Consent withdrawn (or the address removed) after the email was planned: to the follow-up list.
        with transaction.atomic():
            Delivery.objects.filter(claim).update(
                status=Delivery.Status.NO_CHANNEL, channel=Delivery.Channel.NONE, reason=reason, claim_token=None
            )
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(status=Notice.Status.NO_CHANNEL)
        return Delivery.Status.NO_CHANNEL
    if delivery.client.email != delivery.to_email:
        # The owner gave a new address since (an email waiting for a retry): it goes to the address of today.
        Delivery.objects.filter(claim).update(to_email=delivery.client.email)
        delivery.to_email = delivery.client.email
    message = build_message(delivery, notices, connection=connection)
    try:
        connection.open()  # opened once and kept open across the batch (send() would close a connection it opened)
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (None, b""))
        error = f"{code} {_text(text)}"
        if _permanent(code):
            _finish(
                claim, delivery, status=Delivery.Status.FAILED, attempts=delivery.attempts + 1, error=error, now=now
            )
            return Delivery.Status.FAILED
        return _defer(delivery, now=now, error=error, token=token)
    except smtplib.SMTPServerDisconnected as exc:
        _close_quietly(connection)
        _defer(delivery, now=now, error=f"connection lost: {exc}", token=token)
        raise SmtpUnavailable(str(exc)) from exc
    except smtplib.SMTPResponseException as exc:
        error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if _permanent(exc.smtp_code):
            _finish(
                claim, delivery, status=Delivery.Status.FAILED, attempts=delivery.attempts + 1, error=error, now=now
            )
            return Delivery.Status.FAILED
        if exc.smtp_code == 421:  # the server is closing the connection: stop for now
            _close_quietly(connection)
            _defer(delivery, now=now, error=error, token=token)
            raise SmtpUnavailable(error) from exc
        return _defer(delivery, now=now, error=error, token=token)
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        _close_quietly(connection)
        _defer(delivery, now=now, error=f"SMTP server unavailable: {exc}", token=token)
        raise SmtpUnavailable(str(exc)) from exc
    _mark_sent(delivery, token=token, message=message)
    return Delivery.Status.SENT


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:
        logger.debug("closing a broken SMTP connection failed", exc_info=True)


def _release(deliveries: Iterable[Delivery], *, token: uuid.UUID) -> int:
    """Give back claimed emails that were not tried (the server went away): no attempt is counted."""
    ids = [d.pk for d in deliveries]
    return Delivery.objects.filter(pk__in=ids, claim_token=token, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, claim_token=None, claimed_at=None
    )


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    no_channel: int = 0
    skipped: int = 0
    smtp_unavailable: bool = False

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred + self.no_channel + self.skipped


def send_due(*, run: ReminderRun | None = None, batch_size: int | None = None) -> SendResult:
    """Send every email that is due (new ones and retries whose time has come), batch by batch, over one SMTP
    connection. Stops early, leaving the rest for the retry schedule, when the server is unavailable."""
    result = SendResult()
    release_stale_claims()
    settle_sent_notices()
    size = batch_size or settings.REMINDER_BATCH_SIZE
    connection = get_connection(fail_silently=False)
    try:
        while True:
            token, batch = claim_batch(size=size)
            if not batch:
                break
            progress = SendResult()
            for index, delivery in enumerate(batch):
                try:
                    status = _send_one(delivery, token=token, connection=connection)
                except SmtpUnavailable:
                    progress.deferred += 1 + _release(batch[index + 1 :], token=token)
                    result.smtp_unavailable = True
                    break
                if status == Delivery.Status.SENT:
                    progress.sent += 1
                elif status == Delivery.Status.FAILED:
                    progress.failed += 1
                elif status == Delivery.Status.RETRY:
                    progress.deferred += 1
                elif status == Delivery.Status.NO_CHANNEL:
                    progress.no_channel += 1
                else:
                    progress.skipped += 1
            settle_sent_notices([d.pk for d in batch])
            for name in ("sent", "failed", "deferred", "no_channel", "skipped"):
                setattr(result, name, getattr(result, name) + getattr(progress, name))
            if run is not None:
                ReminderRun.objects.filter(pk=run.pk).update(
                    emails_sent=F("emails_sent") + progress.sent,
                    emails_failed=F("emails_failed") + progress.failed,
                    emails_deferred=F("emails_deferred") + progress.deferred,
                    no_channel=F("no_channel") + progress.no_channel,
                )
            if result.smtp_unavailable:
                break
    finally:
        _close_quietly(connection)
    return result


# --- Runs -------------------------------------------------------------------------------------------------------


def execute_run(*, run_id: int) -> ReminderRun:
    """Plan, group and send for ``run``. Safe to execute twice (a task delivered twice): the second pass finds
    nothing new to plan or send."""
    run = ReminderRun.objects.get(pk=run_id)
    ReminderRun.objects.filter(pk=run.pk).update(status=ReminderRun.Status.RUNNING, started_at=timezone.now(), error="")
    try:
        planned = plan_notices(today=run.for_date) if run.trigger != ReminderRun.Trigger.RETRY else 0
        group_notices(run=run)
        total = sendable_count()
        ReminderRun.objects.filter(pk=run.pk).update(notices_planned=F("notices_planned") + planned, emails_total=total)
        result = send_due(run=run)
    except Exception as exc:
        ReminderRun.objects.filter(pk=run.pk).update(
            status=ReminderRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    ReminderRun.objects.filter(pk=run.pk).update(
        status=ReminderRun.Status.FINISHED,
        finished_at=timezone.now(),
        error="The SMTP server was unavailable; the rest will be retried." if result.smtp_unavailable else "",
    )
    run.refresh_from_db()
    return run


def _abandon_stuck_runs() -> None:
    """A run whose worker died stays 'running'; after the lease it no longer blocks a new one."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS)
    ReminderRun.objects.filter(
        Q(status=ReminderRun.Status.RUNNING, started_at__lt=cutoff)
        | Q(status=ReminderRun.Status.QUEUED, created_at__lt=cutoff)
    ).update(status=ReminderRun.Status.FAILED, finished_at=timezone.now(), error="The worker stopped before the end.")


def run_start(*, by: User) -> ReminderRun:
    """A manager's "run now": queue a run for today. Refused while another run is queued or running."""
    from django_q.tasks import async_task

    with transaction.atomic():
        _abandon_stuck_runs()
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
