"""Which (volunteer, need) pairs can exist at all, and why a need has none.

Rules that depend on one volunteer and one need only (2, 3, 7, 8, 9, and the static
parts of 1, 5 and 6) are applied here as vectorised filters over each need's
candidates, so the model only ever sees pairs that could be part of a valid plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matcher.instance import BoolArray, Instance, IntArray
from matcher.reasons import CAPACITY_TAKEN, REASON_CODES
from matcher.rules import (
    availability,
    certification,
    exclusions,
    gender,
    max_beneficiaries,
    max_hours,
    minors,
    skill_in_reach,
)

Filter = Callable[[Instance, int, IntArray], BoolArray]

#: Static filters after the skill-in-reach candidate lookup, with the reason each gives.
FILTERS: tuple[tuple[str, Filter], ...] = (
    (certification.CODE, certification.keep),  # rule 2
    (minors.CODE, minors.keep),  # rule 8
    (gender.CODE, gender.keep),  # rule 9
    (exclusions.CODE, exclusions.keep),  # rule 9
    (availability.CODE, availability.keep),  # rules 1 and 3
    (max_hours.CODE, max_hours.keep),  # rule 5
    (max_beneficiaries.CODE, max_beneficiaries.keep),  # rule 6
)


@dataclass
class Pairs:
    """The eligible (volunteer, need) pairs and the slots each may use.

    Pair ``p`` links volunteer ``vol[p]`` to need ``need[p]``; ``slots[p]`` lists the
    slot indexes in both the need's windows and the volunteer's availability.
    """

    vol: IntArray
    need: IntArray
    slots: list[tuple[int, ...]]
    by_need: list[list[int]]
    by_vol: list[list[int]]
    by_vol_ben: dict[tuple[int, int], list[int]] = field(repr=False)
    bens_by_vol: list[list[int]] = field(repr=False)
    index: dict[tuple[int, int], int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.vol)

    @classmethod
    def of(cls, inst: Instance, vol: IntArray, need: IntArray, slots: list[tuple[int, ...]]) -> Pairs:
        """Index the pairs ``(vol[p], need[p])`` by need, volunteer and beneficiary."""
        by_need: list[list[int]] = [[] for _ in range(inst.n_needs)]
        by_vol: list[list[int]] = [[] for _ in range(inst.n_volunteers)]
        by_vol_ben: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        index: dict[tuple[int, int], int] = {}
        for p, (v, n) in enumerate(zip(vol.tolist(), need.tolist(), strict=True)):
            by_need[n].append(p)
            by_vol[v].append(p)
            by_vol_ben[(v, int(inst.need_ben[n]))].append(p)
            index[(v, n)] = p
        bens_by_vol: list[list[int]] = [[] for _ in range(inst.n_volunteers)]
        for v, b in by_vol_ben:
            bens_by_vol[v].append(b)
        return cls(vol, need, slots, by_need, by_vol, dict(by_vol_ben), bens_by_vol, index)

    def subset(self, inst: Instance, keep: IntArray) -> Pairs:
        """The pairs ``keep`` (indexes into these pairs), renumbered from 0 in that order."""
        return Pairs.of(inst, self.vol[keep], self.need[keep], [self.slots[p] for p in keep.tolist()])


def build_pairs(inst: Instance) -> Pairs:
    """Apply every static rule and collect the surviving pairs.

    Parameters
    ----------
    inst
        The compiled problem.

    Returns
    -------
    Pairs
        Pairs in need order, then volunteer order.
    """
    candidates = skill_in_reach.Candidates(inst)
    vols: list[IntArray] = []
    needs: list[IntArray] = []
    slots: list[tuple[int, ...]] = []
    for n in range(inst.n_needs):
        cand = candidates(n)
        if len(cand) == 0:
            continue
        mask = np.ones(len(cand), dtype=bool)
        for _, keep in FILTERS:
            mask &= keep(inst, n, cand)
            if not mask.any():
                break
        chosen = cand[mask]
        if len(chosen) == 0:
            continue
        usable = availability.usable(inst, n, chosen)
        vols.append(chosen)
        needs.append(np.full(len(chosen), n, dtype=np.int64))
        slots.extend(tuple(int(s) for s in np.flatnonzero(row)) for row in usable)
    vol = np.concatenate(vols) if vols else np.zeros(0, dtype=np.int64)
    need = np.concatenate(needs) if needs else np.zeros(0, dtype=np.int64)
    return Pairs.of(inst, vol, need, slots)


def static_reasons(inst: Instance, n: int, candidates: skill_in_reach.Candidates | None = None) -> list[str]:
    """Why need ``n`` has no candidate: each candidate's first refusing rule.

    Parameters
    ----------
    inst
        The compiled problem.
    n
        Need index.
    candidates
        A shared candidate lookup (built when absent).

    Returns
    -------
    list[str]
        Reason codes in :data:`~matcher.reasons.REASON_CODES` order;
        ``capacity_taken`` stands for candidates that pass every static rule.
    """
    cand = (candidates or skill_in_reach.Candidates(inst))(n)
    if len(cand) == 0:
        return [skill_in_reach.CODE]
    found: set[str] = set()
    alive = np.ones(len(cand), dtype=bool)
    for code, keep in FILTERS:
        ok = keep(inst, n, cand)
        if (alive & ~ok).any():
            found.add(code)
        alive &= ok
        if not alive.any():
            break
    if alive.any():
        found.add(CAPACITY_TAKEN)
    return [code for code in REASON_CODES if code in found]
