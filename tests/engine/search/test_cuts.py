"""Odd-cycle cuts on the coverage master, pricing under their duals, and HiGHS's clock."""

from __future__ import annotations

import itertools

import highspy
import numpy as np
import pytest
from engine_support import brute_price, coverage_master, plan_of, small_volunteers

from matcher.clock import Deadline
from matcher.format.validate import validate_plan
from matcher.model.plan import Chosen
from matcher.model.slotting import match_slots
from matcher.search import branch, colgen, greedy
from matcher.search.colgen import Penalties
from matcher.search.cuts import Cut, separate
from matcher.search.mip import limit_time, quiet_highs

GAP_SEEDS = [79, 93, 104, 105, 111, 120, 139, 140, 146, 157, 165, 168]
"""Small oracle problems whose coverage master's bound is above the optimum."""


def test_an_odd_cycle_of_half_sets_is_cut() -> None:
    """Three volunteers' sets, each sharing a need with the next, all half taken: cut to one set."""
    columns = [(0, [0, 1]), (1, [1, 2]), (2, [2, 0])]
    cuts = separate(columns, np.array([0.5, 0.5, 0.5]), 3, set())
    assert cuts == [Cut(frozenset({0, 1, 2}), frozenset())]
    assert cuts[0].rhs == 1
    assert [cuts[0].coefficient(k, needs) for k, needs in columns] == [1, 1, 1]


def test_a_cycle_through_a_volunteer_row_is_cut() -> None:
    """One volunteer's two sets and another's set holding both needs, all half taken: cut to one set."""
    # rows v0 (2 + 0), need 0 and need 1 form the cycle: at most one of the three sets
    columns = [(0, [0]), (0, [1]), (1, [0, 1])]
    cuts = separate(columns, np.array([0.5, 0.5, 0.5]), 2, set())
    assert cuts == [Cut(frozenset({0, 1}), frozenset({0}))]
    assert cuts[0].rhs == 1
    assert [cuts[0].coefficient(k, needs) for k, needs in columns] == [1, 1, 1]
    # volunteer 1's row is not in the cut: its set counts its two needs only
    assert cuts[0].coefficient(1, [0]) == 0 and cuts[0].coefficient(0, [0, 1]) == 1


def test_an_even_cycle_and_a_whole_plan_are_not_cut() -> None:
    """An even cycle of half sets is a mix of two plans, and a whole plan breaks no cut: nothing to cut."""
    columns = [(0, [0]), (0, [1]), (1, [1]), (1, [2]), (2, [2]), (2, [0])]
    assert separate(columns, np.full(6, 0.5), 3, set()) == []
    assert separate(columns, np.array([1.0, 0, 1, 0, 1, 0]), 3, set()) == []


def test_known_cuts_are_not_returned_again() -> None:
    """A cut already in the master is not separated twice."""
    columns = [(0, [0, 1]), (1, [1, 2]), (2, [2, 0])]
    known = {Cut(frozenset({0, 1, 2}), frozenset())}
    assert separate(columns, np.array([0.5, 0.5, 0.5]), 3, known) == []


def volunteer_sets(vols: list[colgen.Volunteer], plan: Chosen) -> dict[int, list[int]]:
    """A plan's needs per volunteer slot of the master."""
    slot = {vol.vol: k for k, vol in enumerate(vols)}
    out: dict[int, list[int]] = {}
    for need, (p, _) in plan.items():
        vol = next(vol for vol in vols if p in vol.pairs)
        out.setdefault(slot[vol.vol], []).append(need)
    return out


@pytest.mark.parametrize("seed", GAP_SEEDS)
def test_root_cuts_hold_for_every_plan_found(seed: int) -> None:
    """Every root cut holds for the greedy plan and for the optimum branch-and-price finds and proves."""
    problem, inst, pairs, master, optimum = coverage_master(seed)
    result = branch.prove_coverage(inst, master, 0, Deadline.after(20))
    assert result.proved and result.best == optimum and result.found is not None
    assert validate_plan(problem, plan_of(problem, result.found)) == []
    assert result.cuts, "a gap problem whose root LP has an odd cycle"
    for plan in (greedy.fill(inst, pairs), result.found):
        sets = volunteer_sets(master.vols, plan)
        for cut in result.cuts:
            assert sum(cut.coefficient(k, needs) for k, needs in sets.items()) <= cut.rhs


