"""Attrition: a share of a group of volunteers drops out for the week."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from scenarios.perturbations.common import STRICT, Group, P, replace_volunteers


class Attrition(BaseModel):
    """Each volunteer of ``group`` drops out with probability ``rate`` (winter, exams, moving away)."""

    model_config = STRICT

    kind: Literal["attrition"] = Field(description="Perturbation kind.")
    rate: Annotated[float, Field(ge=0, le=1)] = Field(
        description="Probability that a volunteer of the group drops out (0-1)."
    )
    group: Group = Field(default_factory=Group, description="Volunteers concerned; default everyone.")


def apply_attrition(p: Attrition, problem: P, rng: np.random.Generator) -> P:
    """Withdraw each volunteer of the group with probability ``p.rate``.

    A volunteer who drops out stays in the problem with no availability (as a whole-week
    withdrawal does in a change set), so last week's pairs and exclusions stay valid.

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
    draws = rng.random(len(problem.volunteers))
    out = [
        v.model_copy(update={"availability": []}) if p.group.matches(v) and draws[i] < p.rate else v
        for i, v in enumerate(problem.volunteers)
    ]
    return replace_volunteers(problem, out)
