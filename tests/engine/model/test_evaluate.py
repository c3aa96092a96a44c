"""The engine's evaluator against the exact oracles, the model's own objective, and the
format's independent evaluator; the lexicographic weights keep the lexicographic order."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import compiled, level3
from helpers import to_problem
from hypothesis import given
from hypothesis import strategies as st
from oracles import brute_force, mip_optimum, small_problem, tiny_problem
from ortools.sat.python import cp_model
from strategies import SETTINGS, problems

from matcher.explain import to_format
from matcher.format.evaluate import continuity_of, coverage_of
from matcher.format.schema import Problem
from matcher.model import evaluate
from matcher.model.eligibility import build_pairs
from matcher.model.evaluate import LexObjective
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.plan import IndexedPlan
from matcher.search import greedy
from matcher.search.transfer import extract


def _optimal(problem: Problem) -> tuple[Instance, IndexedPlan, float, LexObjective]:
    """The full model solved to optimality: its plan, objective value and weights."""
    inst = Instance.from_problem(problem)
    lm = build(inst, build_pairs(inst))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 30
    solver.parameters.num_workers = 1
    assert solver.solve(lm.model) == cp_model.OPTIMAL
    return inst, lm.plan_of(extract(lm, solver)), solver.objective_value, lm.lex


@pytest.mark.parametrize("seed", range(12))
def test_equals_the_brute_force_optimum(seed: int) -> None:
    """On tiny problems: the oracle's witness plan has the oracle's coverage and continuity by
    the evaluator, and so has the model's optimal plan, whose objective the weights decode."""
    problem = tiny_problem(seed)
    opt = brute_force(problem)
    inst = Instance.from_problem(problem)
    witness = IndexedPlan.from_assigned(
        inst,
        {
            inst.need_index[a.need]: (inst.vol_index[a.volunteer], tuple(inst.slot_index[s] for s in a.slots))
            for a in opt.assignments
        },
    )
    assert inst.coverage(evaluate.coverage_units(inst, witness)) == opt.coverage
    assert evaluate.continuity(inst, witness) == opt.continuity
    inst, plan, objective, lex = _optimal(problem)
    assert inst.coverage(evaluate.coverage_units(inst, plan)) == opt.coverage
    assert evaluate.continuity(inst, plan) == opt.continuity
    assert evaluate.primary_of(inst, plan, lex) == round(objective)
    assert inst.coverage(lex.coverage_of(objective)) == opt.coverage
    assert inst.coverage(lex.coverage_bound(objective)) == opt.coverage


@pytest.mark.parametrize("seed", range(6))
def test_equals_the_mip_optimum(seed: int) -> None:
    """On small problems, against the two-stage MIP oracle."""
    problem = small_problem(seed)
    opt = mip_optimum(problem)
    inst, plan, objective, lex = _optimal(problem)
    assert inst.coverage(evaluate.coverage_units(inst, plan)) == opt.coverage
    assert evaluate.continuity(inst, plan) == opt.continuity
    assert evaluate.primary_of(inst, plan, lex) == round(objective)
    assert evaluate.secondary(inst, plan, lex) == opt.continuity  # a plain solve: continuity only


@pytest.mark.parametrize("seed", range(6))
def test_columns_weights_are_the_models(seed: int) -> None:
    """A plain solve's weights are the same whether the columns or the model derive them."""
    _, inst, pairs = compiled(seed)
    assert LexObjective.of_columns(inst, pairs) == build(inst, pairs).lex


@pytest.mark.parametrize("seed", range(6))
def test_travel_load_is_the_models_level_3(seed: int) -> None:
    """Level 3 by the evaluator equals the model's polish objective at the same plan."""
    _, inst, pairs = compiled(seed)
    chosen = greedy.fill(inst, pairs)
    secondary, value = level3(inst, pairs, chosen)
    plan = IndexedPlan.from_chosen(inst, pairs, chosen)
    assert evaluate.travel_load(inst, pairs, plan) == value
    assert evaluate.secondary(inst, plan, build(inst, pairs).lex) == secondary


def test_stays_and_backs_of_a_resolve() -> None:
    """A re-solve's needs at home count as stays (same volunteer and slot set) or backs (a
    freed need with its previous volunteer, any slots), and rank above continuity."""
    _, inst, pairs = compiled(0)
    chosen = greedy.fill(inst, pairs)
    plan = IndexedPlan.from_chosen(inst, pairs, chosen)
    (a, (va, sa)), (b, (vb, _)), (c, (vc, _)) = list(plan.to_assigned().items())[:3]
    homes = {a: (va, tuple(reversed(sa))), b: (vb, None), c: ((vc + 1) % inst.n_volunteers, None)}
    resolving = inst.with_fixed({}, homes)
    assert evaluate.stays_backs(resolving, plan) == (1, 1)
    lex = LexObjective(continuity_max=3, stays_max=1, backs_max=2)
    assert lex.w_backs == 4 and lex.w_stays == 12 and lex.secondary_max == 12 + 8 + 3
    keep = evaluate.continuity(resolving, plan)
    assert evaluate.secondary(resolving, plan, lex) == 12 + 4 + keep
    assert evaluate.primary_of(resolving, plan, lex) == 24 * evaluate.coverage_units(inst, plan) + 16 + keep


levels = st.integers(min_value=0, max_value=6)


@SETTINGS
@given(levels, levels, levels, st.data())
def test_weights_keep_the_lexicographic_order(k: int, s_max: int, b_max: int, data: Any) -> None:
    """For any two plans' (coverage, stays, backs, continuity) within the maxima, comparing
    primary values compares the tuples lexicographically, and a bound decodes to coverage."""
    lex = LexObjective(k, s_max, b_max)

    def value() -> tuple[int, int, int, int]:
        return (
            data.draw(st.integers(0, 50)),
            data.draw(st.integers(0, s_max)),
            data.draw(st.integers(0, b_max)),
            data.draw(st.integers(0, k)),
        )

    x, y = value(), value()
    px = lex.primary(x[0], lex.secondary(*x[1:]))
    py = lex.primary(y[0], lex.secondary(*y[1:]))
    assert (px > py) == (x > y) and (px == py) == (x == y)
    assert lex.coverage_of(px) == x[0] == lex.coverage_bound(px + 0.5)
    assert 0 <= lex.secondary(*x[1:]) <= lex.secondary_max < lex.weight


@SETTINGS
@given(problems())
def test_agrees_with_the_formats_evaluator(doc: dict[str, Any]) -> None:
    """On any valid problem, the greedy plan's coverage and continuity by the engine's
    evaluator equal the format's, computed from the written plan alone."""
    problem = to_problem(doc)
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    plan = IndexedPlan.from_chosen(inst, pairs, greedy.fill(inst, pairs))
    written = to_format(inst, plan, evaluate.coverage_units(inst, plan), 0.0)
    assert inst.coverage(evaluate.coverage_units(inst, plan)) == coverage_of(
        problem, (a.need for a in written.assignments)
    )
    assert evaluate.continuity(inst, plan) == continuity_of(problem, written.assignments)
