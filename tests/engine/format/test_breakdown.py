"""The format's coverage breakdown gives what the summary and the scenarios' measure printed
before they shared it: the two reference functions below are their code as it was (the
summary's tables and the measure's cells, gaps and reasons), kept here as the oracle."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterator
from fractions import Fraction
from types import SimpleNamespace

import pytest

from matcher.explain import to_format
from matcher.format.evaluate import CoverageBreakdown, coverage_of, hours_fraction
from matcher.format.hours import exact
from matcher.format.report import CATEGORY_NAMES, _pct, summary
from matcher.format.schema import Plan, Problem
from matcher.model.instance import Instance
from matcher.model.plan import IndexedPlan
from matcher.solve import solve
from matcher.synth.generate import generate_city
from scenarios.run import measure


def summary_before(problem: Problem, plan: Plan) -> str:
    """``matcher.format.report.summary`` before the breakdown (verbatim)."""
    bens = {b.id: b for b in problem.beneficiaries}
    covered = {a.need for a in plan.assignments}
    wanted: dict[str, defaultdict[str, Fraction]] = {
        "category": defaultdict(Fraction),
        "district": defaultdict(Fraction),
    }
    got: dict[str, defaultdict[str, Fraction]] = {
        "category": defaultdict(Fraction),
        "district": defaultdict(Fraction),
    }
    for need in problem.needs:
        ben = bens[need.beneficiary]
        value = ben.priority * exact(need.hours) * need.sessions
        for axis, key in (("category", ben.category), ("district", ben.district)):
            wanted[axis][key] += value
            if need.id in covered:
                got[axis][key] += value
    total_want = sum(wanted["category"].values(), Fraction(0))
    total_got = sum(got["category"].values(), Fraction(0))
    previous = len({(p.volunteer, p.beneficiary) for p in problem.previous})
    lines = [
        f"status {plan.status}: coverage {float(total_got):g} of {float(total_want):g} "
        f"priority-weighted hours ({_pct(total_got, total_want).strip()}); "
        f"bound {plan.objective.coverage_bound}; continuity {plan.objective.continuity}/{previous} "
        f"previous pairs kept; {len(plan.assignments)} of {len(problem.needs)} needs assigned "
        f"in {plan.solve_seconds:.2f} s",
    ]
    for axis, names in (("category", CATEGORY_NAMES), ("district", {})):
        lines.append("")
        lines.append(f"{'coverage by ' + axis:<28} {'covered':>9} {'wanted':>9} {'share':>6}")
        for key in sorted(wanted[axis], key=lambda k: -wanted[axis][k]):
            lines.append(
                f"{names.get(key, key):<28} {float(got[axis][key]):9.1f} {float(wanted[axis][key]):9.1f} "
                f"{_pct(got[axis][key], wanted[axis][key])}"
            )
    reasons = Counter(code for u in plan.unmet for code in u.reasons)
    lines.append("")
    lines.append(f"{'unmet needs by reason':<34} {'needs':>6}")
    for code, count in reasons.most_common():
        lines.append(f"{code:<34} {count:6d}")
    if not reasons:
        lines.append("(every need is met)")
    return "\n".join(lines)


def measure_before(problem: Problem, plan: Plan) -> dict[str, object]:
    """The figures ``scenarios.run.measure`` computed before the breakdown (verbatim, with
    its cells and gaps as plain tuples and dicts)."""
    bens = {b.id: b for b in problem.beneficiaries}
    covered = {a.need for a in plan.assignments}
    by_category: defaultdict[str, list[Fraction]] = defaultdict(lambda: [Fraction(0)] * 3)
    by_district: defaultdict[str, list[Fraction]] = defaultdict(lambda: [Fraction(0)] * 3)
    for d in problem.districts:
        by_district[d.id] = [Fraction(0)] * 3
    gaps: dict[tuple[str, str], tuple[Fraction, dict[str, float], dict[str, float]]] = {}
    total = Fraction(0)
    for need in problem.needs:
        ben = bens[need.beneficiary]
        hours = exact(need.hours) * need.sessions
        value = ben.priority * hours
        total += value
        for cell in (by_category[ben.category], by_district[ben.district]):
            cell[1] += value  # demand
            if need.id in covered:
                cell[0] += value  # covered
            else:
                cell[2] += hours  # unmet hours
        if need.id not in covered:
            weighted, windows, requires = gaps.get((need.service, ben.district), (Fraction(0), {}, {}))
            for w in need.windows:
                windows[w] = windows.get(w, 0.0) + float(value)
            for k in need.requires:
                requires[k] = requires.get(k, 0.0) + float(value)
            gaps[need.service, ben.district] = (weighted + value, windows, requires)
    reasons = Counter(code for u in plan.unmet for code in u.reasons)
    return {
        "demand": total,
        "by_category": {k: tuple(v) for k, v in by_category.items()},
        "by_district": {k: tuple(v) for k, v in by_district.items()},
        "reasons": dict(sorted(reasons.items())),
        "gaps": gaps,
    }


def _cases() -> Iterator[tuple[str, Problem, Plan]]:
    """Plans with needs met and unmet: solved cities, an empty plan, the example problem."""
    for volunteers, seed in ((20, 1), (40, 2), (60, 3), (30, 4)):
        problem = generate_city(volunteers, volunteers, seed=seed)  # more needs than fit
        yield f"city v{volunteers} s{seed}", problem, solve(problem, 10, deterministic=True).plan
    city = generate_city(30, 30, seed=6)
    quiet = city.districts[0].id  # a district with no needs: a row for the scenarios only
    bens = {b.id for b in city.beneficiaries if b.district != quiet}
    problem = city.model_copy(update={"needs": [n for n in city.needs if n.beneficiary in bens]})
    yield "a district without needs", problem, solve(problem, 10, deterministic=True).plan
    problem = generate_city(20, 15, seed=5)
    inst = Instance.from_problem(problem)
    yield "nothing assigned", problem, to_format(inst, IndexedPlan.empty(inst), 0, 0.0)


CASES = list(_cases())


@pytest.mark.parametrize(("name", "problem", "plan"), CASES, ids=[c[0] for c in CASES])
def test_summary_prints_what_it_printed_before(name: str, problem: Problem, plan: Plan) -> None:
    """The coordinators' summary is unchanged, line for line."""
    assert summary(problem, plan) == summary_before(problem, plan)


