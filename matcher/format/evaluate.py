"""The exchange format's evaluator: a plan's coverage and continuity from the written
contract (``docs/format.md``), and its :class:`CoverageBreakdown` by category, district and
unmet reason.

It reads only the format (the standard library and :mod:`matcher.format.schema`), never the
engine: :mod:`matcher.format.validate` checks a plan's reported objective with it, and the
coordinators' summary (:func:`matcher.format.report.summary`) and the scenarios' measure
(:func:`scenarios.run.measure`) tabulate it.  The engine's own evaluator, on its compiled
arrays, is :mod:`matcher.model.evaluate`.

Two readings of a JSON number of hours, kept as they were: :func:`coverage_of` (what the
validator compares the reported objective with) reads the decimal as written
(:func:`hours_fraction`); the breakdown reads it as the engine does
(:func:`matcher.format.hours.exact`, which takes ``0.3333333333333333`` as 1/3).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from matcher.format.hours import exact
from matcher.format.schema import Assignment, Plan, PostAssignment, Problem, Problem2

__all__ = [
    "Cell",
    "CoverageBreakdown",
    "continuity2_of",
    "continuity_of",
    "coverage2_of",
    "coverage_of",
    "hours_fraction",
    "post_value",
]


@functools.lru_cache(maxsize=4096, typed=True)  # a week has few distinct hour values
def hours_fraction(x: float) -> Fraction:
    """Return the exact value of a JSON number.

    Parameters
    ----------
    x
        A finite int or float as parsed from JSON (hours, ``max_hours``, coverage ...).

    Returns
    -------
    fractions.Fraction
        ``Fraction(repr(x))``: the decimal the number was written as, e.g. ``1.5 -> 3/2``,
        ``0.1 -> 1/10`` (not the binary float ``0.1000000000000000055...``).

    Raises
    ------
    ValueError
        If ``x`` is a bool, infinite or NaN.
    """
    if isinstance(x, bool) or not math.isfinite(x):
        raise ValueError(f"not a finite JSON number: {x!r}")
    return Fraction(repr(x))


def coverage_of(problem: Problem, need_ids: Iterable[str]) -> Fraction:
    """Return the exact priority-weighted hours of some needs.

    Parameters
    ----------
    problem
        The problem the needs belong to.
    need_ids
        Ids of the needs; a repeated id counts once (a need is covered or not).

    Returns
    -------
    fractions.Fraction
        The sum over the needs of ``priority x hours x sessions``.

    Raises
    ------
    KeyError
        If an id is not a need of ``problem``.
    """
    needs = {n.id: n for n in problem.needs}
    priority = {b.id: b.priority for b in problem.beneficiaries}
    # Integer weights grouped by hours value: exact, with one Fraction product per value.
    weight: dict[float, int] = {}
    for need_id in dict.fromkeys(need_ids):
        if need_id not in needs:
            raise KeyError(f"unknown need {need_id!r}")
        need = needs[need_id]
        weight[need.hours] = weight.get(need.hours, 0) + priority[need.beneficiary] * need.sessions
    return sum((hours_fraction(h) * w for h, w in weight.items()), Fraction(0))


def continuity_of(problem: Problem, assignments: Iterable[Assignment]) -> int:
    """Count the ``previous`` pairs that serve at least one need together again.

    Parameters
    ----------
    problem
        The problem, with its ``previous`` pairs.
    assignments
        The plan's assignments; those naming an unknown need are ignored.

    Returns
    -------
    int
        The number of distinct (volunteer, beneficiary) pairs of ``problem.previous``
        such that the volunteer takes at least one need of the beneficiary.  A pair
        listed twice in ``previous`` counts once.
    """
    beneficiary_of = {n.id: n.beneficiary for n in problem.needs}
    served = {(a.volunteer, beneficiary_of[a.need]) for a in assignments if a.need in beneficiary_of}
    previous = {(p.volunteer, p.beneficiary) for p in problem.previous}
    return len(previous & served)


def post_value(problem: Problem2, need_id: str, volunteers: int) -> Fraction:
    """Return the exact value of a format-2 need taken by ``volunteers`` volunteers together.

    ``priority x hours x sessions x k`` for ``k`` volunteers when ``volunteers.min <= k``
    (``k`` counted up to ``volunteers.max``), and 0 when the post does not run (``k`` below
    its minimum).  A one-person need (1/1) is worth what it is worth in format 1.
    """
    need = next(n for n in problem.needs if n.id == need_id)
    if volunteers < need.volunteers.min:
        return Fraction(0)
    k = min(volunteers, need.volunteers.max)
    return problem.priority_of(need) * hours_fraction(need.hours) * need.sessions * k


def coverage2_of(problem: Problem2, assignments: Iterable[PostAssignment]) -> Fraction:
    """Return the exact coverage of a format-2 plan's assignments.

    The sum over the assignments naming a need of ``problem`` of :func:`post_value` with
    ``k`` the number of distinct volunteers listed (a need listed twice counts once, the first
    time).
    """
    needs = {n.id: n for n in problem.needs}
    priority = {b.id: b.priority for b in problem.beneficiaries}
    total = Fraction(0)
    seen: set[str] = set()
    for a in assignments:
        need = needs.get(a.need)
        if need is None or a.need in seen:
            continue
        seen.add(a.need)
        k = len(set(a.volunteers))
        if k < need.volunteers.min:
            continue
        weight = need.priority if need.priority is not None else priority[str(need.beneficiary)]
        total += weight * hours_fraction(need.hours) * need.sessions * min(k, need.volunteers.max)
    return total


def continuity2_of(problem: Problem2, assignments: Iterable[PostAssignment]) -> int:
    """Count the ``previous`` pairs whose volunteer is on at least one need of the beneficiary."""
    beneficiary_of = {n.id: n.beneficiary for n in problem.needs if n.beneficiary is not None}
    served = {
        (v, beneficiary_of[a.need]) for a in assignments if a.need in beneficiary_of for v in a.volunteers
    }
    previous = {(p.volunteer, p.beneficiary) for p in problem.previous}
    return len(previous & served)


@dataclass
class Cell:
    """Demand and coverage of one category or district (exact)."""

    covered: Fraction = Fraction(0)
    """Priority-weighted hours covered."""
    demand: Fraction = Fraction(0)
    """Priority-weighted hours needed."""
    unmet_hours: Fraction = Fraction(0)
    """Hours (``hours x sessions``, not weighted) of needs left unmet."""


@dataclass
class CoverageBreakdown:
    """A plan's coverage by beneficiary category and district, and its unmet needs by reason.

    Build it with :meth:`of`.  Categories and districts are listed in the order the
    problem's needs first name them (with ``every_district``, the problem's districts
    first, in their order, whether or not they have needs).
    """

    demand: Fraction = Fraction(0)
    """Priority-weighted hours of every need."""
    covered: Fraction = Fraction(0)
    """Priority-weighted hours of the assigned needs."""
    by_category: dict[str, Cell] = field(default_factory=dict)
    by_district: dict[str, Cell] = field(default_factory=dict)
    value: dict[str, Fraction] = field(default_factory=dict)
    """Need id -> its priority-weighted hours (``priority x hours x sessions``)."""
    met: set[str] = field(default_factory=set)
    """Ids of the assigned needs."""
    reasons: Counter[str] = field(default_factory=Counter)
    """Reason code -> unmet needs that give it."""

    @classmethod
    def of(cls, problem: Problem, plan: Plan, every_district: bool = False) -> CoverageBreakdown:
        """The breakdown of ``plan``, a plan of ``problem``."""
        out = cls(met={a.need for a in plan.assignments})
        if every_district:
            out.by_district = {d.id: Cell() for d in problem.districts}
        bens = {b.id: b for b in problem.beneficiaries}
        for need in problem.needs:
            ben = bens[need.beneficiary]
            hours = exact(need.hours) * need.sessions
            value = out.value[need.id] = ben.priority * hours
            out.demand += value
            met = need.id in out.met
            out.covered += value if met else 0
            for cells, key in ((out.by_category, ben.category), (out.by_district, ben.district)):
                cell = cells.setdefault(key, Cell())
                cell.demand += value
                if met:
                    cell.covered += value
                else:
                    cell.unmet_hours += hours
        out.reasons = Counter(code for u in plan.unmet for code in u.reasons)
        return out
