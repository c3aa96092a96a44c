"""Rule 5: a volunteer's hours (hours x sessions of their needs) stay within ``max_hours``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matcher.instance import BoolArray, Instance, IntArray
from matcher.reasons import EXCEEDS_MAX_HOURS

if TYPE_CHECKING:
    from matcher.variables import Vars

CODE = EXCEEDS_MAX_HOURS


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates whose weekly hours could hold this need on its own."""
    fits: BoolArray = inst.vol_cap[cand] >= inst.need_load[n]
    return fits


def add(v: Vars) -> None:
    """Cap each volunteer's scaled hours; skipped when all their candidate needs fit together."""
    inst = v.inst
    for vol, pairs in enumerate(v.pairs.by_vol):
        v.deadline.check()
        if not pairs:
            continue
        loads = [int(inst.need_load[v.pairs.need[p]]) for p in pairs]
        if sum(loads) <= inst.vol_cap[vol]:
            continue  # cannot bind: leave it out of the model
        v.model.add(
            sum(load * v.x[p] for load, p in zip(loads, pairs, strict=True)) <= int(inst.vol_cap[vol])
        )
