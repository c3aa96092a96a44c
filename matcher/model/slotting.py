"""Slot assignment without slot variables: Hall cuts and matching.

A volunteer's chosen needs fit their slots (rules 1, 3, 4: each need ``n`` takes
``s_n`` distinct slots of its usable set ``A_n``, each slot holds one session) exactly
when a bipartite flow exists.  By max-flow/min-cut that holds iff for every set ``U``
of the volunteer's slots

    sum_n max(0, s_n - |A_n minus U|) x_n  <=  |U|

(a cut leaving ``U`` on the source side).  For volunteers with few usable slots we add
these cuts instead of one literal per (pair, slot): the model loses all the symmetric
ways of placing the same sessions, which is what makes station-size proofs slow, and
the LP relaxation is unchanged (the flow polytope is integral).  The slots themselves
are recovered after solving by :func:`match_slots`.
"""

from __future__ import annotations

import numpy as np

from matcher.model.instance import IntArray

#: Volunteers with more distinct usable slots than this keep explicit slot literals.
MAX_HALL_SLOTS = 10

_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << MAX_HALL_SLOTS)], dtype=np.int64)


def hall_cuts(sessions: IntArray, usable: IntArray, n_slots: int) -> list[tuple[IntArray, int]]:
    """The non-redundant cuts for one volunteer.

    Parameters
    ----------
    sessions
        ``s_n`` of each candidate pair of the volunteer.
    usable
        Bitmask of each pair's usable slots over the volunteer's local slot numbering.
    n_slots
        Number of local slots (at most :data:`MAX_HALL_SLOTS`).

    Returns
    -------
    list[tuple[IntArray, int]]
        ``(coefficients per pair, |U|)`` for every set ``U`` whose cut can bind and is not
        implied by the cut of a subset with the same coefficients.
    """
    subsets = np.arange(1, 1 << n_slots, dtype=np.int64)
    # missing[U, p] = |A_p minus U|
    missing = _POPCOUNT[usable[None, :] & ~subsets[:, None] & ((1 << n_slots) - 1)]
    coef = np.maximum(0, sessions[None, :] - missing)
    size = _POPCOUNT[subsets]
    binding = coef.sum(axis=1) > size
    # A slot u of U is essential if dropping it lowers some coefficient; otherwise the cut
    # of U minus u has the same left side and a smaller right side, and implies this one.
    essential = np.ones(len(subsets), dtype=bool)
    for u in range(n_slots):
        has_u = (subsets >> u) & 1 == 1
        smaller = subsets & ~(1 << u)  # 0 means the empty set, whose coefficients are all 0
        coef_smaller = np.where(smaller[:, None] > 0, coef[np.maximum(smaller - 1, 0)], 0)
        same = (coef == coef_smaller).all(axis=1)
        essential &= ~(has_u & same)
    keep = np.flatnonzero(binding & essential)
    return [(coef[i], int(size[i])) for i in keep]


def match_slots(demands: list[tuple[int, tuple[int, ...]]]) -> list[tuple[int, ...]] | None:
    """Give each need ``sessions`` distinct slots, each slot to one session at most.

    Parameters
    ----------
    demands
        ``(sessions, usable slots)`` per need of one volunteer.

    Returns
    -------
    list[tuple[int, ...]] | None
        Slots per need, sorted, or None when no assignment exists.
    """
    owner: dict[int, int] = {}  # slot -> need

    def augment(need: int, seen: set[int]) -> bool:
        # Kuhn's augmenting path; a need appears once per session, but never twice in one slot.
        for s in demands[need][1]:
            if s in seen or owner.get(s) == need:
                continue
            seen.add(s)
            other = owner.get(s)
            if other is None or augment(other, seen):
                owner[s] = need
                return True
        return False

    for need, (sessions, _) in enumerate(demands):
        for _ in range(sessions):
            if not augment(need, set()):
                return None
    out: list[list[int]] = [[] for _ in demands]
    for s, need in owner.items():
        out[need].append(s)
    return [tuple(sorted(slots)) for slots in out]
