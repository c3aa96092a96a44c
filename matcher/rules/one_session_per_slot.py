"""Rule 4: a volunteer serves at most one session in any one slot.

Rule 3 (availability) needs no constraint: slot literals exist only for slots the
volunteer is free in.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from matcher.variables import Vars


def add(v: Vars) -> None:
    """At most one session literal per (volunteer, slot)."""
    for pairs in v.pairs.by_vol:
        by_slot: defaultdict[int, list[cp_model.IntVar]] = defaultdict(list)
        for p in pairs:
            for s in v.pairs.slots[p]:
                by_slot[s].append(v.at(p, s))
        for lits in by_slot.values():
            if len(lits) > 1:
                v.model.add_at_most_one(lits)
