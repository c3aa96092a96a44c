"""Closure: a station or a whole district closes its service point."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from matcher.format.schema import AnyProblem
from scenarios.perturbations.common import STRICT, P, replace_volunteers


class Closure(BaseModel):
    """The station of ``district`` closes: its volunteers stop serving (a share ``relocate`` of them
    re-registers at a neighbouring district's station); its beneficiaries stay and can be served
    only from neighbouring districts (with ``reach: adjacent``)."""

    model_config = STRICT

    kind: Literal["closure"] = Field(description="Perturbation kind.")
    district: str = Field(description="District whose station closes.")
    relocate: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.0,
        description="Probability that one of its volunteers moves to a neighbouring station (0-1).",
    )


def neighbours(problem: AnyProblem, district: str) -> list[str]:
    """The neighbours of a district (symmetric), sorted.

    Parameters
    ----------
    problem
        The problem whose district graph is read.
    district
        A district id.

    Returns
    -------
    list[str]
        Ids of districts that list ``district`` or that it lists, sorted.
    """
    out = set()
    for d in problem.districts:
        if d.id == district:
            out.update(d.neighbors)
        elif district in d.neighbors:
            out.add(d.id)
    out.discard(district)
    return sorted(out)


def apply_closure(p: Closure, problem: P, rng: np.random.Generator) -> P:
    """Close a district's station.

    Volunteers of the district either move to a neighbour chosen at random (probability
    ``p.relocate``, and only if the district has neighbours) or stay with no availability.

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
        The perturbed problem: no volunteer of ``p.district`` can serve.
    """
    near = neighbours(problem, p.district)
    moves = rng.random(len(problem.volunteers))
    picks = rng.integers(0, max(1, len(near)), size=len(problem.volunteers))
    out = []
    for i, v in enumerate(problem.volunteers):
        if v.district != p.district:
            out.append(v)
        elif near and moves[i] < p.relocate:
            out.append(v.model_copy(update={"district": near[int(picks[i])]}))
        else:
            out.append(v.model_copy(update={"availability": []}))
    return replace_volunteers(problem, out)
