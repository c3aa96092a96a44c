"""The service-record family (台账): the ``ServiceRecord`` table (how one session of a plan went),
``RecordCreate`` with its ``Correction``, ``RecordPublic`` and ``Reliability``."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow
from matcher.format import bounds
from matcher.format.bounds import ID_MAX_LENGTH, Id, Rating, RecordHours, ServiceDay

MAX_ID = 2**31 - 1
"""The largest row id (an INTEGER column): larger ids are refused with 422, not looked up."""

OUTCOMES = ("served", "no_show", "cancelled_by_volunteer", "cancelled_by_beneficiary")
"""How a planned session went: served (hours > 0), the volunteer did not come, the volunteer
cancelled, or the beneficiary cancelled.  Only served sessions hold hours."""

Outcome = Literal["served", "no_show", "cancelled_by_volunteer", "cancelled_by_beneficiary"]

OUTCOME_MAX_LENGTH = 32
"""The outcome column's width (``cancelled_by_beneficiary`` is 24 characters)."""
NOTE_MAX_LENGTH = 500
"""Longest note on a record (a few sentences: what happened, what the beneficiary said)."""
REASON_MAX_LENGTH = 500
"""Longest reason of a correction."""


def _one_line(value: str) -> str:
    # PostgreSQL text cannot hold NUL; line breaks and other control characters would break
    # the one-line logs and the CSV cells that show a note.
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters ({char})",
                {"char": bounds.show_char(char)},
            )
    return value


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("blank", "must not be blank: say why the record is corrected")
    return value


Note = Annotated[str, Field(strict=True, max_length=NOTE_MAX_LENGTH), AfterValidator(_one_line)]
"""A record's note: at most 500 characters on one line."""
Reason = Annotated[
    str,
    Field(strict=True, max_length=REASON_MAX_LENGTH),
    AfterValidator(_one_line),
    AfterValidator(_stripped),
]
"""A correction's reason: 1-500 characters on one line, not blank."""


class ServiceRecord(SQLModel, table=True):
    """How one session (assignment, day, slot) of a finished plan went (服务记录).

    A correction does not change a row: it adds the corrected row and points the old one's
    ``superseded_by`` at it, so the ledger keeps what was recorded first.  Only current rows
    (``superseded_by`` empty) count towards hours, stars and reliability.
    """

    id: int | None = TableField(default=None, primary_key=True)
    assignment_id: int = TableField(foreign_key="planassignment.id", index=True)
    volunteer_id: str = TableField(foreign_key="volunteer.id", index=True)
    served_on: dt.date
    slot: str | None = TableField(
        default=None,
        max_length=ID_MAX_LENGTH,
        description="The session's slot (mon-am …); empty only for a record made before sessions "
        "were recorded that migration 0008 could not match to a session.",
    )
    hours: float = TableField(
        ge=0, le=bounds.RECORD_HOURS_MAX, description="Hours served: more than 0 if served, else 0."
    )
    outcome: str = TableField(
        default="served",
        max_length=OUTCOME_MAX_LENGTH,
        description=" / ".join(OUTCOMES) + " (only served counts).",
    )
    rating: int | None = TableField(
        default=None,
        ge=bounds.RATING_MIN,
        le=bounds.RATING_MAX,
        description="The beneficiary's rating, if given.",
    )
    note: str | None = TableField(default=None, max_length=NOTE_MAX_LENGTH)
    correction_reason: str | None = TableField(
        default=None, max_length=REASON_MAX_LENGTH, description="Why this row corrects an earlier one."
    )
    superseded_by: int | None = TableField(
        default=None,
        foreign_key="servicerecord.id",
        description="The row that corrected this one (empty while it is current).",
    )
    created_at: dt.datetime = TableField(default_factory=utcnow)


class Correction(BaseModel):
    """A correction of a session recorded already: the new record supersedes the current one."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the record is corrected (1-500 characters, required).")


class RecordCreate(BaseModel):
    """How one session of an assignment went (an unknown field is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    assignment_id: int = Field(
        ge=1, le=MAX_ID, description="The assignment (its id in the plan's `assignments`)."
    )
    served_on: ServiceDay = Field(description="The session's day: within the plan's week.")
    slot: Id | None = Field(
        default=None,
        description="The session's slot (mon-am …), one of the assignment's on that day; may be left "
        "out when the assignment has one session that day.",
    )
    outcome: Outcome = Field(
        default="served",
        description="served (the default), no_show (the volunteer did not come), cancelled_by_volunteer "
        "or cancelled_by_beneficiary; only served sessions count towards hours and stars.",
    )
    hours: RecordHours | None = Field(
        default=None,
        description="Hours actually served: required when the outcome is served; left out otherwise.",
    )
    rating: Rating | None = Field(
        default=None, description="The beneficiary's rating (1-5), of a served session only."
    )
    note: Note | None = Field(default=None, description="A note, at most 500 characters on one line.")
    correction: Correction | None = Field(
        default=None,
        description="Correct the session's current record (409 without it once the session is "
        "recorded): the old record is kept, marked superseded. A correction may exceed the day's "
        "planned hours.",
    )


class RecordPublic(BaseModel):
    """A service record as clients see it."""

    id: int
    assignment_id: int
    plan_id: int
    need_id: str
    volunteer_id: str
    served_on: dt.date
    slot: str | None = Field(
        description="The session's slot; null for a record made before sessions were recorded."
    )
    outcome: Outcome = Field(description=" / ".join(OUTCOMES) + ".")
    hours: float = Field(description="Hours served (0 unless served).")
    rating: int | None
    note: str | None = None
    correction_reason: str | None = Field(default=None, description="Why this record corrects another.")
    corrects: int | None = Field(default=None, description="The record this one superseded.")
    superseded_by: int | None = Field(
        default=None, description="The record that corrected this one; null while it is current."
    )
    created_at: dt.datetime


class Reliability(BaseModel):
    """A volunteer's sessions over some weeks: how many were planned, and how they went."""

    volunteer: str
    weeks: int = Field(description="How many weeks the history covers.")
    start: dt.date = Field(description="The history's first day (a Monday).")
    end: dt.date = Field(description="The history's last day (a Sunday).")
    planned: int = Field(description="Sessions the plan in force of each week gave the volunteer.")
    recorded: int = Field(description="Sessions with a current record (any outcome).")
    served: int
    no_shows: int
    late_cancellations: int = Field(
        description="Sessions the volunteer cancelled while still in the plan (cancelled_by_volunteer): "
        "a cancellation in time is a withdrawal (a change set), which takes the session out of the plan."
    )
    cancelled_by_beneficiary: int
    rate: float | None = Field(
        description="served / (served + no_shows + late_cancellations); null without such sessions."
    )
