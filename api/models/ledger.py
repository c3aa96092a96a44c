"""The year ledger (年度台账) family: the figures of a station's (or the centre's) calendar year of
service records, as ``GET /v1/stations/{id}/ledger`` returns them and the workbook shows them.

No table: every figure is computed from the service records, plan versions and people
(:mod:`api.services.ledger`), so the JSON and the workbook are two views of one ``Ledger``.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

MONTHS = 12


class LedgerStation(BaseModel):
    """One station's totals of the year (or, with ``station_id`` null, every station's)."""

    station_id: str | None = Field(description="The station; null for the total over the ledger's stations.")
    name: str
    volunteers_active: int = Field(description="Volunteers with at least one served session.")
    beneficiaries_served: int = Field(description="Beneficiaries with at least one served session.")
    sessions: int = Field(description="Sessions with a current record (any outcome).")
    served: int
    no_shows: int
    cancelled_by_volunteer: int
    cancelled_by_beneficiary: int
    hours: float = Field(description="Hours of the served sessions.")


class ProgrammeHours(BaseModel):
    """Served hours of one programme (the beneficiaries' category) by month."""

    programme: str = Field(description="elderly, child, disabled, migrant_worker, community (or unknown).")
    name: str = Field(description="The programme's Chinese name (敬老, 爱幼 …).")
    months: list[float] = Field(description="Hours in January … December (twelve numbers).")
    total: float


class WeekCoverage(BaseModel):
    """How much of a week's demand the week's current plan version covers."""

    station_id: str
    week_start: dt.date
    version: int = Field(description="The week's current version.")
    state: str = Field(description="Its state (queued, solving or done).")
    coverage: float | None = Field(
        description="Share of demand (priority x hours x sessions) the plan covers; null until done."
    )
    proved: bool | None = Field(description="The coverage is proved optimal; null until done.")
    gap: float | None = Field(description="(bound - coverage) / bound; null until done or without a bound.")


class LedgerVolunteer(BaseModel):
    """A volunteer's year: sessions, hours, and the star level before and after it."""

    id: str
    name: str
    station_id: str
    sessions_served: int
    no_shows: int
    cancelled_by_volunteer: int
    hours_year: float = Field(description="Served hours in the year.")
    hours_total: float = Field(
        description="Cumulative hours at the year's end (hours before Linli included)."
    )
    stars_before: int = Field(description="Star level at the start of the year.")
    stars: int = Field(description="Star level at the end of the year.")
    award_candidate: bool = Field(description="Reached a new star level this year (表彰候选).")


class LedgerBeneficiary(BaseModel):
    """A beneficiary on the roster, with what they received in the year."""

    id: str
    name: str
    station_id: str
    category: str
    category_name: str = Field(description="The category's Chinese name.")
    district: str
    district_name: str
    priority: int
    active: bool
    sessions_served: int
    hours: float


class LedgerSession(BaseModel):
    """One session with a current record in the year (a row of the 服务记录 sheet)."""

    record_id: int
    station_id: str
    served_on: dt.date
    slot: str | None
    volunteer_id: str
    volunteer_name: str
    beneficiary_id: str | None
    beneficiary_name: str
    programme: str
    service: str | None
    outcome: str
    hours: float
    rating: int | None
    note: str | None


class LedgerPublic(BaseModel):
    """A year ledger's figures (the JSON of ``GET …/ledger``): every sheet of the workbook but the sessions
    (read those from ``GET /v1/records?from=Y-01-01&to=Y-12-31``)."""

    year: int
    scope: str = Field(description="The station's id, or 'centre' for every station the caller sees.")
    stations: list[LedgerStation] = Field(description="Each station's totals.")
    total: LedgerStation = Field(description="The totals over every station of the ledger.")
    hours_by_programme: list[ProgrammeHours]
    coverage: list[WeekCoverage] = Field(description="Each week (Monday in the year) with a plan version.")
    volunteers: list[LedgerVolunteer]
    beneficiaries: list[LedgerBeneficiary]


class Ledger(LedgerPublic):
    """A year ledger with its sessions: what the workbook is written from."""

    sessions: list[LedgerSession]
