"""The outbox family: ``OutboxMessage``, one message to one person about one published week, and
``MessagePublic``, its client view.

A message is written in the same transaction as the plan version whose publication produced it
(the transactional outbox), so a message exists exactly when its version was published, whatever
happens to the process afterwards; channels (a signed webhook, the hand-sending export) read the
outbox and deliver from it, and its ``key`` is the idempotency key every delivery carries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow

RECIPIENT_KINDS = ("volunteer", "beneficiary")
"""Who a message is for: a volunteer (their sessions) or a beneficiary's family (who comes)."""

KEY_MAX_LENGTH = 80


class OutboxMessage(SQLModel, table=True):
    """One message of a publication: the text a person reads and the same facts as data."""

    id: int | None = TableField(default=None, primary_key=True)
    station_id: str = TableField(foreign_key="station.id", index=True)
    plan_id: int = TableField(
        foreign_key="planversion.id", index=True, description="The published version it announces."
    )
    week_start: dt.date
    recipient_kind: str = TableField(description=" or ".join(RECIPIENT_KINDS))
    recipient_id: str = TableField(description="The volunteer's or the beneficiary's id.")
    key: str = TableField(
        unique=True,
        max_length=KEY_MAX_LENGTH,
        description="Idempotency key: one message, one key, whichever channel and attempt delivers it.",
    )
    body: str = TableField(sa_column=Column(Text, nullable=False), description="The message, in Chinese.")
    payload: dict[str, Any] = TableField(
        sa_column=Column(JSON, nullable=False), description="The message's facts (sessions, people) as data."
    )
    created_at: dt.datetime = TableField(default_factory=utcnow)


class MessagePublic(BaseModel):
    """A message of the outbox as clients see it (``GET /v1/plans/{id}/messages``)."""

    id: int
    plan_id: int = Field(description="The published version it announces.")
    week_start: dt.date
    recipient_kind: str = Field(description=" or ".join(RECIPIENT_KINDS))
    recipient_id: str = Field(description="The volunteer's or the beneficiary's id.")
    key: str = Field(description="Idempotency key: the same on every delivery of this message.")
    body: str = Field(description="The text a person reads (Chinese, for WeChat or SMS).")
    payload: dict[str, Any] = Field(
        description="The same facts as data: the change (first, changed, cancelled, unmet), the "
        "recipient's contact, the sessions (date, slot, start, end, beneficiary or volunteer, service)."
    )
    created_at: dt.datetime
