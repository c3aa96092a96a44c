"""Posts end to end on random tiny format-2 problems: every plan validates, and is optimal.

The validator (:mod:`matcher.format.validate2`) and the brute force (:func:`oracles.brute_force_posts`)
are both written from ``docs/format.md`` and share nothing with the posts model.
"""

from __future__ import annotations

from fractions import Fraction

from helpers import Doc
from hypothesis import given
from oracles import brute_force_posts
from strategies import SETTINGS, post_problems

from matcher.format.evaluate import coverage2_of, hours_fraction
from matcher.format.io import parse_problem
from matcher.format.schema import Plan2, Problem2
from matcher.format.validate2 import validate_plan2
from matcher.solve import solve_any


def _problem(doc: Doc) -> Problem2:
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    return problem


@SETTINGS
@given(post_problems())
def test_posts_plans_are_valid_and_optimal(doc: Doc) -> None:
    problem = _problem(doc)
    result = solve_any(problem, 10.0, workers=2)
    plan = result.plan
    assert isinstance(plan, Plan2)
    assert validate_plan2(problem, plan) == []
    optimum = brute_force_posts(problem)
    assert plan.status == "optimal"
    assert hours_fraction(plan.objective.coverage) == optimum.coverage
    assert result.coverage == optimum.coverage == coverage2_of(problem, plan.assignments)
    assert result.coverage_bound == optimum.coverage


@SETTINGS
@given(post_problems())
def test_the_oracle_plans_are_valid(doc: Doc) -> None:
    """The brute force's witness passes the validator: the two agree on the rules."""
    problem = _problem(doc)
    optimum = brute_force_posts(problem)
    taken = {a.need for a in optimum.assignments}
    plan = Plan2.model_validate(
        {
            "format": 2,
            "status": "optimal",
            "assignments": [
                {
                    **a.model_dump(exclude_none=True),
                    **(
                        {"places_open": n.volunteers.max - len(a.volunteers)}
                        if len(a.volunteers) < n.volunteers.max
                        else {}
                    ),
                }
                for a in optimum.assignments
                for n in problem.needs
                if n.id == a.need
            ],
            "unmet": [
                {"need": n.id, "reasons": ["capacity_taken"]} for n in problem.needs if n.id not in taken
            ],
            "objective": {
                "coverage": float(optimum.coverage),
                "coverage_bound": float(optimum.coverage),
                "continuity": 0,
            },
            "solve_seconds": 0.0,
        }
    )
    out = [v for v in validate_plan2(problem, plan) if not v.startswith("objective.continuity")]
    assert out == []
    assert coverage2_of(problem, plan.assignments) == optimum.coverage >= Fraction(0)
