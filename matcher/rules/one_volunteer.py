"""Rule 1: a need goes to at most one volunteer, for exactly ``sessions`` distinct slots.

Slots are restricted to the pair's usable slots (windows x availability) when the
slot literals are created, so "all in its windows" holds by construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.variables import Vars


def add(v: Vars) -> None:
    """At most one pair per need; a chosen pair takes exactly ``sessions`` of its slots."""
    for pairs in v.pairs.by_need:
        if len(pairs) > 1:
            v.model.add_at_most_one(v.x[p] for p in pairs)
    for p, slots in enumerate(v.pairs.slots):
        sessions = int(v.inst.need_sessions[v.pairs.need[p]])
        if len(slots) == sessions:
            continue  # slot literals are x itself
        lits = [v.at(p, s) for s in slots]
        v.model.add(sum(lits) == sessions * v.x[p])
        for lit in lits:
            v.model.add_implication(lit, v.x[p])
