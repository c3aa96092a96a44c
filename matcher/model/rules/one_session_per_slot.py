"""Rules 1 (distinct slots, ``sessions`` of them) and 4 (one session per slot).

Rule 3 (availability) needs no constraint: only the volunteer's free slots are usable.
Each volunteer is modelled one of two ways:

* with few usable slots (the usual case): Hall cuts over the pair literals alone
  (:func:`matcher.model.slotting.hall_cuts`), the slots chosen after solving by matching;
* otherwise: a literal per (pair, slot), ``sessions`` of them per chosen pair and at most
  one per slot.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

from matcher.model.instance import IntArray
from matcher.model.rules.base import Rule, Scope, Slots
from matcher.model.slotting import MAX_HALL_SLOTS, hall_cuts

if TYPE_CHECKING:
    from matcher.model.variables import Vars

MAX_CUTS_PER_SLOT = 4
"""Beyond this many cuts per local slot, slot literals make the smaller model."""


def add(v: Vars) -> None:
    """Make every volunteer's chosen sessions fit their slots."""
    pinned = v.inst.pinned
    for vol, pairs in enumerate(v.pairs.by_vol):
        v.deadline.check()
        if not pairs:
            continue
        local = sorted({s for p in pairs for s in v.pairs.slots[p]})
        cuts = None
        if len(local) <= MAX_HALL_SLOTS:
            bit = {s: 1 << i for i, s in enumerate(local)}
            usable = np.array([sum(bit[s] for s in v.pairs.slots[p]) for p in pairs], dtype=np.int64)
            cuts = hall_cuts(v.inst.need_sessions[v.pairs.need[pairs]], usable, len(local))
        # A pinned volunteer's kept sessions must be held at their slots: slot literals.
        if cuts is not None and len(cuts) <= MAX_CUTS_PER_SLOT * len(local) and vol not in pinned:
            add_hall(v, pairs, cuts)
        else:
            v.explicit_slots.add(vol)
            add_explicit(v, pairs)


def add_hall(v: Vars, pairs: list[int], cuts: list[tuple[IntArray, int]]) -> None:
    """Post one volunteer's Hall cuts over the literals of their ``pairs``."""
    for coef, size in cuts:
        on = np.flatnonzero(coef)
        if len(on) <= 1:
            continue  # a single pair always fits its own usable slots (static filter)
        lits = [v.x[pairs[i]] for i in on]
        v.model.add(cp_model.LinearExpr.weighted_sum(lits, coef[on].tolist()) <= size)


def add_explicit(v: Vars, pairs: list[int]) -> None:
    """Slot literals for one volunteer's pairs."""
    by_slot: defaultdict[int, list[cp_model.IntVar]] = defaultdict(list)
    for p in pairs:
        slots = v.pairs.slots[p]
        lits = [v.at(p, s) for s in slots]
        sessions = int(v.inst.need_sessions[v.pairs.need[p]])
        if len(slots) > sessions:
            v.model.add(sum(lits) == sessions * v.x[p])
        for s, lit in zip(slots, lits, strict=True):
            by_slot[s].append(lit)
    for lits in by_slot.values():
        if len(lits) > 1:
            v.model.add_at_most_one(lits)


RULE = Rule("one_session_per_slot", (1, 4), Scope.VOLUNTEER, add=add, limit=Slots())
