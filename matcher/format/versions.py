"""Between the format versions: a format-2 problem without posts as format 1, and back for its plan.

A format-2 problem whose needs all name a beneficiary and take one volunteer (1/1), without a lead,
says nothing format 1 cannot: :func:`as_format1` writes it as a format-1 problem so the one-to-one pipeline
solves it unchanged, and :func:`plan_as_format2` writes that plan in format 2.
"""

from __future__ import annotations

from matcher.format.schema import (
    Need,
    Objective2,
    Plan,
    Plan2,
    PostAssignment,
    Problem,
    Problem2,
)


def as_format1(problem: Problem2) -> Problem:
    """The format-1 problem saying the same as ``problem`` (which must have no posts).

    Raises
    ------
    ValueError
        If a need is a post (at a site, or for more than one volunteer) or has a lead.
    """
    if not problem.is_plain:
        raise ValueError(
            "problem: it has posts (needs at sites or for several volunteers) or leads, format 2 only"
        )
    needs = [
        Need(
            id=n.id,
            beneficiary=str(n.beneficiary),
            service=n.service,
            hours=n.hours,
            sessions=n.sessions,
            windows=n.windows,
            requires=n.requires,
            minor_ok=n.minor_ok,
        )
        for n in problem.needs
    ]
    return Problem(
        format=1,
        week_start=problem.week_start,
        slots=problem.slots,
        districts=problem.districts,
        reach=problem.reach,
        volunteers=problem.volunteers,
        beneficiaries=problem.beneficiaries,
        needs=needs,
        previous=problem.previous,
        time_limit_s=problem.time_limit_s,
    )


def plan_as_format2(plan: Plan) -> Plan2:
    """A format-1 plan written in format 2 (each assignment a one-volunteer list)."""
    return Plan2(
        format=2,
        status=plan.status,
        assignments=[
            PostAssignment(need=a.need, volunteers=[a.volunteer], slots=a.slots) for a in plan.assignments
        ],
        unmet=plan.unmet,
        objective=Objective2(
            coverage=plan.objective.coverage,
            coverage_bound=plan.objective.coverage_bound,
            continuity=plan.objective.continuity,
        ),
        solve_seconds=plan.solve_seconds,
        changed=plan.changed,
    )
