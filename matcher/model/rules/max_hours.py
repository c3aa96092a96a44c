"""Rule 5: a volunteer's hours (hours x sessions of their needs) stay within ``max_hours``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from matcher.format.reasons import EXCEEDS_MAX_HOURS
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Additive, Rule, Scope

if TYPE_CHECKING:
    from matcher.model.variables import Vars

CODE = EXCEEDS_MAX_HOURS


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates whose weekly hours could hold this need on its own."""
    fits: BoolArray = inst.vol_cap[cand] >= inst.need_load[n]
    return fits


def best_fill(loads: list[int], cap: int) -> int:
    """The largest total of a subset of ``loads`` that is at most ``cap`` (subset-sum).

    Used as the right-hand side instead of ``cap``: no plan can use the hours in between,
    and the tighter knapsack makes the LP bound much closer to the optimum (a volunteer
    with 5 hours and only 2-hour needs gives 4, not 5).
    """
    reachable = 1  # bit t set: some subset sums to t
    mask = (1 << (cap + 1)) - 1
    for load in loads:
        reachable = (reachable | (reachable << load)) & mask
    return reachable.bit_length() - 1


def add(v: Vars) -> None:
    """Cap each volunteer's scaled hours; skipped when all their candidate needs fit together."""
    inst = v.inst
    for vol, pairs in enumerate(v.pairs.by_vol):
        v.deadline.check()
        if not pairs:
            continue
        loads = [int(inst.need_load[v.pairs.need[p]]) for p in pairs]
        cap = int(inst.vol_cap[vol])
        if sum(loads) <= cap:
            continue  # cannot bind: leave it out of the model
        v.model.add(cp_model.LinearExpr.weighted_sum([v.x[p] for p in pairs], loads) <= best_fill(loads, cap))


def _load(inst: Instance) -> IntArray:
    return inst.need_load


def _cap(inst: Instance) -> IntArray:
    return inst.vol_cap


RULE = Rule(
    "max_hours",
    (5,),
    Scope.VOLUNTEER,
    code=CODE,
    keep=keep,
    add=add,
    limit=Additive(amount=_load, budget=_cap),
)
"""Hours are a budget: scaled ``hours x sessions`` per need within the scaled ``max_hours``."""
