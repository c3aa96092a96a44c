"""The format-1 plan from the engine's: assignments, and unmet needs with their reasons."""

from __future__ import annotations

from fractions import Fraction

from matcher.format.schema import Assignment, Objective, Plan, Unmet
from matcher.model.eligibility import static_reasons
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Assigned, Chosen
from matcher.model.rules.skill_in_reach import Candidates


def number(q: Fraction) -> int | float:
    """A JSON number for an exact value: an integer when it is one."""
    return int(q) if q.denominator == 1 else float(q)


def volunteers_of(pairs: Pairs, chosen: Chosen) -> Assigned:
    """A plan over ``pairs`` with volunteers instead of pair indexes."""
    return {n: (int(pairs.vol[p]), slots) for n, (p, slots) in chosen.items()}


def continuity_units(inst: Instance, assigned: Assigned) -> int:
    """Previous pairs served again by a set of assignments."""
    served = {(vol, int(inst.need_ben[n])) for n, (vol, _) in assigned.items()}
    return len(set(inst.previous) & served)


def to_plan(
    inst: Instance,
    assigned: Assigned,
    coverage_units: int,
    bound_units: int,
    seconds: float,
) -> Plan:
    """Write the format-1 plan: assignments and unmet needs in problem order.

    Unmet needs are explained on ``inst`` as given: pass the instance without fixed
    assignments, so that time a fixed assignment holds reads as ``capacity_taken``.
    """
    problem = inst.problem
    assignments: list[Assignment] = []
    unmet: list[Unmet] = []
    candidates = Candidates(inst)
    for n, need in enumerate(problem.needs):
        got = assigned.get(n)
        if got is None:
            unmet.append(Unmet(need=need.id, reasons=static_reasons(inst, n, candidates)))
            continue
        v, slots = got
        vol = problem.volunteers[v].id
        assignments.append(
            Assignment(need=need.id, volunteer=vol, slots=[inst.slots[s] for s in sorted(slots)])
        )
    continuity = continuity_units(inst, assigned)
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