@pytest.mark.parametrize(("name", "problem", "plan"), CASES, ids=[c[0] for c in CASES])
def test_measure_gives_what_it_gave_before(name: str, problem: Problem, plan: Plan) -> None:
    """The scenarios' cells (in the same order), gaps, reasons and demand are unchanged."""
    result = SimpleNamespace(
        plan=plan, status=plan.status, coverage=plan.objective.coverage, deterministic=True, solve_seconds=0.0
    )
    got = measure(problem, 0, result)
    want = measure_before(problem, plan)
    assert got.demand == want["demand"]
    assert {k: dataclasses.astuple(c) for k, c in got.by_category.items()} == want["by_category"]
    assert list(got.by_category) == list(want["by_category"])
    assert {k: dataclasses.astuple(c) for k, c in got.by_district.items()} == want["by_district"]
    assert list(got.by_district) == list(want["by_district"])
    assert got.reasons == want["reasons"]
    assert {k: (g.weighted, g.windows, g.requires) for k, g in got.gaps.items()} == want["gaps"]
    assert list(got.gaps) == list(want["gaps"])


@pytest.mark.parametrize(("name", "problem", "plan"), CASES, ids=[c[0] for c in CASES])
def test_breakdown_totals_are_the_validators_coverage(name: str, problem: Problem, plan: Plan) -> None:
    """The breakdown's covered total is the coverage the validator recomputes (these problems'
    hours are plain decimals, read the same both ways), and the cells add up to it."""
    b = CoverageBreakdown.of(problem, plan)
    assert b.covered == coverage_of(problem, (a.need for a in plan.assignments))
    assert b.demand == coverage_of(problem, (n.id for n in problem.needs))
    for cells in (b.by_category, b.by_district):
        assert sum((c.covered for c in cells.values()), Fraction(0)) == b.covered
        assert sum((c.demand for c in cells.values()), Fraction(0)) == b.demand
    assert sum(b.reasons.values()) >= len(plan.unmet)
    assert b.met == {a.need for a in plan.assignments}


def test_a_third_of_an_hour_is_read_two_ways() -> None:
    """The breakdown reads ``0.3333333333333333`` hours as the engine does (1/3); the
    validator's coverage reads the decimal as written (within its tolerance of 1/3)."""
    assert exact(1 / 3) == Fraction(1, 3)
    assert hours_fraction(1 / 3) != Fraction(1, 3)
    assert abs(hours_fraction(1 / 3) - Fraction(1, 3)) < Fraction(1, 10**6)
