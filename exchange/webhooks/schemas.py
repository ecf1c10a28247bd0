"""Schemas of /api/v1/webhook-endpoints."""

import datetime as dt
import json
from typing import Any

from ninja import Field, Schema

from vetpms.api_utils import InputSchema, QuerySchema


class EndpointIn(InputSchema):
    url: str = Field(..., max_length=2000, description="https:// URL of the receiver (public addresses only).")
    event_types: list[str] = Field(..., max_length=50, description="Event names; see GET event-types.")
    description: str = Field("", max_length=300)
    enabled: bool = True


class EndpointPatch(InputSchema):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=300)
    enabled: bool | None = None


class RotateIn(InputSchema):
    overlap_hours: int = Field(24, ge=0, le=168, description="Hours the previous secret keeps signing too (0-168).")


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str = Field(..., description="Why it was disabled automatically (a 410 Gone), if it was.")
    previous_secret_valid_until: dt.datetime | None = Field(
        None, description="During a rotation: until when the previous secret signs too."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_previous_secret_valid_until(obj) -> dt.datetime | None:
        return obj.previous_secret_expires_at if obj.previous_secret_encrypted else None


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(..., description="whsec_...: shown this once; keep it in the receiver.")


class EventTypeOut(Schema):
    name: str
    description: str


class WebhookDeliveryFilters(QuerySchema):
    status: str | None = Field(None, pattern="^(pending|sending|succeeded|failed)$")


class AttemptOut(Schema):
    at: dt.datetime
    status_code: int | None
    response_ms: int | None
    error: str


class WebhookDeliveryOut(Schema):
    id: int
    msg_id: str = Field(..., description="The webhook-id header: the same on retries and replays.")
    event_type: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    replay_of_id: int | None
    payload: dict[str, Any]

    @staticmethod
    def resolve_payload(obj) -> dict[str, Any]:
        return json.loads(obj.payload)

    @staticmethod
    def resolve_next_attempt_at(obj) -> dt.datetime | None:
        return obj.next_attempt_at if obj.status == "pending" else None


class WebhookDeliveryDetailOut(WebhookDeliveryOut):
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj) -> list[Any]:
        return list(obj.attempt_log.order_by("-id")[:100])
