"""Tests of the engine's inner machinery: Hall cuts, matching, knapsack cuts, greedy and LNS."""

from __future__ import annotations

import dataclasses
import itertools
import random
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from helpers import (
    assigned,
    beneficiary,
    make_problem,
    random_problem,
    solve_and_check,
    to_problem,
    volunteer,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from test_oracle import mip_optimum, small_problem

from matcher.clock import Budget, Deadline
from matcher.explain import to_plan, volunteers_of
from matcher.format.schema import Assignment, Objective, Plan, Problem, Unmet
from matcher.format.validate import validate_plan
from matcher.model.eligibility import build_pairs
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, coverage_units
from matcher.model.rules.max_hours import best_fill
from matcher.model.rules.volunteer_value import best_value
from matcher.model.slotting import hall_cuts, match_slots
from matcher.params import SolveParams
from matcher.search import branch, citybound, colgen, greedy, lns, proof, stages
from matcher.search.mip import solve_input, solve_mip
from matcher.search.portfolio import STOP_WAIT_S, MipBeside, SearchBeside
from matcher.search.prebuild import prebuilt_of
from matcher.search.transfer import extract_indexed, extract_values, hint, hinted_objective
from matcher.solve import solve
from matcher.synth.generate import generate_city

Demand = tuple[int, tuple[int, ...]]

DEFAULTS = SolveParams()


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


def compiled(seed: int) -> tuple[Problem, Instance, Pairs]:
    """A small oracle problem with its compiled instance and eligible pairs."""
    problem = small_problem(seed)
    inst = Instance.from_problem(problem)
    return problem, inst, build_pairs(inst)


def plan_of(problem: Problem, chosen: Chosen) -> Plan:
    """A format-1 plan for a set of assignments, to run the validator on it."""
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    units = sum(int(inst.need_value[n]) for n in chosen)
    total = sum(int(v) for v in inst.need_value)
    return to_plan(inst, volunteers_of(pairs, chosen), units, max(units, total), 0.0)


@pytest.mark.parametrize("seed", range(12))
def test_greedy_plan_is_always_valid(seed: int) -> None:
    """The greedy hint is a valid plan, also when it tops up part of another plan."""
    rng = random.Random(seed)
    problem = random_problem(rng, volunteers=rng.randint(3, 20), needs=rng.randint(5, 40))
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    chosen = greedy.fill(inst, pairs)
    assert validate_plan(problem, plan_of(problem, chosen)) == []
    half = dict(list(chosen.items())[: len(chosen) // 2])
    topped = greedy.fill(inst, pairs, half)
    assert set(half) <= set(topped)
    assert validate_plan(problem, plan_of(problem, topped)) == []


@pytest.mark.parametrize("seed", range(6))
def test_lns_reaches_the_exact_optimum_on_small_problems(seed: int) -> None:
    """Neighbourhood search from the greedy plan ends valid and at the independent MIP's optimum."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    start = greedy.fill(inst, pairs)
    stats = lns.LNSStats()
    # Neighbourhoods of 8 volunteers on up to 15: several steps, none the whole problem.
    found = lns.improve(inst, pairs, start, Deadline.after(5), size=8, seed=seed, stats=stats)
    assert validate_plan(problem, plan_of(problem, found)) == []
    covered = Fraction(sum(int(inst.need_value[n]) for n in found), inst.scale)
    assert covered >= Fraction(sum(int(inst.need_value[n]) for n in start), inst.scale)
    assert covered == opt.coverage, stats


def test_city_path_is_valid_and_keeps_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the full-model size the LNS path returns a valid plan, better than greedy, in time."""
    problem = generate_city(400, 300, seed=3)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    greedy_units = sum(int(inst.need_value[n]) for n in greedy.fill(inst, pairs))
    start = time.perf_counter()
    result = solve_and_check(problem, time_limit=3, params=SolveParams(full_model_max_pairs=100))
    assert time.perf_counter() - start < 3 + 1.0
    assert result.coverage * inst.scale >= greedy_units
    assert result.coverage <= result.coverage_bound


def test_plan_helper_rejects_a_broken_plan() -> None:
    """plan_of feeds the validator faithfully: a plan with a need taken twice is refused."""
    problem = small_problem(0)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    chosen = greedy.fill(inst, pairs)
    plan = plan_of(problem, chosen)
    first = plan.assignments[0]
    broken = Plan(
        format=1,
        status="feasible",
        assignments=[
            *plan.assignments,
            Assignment(need=first.need, volunteer=first.volunteer, slots=first.slots),
        ],
        unmet=[Unmet(need=u.need, reasons=u.reasons) for u in plan.unmet],
        objective=Objective(**plan.objective.model_dump()),
        solve_seconds=0.0,
    )
    assert validate_plan(problem, broken) != []


def test_solve_returns_at_least_the_greedy_plan() -> None:
    """Whatever CP-SAT does in a short run, the plan is never worse than the greedy hint."""
    problem = generate_city(150, 110, seed=5)
    inst = Instance.from_problem(problem)
    greedy_units = sum(int(inst.need_value[n]) for n in greedy.fill(inst, build_pairs(inst)))
    result = solve(problem, 0.5)
    assert validate_plan(problem, result.plan) == []
    assert result.coverage * inst.scale >= greedy_units


@pytest.mark.parametrize("seed", range(4))
def test_cpsat_prover_matches_the_mip_too(seed: int) -> None:
    """The CP-SAT proving path (the fallback to HiGHS) reaches the same exact optimum."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    result = solve(problem, 20, prover="cpsat")
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal"
    assert result.coverage == opt.coverage
    assert result.continuity == opt.continuity


@pytest.mark.parametrize("seed", range(4))
def test_full_model_prover_matches_the_mip_too(seed: int) -> None:
    """Without column generation, HiGHS on the full model reaches the same exact optimum."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    result = solve(problem, 20, columns=False)
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal"
    assert result.coverage == opt.coverage
    assert result.continuity == opt.continuity


@pytest.mark.parametrize("seed", range(6))
def test_column_bound_is_never_below_the_optimum(seed: int) -> None:
    """The Lagrangian bound of column generation holds, and its plan is valid."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    weight = colgen.continuity_max(inst, pairs) + 1
    result = colgen.prove(inst, pairs, greedy.fill(inst, pairs), weight, Deadline.after(20))
    assert result.bound is not None and result.found is not None
    assert result.bound >= weight * opt.coverage * inst.scale + opt.continuity
    assert validate_plan(problem, plan_of(problem, result.found)) == []
    assert result.primary == colgen.primary_of(inst, pairs, result.found, weight)


@pytest.mark.parametrize("seed", [93, 139, 168, 196, *range(4)])
def test_coverage_bound_holds_and_equals_the_coverage_only_master(seed: int) -> None:
    """From the primary columns and basis, the coverage bound holds and equals a fresh coverage-only run's."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    weight = colgen.continuity_max(inst, pairs) + 1
    start = greedy.fill(inst, pairs)
    cg = colgen.prove(inst, pairs, start, weight, Deadline.after(20))
    assert cg.bound is not None
    master = cg.coverage_master(inst, pairs, -1, 10**9, Deadline.after(20))
    assert master is not None and master.bound is not None
    units = master.bound
    assert opt.coverage * inst.scale <= units <= cg.bound // weight
    fresh = colgen.prove(dataclasses.replace(inst, previous=[]), pairs, start, 1, Deadline.after(20))
    assert units == fresh.bound


def test_coverage_bound_proves_what_the_primary_bound_cannot() -> None:
    """On a problem whose primary bound carries a unit of continuity, the columns alone prove coverage."""
    problem, inst, pairs = compiled(196)
    opt = mip_optimum(problem)
    weight = colgen.continuity_max(inst, pairs) + 1
    cg = colgen.prove(inst, pairs, greedy.fill(inst, pairs), weight, Deadline.after(20))
    assert cg.bound is not None and cg.bound // weight == opt.coverage * inst.scale + 1
    master = cg.coverage_master(inst, pairs, -1, 10**9, Deadline.after(20))
    assert master is not None and master.bound == opt.coverage * inst.scale
    result = solve(problem, 20)
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal" and result.coverage == opt.coverage == result.coverage_bound
    assert [p.name for p in result.phases if "HiGHS" in p.name] == []


def coverage_master(seed: int) -> tuple[Problem, Instance, Pairs, colgen.ColgenResult, int]:
    """A small oracle problem, its converged coverage-only master and its optimal coverage units."""
    problem, inst, pairs = compiled(seed)
    weight = colgen.continuity_max(inst, pairs) + 1
    cg = colgen.prove(inst, pairs, greedy.fill(inst, pairs), weight, Deadline.after(20))
    master = cg.coverage_master(inst, pairs, -1, 10**9, Deadline.after(20))
    assert master is not None and master.bound is not None
    return problem, inst, pairs, master, int(mip_optimum(problem).coverage * inst.scale)


@pytest.mark.parametrize("seed", [93, 139, 168])
def test_branch_and_price_proves_the_exact_optimum(seed: int) -> None:
    """Where the coverage master's bound is above the optimum, branching finds and proves the optimum."""
    problem, inst, _, master, optimum = coverage_master(seed)
    assert master.bound is not None and master.bound > optimum
    for incumbent in (optimum, optimum - 1, 0):
        result = branch.prove_coverage(inst, master, incumbent, Deadline.after(20))
        assert result.proved and result.best == optimum
        if incumbent < optimum:
            assert result.found is not None
            assert validate_plan(problem, plan_of(problem, result.found)) == []
            assert coverage_units(inst, result.found) == optimum
        else:
            assert result.found is None


@pytest.mark.parametrize("seed", range(12))
def test_branch_and_price_never_proves_below_the_optimum(seed: int) -> None:
    """From any incumbent, a proof names the exact optimum and any plan it finds is valid."""
    problem, inst, _, master, optimum = coverage_master(seed)
    result = branch.prove_coverage(inst, master, optimum - 3, Deadline.after(20))
    assert result.proved and result.best == optimum
    if result.found is not None:
        assert validate_plan(problem, plan_of(problem, result.found)) == []
        assert coverage_units(inst, result.found) == result.best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_branch_and_price_stops_at_the_master_bound(seed: int) -> None:
    """A plan at the coverage master's bound is proved without a node; one unit below is searched."""
    _, inst, _, master, optimum = coverage_master(seed)
    assert master.bound == optimum
    at = branch.prove_coverage(inst, master, optimum, Deadline.after(20))
    assert at.proved and at.best == optimum and at.nodes == 0 and at.found is None
    below = branch.prove_coverage(inst, master, optimum - 1, Deadline.after(20))
    assert below.proved and below.best == optimum and below.nodes >= 1 and below.found is not None


def test_branch_and_price_stops_at_its_deadline() -> None:
    """Out of time, branching claims no proof."""
    _, inst, _, master, optimum = coverage_master(93)
    result = branch.prove_coverage(inst, master, optimum - 1, Deadline.after(0.0))
    assert not result.proved and result.best == optimum - 1 and result.found is None


@pytest.mark.parametrize(
    ("first", "head"),
    [
        (DEFAULTS.branch_first_s, DEFAULTS.branch_head_s),
        (0.0, 0.0),
        (0.0, DEFAULTS.branch_head_s),
    ],
    ids=["first", "beside", "head-start"],
)
def test_solve_proves_by_branching_where_the_columns_fall_short(
    monkeypatch: pytest.MonkeyPatch, first: float, head: float
) -> None:
    """Branch-and-price, first, or alone then beside HiGHS, settles coverage when HiGHS proves nothing."""
    waited: list[bool] = []

    def idle_highs(*args: Any) -> tuple[None, None, bool]:
        # HiGHS that only waits for the branching beside it to settle coverage
        settled = args[5]
        stop = time.perf_counter() + 10
        while settled is not None and not settled() and time.perf_counter() < stop:
            time.sleep(0.01)
        waited.append(settled is not None and settled())
        return None, None, False

    late = branch.prove_coverage

    def prove_later(*args: Any, **kwargs: Any) -> branch.BranchResult:
        # Beside HiGHS, start after it does: this small search can settle coverage within
        # the interpreter's thread switch, before HiGHS would start at all.
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.05)
        return late(*args, **kwargs)

    monkeypatch.setattr(proof, "prove_with_highs", idle_highs)
    monkeypatch.setattr(branch, "prove_coverage", prove_later)
    problem = small_problem(93)
    opt = mip_optimum(problem)
    result = solve(problem, 20, params=SolveParams(branch_first_s=first, branch_head_s=head))
    # First, or in its head start, the search settles coverage before HiGHS starts; given
    # neither, HiGHS starts and waits for it.
    assert waited == ([True] if not first and head == 0.0 else [])
    assert validate_plan(problem, result.plan) == []
    assert result.status == "optimal" and result.coverage == opt.coverage == result.coverage_bound
    searches = [p.status for p in result.phases if p.name == "coverage (branch-and-price)"]
    assert searches == (["OPTIMAL"] if first else ["UNKNOWN", "OPTIMAL"])


@pytest.mark.parametrize("first", [DEFAULTS.branch_first_s, 0.0])
def test_branching_beside_highs_only_where_it_would_not_repeat_itself(
    monkeypatch: pytest.MonkeyPatch, first: float
) -> None:
    """A full first search and no better plan since: none beside HiGHS; a cut-short first search: again."""
    calls: list[int] = []

    def unsettled(
        inst: Instance, master: colgen.ColgenResult, incumbent: int, *args: Any, **kwargs: Any
    ) -> branch.BranchResult:
        calls.append(incumbent)
        return branch.BranchResult(False, incumbent, None, 0, 0.0)

    monkeypatch.setattr(branch, "prove_coverage", unsettled)
    monkeypatch.setattr(colgen.PairBounds, "plan", lambda self, inst, start, *args: start)
    monkeypatch.setattr(proof, "prove_with_highs", lambda *args: (None, None, False))
    problem = small_problem(93)
    result = solve(problem, 20, params=SolveParams(branch_first_s=first))
    assert validate_plan(problem, result.plan) == []
    assert len(calls) == (1 if first >= DEFAULTS.branch_s else 2)


@pytest.mark.parametrize("seed", range(4))
def test_deterministic_solve_depends_on_the_problem_only(seed: int) -> None:
    """solve(deterministic=True): a valid plan, the same twice, flagged deterministic, exact when optimal."""
    problem = small_problem(seed)
    first = solve(problem, 20, deterministic=True, refine=False)
    second = solve(problem, 20, deterministic=True, refine=False)
    assert validate_plan(problem, first.plan) == []
    assert first.deterministic and second.deterministic
    assert first.plan.assignments == second.plan.assignments
    assert first.coverage <= first.coverage_bound
    if first.status == "optimal":
        assert first.coverage == mip_optimum(problem).coverage


@pytest.mark.parametrize(
    ("max_core_pairs", "price_steps"),
    [
        (DEFAULTS.city_max_core_pairs, DEFAULTS.city_price_steps),
        (0, DEFAULTS.city_price_steps),
        (DEFAULTS.city_max_core_pairs, 1),
    ],
    ids=["whole-core", "split-by-district", "pricing-cut-short"],
)
def test_city_bound_is_never_below_the_optimum(max_core_pairs: int, price_steps: int) -> None:
    """The city bound holds from any plan (whole or split core, exact or short pricing), often below reach."""
    params = SolveParams(city_max_core_pairs=max_core_pairs, city_price_steps=price_steps)
    below = 0
    for seed in range(12):
        problem = small_problem(seed)
        inst = Instance.from_problem(problem)
        pairs = build_pairs(inst)
        opt_units = mip_optimum(problem).coverage * inst.scale
        reachable = int(inst.need_value[pairs.by_need.sizes() > 0].sum())
        for plan in ({}, greedy.fill(inst, pairs)):
            result = citybound.bound(inst, pairs, plan, Deadline.after(20), params)
            assert opt_units <= result.units <= reachable
            below += result.units < reachable
    assert below > 0


def brute_price(vol: colgen.Volunteer, lam: np.ndarray) -> float:
    """``max(0, max_S value(S) - lam(S))`` over every subset of a volunteer's items."""
    best = 0.0
    n = len(vol.pairs)
    for size in range(1, n + 1):
        for items in itertools.combinations(range(n), size):
            if sum(vol.load[i] for i in items) > vol.cap or len({vol.ben[i] for i in items}) > vol.max_ben:
                continue
            if match_slots([(vol.sessions[i], vol.slots[i]) for i in items]) is None:
                continue
            best = max(best, vol.worth(list(items)) - sum(float(lam[vol.need[i]]) for i in items))
    return best


def small_volunteers(seeds: range, most: int) -> Iterator[tuple[Instance, Pairs, int, np.random.Generator]]:
    """Each volunteer with 1 to ``most`` eligible pairs in the small oracle problems, with a generator."""
    for seed in seeds:
        inst = Instance.from_problem(small_problem(seed))
        pairs = build_pairs(inst)
        rng = np.random.default_rng(seed)
        for v in range(inst.n_volunteers):
            if 0 < len(pairs.by_vol[v]) <= most:
                yield inst, pairs, v, rng


def test_pricing_matches_brute_force() -> None:
    """A volunteer's pricing (pruned by the hours, slots and beneficiaries left) finds the exact best set."""
    checked = 0
    for inst, pairs, v, rng in small_volunteers(range(10), 11):
        bens = {int(inst.need_ben[int(pairs.need[p])]) for p in pairs.by_vol[v]}
        previous = set(rng.choice(sorted(bens), size=min(2, len(bens)), replace=False).tolist())
        vol = colgen.Volunteer(inst, pairs, v, 3, previous)
        for _ in range(3):
            lam = np.floor(rng.uniform(0, 3, inst.n_needs) * inst.need_value * 1024) / 1024
            value, items = vol.price(lam, Deadline.after(5))
            assert value == brute_price(vol, lam)
            assert value == (vol.worth(items) - sum(lam[vol.need[i]] for i in items) if items else 0.0)
            checked += 1
    assert checked > 100


def test_pricing_cut_short_returns_an_upper_bound() -> None:
    """A volunteer's pricing stopped after one step returns at least the exact maximum (a bound)."""
    cut_short = 0
    for inst, pairs, v, rng in small_volunteers(range(6), 10**6):
        vol = colgen.Volunteer(inst, pairs, v, 1, set())
        for _ in range(5):
            lam = np.floor(rng.uniform(0, 1, inst.n_needs) * inst.need_value * 1024) / 1024
            exact, _ = vol.price(lam, Deadline.after(5))
            short, items = vol.price(lam, Deadline.after(5), max_steps=1)
            assert short >= exact
            assert vol.worth(items) - sum(lam[vol.need[i]] for i in items) <= exact + 1e-9
            cut_short += short > exact
    assert cut_short > 0


@pytest.mark.parametrize("seed", range(4))
def test_city_path_bound_is_never_below_the_optimum(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """solve() at city size (bound computed beside the search) never reports a bound below the optimum."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    result = solve_and_check(problem, time_limit=3, params=SolveParams(full_model_max_pairs=10))
    assert result.coverage <= opt.coverage <= result.coverage_bound


@pytest.mark.parametrize("seed", range(3))
def test_lns_stops_at_its_target_and_when_told(seed: int) -> None:
    """Neighbourhood search takes no step from a plan at its target, and stops when ``stop`` says so."""
    problem, inst, pairs = compiled(seed)
    start = greedy.fill(inst, pairs)
    covered = sum(int(inst.need_value[n]) for n in start)
    stats = lns.LNSStats()
    same = lns.improve(inst, pairs, start, Deadline.after(5), size=8, seed=seed, target=covered, stats=stats)
    assert stats.steps == 0 and same == start
    seen: list[int] = []
    solvers: list[cp_model.CpSolver] = []

    def stop(covered: int) -> bool:
        seen.append(covered)
        return len(seen) > 3

    stats = lns.LNSStats()
    found = lns.improve(
        inst,
        pairs,
        start,
        Deadline.after(5),
        size=8,
        seed=seed,
        max_stall=0,
        stop=stop,
        on_step=solvers.append,
        stats=stats,
    )
    assert stats.steps == 3 and seen[0] == covered
    assert 1 <= len(solvers) <= 3 and all(isinstance(s, cp_model.CpSolver) for s in solvers)
    assert validate_plan(problem, plan_of(problem, found)) == []


@pytest.mark.parametrize("seed", range(4))
def test_highs_stopped_at_its_first_bound_keeps_a_true_bound(seed: int) -> None:
    """solve_mip stopped by its callback as soon as it can be returns a bound never below the optimum."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    lm = build(inst, pairs)
    hint(lm, greedy.fill(inst, pairs))
    calls: list[tuple[float, float]] = []

    def stop(value: float, bound: float) -> bool:
        calls.append((value, bound))
        return True

    result = solve_mip(lm.model, 20, stop=stop)
    weight = lm.secondary_max + 1
    assert result.bound is not None
    assert result.bound >= weight * opt.coverage * inst.scale + opt.continuity
    assert all(bound >= value for value, bound in calls)
    if calls:
        assert not result.optimal or result.objective >= result.bound - 0.5


@pytest.mark.parametrize("seed", range(4))
def test_search_beside_sends_its_plans_and_stops_when_told(seed: int) -> None:
    """The search in its own process reaches a small optimum, and stops at once when told or done."""
    problem, inst, pairs = compiled(seed)
    opt = mip_optimum(problem)
    start = greedy.fill(inst, pairs)
    enough = int(opt.coverage * inst.scale)
    until = time.perf_counter() + 10
    search = SearchBeside(inst, pairs, start, enough, until, SolveParams(lns_size=8, seed=seed))
    while not search.report(-1) and time.perf_counter() < until:
        time.sleep(0.01)
    plan = search.result()
    assert validate_plan(problem, plan_of(problem, plan)) == []
    assert coverage_units(inst, plan) == search.covered == enough
    # told to stop long before its deadline, with a target out of reach
    endless = SearchBeside(
        inst, pairs, start, enough + 10**6, time.perf_counter() + 60, SolveParams(lns_size=8, seed=seed)
    )
    time.sleep(0.2)
    told = time.perf_counter()
    plan = endless.result()
    assert time.perf_counter() - told < STOP_WAIT_S  # it said it was done: it was not killed
    assert validate_plan(problem, plan_of(problem, plan)) == []
    # ended before it is asked for its plan (a stop signal then finds no one listening)
    ended = SearchBeside(
        inst, pairs, start, enough + 10**6, time.perf_counter(), SolveParams(lns_size=8, seed=seed)
    )
    time.sleep(0.2)
    assert ended.result() == start


@pytest.mark.parametrize("seed", range(8))
def test_pair_bounds_keep_the_optimum_and_the_pool_plan_is_valid(seed: int) -> None:
    """Zero pairs for a target at the optimum keep the MIP optimum; the pool's plan is valid, no worse."""
    problem, inst, pairs = compiled(seed)
    lm = build(inst, pairs, Deadline.after(10))
    best = solve_mip(lm.model, 20)
    assert best.optimal and best.values is not None
    optimum = round(best.objective)
    weight = lm.secondary_max + 1
    start = greedy.fill(inst, pairs)
    cg = colgen.prove(inst, pairs, start, weight, Deadline.after(10))
    bounds = cg.pair_bounds(optimum, Deadline.after(10))
    zero = bounds.zero(optimum)
    fixed = solve_mip(lm.model, 20, zero=[lm.vars.x[p].index for p in zero])
    assert fixed.optimal and round(fixed.objective) == optimum
    assert all(bounds.bound[p] >= optimum for p, _ in extract_values(lm, best.values).values())
    floor = colgen.primary_of(inst, pairs, start, weight) + 1
    pooled = cg.pair_bounds(floor, Deadline.after(10)).plan(inst, start, floor, optimum, Deadline.after(10))
    assert validate_plan(problem, plan_of(problem, pooled)) == []
    assert colgen.primary_of(inst, pairs, pooled, weight) >= colgen.primary_of(inst, pairs, start, weight)


def test_proof_beside_the_search_matches_the_exact_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no plan nor bound from the columns nor branching, HiGHS beside the search proves the optimum."""
    prove = colgen.prove
    searched: list[int] = []
    proving: list[int] = []
    prove_with_highs = proof.prove_with_highs

    def planless(*args: object, **kwargs: object) -> colgen.ColgenResult:
        # keep the multipliers (for pair fixing) but no plan and no bound: HiGHS must prove
        result = prove(*args, **kwargs)  # type: ignore[arg-type]
        result.found, result.primary, result.bound = None, -1, None
        return result

    class Counted(SearchBeside):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            searched.append(1)  # the search itself runs in another process
            super().__init__(*args, **kwargs)

    def highs(*args: object, **kwargs: object) -> object:
        proving.append(1)
        return prove_with_highs(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(colgen, "prove", planless)
    # no coverage master, so no branching beside HiGHS: HiGHS proves
    monkeypatch.setattr(colgen.ColgenResult, "coverage_master", lambda *args: None)
    monkeypatch.setattr(stages, "SearchBeside", Counted)
    monkeypatch.setattr(proof, "prove_with_highs", highs)
    for seed in range(8):
        problem = small_problem(seed)
        opt = mip_optimum(problem)
        result = solve_and_check(problem, time_limit=20)
        assert result.status == "optimal"
        assert result.coverage == opt.coverage
        assert result.continuity == opt.continuity
    assert searched and proving


def level3(inst: Instance, pairs: Pairs, chosen: Chosen) -> tuple[int, int]:
    """(secondary value, travel-and-load value) of a plan, read off the full model."""
    lm = build(inst, pairs)
    lm.model.minimize(lm.polish())
    hint(lm, chosen)
    return lm.secondary_of(chosen), round(hinted_objective(lm.model))


@pytest.mark.parametrize("seed", range(4))
def test_neighbourhood_polish_keeps_levels_1_2_and_never_adds_travel(seed: int) -> None:
    """From a proved plan the neighbourhood polish stays valid, keeps levels 1-2 and lowers level 3."""
    problem = generate_city(60, 45, seed=seed)
    inst = Instance.from_problem(problem)
    proved = stages.optimise(inst, Budget.starting_now(20), SolveParams(refine=False))
    assert proved.proved_seconds is not None
    pairs, start = proved.pairs, proved.chosen
    stats = lns.LNSStats()
    found = lns.polish(inst, pairs, start, Deadline.after(10), size=8, seed=seed, stats=stats)
    assert validate_plan(problem, plan_of(problem, found)) == []
    assert coverage_units(inst, found) == coverage_units(inst, start)
    before, after = level3(inst, pairs, start), level3(inst, pairs, found)
    assert after[0] >= before[0]
    assert after[0] > before[0] or after[1] <= before[1], (before, after)
    # every accepted step is a strict gain, so the value falls when a step was taken
    assert (after != before) == (stats.improved > 0), stats


def two_volunteer_problem(previous_far: bool) -> Problem:
    """One need, a near and a far volunteer (the far one first, so greedy takes it)."""
    doc = make_problem(
        volunteers=[
            volunteer("far", location=[39.90, 98.40]),
            volunteer("near", location=[39.80, 98.29]),
        ],
        beneficiaries=[beneficiary("b1", location=[39.80, 98.30])],
        previous=[{"volunteer": "far", "beneficiary": "b1"}] if previous_far else [],
    )
    return to_problem(doc)


@pytest.mark.parametrize("previous_far", [False, True])
def test_neighbourhood_polish_moves_a_need_to_the_nearer_volunteer(previous_far: bool) -> None:
    """The nearer volunteer takes the need, unless the far one is last week's pair (continuity first)."""
    problem = two_volunteer_problem(previous_far)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    start = greedy.fill(inst, pairs)
    assert volunteers_of(pairs, start)[0][0] == 0  # the far volunteer
    found = lns.polish(inst, pairs, start, Deadline.after(5), size=2)
    assert validate_plan(problem, plan_of(problem, found)) == []
    assert volunteers_of(pairs, found)[0][0] == (0 if previous_far else 1)


@pytest.mark.parametrize("threshold", [0, 10_000])
@pytest.mark.parametrize("previous_far", [False, True])
def test_solve_prefers_the_nearer_volunteer_on_either_polish_path(
    threshold: int, previous_far: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Level 3 by neighbourhoods (threshold 0) or on the full model picks the nearer volunteer."""
    result = solve_and_check(
        two_volunteer_problem(previous_far), params=SolveParams(full_polish_max_pairs=threshold)
    )
    assert result.status == "optimal"
    assert assigned(result) == {"n1": "far" if previous_far else "near"}
    by_neighbourhoods = any("neighbourhoods" in phase.name for phase in result.phases)
    assert by_neighbourhoods == (threshold == 0)


@pytest.mark.parametrize("seed", range(3))
def test_mip_built_beside_is_the_mip_built_here(seed: int) -> None:
    """The forked builder sends the same HiGHS input (matrix, bounds, cost, start) and literal map."""
    problem, inst, pairs = compiled(seed)
    start = greedy.fill(inst, pairs)
    zero = list(range(0, len(pairs), 3))
    beside = MipBeside(inst, pairs, time.perf_counter() + 20)
    got = beside.request(start, zero, time.perf_counter() + 20)
    assert got is not None
    lm = build(inst, pairs)
    hint(lm, start)
    here = prebuilt_of(lm, zero)
    assert (got.mip.a != here.mip.a).nnz == 0
    for name in ("row_lo", "row_hi", "col_lo", "col_hi", "cost", "start"):
        assert np.array_equal(getattr(got.mip, name), getattr(here.mip, name)), name
    assert (got.mip.scale, got.mip.offset) == (here.mip.scale, here.mip.offset)
    assert got.literals == here.literals and got.secondary_max == here.secondary_max
    values = solve_input(got.mip, 20).values
    assert values is not None
    found = extract_indexed(inst, pairs, got.literals, values)
    assert validate_plan(problem, plan_of(problem, found)) == []


def test_mip_beside_gives_up_cleanly() -> None:
    """Out of time while building, the builder answers None at once; told to end, it ends."""
    _, inst, pairs = compiled(0)
    late = MipBeside(inst, pairs, time.perf_counter() - 1)
    t = time.perf_counter()
    assert late.request({}, [], time.perf_counter() + 10) is None
    assert time.perf_counter() - t < 5
    unused = MipBeside(inst, pairs, time.perf_counter() + 20)
    unused.close()
    assert not unused._proc.is_alive()
