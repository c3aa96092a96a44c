"""Availability shrink: volunteers lose some of their free slots (cold evenings, overtime)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from scenarios.perturbations.common import STRICT, Day, Group, P, Period, replace_volunteers


class AvailabilityShrink(BaseModel):
    """Each available slot of a group's volunteers (optionally only some periods or days) is lost
    with probability ``rate``."""

    model_config = STRICT

    kind: Literal["availability_shrink"] = Field(description="Perturbation kind.")
    rate: Annotated[float, Field(ge=0, le=1)] = Field(
        description="Probability that an available slot is lost (0-1)."
    )
    periods: list[Period] | None = Field(
        default=None, description="Only slots of these periods (am, pm, eve); default all."
    )
    days: list[Day] | None = Field(default=None, description="Only slots of these days (mon .. sun).")
    group: Group = Field(default_factory=Group, description="Volunteers concerned; default everyone.")

    def concerns(self, slot: str) -> bool:
        """Tell whether a slot id (``day-period``) is subject to the shrink."""
        day, _, period = slot.partition("-")
        return (self.periods is None or period in self.periods) and (self.days is None or day in self.days)


def apply_availability_shrink(p: AvailabilityShrink, problem: P, rng: np.random.Generator) -> P:
    """Drop each concerned available slot with probability ``p.rate``.

    Parameters
    ----------
    p
        The perturbation.
    problem
        The problem to perturb (not modified).
    rng
        The run's generator for this perturbation.

    Returns
    -------
    Problem
        The perturbed problem.
    """
    out = []
    for v in problem.volunteers:
        # One draw per slot of every volunteer, so a group filter never shifts other volunteers' draws.
        draws = rng.random(len(v.availability))
        if not p.group.matches(v):
            out.append(v)
            continue
        kept = [s for s, u in zip(v.availability, draws, strict=True) if not (p.concerns(s) and u < p.rate)]
        out.append(v if len(kept) == len(v.availability) else v.model_copy(update={"availability": kept}))
    return replace_volunteers(problem, out)
