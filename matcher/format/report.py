"""A readable summary of a plan for coordinators: coverage by category and district."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from matcher.format.evaluate import CoverageBreakdown, coverage2_of, post_value
from matcher.format.schema import Plan, Plan2, Problem, Problem2

CATEGORY_NAMES = {
    "elderly": "elderly (敬老)",
    "child": "children (爱幼)",
    "disabled": "disabled (助残)",
    "migrant_worker": "migrant workers (农民工)",
    "community": "community (社区)",
}


def _pct(part: Fraction, whole: Fraction) -> str:
    return f"{float(100 * part / whole):5.1f}%" if whole else "    -"


def summary(problem: Problem, plan: Plan) -> str:
    """Render coverage by category and by district, and unmet needs by reason.

    Parameters
    ----------
    problem
        The problem solved.
    plan
        Its plan.

    Returns
    -------
    str
        A few plain-text tables.
    """
    b = CoverageBreakdown.of(problem, plan)
    total_want, total_got = b.demand, b.covered
    previous = len({(p.volunteer, p.beneficiary) for p in problem.previous})
    lines = [
        f"status {plan.status}: coverage {float(total_got):g} of {float(total_want):g} "
        f"priority-weighted hours ({_pct(total_got, total_want).strip()}); "
        f"bound {plan.objective.coverage_bound}; continuity {plan.objective.continuity}/{previous} "
        f"previous pairs kept; {len(plan.assignments)} of {len(problem.needs)} needs assigned "
        f"in {plan.solve_seconds:.2f} s",
    ]
    for axis, cells, names in (("category", b.by_category, CATEGORY_NAMES), ("district", b.by_district, {})):
        lines.append("")
        lines.append(f"{'coverage by ' + axis:<28} {'covered':>9} {'wanted':>9} {'share':>6}")
        for key in sorted(cells, key=lambda k: -cells[k].demand):
            cell = cells[key]
            lines.append(
                f"{names.get(key, key):<28} {float(cell.covered):9.1f} {float(cell.demand):9.1f} "
                f"{_pct(cell.covered, cell.demand)}"
            )
    lines.append("")
    lines.append(f"{'unmet needs by reason':<34} {'needs':>6}")
    reasons = b.reasons
    for code, count in reasons.most_common():
        lines.append(f"{code:<34} {count:6d}")
    if not reasons:
        lines.append("(every need is met)")
    return "\n".join(lines)


def summary2(problem: Problem2, plan: Plan2) -> str:
    """Render a format-2 plan's coverage, its posts' staffing and its unmet needs by reason.

    Parameters
    ----------
    problem
        The format-2 problem solved.
    plan
        Its plan.

    Returns
    -------
    str
        A few plain-text lines.
    """
    needs = {n.id: n for n in problem.needs}
    demand = sum((post_value(problem, n.id, n.volunteers.max) for n in problem.needs), Fraction(0))
    covered = coverage2_of(problem, plan.assignments)
    posts = [a for a in plan.assignments if needs[a.need].is_post]
    short = [a for a in posts if a.places_open]
    lines = [
        f"status {plan.status}: coverage {float(covered):g} of {float(demand):g} priority-weighted "
        f"volunteer-hours ({_pct(covered, demand).strip()}); bound {plan.objective.coverage_bound}; "
        f"{len(plan.assignments)} of {len(problem.needs)} needs assigned in {plan.solve_seconds:.2f} s",
        f"posts: {len(posts)} of {sum(1 for n in problem.needs if n.is_post)} run, "
        f"{sum(len(a.volunteers) for a in posts)} volunteers on them; {len(short)} could take "
        f"{sum(a.places_open or 0 for a in short)} more",
        "",
        f"{'unmet needs by reason':<34} {'needs':>6}",
    ]
    reasons = Counter(code for u in plan.unmet for code in u.reasons)
    for code, count in reasons.most_common():
        lines.append(f"{code:<34} {count:6d}")
    if not reasons:
        lines.append("(every need is met)")
    return "\n".join(lines)
