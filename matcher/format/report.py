"""A readable summary of a plan for coordinators: coverage by category and district."""

from __future__ import annotations

from fractions import Fraction

from matcher.format.evaluate import CoverageBreakdown
from matcher.format.schema import Plan, Problem

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
