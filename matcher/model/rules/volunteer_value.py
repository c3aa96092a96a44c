"""A redundant cut per volunteer: the value they serve is at most their own best.

No plan can give a volunteer needs worth more than the best set they could take on
alone.  That best is bounded by a 0/1 knapsack over their candidate needs with two
capacities, hours (rule 5) and sessions (at most one per usable slot, rules 3-4), solved
exactly by dynamic programming.  The LP relaxation, which may fill a volunteer's hours
with fractions of needs, overestimates it; the cut ``sum value_n x_n <= best`` removes
that slack and tightens the coverage bound without removing any plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

from matcher.model.rules.base import Rule, Scope

if TYPE_CHECKING:
    from matcher.model.variables import Vars

#: Skip the DP when hours x sessions states would exceed this (the cut is optional).
MAX_STATES = 200_000


def best_value(values: list[int], loads: list[int], sessions: list[int], cap: int, slots: int) -> int:
    """Most total value of items within ``cap`` load and ``slots`` sessions (0/1 knapsack)."""
    table = np.full((cap + 1, slots + 1), -1, dtype=np.int64)
    table[0, 0] = 0
    for value, load, sess in zip(values, loads, sessions, strict=True):
        if load > cap or sess > slots:
            continue
        shifted = np.full_like(table, -1)
        shifted[load:, sess:] = table[: cap + 1 - load, : slots + 1 - sess]
        reachable = shifted >= 0
        table = np.where(reachable, np.maximum(table, shifted + value), table)
    return int(table.max())


def add(v: Vars) -> None:
    """Post the cut for every volunteer whose candidates could exceed it."""
    inst = v.inst
    for vol, pairs in enumerate(v.pairs.by_vol):
        v.deadline.check()
        if len(pairs) < 2:
            continue
        needs = v.pairs.need[pairs]
        values = inst.need_value[needs].tolist()
        loads = inst.need_load[needs].tolist()
        sessions = inst.need_sessions[needs].tolist()
        cap = min(int(inst.vol_cap[vol]), sum(loads))
        slots = min(len({s for p in pairs for s in v.pairs.slots[p]}), sum(sessions))
        if (cap + 1) * (slots + 1) > MAX_STATES:
            continue
        best = best_value(values, loads, sessions, cap, slots)
        if best < sum(values):
            v.model.add(cp_model.LinearExpr.weighted_sum([v.x[p] for p in pairs], values) <= best)


RULE = Rule("volunteer_value", (), Scope.VOLUNTEER, add=add, redundant=True)
