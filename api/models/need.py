"""The need family: ``NeedBase`` (every field, declared once), the ``Need`` table (a beneficiary's
standing weekly need), ``NeedCreate``, ``NeedUpdate`` (a PATCH) and ``NeedPublic`` (also one row of
``needs.csv``)."""

from __future__ import annotations

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from api.models.common import FORBID, KEY_TEXT, Flag, Key, Slots, partial
from matcher.format.bounds import Id, SessionHours, Sessions
from matcher.format.schema import CertificationKinds, ServiceCode


class NeedBase(SQLModel):
    """A beneficiary's standing weekly need: the table's columns and the request's fields."""

    id: Key = Field(primary_key=True, sa_type=KEY_TEXT, description="Need id, unique in the city.")
    service: ServiceCode = Field(description="Service code; the volunteer must have it in skills.")
    hours: SessionHours = Field(description="Hours per session (may be fractional).")
    sessions: Sessions = Field(description="Sessions a week, in distinct slots.")
    windows: Slots = Field(sa_type=JSON, description="Slots in which a session may take place.")
    requires: CertificationKinds = Field(
        default_factory=list,
        sa_type=JSON,
        description="Certification kinds the volunteer must hold, valid for the week.",
    )
    minor_ok: Flag = Field(default=False, description="Whether a minor volunteer may take it.")
    active: Flag = Field(default=True, description="False once the need ended; kept for history.")


class Need(NeedBase, table=True):
    """A beneficiary's standing weekly need."""

    # Not on NeedBase: a need is created under its beneficiary's path, so NeedCreate has no
    # beneficiary_id; NeedPublic (a needs.csv row) declares the request's side.
    beneficiary_id: str = Field(foreign_key="beneficiary.id", index=True, ondelete="CASCADE")


class NeedCreate(NeedBase):
    """A beneficiary's standing weekly need."""

    model_config = FORBID


class NeedPublic(NeedCreate):
    """A need with its beneficiary (also one row of ``needs.csv``)."""

    beneficiary_id: Id = Field(description="The beneficiary served.")


class NeedUpdate(partial(NeedPublic)):  # type: ignore[misc]  # fields made from NeedPublic's
    """A change to a need: only the fields sent change (the id cannot); ``beneficiary_id`` moves it to
    another beneficiary of the station."""
