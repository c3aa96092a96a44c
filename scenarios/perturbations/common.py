"""Pieces shared by the perturbations: the volunteer group filter and small helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from matcher.format.schema import (
    CERTIFICATION_KINDS,
    DAYS,
    PERIODS,
    SERVICES_BY_PROGRAMME,
    AnyProblem,
    Problem,
    Problem2,
    ServiceCode,
    Volunteer,
)

STRICT = ConfigDict(extra="forbid", frozen=True)
"""Model configuration of every scenario model: unknown fields are an error."""

P = TypeVar("P", Problem, Problem2)
"""A problem of either format: a perturbation gives back a problem of the format it was given
(except ``add_posts``, which makes a format-1 week format 2)."""

Programme = Literal["elderly", "child", "disabled", "migrant_worker", "community"]
Period = Literal["am", "pm", "eve"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Rate = float

assert set(PERIODS) == {"am", "pm", "eve"} and len(DAYS) == 7 and len(CERTIFICATION_KINDS) == 6


class Group(BaseModel):
    """Which volunteers a perturbation touches; every given filter must hold (absent: everyone)."""

    model_config = STRICT

    districts: list[str] | None = Field(
        default=None, description="Only volunteers registered in these districts."
    )
    skills: list[ServiceCode] | None = Field(
        default=None, description="Only volunteers with at least one of these service codes."
    )
    programmes: list[Programme] | None = Field(
        default=None,
        description="Only volunteers with at least one skill of these programmes (elderly, child, ...).",
    )
    minor: bool | None = Field(
        default=None, description="true: only little volunteers (minors); false: only adults."
    )

    def matches(self, v: Volunteer) -> bool:
        """Tell whether volunteer ``v`` belongs to the group.

        Parameters
        ----------
        v
            A volunteer of the problem.

        Returns
        -------
        bool
            True when every filter that is set holds for ``v``.
        """
        if self.districts is not None and v.district not in self.districts:
            return False
        if self.skills is not None and not set(self.skills) & set(v.skills):
            return False
        if self.programmes is not None:
            codes = {c for p in self.programmes for c in SERVICES_BY_PROGRAMME[p]}
            if not codes & set(v.skills):
                return False
        return self.minor is None or v.minor == self.minor

    def district_refs(self, path: str) -> list[tuple[str, str]]:
        """District ids this group names, with their field paths (checked against the base problem)."""
        return [(f"{path}.districts[{i}]", d) for i, d in enumerate(self.districts or [])]


def replace_volunteers(problem: P, volunteers: Sequence[Volunteer]) -> P:
    """A copy of ``problem`` with a new volunteer list (other fields shared, not re-validated)."""
    return problem.model_copy(update={"volunteers": list(volunteers)})


def lapsed_date(problem: AnyProblem) -> dt.date:
    """An expiry date that does not count for the problem's week (the day before ``week_start``)."""
    return problem.week_start - dt.timedelta(days=1)