def brute_price_with(vol: colgen.Volunteer, lam: np.ndarray, pen: Penalties) -> float:
    """``max(0, max_S value(S) - lam(S) - penalty(S))`` over every subset of a volunteer's items."""
    best = 0.0
    n = len(vol.pairs)
    for size in range(1, n + 1):
        for items in itertools.combinations(range(n), size):
            if brute_price_subset_ok(vol, items):
                counts = list(pen.base)
                for i in items:
                    for j in pen.cuts_of[i]:
                        counts[j] += 1
                penalty = sum(s * (c // 2) for s, c in zip(pen.sigma, counts, strict=True))
                value = vol.worth(list(items)) - sum(float(lam[vol.need[i]]) for i in items) - penalty
                best = max(best, value)
    return best


def brute_price_subset_ok(vol: colgen.Volunteer, items: tuple[int, ...]) -> bool:
    """Whether a subset of a volunteer's items is one set it can take."""
    if sum(vol.load[i] for i in items) > vol.cap or len({vol.ben[i] for i in items}) > vol.max_ben:
        return False
    return match_slots([(vol.sessions[i], vol.slots[i]) for i in items]) is not None


def test_pricing_under_cut_duals_matches_brute_force() -> None:
    """With cuts' duals taken off, a volunteer's pricing still finds the exact best set."""
    checked = penalised = 0
    for inst, pairs, v, rng in small_volunteers(range(10), 9):
        vol = colgen.Volunteer(inst, pairs, v, 1, set())
        n = len(vol.pairs)
        for _ in range(3):
            lam = np.floor(rng.uniform(0, 0.6, inst.n_needs) * inst.need_value * 1024) / 1024
            n_cuts = int(rng.integers(1, 4))
            cuts_of = [tuple(j for j in range(n_cuts) if rng.random() < 0.5) for _ in range(n)]
            sigma = tuple(float(np.floor(rng.uniform(0.5, 4) * 1024) / 1024) for _ in range(n_cuts))
            base = tuple(int(rng.random() < 0.5) for _ in range(n_cuts))
            # a key of its own: the volunteer remembers answers by it
            pen = Penalties(cuts_of, base, sigma, tuple(((checked, j), sg) for j, sg in enumerate(sigma)))
            value, items = vol.price(lam, Deadline.after(5), penalties=pen)
            assert value == brute_price_with(vol, lam, pen)
            counts = list(base)
            for i in items:
                for j in cuts_of[i]:
                    counts[j] += 1
            taken = sum(s * (c // 2) for s, c in zip(sigma, counts, strict=True))
            worth = vol.worth(items) - sum(float(lam[vol.need[i]]) for i in items) - taken
            assert value == (worth if items else 0.0)
            penalised += value < brute_price(vol, lam)
            checked += 1
    assert checked > 100 and penalised > 10


def slow_lp() -> highspy.Highs:
    """A random set-packing LP that takes HiGHS some milliseconds to solve."""
    h = quiet_highs()
    rng = np.random.default_rng(0)
    n = 3000
    h.addVars(n, np.zeros(n), np.ones(n))
    for _ in range(400):
        idx = rng.choice(n, 30, replace=False).astype(np.int32)
        h.addRow(-highspy.kHighsInf, 1.0, 30, idx, np.ones(30))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    return h


@pytest.mark.parametrize("relative", [True, False])
def test_time_limit_is_per_run_only_through_limit_time(relative: bool) -> None:
    """HiGHS sums its run time over runs: limit_time gives each run its own; the bare option stops them."""
    h = slow_lp()
    rng = np.random.default_rng(1)
    runs: list[tuple[object, float]] = []  # (status, the run's own seconds)
    while h.getRunTime() < 0.15:
        if relative:
            limit_time(h, 0.05)
        else:
            h.setOptionValue("time_limit", 0.05)
        h.changeColsCost(3000, np.arange(3000, dtype=np.int32), rng.random(3000))
        before = h.getRunTime()
        h.run()
        runs.append((h.getModelStatus(), h.getRunTime() - before))
        if len(runs) > 200:
            break
    optimal = highspy.HighsModelStatus.kOptimal
    # A run stopped by the clock although it ran for less than its 0.05 s: the limit was
    # read against the time summed over earlier runs.  (A run that itself took 0.05 s or
    # more, as on a loaded machine, may stop either way: that says nothing.)
    cut_short = [s for s, own in runs if s != optimal and own < 0.045]
    if relative:
        assert runs and not cut_short, runs
    else:
        assert cut_short, runs
