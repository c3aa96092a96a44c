"""A re-solve's move budget (``--allow-moves K``): matcher.model.rules.move_budget.

The rule alone on a tiny CP-SAT model; the re-solve itself is tested in
``tests/engine/test_resolve.py``.
"""

from __future__ import annotations

from helpers import make_problem, to_problem, volunteer
from ortools.sat.python import cp_model

from matcher.model.eligibility import build_pairs
from matcher.model.instance import Instance
from matcher.model.rules.base import Scope
from matcher.model.rules.move_budget import RULE, binds
from matcher.model.variables import Vars
from matcher.search import colgen


def _resolve(budget: int | None) -> Instance:
    """One need at home with v1 in mon-am, v2 also free then; at most ``budget`` moves."""
    doc = make_problem(volunteers=[volunteer("v1"), volunteer("v2")])
    inst = Instance.from_problem(to_problem(doc))
    home = {0: (0, (inst.slots.index("mon-am"),))}
    return inst.with_fixed({}, homes=home, move_budget=budget)


def _allows(inst: Instance, vol: int) -> bool:
    """Whether the rule alone admits the need with volunteer ``vol``."""
    pairs = build_pairs(inst)
    model = cp_model.CpModel()
    v = Vars(model, inst, pairs)
    assert RULE.add is not None
    RULE.add(v)
    for p, x in enumerate(v.x):
        model.add(x == int(int(pairs.vol[p]) == vol))
    return cp_model.CpSolver().solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def test_model_counts_moves_against_the_budget() -> None:
    """With no move allowed the need stays with v1; with one it may go to v2."""
    assert _allows(_resolve(0), 0)
    assert not _allows(_resolve(0), 1)
    assert _allows(_resolve(1), 1)


def test_binds_only_with_a_budget_and_no_column_generation() -> None:
    """The budget spans volunteers, so column generation does not apply where it binds."""
    assert RULE.scope is Scope.GLOBAL
    assert binds(_resolve(0))
    assert not binds(_resolve(None))
    assert not colgen.applies(_resolve(0))
