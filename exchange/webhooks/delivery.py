"""Delivering the outbox: claim, sign, POST, record; retry with backoff; keep each object's messages in order.

- **Claim** (``claim_batch``): due deliveries (pending, their time come, their endpoint enabled, and no earlier
  message about the same object for the same endpoint still open) are marked ``sending`` with a claim token, in a
  short transaction; ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, the serialised (IMMEDIATE) write
  transaction on SQLite, so two workers never hold the same delivery. A later message about an object waits while
  an earlier one is pending (also while it waits for a retry) or being sent: it goes once that one succeeded or was
  given up.
- **Send** (``send_one``): the URL is checked again (``net.resolve``: the SSRF guard, and the address it approved is
  the one connected to), the body is signed with every valid secret (decrypted for the moment: they are stored
  encrypted, exchange.webhooks.secret_box) and POSTed with ``WEBHOOK_TIMEOUT_SECONDS``. A secret that no longer
  decrypts (SECRET_KEY changed without a fallback) sends nothing and counts as a failed attempt, with that reason.
- **Record** (``_record``): the attempt (status code, milliseconds, error) and the outcome in one transaction:
  2xx succeeded; 410 Gone failed, and the endpoint is disabled (its receiver says it is gone for good); anything
  else (another status, a refused connection, a timeout, a refused address) is retried after ``retry_delay``:
  exponential from ``WEBHOOK_RETRY_BASE_SECONDS``, capped at ``WEBHOOK_RETRY_MAX_DELAY_SECONDS``, with +-25 %
  jitter (so many receivers' retries do not arrive together), until ``WEBHOOK_GIVE_UP_SECONDS`` (three days) after
  the event, when it fails.
- **Dead workers** (``release_stale_claims``): a claim older than ``WEBHOOK_LEASE_SECONDS`` belongs to a worker
  that died (kill -9, power cut, task timeout); its deliveries become pending at once and are sent again. The
  receiver may then get a message twice (if the worker died after the POST and before recording it): delivery is
  at least once, and ``webhook-id`` is the same on every copy so a receiver drops repeats, as the specification
  asks of receivers.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import random
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from exchange.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from exchange.webhooks import net, secret_box, signing

logger = logging.getLogger(__name__)

D = WebhookDelivery
USER_AGENT = "VetPMS-Webhooks/1"


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base x 2^(attempts-1), capped, +-25 % jitter."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    capped = min(base, settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS)
    return dt.timedelta(seconds=capped * (rng or random).uniform(0.75, 1.25))


def valid_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires and expires > now:
        found.append(endpoint.previous_secret)
    return found


def _open_earlier() -> Exists:
    return Exists(
        D.objects.filter(
            endpoint_id=OuterRef("endpoint_id"),
            object_key=OuterRef("object_key"),
            id__lt=OuterRef("id"),
            status__in=D.OPEN,
        )
    )


def due(now: dt.datetime):
    return D.objects.filter(status=D.Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True).filter(
        ~_open_earlier()
    )


def claim_batch(*, size: int, now: dt.datetime | None = None) -> tuple[uuid.UUID, list[WebhookDelivery]]:
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            due(now)
            .order_by("id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return token, []
        D.objects.filter(id__in=ids, status=D.Status.PENDING).update(
            status=D.Status.SENDING, claim_token=token, claimed_at=now
        )
    batch = list(D.objects.filter(claim_token=token, status=D.Status.SENDING).select_related("endpoint").order_by("id"))
    return token, batch


@dataclass
class Outcome:
    status_code: int | None
    error: str
    response_ms: int | None


def attempt(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> Outcome:
    """One signed POST of ``delivery`` (the network part; writes nothing)."""
    endpoint = delivery.endpoint
    body = delivery.payload.encode()
    timestamp = int(time.time())
    try:
        signature = signing.signature_header(
            valid_secrets(endpoint, now or timezone.now()), msg_id=delivery.msg_id, timestamp=timestamp, body=body
        )
    except secret_box.SecretUnreadable as exc:  # nothing is sent unsigned; retried, so a restored key still helps
        error = f"Not sent: {exc} Rotate the endpoint's secret."
        return Outcome(status_code=None, error=error[:500], response_ms=None)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
    started = time.monotonic()
    try:
        target = net.resolve(endpoint.url)
        code: int | None = net.post(target, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        error = "" if code is not None and 200 <= code < 300 else f"HTTP {code}"
    except net.UnsafeUrl as exc:
        code, error = None, f"Refused: {exc}"
    except TimeoutError:
        code, error = None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s"
    except (OSError, http.client.HTTPException) as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"
    return Outcome(status_code=code, error=error[:500], response_ms=int((time.monotonic() - started) * 1000))


@transaction.atomic
def _record(delivery: WebhookDelivery, token: uuid.UUID, outcome: Outcome, *, now: dt.datetime) -> str:
    """The attempt and its outcome, in one transaction. Returns the delivery's new status ("" when our claim was
    taken over meanwhile: its new holder records its own attempt)."""
    attempts = delivery.attempts + 1
    code = outcome.status_code
    fields: dict = {"attempts": attempts, "last_status_code": code, "last_error": outcome.error, "claim_token": None}
    if code is not None and 200 <= code < 300:
        fields.update(status=D.Status.SUCCEEDED, finished_at=now)
    elif code == 410:
        fields.update(status=D.Status.FAILED, finished_at=now, last_error="410 Gone: the endpoint was disabled")
    else:
        retry_at = now + retry_delay(attempts)
        if retry_at > delivery.created_at + dt.timedelta(seconds=settings.WEBHOOK_GIVE_UP_SECONDS):
            fields.update(status=D.Status.FAILED, finished_at=now, last_error=f"Gave up: {outcome.error}"[:500])
        else:
            fields.update(status=D.Status.PENDING, next_attempt_at=retry_at)
    updated = D.objects.filter(pk=delivery.pk, claim_token=token, status=D.Status.SENDING).update(**fields)
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        status_code=code,
        response_ms=outcome.response_ms,
        error=outcome.error if updated else f"{outcome.error} (after the claim expired)".strip()[:500],
    )
    if not updated:
        logger.warning("webhook delivery %s was sent after its claim expired", delivery.pk)
        return ""
    if code == 410:
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
            enabled=False, disabled_reason=f"The receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
        )
    return fields["status"]


def send_one(delivery: WebhookDelivery, token: uuid.UUID) -> str:
    outcome = attempt(delivery)
    return _record(delivery, token, outcome, now=timezone.now())


def release_stale_claims(*, now: dt.datetime | None = None) -> int:
    """Claims older than the lease: their worker died. Pending again at once, the interruption logged."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    released = 0
    with transaction.atomic():
        stale = D.objects.filter(status=D.Status.SENDING, claimed_at__lte=cutoff).select_for_update(
            skip_locked=True, of=("self",)
        )
        for delivery in stale:
            D.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
                status=D.Status.PENDING, claim_token=None, claimed_at=None, next_attempt_at=now
            )
            WebhookAttempt.objects.create(
                delivery=delivery, at=now, error="The worker stopped during delivery; sending again."
            )
            released += 1
    return released


