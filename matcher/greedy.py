"""A fast constructive plan, used as CP-SAT's starting hint and to top up cut-short plans.

It never breaks a hard rule: every pair it considers is eligible (see
:mod:`matcher.eligibility`) and :class:`Occupancy` tracks the dynamic rules 4, 5 and 6.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from matcher.clock import Deadline
from matcher.eligibility import Pairs
from matcher.instance import Instance

Chosen = dict[int, tuple[int, tuple[int, ...]]]
"""need index -> (pair index, slot indexes)."""


class Occupancy:
    """What each volunteer has already given: slots, hours and beneficiaries."""

    def __init__(self, inst: Instance, pairs: Pairs) -> None:
        self.inst = inst
        self.pairs = pairs
        self.busy = np.zeros((inst.n_volunteers, len(inst.slots)), dtype=bool)
        self.hours = np.zeros(inst.n_volunteers, dtype=np.int64)
        self.bens: list[dict[int, int]] = [{} for _ in range(inst.n_volunteers)]

    def fit(self, p: int) -> tuple[int, ...] | None:
        """Slots pair ``p`` could take now without breaking rules 4-6, or None."""
        inst, pairs = self.inst, self.pairs
        v, n = int(pairs.vol[p]), int(pairs.need[p])
        if self.hours[v] + inst.need_load[n] > inst.vol_cap[v]:
            return None
        ben = int(inst.need_ben[n])
        if ben not in self.bens[v] and len(self.bens[v]) >= inst.vol_max_ben[v]:
            return None
        free = [s for s in pairs.slots[p] if not self.busy[v, s]]
        sessions = int(inst.need_sessions[n])
        return tuple(free[:sessions]) if len(free) >= sessions else None

    def take(self, p: int, slots: Iterable[int]) -> None:
        """Record that pair ``p`` holds sessions in ``slots``."""
        v, n = int(self.pairs.vol[p]), int(self.pairs.need[p])
        for s in slots:
            self.busy[v, s] = True
        self.hours[v] += self.inst.need_load[n]
        ben = int(self.inst.need_ben[n])
        self.bens[v][ben] = self.bens[v].get(ben, 0) + 1


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
    out: Chosen = dict(chosen or {})
    occ = Occupancy(inst, pairs)
    for p, slots in out.values():
        occ.take(p, slots)
    previous = set(inst.previous)
    contested = np.array([len(ps) for ps in pairs.by_vol], dtype=np.int64)
    open_needs = [n for n in range(inst.n_needs) if n not in out and pairs.by_need[n]]
    open_needs.sort(
        key=lambda n: (
            -int(inst.ben_priority[inst.need_ben[n]]),
            len(pairs.by_need[n]),
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
            key=lambda p: ((int(pairs.vol[p]), ben) not in previous, int(contested[pairs.vol[p]])),
        )
        for p in ranked:
            fitted = occ.fit(p)
            if fitted is not None:
                occ.take(p, fitted)
                out[n] = (p, fitted)
                break
    return out
