"""The webhook family: ``WebhookEndpoint`` (a station's receiver), ``Delivery`` (one outbox message
to one endpoint) and ``DeliveryAttempt`` (the delivery log), with what requests send and responses show.

A message goes to the endpoints of its station that were created before it and are still
active when the dispatcher fans it out (within a second or two of its publication); an
endpoint added later does not receive older messages, and deactivating one fails its
pending deliveries (a coordinator may retry them after activating another).  The
dispatcher (:mod:`api.delivery`) owns every column of a delivery but ``retry_requested_at``,
the one a person writes (``POST /v1/deliveries/{id}/retry``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow

URL_MAX_LENGTH = 500
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 500
ERROR_MAX_LENGTH = 300
SECRET_LENGTH = 64
"""Characters of a stored secret (``whsec_`` and 43 of ``secrets.token_urlsafe(32)``; room to spare)."""

DELIVERY_STATES = ("pending", "delivered", "failed")
"""A delivery waits (first try or a retry), reached its receiver (2xx), or gave up."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError(
            "webhook_url", "an http:// or https:// address with a host, e.g. https://sms.example.cn/linli"
        )
    if parts.username or parts.password:
        # The URL is shown in lists and logs: a password in it would leak there.
        raise PydanticCustomError("webhook_url", "no user name or password in the address")
    return value


WebhookUrl = Annotated[
    str, Field(strict=True, min_length=8, max_length=URL_MAX_LENGTH), AfterValidator(_http_url)
]
EndpointName = Annotated[str, Field(strict=True, min_length=1, max_length=NAME_MAX_LENGTH)]
Description = Annotated[str, Field(strict=True, max_length=DESCRIPTION_MAX_LENGTH)]


class WebhookEndpoint(SQLModel, table=True):
    """A station's webhook receiver (its SMS or WeChat gateway): where and with which secret to sign."""

    id: int | None = TableField(default=None, primary_key=True)
    station_id: str = TableField(foreign_key="station.id", index=True)
    url: str = TableField(max_length=URL_MAX_LENGTH)
    name: str = TableField(max_length=NAME_MAX_LENGTH)
    description: str = TableField(default="", max_length=DESCRIPTION_MAX_LENGTH)
    secret: str = TableField(
        max_length=SECRET_LENGTH,
        description="The HMAC key: stored, since the server signs with it; never shown after creation.",
    )
    active: bool = TableField(default=True)
    created_at: dt.datetime = TableField(default_factory=utcnow)
    deactivated_at: dt.datetime | None = TableField(default=None)


class WebhookCreate(BaseModel):
    """A new webhook receiver of a station."""

    model_config = ConfigDict(extra="forbid")

    name: EndpointName = Field(description="What it is, e.g. '短信网关'.")
    url: WebhookUrl = Field(description="Where messages are POSTed (http or https).")
    description: Description = ""


class WebhookPublic(BaseModel):
    """A webhook receiver as clients see it (never its secret)."""

    id: int
    station_id: str
    name: str
    url: str
    description: str
    active: bool
    created_at: dt.datetime
    deactivated_at: dt.datetime | None


class WebhookCreated(WebhookPublic):
    """A created receiver with its signing secret, shown this once."""

    secret: str = Field(
        description=(
            "The HMAC-SHA256 key of X-Linli-Signature: give it to the gateway now, it is not shown again."
        )
    )


class Delivery(SQLModel, table=True):
    """One outbox message to one endpoint: its state, retries and the dispatcher's claim."""

    __table_args__ = (
        UniqueConstraint("message_id", "endpoint_id", name="uq_delivery_message_endpoint"),
        Index("ix_delivery_due", "state", "next_attempt_at"),
    )

    id: int | None = TableField(default=None, primary_key=True)
    message_id: int = TableField(foreign_key="outboxmessage.id", index=True)
    endpoint_id: int = TableField(foreign_key="webhookendpoint.id", index=True)
    station_id: str = TableField(foreign_key="station.id", index=True)
    state: str = TableField(default="pending", max_length=20, description=" / ".join(DELIVERY_STATES))
    attempts: int = TableField(default=0, ge=0, description="Attempts claimed so far.")
    next_attempt_at: dt.datetime = TableField(default_factory=utcnow)
    claimed_by: str | None = TableField(
        default=None, max_length=200, description="The dispatcher sending it now (until lease_until)."
    )
    lease_until: dt.datetime | None = TableField(default=None)
    last_status: int | None = TableField(default=None, description="The receiver's last HTTP status.")
    last_error: str | None = TableField(default=None, max_length=ERROR_MAX_LENGTH)
    delivered_at: dt.datetime | None = TableField(default=None)
    retry_requested_at: dt.datetime | None = TableField(
        default=None, description="When a person last asked to retry it (the audit log says who)."
    )
    created_at: dt.datetime = TableField(default_factory=utcnow)


class DeliveryAttempt(SQLModel, table=True):
    """One try of a delivery: when, the HTTP status or the error, how long (never the body: it
    holds personal data)."""

    id: int | None = TableField(default=None, primary_key=True)
    delivery_id: int = TableField(foreign_key="delivery.id", index=True)
    attempt: int = TableField(ge=1)
    at: dt.datetime = TableField(default_factory=utcnow)
    status: int | None = TableField(default=None)
    error: str | None = TableField(default=None, max_length=ERROR_MAX_LENGTH)
    duration_ms: int = TableField(default=0, ge=0)


class AttemptPublic(BaseModel):
    """One line of the delivery log."""

    attempt: int
    at: dt.datetime
    status: int | None = Field(description="The receiver's HTTP status, or null when it did not answer.")
    error: str | None = Field(description="Why it failed (a timeout, a refused connection, a status).")
    duration_ms: int


class DeliveryPublic(BaseModel):
    """A message's delivery to one endpoint, with its attempts."""

    id: int
    key: str = Field(description="The message's idempotency key (X-Linli-Key).")
    plan_id: int
    week_start: dt.date
    recipient_kind: str
    recipient_id: str
    endpoint_id: int
    endpoint_name: str
    state: str = Field(description=" / ".join(DELIVERY_STATES))
    attempts: int
    next_attempt_at: dt.datetime | None = Field(description="When a pending one is tried next.")
    last_status: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    log: list[AttemptPublic]
