"""A fast constructive plan, used as CP-SAT's starting hint and to top up cut-short plans.

It never breaks a hard rule: every pair it considers is eligible (see
:mod:`matcher.model.eligibility`) and :class:`Occupancy` checks the volunteer limits the
rules declare (:data:`matcher.model.rules.RULES`: hours, beneficiaries, slots).
"""

from __future__ import annotations

import numpy as np

from matcher.clock import Deadline
from matcher.model.instance import Instance, IntArray
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.model.rules import RULES, Additive, Distinct, Rule, Scope, Slots, limits
from matcher.model.slotting import match_slots


def applies(rules: tuple[Rule, ...] = RULES) -> bool:
    """Whether :class:`Occupancy` checks every volunteer rule: each has a limit it knows, or is redundant.

    Rules of the other scopes need nothing here: pair rules are in the pairs, and the one
    global rule that binds a plain solve, one volunteer per need, holds because needs are
    taken one by one.
    """
    known = (Additive, Distinct, Slots)
    return all(isinstance(r.limit, known) or r.redundant for r in rules if r.scope is Scope.VOLUNTEER)


class Occupancy:
    """What each volunteer has already taken on: needs, and their use of each limit.

    Sessions are not pinned to slots when a need is taken: a new need fits if all the
    volunteer's sessions can be re-placed together (:func:`matcher.model.slotting.match_slots`),
    which packs far better than first-fit slots.
    """

    def __init__(self, inst: Instance, pairs: Pairs, rules: tuple[Rule, ...] = RULES) -> None:
        if not applies(rules):
            raise ValueError("a volunteer rule declares no limit the greedy fill can check")
        self.inst = inst
        self.pairs = pairs
        n_vols = inst.n_volunteers
        self.additive = [
            (np.zeros(n_vols, dtype=np.int64), a.amount(inst), a.budget(inst))
            for a in limits(Additive, rules)
        ]
        """Per additive limit (hours): used so far per volunteer, amount per need, budget per volunteer."""
        self.distinct: list[tuple[IntArray, IntArray, list[dict[int, int]]]] = []
        """Per distinct limit (beneficiaries): key per need, most per volunteer, keys used per volunteer."""
        for d in limits(Distinct, rules):
            used: list[dict[int, int]] = [{} for _ in range(n_vols)]
            for v, held in d.held(inst).items():  # re-solve: keys of fixed assignments
                used[v] = dict.fromkeys(held, 1)
            self.distinct.append((d.key(inst), d.most(inst), used))
        self.pinned = inst.pinned
        """Volunteers whose current sessions must keep their slots (no re-matching)."""
        self.placed: list[dict[int, tuple[int, ...]]] = [{} for _ in range(inst.n_volunteers)]
        """Per volunteer: pair -> the slots its sessions hold now."""

    def _demand(self, p: int) -> tuple[int, tuple[int, ...]]:
        return int(self.inst.need_sessions[self.pairs.need[p]]), self.pairs.slots[p]

    def placement(self, p: int) -> dict[int, tuple[int, ...]] | None:
        """The volunteer's placement with pair ``p`` added, or None if a limit forbids it."""
        pairs = self.pairs
        v, n = int(pairs.vol[p]), int(pairs.need[p])
        for spent, amount, budget in self.additive:
            if spent[v] + amount[n] > budget[v]:
                return None
        for key, most, keys in self.distinct:
            k = int(key[n])
            if k not in keys[v] and len(keys[v]) >= most[v]:
                return None
        placed = self.placed[v]
        used = {s for slots in placed.values() for s in slots}
        sessions, usable = self._demand(p)
        free = [s for s in usable if s not in used]
        if len(free) >= sessions:  # fits beside the current placement
            return {**placed, p: tuple(free[:sessions])}
        if v in self.pinned:
            return None
        held = [*placed, p]
        matched = match_slots([self._demand(q) for q in held])
        return None if matched is None else dict(zip(held, matched, strict=True))

    def fits(self, p: int) -> bool:
        """Whether pair ``p`` can be added now."""
        return self.placement(p) is not None

    def take(self, p: int, placement: dict[int, tuple[int, ...]] | None = None) -> None:
        """Add pair ``p`` (its placement from :meth:`placement`, computed when absent)."""
        v, n = int(self.pairs.vol[p]), int(self.pairs.need[p])
        placement = placement if placement is not None else self.placement(p)
        if placement is None:
            raise ValueError(f"pair {p} does not fit volunteer {v}")
        self.placed[v] = placement
        for spent, amount, _ in self.additive:
            spent[v] += amount[n]
        for key, _, keys in self.distinct:
            k = int(key[n])
            keys[v][k] = keys[v].get(k, 0) + 1

    def chosen(self) -> Chosen:
        """The plan so far: need -> (pair, slots)."""
        return {int(self.pairs.need[p]): (p, slots) for placed in self.placed for p, slots in placed.items()}


def fill(
    inst: Instance, pairs: Pairs, chosen: Chosen | None = None, deadline: Deadline | None = None
) -> Chosen:
    """Extend a valid partial plan greedily; returns a new mapping, ``chosen`` untouched.

    Needs go in order of priority (coverage per hour of volunteer time), then fewest
    candidates first (the hardest to place); each takes the candidate that keeps a
    previous pair, then the one with the fewest other candidate needs (least contested).

    Parameters
    ----------
    inst, pairs
        The compiled problem and its eligible pairs.
    chosen
        Assignments to keep, e.g. a solver's plan cut short by the time limit.
    deadline
        Stop adding needs once it passes (what was added so far is kept: still valid).

    Returns
    -------
    Chosen
        ``chosen`` plus every need that still fits somewhere.
    """
    occ = Occupancy(inst, pairs)
    for p, slots in (chosen or {}).values():
        # Kept at their slots: a pinned volunteer's sessions must not move.
        occ.take(p, {**occ.placed[int(pairs.vol[p])], p: slots})
    previous = set(inst.previous)
    home = {n: vol for n, (vol, _) in inst.need_home.items()}
    contested = pairs.by_vol.sizes()
    candidates = pairs.by_need.sizes()
    done = set(chosen or {})
    open_needs = [n for n in np.flatnonzero(candidates).tolist() if n not in done]
    open_needs.sort(
        key=lambda n: (
            -int(inst.ben_priority[inst.need_ben[n]]),
            int(candidates[n]),
            -int(inst.need_load[n]),
        )
    )
    clock = deadline or Deadline.never()
    for i, n in enumerate(open_needs):
        if i % 64 == 0 and clock.remaining() < 0:
            break
        ben = int(inst.need_ben[n])
        ranked = sorted(
            pairs.by_need[n],
            key=lambda p: (
                home.get(n) != int(pairs.vol[p]),
                (int(pairs.vol[p]), ben) not in previous,
                int(contested[pairs.vol[p]]),
            ),
        )
        for p in ranked:
            placement = occ.placement(p)
            if placement is not None:
                occ.take(p, placement)
                break
    return occ.chosen()
