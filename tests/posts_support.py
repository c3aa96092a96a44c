"""Builders and checks for the tests of format 2's posts (the model's rules, the solver)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ortools.sat.python import cp_model

from matcher.format.io import parse_problem
from matcher.format.schema import Plan2, Problem2
from matcher.format.validate2 import validate_plan2
from matcher.model.posts.instance import PostInstance
from matcher.model.posts.rules import POST_RULES
from matcher.model.posts.variables import PostVars
from matcher.solve import solve_any

Doc = dict[str, Any]


def vol(vid: str, **fields: Any) -> Doc:
    """A volunteer of district d1, skilled in civility_guidance, free on Saturday and Sunday."""
    doc: Doc = {
        "id": vid,
        "district": "d1",
        "skills": ["civility_guidance"],
        "availability": ["sat-am", "sat-pm", "sun-am"],
        "max_hours": 10,
    }
    doc.update(fields)
    return doc


def post(nid: str = "n1", low: int = 1, high: int = 1, **fields: Any) -> Doc:
    """A need at site s1: civility guidance, priority 3, 2 h, one session on Saturday or Sunday morning."""
    doc: Doc = {
        "id": nid,
        "site": "s1",
        "priority": 3,
        "service": "civility_guidance",
        "hours": 2,
        "sessions": 1,
        "windows": ["sat-am", "sun-am"],
        "volunteers": {"min": low, "max": high},
    }
    doc.update(fields)
    return doc


def problem2(volunteers: Sequence[Doc], needs: Sequence[Doc], **fields: Any) -> Problem2:
    """A format-2 problem of districts d1 (and its neighbour d2), sites s1 and s2, beneficiary b1."""
    doc: Doc = {
        "format": 2,
        "week_start": "2026-12-07",
        "districts": [
            {"id": "d1", "neighbors": ["d2"]},
            {"id": "d2", "neighbors": []},
            {"id": "d3", "neighbors": []},
        ],
        "volunteers": list(volunteers),
        "beneficiaries": [{"id": "b1", "category": "elderly", "district": "d1", "priority": 4}],
        "sites": [
            {"id": "s1", "name": "广场", "district": "d1"},
            {"id": "s2", "name": "河道", "district": "d1"},
        ],
        "needs": list(needs),
    }
    doc.update(fields)
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    return problem


def allows(
    problem: Problem2, rules: Iterable[str], plan: Mapping[str, tuple[Sequence[str], Sequence[str]]]
) -> bool:
    """Whether the posts model with only ``rules`` posted accepts ``plan`` (need -> (volunteers, slots)).

    Needs not in ``plan`` do not run.  A volunteer or slot the model has no variable for (not
    eligible, not a usable window) makes the plan unrepresentable: False.
    """
    inst = PostInstance.of(problem)
    model = cp_model.CpModel()
    pv = PostVars.declare(model, inst)
    wanted = set(rules)
    unknown = wanted - {name for name, _ in POST_RULES}
    assert not unknown, unknown
    for name, add in POST_RULES:
        if name in wanted:
            add(pv)
    position = {v.id: i for i, v in enumerate(inst.volunteers)}
    for pn in inst.needs:
        n = pn.index
        volunteers, slots = plan.get(pn.need.id, ((), ()))
        if n not in pv.run:
            if pn.need.id in plan:
                return False
            continue
        model.add(pv.run[n] == int(pn.need.id in plan))
        if any((position[v], n) not in pv.join for v in volunteers) or any(
            (n, w) not in pv.chosen for w in slots
        ):
            return False
        for v in pn.eligible:
            model.add(pv.join[v, n] == int(inst.volunteers[v].id in volunteers))
        for w in pv.windows(n):
            model.add(pv.chosen[n, w] == int(w in slots))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def solve_checked(problem: Problem2) -> Plan2:
    """Solve ``problem`` and check its plan with the solver-free validator; the plan."""
    result = solve_any(problem, 10.0, workers=2)
    plan = result.plan
    assert isinstance(plan, Plan2)
    assert validate_plan2(problem, plan) == []
    return plan


def teams(plan: Plan2) -> dict[str, tuple[list[str], list[str]]]:
    """Need -> (volunteers, slots) of a plan's assignments."""
    return {a.need: (sorted(a.volunteers), a.slots) for a in plan.assignments}


def unmet(plan: Plan2) -> dict[str, list[str]]:
    """Need -> reasons of a plan's unmet needs."""
    return {u.need: u.reasons for u in plan.unmet}
