"""The need family: ``NeedBase`` (every field, declared once), the ``Need`` table (a beneficiary's
standing weekly need, or a post at a site), ``NeedCreate``, ``NeedUpdate`` (a PATCH) and ``NeedPublic``
(also one row of ``needs.csv``).

A need names exactly one of a beneficiary and a site (format 2, ``docs/format.md``).  It is a
post (多人岗位) if it is at a site or asks for more than one volunteer (``volunteers_max`` > 1); a
need at a site gives its own ``priority``, a beneficiary's need takes the beneficiary's."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from api.models.common import FORBID, KEY_TEXT, Flag, Key, Slots, partial
from matcher.format.bounds import Id, PostVolunteers, Priority, SessionHours, Sessions
from matcher.format.schema import CertificationKinds, ServiceCode, ServiceCodes, reference_error


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
    # Format 2 (group posts).  Declared after ``active`` so that needs.csv gains them as its last
    # columns: a file written before them still imports (each has a default).
    volunteers_min: PostVolunteers = Field(
        default=1, description="最少人数: fewest volunteers with whom it runs (1-50, default 1)."
    )
    volunteers_max: PostVolunteers = Field(
        default=1, description="最多人数: most volunteers it takes together (1-50, default 1)."
    )
    priority: Priority | None = Field(
        default=None,
        description="优先级 1-5, for a need at a site only (a beneficiary's need takes the beneficiary's).",
    )
    lead_certifications: CertificationKinds = Field(
        default_factory=list,
        sa_type=JSON,
        description="带队要求: certification kinds at least one volunteer on it holds (with lead_skills).",
    )
    lead_skills: ServiceCodes = Field(
        default_factory=list,
        sa_type=JSON,
        description="带队要求: service codes that same volunteer has (with lead_certifications).",
    )


class Need(NeedBase, table=True):
    """A beneficiary's standing weekly need, or a post at a site (exactly one of the two ids)."""

    # Not on NeedBase: a need is created under its beneficiary's or site's path, so NeedCreate
    # has neither id; NeedPublic (a needs.csv row) declares the request's side and checks that
    # exactly one is given.
    beneficiary_id: str | None = Field(
        default=None, foreign_key="beneficiary.id", index=True, ondelete="CASCADE"
    )
    site_id: str | None = Field(default=None, foreign_key="site.id", index=True, ondelete="CASCADE")


class NeedCreate(NeedBase):
    """A beneficiary's standing weekly need, or a post at a site (by the path it is sent to)."""

    model_config = FORBID

    @model_validator(mode="after")
    def _staffing(self) -> Self:
        if self.volunteers_min > self.volunteers_max:
            raise reference_error(
                "volunteers_min", f"{self.volunteers_min} is more than volunteers_max {self.volunteers_max}"
            )
        return self


class NeedPublic(NeedCreate):
    """A need with its beneficiary or its site (also one row of ``needs.csv``)."""

    beneficiary_id: Id | None = Field(default=None, description="The beneficiary served (or give site_id).")
    site_id: Id | None = Field(default=None, description="The site of the post (or give beneficiary_id).")

    @model_validator(mode="after")
    def _place(self) -> Self:
        place_problem(self.beneficiary_id is not None, self.site_id is not None, self.priority)
        return self


def place_problem(at_beneficiary: bool, at_site: bool, priority: int | None) -> None:
    """Raise an error naming the field unless the need names exactly one place and gives a
    priority exactly when that place is a site (format 2's rule)."""
    if at_beneficiary == at_site:
        raise reference_error("site_id", "a need names exactly one of beneficiary_id and site_id")
    if at_site and priority is None:
        raise reference_error("priority", "a need at a site gives its priority (1-5)")
    if at_beneficiary and priority is not None:
        raise reference_error(
            "priority", "a beneficiary's need takes the beneficiary's priority: leave it empty"
        )


class NeedUpdate(partial(NeedPublic)):  # type: ignore[misc]  # fields made from NeedPublic's
    """A change to a need: only the fields sent change (the id cannot); ``beneficiary_id`` moves it to
    another beneficiary of the station."""
