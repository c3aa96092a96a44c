"""Rules 1 (sessions in windows) and 3 (availability), as a filter.

A pair can exist only if the volunteer is free in at least ``sessions`` of the need's
windows; the slots a pair may use are the intersection of the two.
"""

from __future__ import annotations

from matcher.format.reasons import NO_AVAILABLE_SLOT
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Rule, Scope

CODE = NO_AVAILABLE_SLOT


def usable(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """``usable[i, s]``: candidate ``cand[i]`` is free in slot ``s`` and ``s`` is a window of ``n``."""
    both: BoolArray = inst.vol_avail[cand] & inst.need_win[n]
    return both


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates free in at least ``sessions`` of the need's windows."""
    enough: BoolArray = usable(inst, n, cand).sum(axis=1) >= inst.need_sessions[n]
    return enough


RULE = Rule("availability", (1, 3), Scope.PAIR, code=CODE, keep=keep)