def _enabled(endpoint_id: int) -> bool:
    return WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).exists()


@dataclass
class RunResult:
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0

    @property
    def attempted(self) -> int:
        return self.succeeded + self.retrying + self.failed


def deliver_due(*, seconds: float | None = None, batch_size: int | None = None) -> RunResult:
    """Claim and send batches until nothing is due or ``seconds`` have passed (the batch in hand is finished)."""
    seconds = settings.WEBHOOK_TASK_SECONDS if seconds is None else seconds
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE
    result = RunResult(released=release_stale_claims())
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        token, batch = claim_batch(size=batch_size)
        if not batch:
            break
        gone: set[int] = set()
        for delivery in batch:
            if delivery.endpoint_id in gone:  # disabled by a 410 earlier in this batch: hand the rest back
                D.objects.filter(pk=delivery.pk, claim_token=token).update(
                    status=D.Status.PENDING, claim_token=None, claimed_at=None
                )
                continue
            status = send_one(delivery, token)
            if status == D.Status.FAILED and delivery.endpoint_id and not _enabled(delivery.endpoint_id):
                gone.add(delivery.endpoint_id)
            if status == D.Status.SUCCEEDED:
                result.succeeded += 1
            elif status == D.Status.PENDING:
                result.retrying += 1
            elif status == D.Status.FAILED:
                result.failed += 1
    return result
