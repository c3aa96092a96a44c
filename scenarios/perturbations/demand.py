"""Demand growth: more beneficiaries of one category (an ageing population, a summer programme)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from matcher.format.schema import Category, Need, Need2
from scenarios.perturbations.common import STRICT, P


class DemandGrowth(BaseModel):
    """The number of beneficiaries of ``category`` (of at least ``min_priority``, optionally only in
    some districts) grows by ``rate``; the newcomers resemble existing beneficiaries (each is a
    copy, with all its needs, of one drawn at random)."""

    model_config = STRICT

    kind: Literal["demand_growth"] = Field(description="Perturbation kind.")
    category: Category = Field(description="elderly, disabled, child, migrant_worker or community.")
    rate: Annotated[float, Field(ge=0, le=10)] = Field(
        description="Relative growth, e.g. 0.15 for 15% more beneficiaries."
    )
    min_priority: Annotated[int, Field(ge=1, le=5)] = Field(
        default=1, description="Only beneficiaries of this priority or higher (5: solitary, very old ...)."
    )
    districts: list[str] | None = Field(default=None, description="Only in these districts; default all.")


def apply_demand_growth(p: DemandGrowth, problem: P, rng: np.random.Generator, index: int = 0) -> P:
    """Add beneficiaries copied (with their needs) from the concerned ones.

    The number added is ``floor(rate x n)`` plus one with probability ``frac(rate x n)``, so its
    mean is exactly ``rate x n``.  Copies get ids ``<id>+g<index>.<k>``; they have no previous pairs.

    Parameters
    ----------
    p
        The perturbation.
    problem
        The problem to perturb (not modified).
    rng
        The run's generator for this perturbation.
    index
        Position of the perturbation in its scenario (for unique ids).

    Returns
    -------
    Problem
        The problem with more beneficiaries and needs.
    """
    pool = [
        b
        for b in problem.beneficiaries
        if b.category == p.category
        and b.priority >= p.min_priority
        and (p.districts is None or b.district in p.districts)
    ]
    expected = p.rate * len(pool)
    count = math.floor(expected) + int(rng.random() < expected - math.floor(expected))
    if not pool or not count:
        return problem
    picks = rng.integers(0, len(pool), size=count)
    needs_of: dict[str | None, list[Need | Need2]] = {}
    for n in problem.needs:
        needs_of.setdefault(n.beneficiary, []).append(n)
    beneficiaries = list(problem.beneficiaries)
    needs: list[Need | Need2] = list(problem.needs)
    for k, pick in enumerate(picks.tolist()):
        source = pool[pick]
        new_id = f"{source.id}+g{index}.{k + 1}"
        beneficiaries.append(source.model_copy(update={"id": new_id}))
        for need in needs_of.get(source.id, []):
            needs.append(need.model_copy(update={"id": f"{need.id}+g{index}.{k + 1}", "beneficiary": new_id}))
    return problem.model_copy(update={"beneficiaries": beneficiaries, "needs": needs})
