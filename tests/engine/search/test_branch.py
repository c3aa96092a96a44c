"""Branch-and-price (``matcher.search.branch``) against the exact optimum."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from engine_support import (
    DEFAULTS,
    coverage_master,
    plan_of,
)
from oracles import mip_optimum, small_problem

from matcher.clock import Deadline
from matcher.format.validate import validate_plan
from matcher.model.evaluate import coverage_units
from matcher.model.instance import Instance
from matcher.params import SolveParams
from matcher.search import branch, colgen, proof
from matcher.solve import solve


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
