"""The need family: the ``Need`` table (a beneficiary's standing weekly need), ``NeedCreate`` and
``NeedPublic`` (also one row of ``needs.csv``)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import FORBID, Flag, Key, Slots, json_list
from matcher.format import bounds
from matcher.format.bounds import Id, SessionHours, Sessions
from matcher.format.schema import CertificationKinds, ServiceCode


class Need(SQLModel, table=True):
    """A beneficiary's standing weekly need."""

    id: str = TableField(primary_key=True, max_length=bounds.ID_MAX_LENGTH)
    beneficiary_id: str = TableField(foreign_key="beneficiary.id", index=True, ondelete="CASCADE")
    service: str
    hours: float = TableField(gt=0, le=bounds.SESSION_HOURS_MAX)
    sessions: int = TableField(ge=1, le=bounds.SESSIONS_MAX)
    windows: list[str] = json_list()
    requires: list[str] = json_list()
    minor_ok: bool = False
    active: bool = TableField(default=True, description="False once the need ended; kept for history.")


class NeedCreate(BaseModel):
    """A beneficiary's standing weekly need."""

    model_config = FORBID

    id: Key = Field(description="Need id, unique in the city.")
    service: ServiceCode = Field(description="Service code; the volunteer must have it in skills.")
    hours: SessionHours = Field(description="Hours per session (may be fractional).")
    sessions: Sessions = Field(description="Sessions a week, in distinct slots.")
    windows: Slots = Field(description="Slots in which a session may take place.")
    requires: CertificationKinds = Field(
        default_factory=list, description="Certification kinds the volunteer must hold, valid for the week."
    )
    minor_ok: Flag = Field(default=False, description="Whether a minor volunteer may take it.")
    active: Flag = Field(default=True, description="False once the need ended; kept for history.")


class NeedPublic(NeedCreate):
    """A need with its beneficiary (also one row of ``needs.csv``)."""

    beneficiary_id: Id = Field(description="The beneficiary served.")
