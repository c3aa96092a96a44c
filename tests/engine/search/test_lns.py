"""Neighbourhood search and polish (``matcher.search.lns``)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from engine_support import (
    compiled,
    level3,
    plan_of,
    two_volunteer_problem,
)
from helpers import (
    assigned,
    solve_and_check,
)
from oracles import mip_optimum
from ortools.sat.python import cp_model

from matcher.clock import Budget, Deadline
from matcher.format.validate import validate_plan
from matcher.model.eligibility import build_pairs
from matcher.model.evaluate import coverage_units
from matcher.model.instance import Instance
from matcher.params import SolveParams
from matcher.search import greedy, lns, stages
from matcher.synth.generate import generate_city


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
def test_neighbourhood_polish_keeps_levels_1_2_and_never_adds_travel(seed: int) -> None:
    """From a proved plan the neighbourhood polish stays valid, keeps levels 1-2 and lowers level 3."""
    problem = generate_city(60, 45, seed=seed)
    inst = Instance.from_problem(problem)
    proved = stages.optimise(inst, Budget.starting_now(20), SolveParams(refine=False))
    assert proved.proved_seconds is not None
    pairs, start = proved.pairs, proved.plan.to_chosen()
    stats = lns.LNSStats()
    found = lns.polish(inst, pairs, start, Deadline.after(10), size=8, seed=seed, stats=stats)
    assert validate_plan(problem, plan_of(problem, found)) == []
    assert coverage_units(inst, found) == coverage_units(inst, start)
    before, after = level3(inst, pairs, start), level3(inst, pairs, found)
    assert after[0] >= before[0]
    assert after[0] > before[0] or after[1] <= before[1], (before, after)
    # every accepted step is a strict gain, so the value falls when a step was taken
    assert (after != before) == (stats.improved > 0), stats


@pytest.mark.parametrize("previous_far", [False, True])
def test_neighbourhood_polish_moves_a_need_to_the_nearer_volunteer(previous_far: bool) -> None:
    """The nearer volunteer takes the need, unless the far one is last week's pair (continuity first)."""
    problem = two_volunteer_problem(previous_far)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    start = greedy.fill(inst, pairs)
    assert int(pairs.vol[start[0][0]]) == 0  # the far volunteer
    found = lns.polish(inst, pairs, start, Deadline.after(5), size=2)
    assert validate_plan(problem, plan_of(problem, found)) == []
    assert int(pairs.vol[found[0][0]]) == (0 if previous_far else 1)


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
