"""The service-certificate family (志愿服务证明): the ``ServiceCertificate`` table (one issued
certificate, found again by its verification code) and ``CertificateCheck`` (what the public
check of a code shows).

Not to be confused with :class:`api.models.volunteer.Certificate`, a volunteer's qualification
(first aid, law …): this is a document the station issues about the volunteer's service.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import utcnow

CODE_LENGTH = 16
"""Characters of a verification code: base32 of 10 random bytes (80 bits), unguessable even
without a rate limit."""


class ServiceCertificate(SQLModel, table=True):
    """A 志愿服务证明 as issued: who, which station, which period, how many hours, by whom.

    The row is what ``GET /v1/certificates/{code}`` confirms, so it keeps the figures printed
    on the document even if records are corrected later (a corrected period gets a new code).
    """

    code: str = TableField(primary_key=True, max_length=CODE_LENGTH, description="Verification code.")
    volunteer_id: str = TableField(foreign_key="volunteer.id", index=True)
    station_id: str = TableField(foreign_key="station.id", description="The issuing station.")
    period_start: dt.date
    period_end: dt.date
    hours: float = TableField(ge=0, description="Total hours served in the period, as printed.")
    sessions: int = TableField(ge=0, description="Sessions served in the period, as printed.")
    issued_at: dt.datetime = TableField(default_factory=utcnow)
    issued_by: int | None = TableField(
        default=None, foreign_key="token.id", description="The token that issued it; empty: the command line."
    )


class CertificateCheck(BaseModel):
    """What anyone holding a certificate's code may check: the minimum to confirm the document."""

    code: str
    valid: bool = Field(description="Always true: an unknown code is 404.")
    volunteer: str = Field(description="The volunteer's name, partly masked (张*明).")
    station: str = Field(description="The issuing station's name.")
    centre: str = Field(description="The station's volunteer centre.")
    period_start: dt.date
    period_end: dt.date
    hours: float = Field(description="Total hours served in the period.")
    sessions: int = Field(description="Sessions served in the period.")
    issued_on: dt.date = Field(description="The day it was issued (UTC).")
