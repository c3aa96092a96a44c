"""A simple greedy baseline, written independently of the engine, for comparison.

Needs are taken in order of priority (highest first); each goes to the first volunteer,
in document order, who can still take it without breaking a hard rule.  No look-ahead,
no repair: what a careful coordinator with a spreadsheet would do.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from matcher.format.schema import Assignment, Problem


def greedy_plan(problem: Problem) -> list[Assignment]:
    """Assign needs first-fit in priority order.

    Parameters
    ----------
    problem
        A validated problem.

    Returns
    -------
    list[Assignment]
        A valid set of assignments (unmet needs are simply absent).
    """
    deadline = problem.certification_deadline
    neighbours: dict[str, set[str]] = defaultdict(set)
    for d in problem.districts:
        neighbours[d.id].add(d.id)
        if problem.reach == "adjacent":
            for other in d.neighbors:
                neighbours[d.id].add(other)
                neighbours[other].add(d.id)
    by_district_skill: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, v in enumerate(problem.volunteers):
        for skill in v.skills:
            by_district_skill[(v.district, skill)].append(i)
    bens = {b.id: b for b in problem.beneficiaries}
    hours_left = [Fraction(repr(v.max_hours)) for v in problem.volunteers]
    busy: list[set[str]] = [set() for _ in problem.volunteers]
    served: list[set[str]] = [set() for _ in problem.volunteers]
    certs = [{c.kind for c in v.certifications if c.expires >= deadline} for v in problem.volunteers]

    out: list[Assignment] = []
    for need in sorted(problem.needs, key=lambda n: -bens[n.beneficiary].priority):
        ben = bens[need.beneficiary]
        load = Fraction(repr(need.hours)) * need.sessions
        candidates = sorted(
            i for d in neighbours[ben.district] for i in by_district_skill.get((d, need.service), [])
        )
        for i in candidates:
            v = problem.volunteers[i]
            if (
                (v.minor and not need.minor_ok)
                or (ben.volunteer_gender is not None and v.gender != ben.volunteer_gender)
                or v.id in ben.excluded_volunteers
                or not set(need.requires) <= certs[i]
                or load > hours_left[i]
                or (ben.id not in served[i] and len(served[i]) >= v.max_beneficiaries)
            ):
                continue
            free = [s for s in need.windows if s in v.availability and s not in busy[i]]
            if len(free) < need.sessions:
                continue
            slots = free[: need.sessions]
            busy[i].update(slots)
            served[i].add(ben.id)
            hours_left[i] -= load
            out.append(Assignment(need=need.id, volunteer=v.id, slots=slots))
            break
    return out
