"""The engine's plan type: constructors that agree, round trips that lose nothing (not
even the order the searches depend on), and the exchange plan written from it."""

from __future__ import annotations

import numpy as np
import pytest
from engine_support import compiled
from oracles import tiny_problem
from ortools.sat.python import cp_model

from matcher.clock import Budget
from matcher.explain import to_format
from matcher.format.validate import validate_plan
from matcher.model.eligibility import build_pairs
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.plan import NONE, IndexedPlan
from matcher.params import SolveParams
from matcher.search import greedy
from matcher.search.stages import optimise
from matcher.search.transfer import extract, hint


@pytest.mark.parametrize("seed", range(6))
def test_constructors_agree_and_round_trip(seed: int) -> None:
    """from_chosen, from_pairs, from_assigned (with and without pairs) and from_items give the
    same plan, and the views come back exactly, in the order given."""
    _, inst, pairs = compiled(seed)
    chosen = greedy.fill(inst, pairs)
    assert chosen, "a greedy plan with no assignment tests nothing"
    plan = IndexedPlan.from_chosen(inst, pairs, chosen)
    assert plan.to_chosen() == chosen
    assert list(plan.to_chosen()) == list(chosen)  # the order too
    assigned = plan.to_assigned()
    assert assigned == {n: (int(pairs.vol[p]), sl) for n, (p, sl) in chosen.items()}
    assert IndexedPlan.from_assigned(inst, assigned, pairs) == plan
    assert IndexedPlan.from_pairs(inst, pairs, {p: sl for p, sl in chosen.values()}) == plan
    rows = [(n, int(pairs.vol[p]), p, sl) for n, (p, sl) in chosen.items()]
    assert IndexedPlan.from_items(inst, rows) == plan
    loose = IndexedPlan.from_assigned(inst, assigned)
    assert (loose.pair[loose.needs] == NONE).all()
    assert loose != plan and loose.numbered(pairs) == plan
    with pytest.raises(ValueError, match="without a pair"):
        loose.to_chosen()
    assert len(plan) == len(chosen)
    assert all(n in plan for n in chosen)
    assert [n for n in range(inst.n_needs) if n not in plan] == sorted(set(range(inst.n_needs)) - set(chosen))


def test_reversed_order_is_kept_and_equality_ignores_it() -> None:
    """A view given in another order comes back in that order; the plans are still equal."""
    _, inst, pairs = compiled(1)
    chosen = greedy.fill(inst, pairs)
    backwards = dict(reversed(list(chosen.items())))
    plan = IndexedPlan.from_chosen(inst, pairs, backwards)
    assert list(plan.to_chosen()) == list(backwards)
    assert plan == IndexedPlan.from_chosen(inst, pairs, chosen)


def test_slots_keep_their_order_and_differ_when_they_differ() -> None:
    """Slots come back as placed; a plan with one need at other slots is another plan."""
    _, inst, pairs = compiled(2)
    chosen = greedy.fill(inst, pairs)
    n, (p, slots) = next((n, a) for n, a in chosen.items() if len(a[1]) > 1)
    turned = {**chosen, n: (p, tuple(reversed(slots)))}
    plan = IndexedPlan.from_chosen(inst, pairs, turned)
    assert plan.slots_of(n) == tuple(reversed(slots))
    assert plan == IndexedPlan.from_chosen(inst, pairs, chosen)  # the same slot set
    other = next((s for s in pairs.slots[p] if s not in slots), None)
    if other is not None:
        moved = {**chosen, n: (p, (other, *slots[1:]))}
        assert IndexedPlan.from_chosen(inst, pairs, moved) != IndexedPlan.from_chosen(inst, pairs, chosen)


def test_a_need_assigned_twice_is_refused() -> None:
    """Rule 1 holds by construction of the plan."""
    _, inst, pairs = compiled(0)
    p = 0
    n, v = int(pairs.need[p]), int(pairs.vol[p])
    with pytest.raises(ValueError, match="assigned twice"):
        IndexedPlan.from_items(inst, [(n, v, p, ()), (n, v, p, ())])


def test_merged_is_dict_union_and_leaves_both_alone() -> None:
    """``a.merged(b)`` is ``a | b`` on the views: b wins, a's order first."""
    _, inst, pairs = compiled(3)
    chosen = greedy.fill(inst, pairs)
    items = list(chosen.items())
    half = len(items) // 2
    a_view, b_view = dict(items[: half + 1]), dict(items[half:])
    a = IndexedPlan.from_chosen(inst, pairs, a_view)
    b = IndexedPlan.from_chosen(inst, pairs, b_view)
    merged = a.merged(b)
    assert merged.to_chosen() == a_view | b_view
    assert list(merged.to_chosen()) == list(a_view | b_view)
    assert a.to_chosen() == a_view and b.to_chosen() == b_view
    empty = IndexedPlan.empty(inst)
    assert len(empty) == 0 and empty.merged(a) == a and a.merged(empty) == a


@pytest.mark.parametrize("seed", range(4))
def test_from_a_solved_model(seed: int) -> None:
    """A CP-SAT solution read off the model is a plan of the model's pairs; hinting it and
    reading it back gives the same plan."""
    _, inst, pairs = compiled(seed)
    lm = build(inst, pairs)
    start = greedy.fill(inst, pairs)
    hint(lm, start)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10
    solver.parameters.num_workers = 1
    solver.solve(lm.model)
    found = extract(lm, solver)
    plan = lm.plan_of(found)
    assert plan.to_chosen() == found
    assert (plan.vol[plan.needs] == pairs.vol[plan.pair[plan.needs]]).all()
    assert (plan.needs == pairs.need[plan.pair[plan.needs]]).all()


@pytest.mark.parametrize("seed", range(5))
def test_to_format_writes_a_valid_plan_with_its_figures(seed: int) -> None:
    """The exchange plan from an IndexedPlan is valid, lists every need once, and reports the
    plan's own coverage and continuity."""
    problem = tiny_problem(seed)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    plan = IndexedPlan.from_chosen(inst, pairs, greedy.fill(inst, pairs))
    covered = int(inst.need_value[plan.needs].sum())
    written = to_format(inst, plan, covered, 0.0)
    assert validate_plan(problem, written) == []
    assert written.status == "optimal"
    assert {a.need for a in written.assignments} == {problem.needs[n].id for n in plan.needs.tolist()}
    assert len(written.assignments) + len(written.unmet) == len(problem.needs)
    for a in written.assignments:
        n = inst.need_index[a.need]
        assert inst.vol_index[a.volunteer] == plan.vol[n]
        assert [inst.slot_index[s] for s in a.slots] == sorted(plan.slots_of(n))
    looser = to_format(inst, plan, covered + 1, 0.0)
    assert looser.status == "feasible"


def test_outcome_carries_the_plan_over_its_pairs() -> None:
    """What the pipeline hands back is an IndexedPlan numbered over its pairs."""
    _, inst, _ = compiled(0)
    out = optimise(inst, Budget.starting_now(10), SolveParams(refine=False))
    assert isinstance(out.plan, IndexedPlan)
    needs = out.plan.needs
    assert np.array_equal(out.pairs.need[out.plan.pair[needs]], needs)
