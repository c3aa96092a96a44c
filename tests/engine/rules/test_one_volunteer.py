"""Rule 1, first half (a need goes to at most one volunteer): matcher.model.rules.one_volunteer.

The rule alone (its model constraint; the greedy fill takes each need once, column
generation's master holds it as its need rows), then a whole solve.
"""

from __future__ import annotations

from engine_support import compile_doc, model_allows
from helpers import assigned, make_problem, solve_and_check, volunteer

from matcher.model.rules.base import Scope
from matcher.model.rules.one_volunteer import RULE
from matcher.search import colgen, greedy

TWO = make_problem(volunteers=[volunteer("v1"), volunteer("v2")])
"""One need, two volunteers who could each take it."""


def test_model_gives_a_need_one_volunteer() -> None:
    """Either volunteer alone is allowed; both together are not."""
    assert model_allows(RULE, TWO, [("v1", "n1")])
    assert model_allows(RULE, TWO, [("v2", "n1")])
    assert not model_allows(RULE, TWO, [("v1", "n1"), ("v2", "n1")])


def test_greedy_takes_a_need_once() -> None:
    """The greedy fill assigns the need to one of its two candidates."""
    inst, pairs = compile_doc(TWO)
    assert len(pairs) == 2
    assert list(greedy.fill(inst, pairs)) == [0]


def test_the_master_holds_it() -> None:
    """The one rule across volunteers that column generation handles: its master's rows."""
    assert RULE.scope is Scope.GLOBAL
    assert colgen.MASTER_RULE is RULE


def test_solve_assigns_one_volunteer() -> None:
    """A solve gives the need to exactly one volunteer."""
    result = solve_and_check(TWO)
    assert len(result.plan.assignments) == 1
    assert set(assigned(result)) == {"n1"}
