"""Webhooks (Standard Webhooks): the endpoints managers register, the outbox of deliveries, and each attempt.

How an event travels (exchange.webhooks does the work):

    service --publish()--> WebhookDelivery (one per enabled endpoint that wants the event, written in the
                           service's own transaction: gone with a rolled-back change, kept with a committed one)
            --(claimed by a worker, signed, POSTed)--> succeeded (2xx); or retried with backoff for about three
                           days; or failed (gave up, or the endpoint answered 410 Gone and was disabled)

Every POST is a WebhookAttempt row: status code, response time, error.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from exchange.webhooks import secret_box
from vetpms.models import User


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribed to. ``secret`` signs every message (``whsec_`` + base64 of
    random bytes, shown once when made). During a rotation the previous secret also signs until
    ``previous_secret_expires_at``, so a receiver can switch at its own pace.

    The secrets are stored encrypted (``*_encrypted``, exchange.webhooks.secret_box, under a key derived from
    SECRET_KEY); ``secret`` and ``previous_secret`` read and write them in clear, for signing and for the one
    answer that shows a new secret."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=300, blank=True)
    event_types = models.JSONField(default=list, help_text="Event names (vetpms.events.EVENT_TYPES).")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    secret_encrypted = models.CharField(max_length=300)
    previous_secret_encrypted = models.CharField(max_length=300, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def secret(self) -> str:
        return secret_box.unseal(self.secret_encrypted) if self.secret_encrypted else ""

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = secret_box.seal(value) if value else ""

    @property
    def previous_secret(self) -> str:
        return secret_box.unseal(self.previous_secret_encrypted) if self.previous_secret_encrypted else ""

    @previous_secret.setter
    def previous_secret(self, value: str) -> None:
        self.previous_secret_encrypted = secret_box.seal(value) if value else ""


class WebhookDelivery(models.Model):
    """One message to one endpoint: the outbox row. ``payload`` is the exact body, fixed when the event happened;
    ``msg_id`` is the ``webhook-id`` header, the same on every retry (and on a replay) so a receiver can drop a
    repeat. ``object_key`` ("<app>.<model>:<pk>") keeps one endpoint's messages about one object in order: a later
    one waits while an earlier one is still pending or being sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    OPEN = (Status.PENDING, Status.SENDING)

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=60)
    object_key = models.CharField(max_length=80)
    msg_id = models.CharField(max_length=40)
    payload = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The workers' question: what is due (a small partial index: finished rows leave it).
            models.Index(
                fields=["next_attempt_at", "id"],
                name="webhook_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            # "Is an earlier message about this object still open for this endpoint?"
            models.Index(
                fields=["endpoint", "object_key", "id"],
                name="webhook_order",
                condition=Q(status__in=["pending", "sending"]),
            ),
            # The delivery log of one endpoint, newest first, paged by key.
            models.Index(fields=["endpoint", "-id"], name="webhook_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id} -> endpoint {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery (or a claim whose worker stopped): what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}: {self.status_code or self.error}"
