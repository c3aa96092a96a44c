"""A fast constructive plan, used as CP-SAT's starting hint and to top up cut-short plans.

It never breaks a hard rule: every pair it considers is eligible (see
:mod:`matcher.model.eligibility`) and :class:`Occupancy` tracks the dynamic rules 4, 5 and 6.
"""

from __future__ import annotations

import numpy as np

from matcher.clock import Deadline
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.model.slotting import match_slots


class Occupancy:
    """What each volunteer has already taken on: needs, hours and beneficiaries.

    Sessions are not pinned to slots when a need is taken: a new need fits if all the
    volunteer's sessions can be re-placed together (:func:`matcher.model.slotting.match_slots`),
    which packs far better than first-fit slots.
    """

    def __init__(self, inst: Instance, pairs: Pairs) -> None:
        self.inst = inst
        self.pairs = pairs
        self.hours = np.zeros(inst.n_volunteers, dtype=np.int64)
        self.bens: list[dict[int, int]] = [{} for _ in range(inst.n_volunteers)]
        for v, held in inst.vol_held.items():  # re-solve: beneficiaries of fixed assignments
            self.bens[v] = dict.fromkeys(held, 1)
        self.pinned = inst.pinned
        """Volunteers whose current sessions must keep their slots (no re-matching)."""
        self.placed: list[dict[int, tuple[int, ...]]] = [{} for _ in range(inst.n_volunteers)]
        """Per volunteer: pair -> the slots its sessions hold now."""

    def _demand(self, p: int) -> tuple[int, tuple[int, ...]]:
        return int(self.inst.need_sessions[self.pairs.need[p]]), self.pairs.slots[p]

    def placement(self, p: int) -> dict[int, tuple[int, ...]] | None:
        """The volunteer's placement with pair ``p`` added, or None if rules 4-6 forbid it."""
        inst, pairs = self.inst, self.pairs
        v, n = int(pairs.vol[p]), int(pairs.need[p])
        if self.hours[v] + inst.need_load[n] > inst.vol_cap[v]:
            return None
        ben = int(inst.need_ben[n])
        if ben not in self.bens[v] and len(self.bens[v]) >= inst.vol_max_ben[v]:
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
        self.hours[v] += self.inst.need_load[n]
        ben = int(self.inst.need_ben[n])
        self.bens[v][ben] = self.bens[v].get(ben, 0) + 1

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
