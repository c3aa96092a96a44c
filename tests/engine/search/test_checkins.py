"""The long loops' progress hooks, against the exact optimum: column generation's rounds
(``colgen.prove``'s ``on_round``), branch-and-price's nodes (``branch.prove_coverage``'s
``on_node``) and the city bound as it stands (``citybound.bound``'s ``on_bound``).

Every bound a hook hears is proved: never below the optimum (the MIP oracle's), never
rising, and never below what the call then returns (so a report cannot promise more than
the result carries).  A plan a hook hears of is the plan returned.  With a hook the result
is the one without.
"""

from __future__ import annotations

import itertools
import threading
from types import SimpleNamespace

import pytest
from engine_support import DEFAULTS, compiled, coverage_master, plan_of
from oracles import mip_optimum

from matcher.clock import Deadline
from matcher.format.validate import validate_plan
from matcher.model.evaluate import LexObjective, coverage_units
from matcher.params import SolveParams
from matcher.search import branch, citybound, colgen, greedy, stages
from matcher.search.portfolio import BranchBeside


def non_increasing(values: list[int]) -> bool:
    """Whether each value is at most the one before."""
    return all(b <= a for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("seed", range(10))
def test_colgen_rounds_report_proved_bounds(seed: int) -> None:
    """Each round's bound, in coverage units, is at least the optimum, never rises and ends at
    the result's bound; the ticks come from its MIP; the result is the one without hooks."""
    problem, inst, pairs = compiled(seed)
    optimum = int(mip_optimum(problem).coverage * inst.scale)
    weight = LexObjective.of_columns(inst, pairs).weight
    start = greedy.fill(inst, pairs)
    heard: list[int] = []
    ticks: list[None] = []
    watched = colgen.prove(
        inst,
        pairs,
        start,
        weight,
        Deadline.after(20),
        mip_nodes=1000,
        on_round=heard.append,
        tick=lambda: ticks.append(None),
    )
    plain = colgen.prove(inst, pairs, start, weight, Deadline.after(20), mip_nodes=1000)
    assert heard and len(heard) == watched.rounds
    assert non_increasing(heard)
    assert heard[-1] == watched.bound
    assert all(bound // weight >= optimum for bound in heard)
    assert (watched.found, watched.primary, watched.bound, watched.rounds) == (
        plain.found,
        plain.primary,
        plain.bound,
        plain.rounds,
    )


@pytest.mark.parametrize("seed", [93, 139, 168])
def test_branch_nodes_report_proved_bounds_and_the_plan_found(seed: int) -> None:
    """Node by node: the bound stays at or above the optimum and falls to it; the plan heard
    of is the plan returned (valid, at most the optimum); the result is the one without."""
    problem, inst, _, master, optimum = coverage_master(seed)
    assert master.bound is not None and master.bound > optimum
    heard: list[tuple[int | None, int]] = []
    watched = branch.prove_coverage(
        inst,
        master,
        optimum - 2,
        Deadline.after(20),
        on_node=lambda found, bound: heard.append((found, bound)),
    )
    plain = branch.prove_coverage(inst, master, optimum - 2, Deadline.after(20))
    assert 1 <= len(heard) <= watched.nodes  # a node no plan can be in is closed unheard
    if seed == 139:
        assert len(heard) > 1  # it branches
    bounds = [bound for _, bound in heard]
    assert non_increasing(bounds)
    assert all(optimum <= bound <= master.bound for bound in bounds)
    assert bounds[-1] == optimum == watched.bound
    found = [f for f, _ in heard if f is not None]
    assert non_increasing(found[::-1]) and all(f <= optimum for f in found)
    assert watched.found is not None and found[-1] == coverage_units(inst, watched.found)
    assert validate_plan(problem, plan_of(problem, watched.found)) == []
    assert (watched.proved, watched.best, watched.found, watched.nodes) == (
        plain.proved,
        plain.best,
        plain.found,
        plain.nodes,
    )


@pytest.mark.parametrize("seed", [93, 139, 168])
@pytest.mark.parametrize("after", [1, 2, 3])
def test_branch_cut_short_keeps_a_proved_bound(seed: int, after: int) -> None:
    """Stopped after a few nodes, the search's bound (that of its open nodes) is still at
    least the optimum, at most the root's, and the last one it reported."""
    _, inst, _, master, optimum = coverage_master(seed)
    assert master.bound is not None
    stop = threading.Event()
    heard: list[int] = []

    def on_node(found: int | None, bound: int) -> None:
        heard.append(bound)
        if len(heard) >= after:
            stop.set()

    result = branch.prove_coverage(inst, master, optimum - 2, Deadline.after(20), stop=stop, on_node=on_node)
    assert result.bound is not None
    assert optimum <= result.bound <= master.bound
    if not result.proved:
        assert result.bound == heard[-1]


@pytest.mark.parametrize(
    "max_core_pairs", [DEFAULTS.city_max_core_pairs, 0], ids=["whole-core", "split-by-district"]
)
@pytest.mark.parametrize("seed", range(8))
def test_city_bound_as_it_stands_is_proved(seed: int, max_core_pairs: int) -> None:
    """Every bound heard on the way is at least the optimum, never rises and is at least the
    one returned; the result is the one without."""
    params = SolveParams(city_max_core_pairs=max_core_pairs)
    problem, inst, pairs = compiled(seed)
    optimum = int(mip_optimum(problem).coverage * inst.scale)
    start = greedy.fill(inst, pairs)
    heard: list[int] = []
    watched = citybound.bound(inst, pairs, start, Deadline.after(20), params, on_bound=heard.append)
    plain = citybound.bound(inst, pairs, start, Deadline.after(20), params)
    assert watched.units == plain.units
    assert non_increasing(heard)
    assert all(bound >= max(optimum, watched.units) for bound in heard)
    if watched.core_pairs:
        assert heard


@pytest.mark.parametrize("watched", [True, False])
def test_branch_beside_records_its_figures_only_when_watched(watched: bool) -> None:
    """On its thread, branch-and-price records (plan found, bound) after each node for the
    calling thread to report: at the end, those of its result; nothing unless watched."""
    _, inst, _, master, optimum = coverage_master(139)
    beside = BranchBeside(
        inst, master, optimum - 2, Deadline.after(20).at, lambda: optimum - 2, DEFAULTS, watched=watched
    )
    assert beside.wait(20, tick=lambda: None)
    result = beside.result()
    assert result is not None and result.proved and result.found is not None
    if watched:
        assert beside.figures == (coverage_units(inst, result.found), optimum)
    else:
        assert beside.figures is None


def test_the_proof_heartbeat_reports_what_is_beside_it() -> None:
    """The proof's heartbeat reports the better of the search's plan and branch-and-price's, and
    branch-and-price's bound; the state's own figures where there is nothing beside."""
    heard: list[tuple[str, int | None, int | None]] = []

    def check_in(stage: str, covered: int | None = None, bound: int | None = None) -> None:
        heard.append((stage, covered, bound))

    searching = SimpleNamespace(plan_units=40)
    branching = SimpleNamespace(figures=(42, 45))
    stages._beside(check_in, searching, branching)  # type: ignore[arg-type]
    stages._beside(check_in, searching, SimpleNamespace(figures=(None, 44)))  # type: ignore[arg-type]
    stages._beside(check_in, None, SimpleNamespace(figures=None))  # type: ignore[arg-type]
    stages._beside(check_in, None, None)
    assert heard == [("prove", 42, 45), ("prove", 40, 44), ("prove", None, None), ("prove", None, None)]
