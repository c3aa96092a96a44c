"""Slotting and knapsack bounds (``matcher.model.slotting``, rules 4-6's helpers) against brute force."""

from __future__ import annotations

import itertools

import numpy as np
from engine_support import (
    Demand,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.model.rules.max_hours import best_fill
from matcher.model.rules.volunteer_value import best_value
from matcher.model.slotting import hall_cuts, match_slots


@st.composite
def demands(draw: st.DrawFn) -> tuple[int, list[Demand]]:
    """A volunteer's local slots and a few needs with sessions and usable slots among them."""
    n_slots = draw(st.integers(1, 6))
    out: list[Demand] = []
    for _ in range(draw(st.integers(1, 5))):
        usable = draw(st.sets(st.integers(0, n_slots - 1), min_size=1))
        sessions = draw(st.integers(1, len(usable)))
        out.append((sessions, tuple(sorted(usable))))
    return n_slots, out


def cuts_hold(n_slots: int, chosen: list[Demand]) -> bool:
    """Whether every non-redundant Hall cut holds for the chosen needs (all x = 1)."""
    sessions = np.array([s for s, _ in chosen], dtype=np.int64)
    usable = np.array([sum(1 << s for s in slots) for _, slots in chosen], dtype=np.int64)
    return all(int(coef.sum()) <= size for coef, size in hall_cuts(sessions, usable, n_slots))


@settings(max_examples=300, deadline=None)
@given(demands())
def test_hall_cuts_hold_exactly_when_the_sessions_fit(case: tuple[int, list[Demand]]) -> None:
    """For every subset of needs: the cuts hold if and only if a slot matching exists."""
    n_slots, needs = case
    for k in range(len(needs) + 1):
        for subset in itertools.combinations(needs, k):
            chosen = list(subset)
            matched = match_slots(chosen)
            assert cuts_hold(n_slots, chosen) == (matched is not None)
            if matched is not None:
                used = [s for slots in matched for s in slots]
                assert len(used) == len(set(used))  # one session per slot
                for (sessions, usable), slots in zip(chosen, matched, strict=True):
                    assert len(slots) == sessions and set(slots) <= set(usable)


def test_match_slots_moves_earlier_sessions_to_make_room() -> None:
    """A need placed first in a contested slot is moved so that a later need fits."""
    assert match_slots([(1, (0, 1)), (1, (0,))]) == [(1,), (0,)]
    assert match_slots([(2, (0, 1)), (1, (0, 1))]) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 9), st.integers(1, 6), st.integers(1, 3)), min_size=1, max_size=7),
    st.integers(0, 20),
    st.integers(0, 6),
)
def test_knapsack_bounds_match_brute_force(items: list[tuple[int, int, int]], cap: int, slots: int) -> None:
    """best_fill and best_value equal exhaustive search over all subsets."""
    values = [v for v, _, _ in items]
    loads = [w for _, w, _ in items]
    sessions = [s for _, _, s in items]
    fills, bests = [0], [0]
    for k in range(1, len(items) + 1):
        for subset in itertools.combinations(range(len(items)), k):
            load = sum(loads[i] for i in subset)
            if load <= cap:
                fills.append(load)
                if sum(sessions[i] for i in subset) <= slots:
                    bests.append(sum(values[i] for i in subset))
    assert best_fill(loads, cap) == max(fills)
    assert best_value(values, loads, sessions, cap, slots) == max(bests)
