"""The format-1 plan from the engine's: assignments, and unmet needs with their reasons."""

from __future__ import annotations

from fractions import Fraction

from matcher.format.schema import Assignment, Objective, Plan, Unmet
from matcher.model import evaluate
from matcher.model.eligibility import static_reasons
from matcher.model.instance import Instance
from matcher.model.plan import IndexedPlan
from matcher.model.rules.skill_in_reach import Candidates


def number(q: Fraction) -> int | float:
    """A JSON number for an exact value: an integer when it is one."""
    return int(q) if q.denominator == 1 else float(q)


def to_format(inst: Instance, plan: IndexedPlan, bound_units: int, seconds: float) -> Plan:
    """Write the format-1 plan: assignments and unmet needs in problem order, and the
    plan's objective (its status ``optimal`` when its coverage meets ``bound_units``).

    Unmet needs are explained on ``inst`` as given: pass the instance without fixed
    assignments, so that time a fixed assignment holds reads as ``capacity_taken``.
    """
    problem = inst.problem
    assignments: list[Assignment] = []
    unmet: list[Unmet] = []
    candidates = Candidates(inst)
    for n, need in enumerate(problem.needs):
        if n not in plan:
            unmet.append(Unmet(need=need.id, reasons=static_reasons(inst, n, candidates)))
            continue
        vol = problem.volunteers[int(plan.vol[n])].id
        slots = sorted(plan.slots_of(n))
        assignments.append(Assignment(need=need.id, volunteer=vol, slots=[inst.slots[s] for s in slots]))
    coverage_units = evaluate.coverage_units(inst, plan)
    continuity = evaluate.continuity(inst, plan)
    return Plan(
        format=1,
        status="optimal" if coverage_units == bound_units else "feasible",
        assignments=assignments,
        unmet=unmet,
        objective=Objective(
            coverage=number(inst.coverage(coverage_units)),
            coverage_bound=number(inst.coverage(bound_units)),
            continuity=continuity,
        ),
        solve_seconds=round(seconds, 3),
    )
