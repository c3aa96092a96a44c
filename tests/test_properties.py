"""Property-based tests: random valid problems, solved under a short limit, keep every promise.

The strategies build exchange-format dicts with consistent references (districts, slots,
volunteers and beneficiaries named in exclusions and ``previous``) and vary reach, default or
custom slots, fractional hours, minors, gender requests, exclusions, previous pairs and
certificates around the week's expiry deadline.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from helpers import (
    WEEK_START,
    WEEK_START_DATE,
    Doc,
    exact,
    in_reach,
    solve_and_check,
    to_problem,
    usable_slots,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.format import reasons as codes
from matcher.format.io import parse
from matcher.format.schema import DEFAULT_SLOTS, Need, Plan, Problem, Volunteer
from matcher.solve import SolveResult

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIME_LIMIT = 2.0
SERVICES = ("life_care", "tutoring", "housekeeping")
KINDS = ("first_aid", "child_safeguarding")
DEADLINE = WEEK_START_DATE + dt.timedelta(days=6)


def _subset(draw: st.DrawFn, pool: list[str], min_size: int = 0) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), min_size=min_size, unique=True)) if pool else []


def _usually(draw: st.DrawFn, tenths: int) -> bool:
    """True with probability about ``tenths`` / 10, and in the simplest examples."""
    return draw(st.integers(0, 9)) < tenths


def _rarely(draw: st.DrawFn, tenths: int) -> bool:
    """True with probability about ``tenths`` / 10, and False in the simplest examples."""
    return draw(st.integers(0, 9)) >= 10 - tenths


def _maybe(draw: st.DrawFn, doc: Doc, key: str, strategy: st.SearchStrategy[Any], tenths: int = 5) -> None:
    """Set ``doc[key]`` to a drawn value (probability ``tenths`` / 10), or leave the optional field out."""
    if _rarely(draw, tenths):
        doc[key] = draw(strategy)


@st.composite
def problems(draw: st.DrawFn) -> Doc:
    """A valid format-1 problem dict with up to 5 volunteers and 7 needs."""
    doc: Doc = {"format": 1, "week_start": WEEK_START}
    if draw(st.booleans()):
        pool = list(DEFAULT_SLOTS[: draw(st.integers(3, 8))])
    else:
        doc["slots"] = [f"t{i}" for i in range(draw(st.integers(1, 6)))]
        pool = list(doc["slots"])
    district_ids = [f"d{i}" for i in range(draw(st.integers(1, 3)))]
    doc["districts"] = [
        {"id": d, "neighbors": _subset(draw, [o for o in district_ids if o != d])} for d in district_ids
    ]
    _maybe(draw, doc, "reach", st.sampled_from(["adjacent", "same"]))

    volunteers: list[Doc] = []
    for i in range(draw(st.integers(1 if _usually(draw, 9) else 0, 5))):
        v: Doc = {
            "id": f"v{i}",
            "district": draw(st.sampled_from(district_ids)),
            "skills": _subset(draw, list(SERVICES), min_size=1 if _usually(draw, 9) else 0),
            "availability": pool if _usually(draw, 4) else _subset(draw, pool, min_size=len(pool) // 2),
            "max_hours": draw(st.sampled_from([10, 4.5, 3, 2.5, 1.5, 1, 0.5, 10, 0])),
        }
        certs = draw(
            st.lists(
                st.tuples(st.sampled_from(KINDS), st.integers(-2, 3)),
                max_size=2,
            )
        )
        listed = draw(st.booleans())  # an empty certifications list, or none at all
        if certs or listed:
            v["certifications"] = [
                {"kind": k, "expires": (DEADLINE + dt.timedelta(days=off)).isoformat()} for k, off in certs
            ]
        _maybe(draw, v, "max_beneficiaries", st.sampled_from([2, 1, 3, 0]))
        _maybe(draw, v, "minor", st.booleans(), tenths=3)
        _maybe(draw, v, "gender", st.sampled_from(["f", "m"]), tenths=7)
        _maybe(draw, v, "location", st.tuples(st.floats(39.7, 39.9), st.floats(98.2, 98.4)).map(list))
        volunteers.append(v)
    doc["volunteers"] = volunteers
    vol_ids = [v["id"] for v in volunteers]
    vol_districts = sorted({v["district"] for v in volunteers})

    beneficiaries: list[Doc] = []
    for i in range(draw(st.integers(1, 4))):
        b: Doc = {
            "id": f"b{i}",
            "category": draw(
                st.sampled_from(["elderly", "disabled", "child", "migrant_worker", "community"])
            ),
            # mostly where some volunteer lives, so that reach is usually not the whole story
            "district": draw(
                st.sampled_from(vol_districts if vol_districts and _usually(draw, 7) else district_ids)
            ),
            "priority": draw(st.integers(1, 5)),
        }
        _maybe(draw, b, "volunteer_gender", st.sampled_from(["f", "m"]), tenths=2)
        excludes = _rarely(draw, 3)
        if vol_ids and excludes:
            b["excluded_volunteers"] = draw(st.lists(st.sampled_from(vol_ids), max_size=2, unique=True))
        _maybe(draw, b, "location", st.tuples(st.floats(39.7, 39.9), st.floats(98.2, 98.4)).map(list))
        beneficiaries.append(b)
    doc["beneficiaries"] = beneficiaries
    ben_ids = [b["id"] for b in beneficiaries]

    needs: list[Doc] = []
    for i in range(draw(st.integers(0 if _rarely(draw, 1) else 1, 7))):
        sessions = draw(st.sampled_from([1, 1, 2, 2, 3, 4]))
        service = draw(st.sampled_from(SERVICES))
        windows = _subset(draw, pool, min_size=min(sessions, len(pool)) if _usually(draw, 8) else 0)
        if volunteers and _usually(draw, 7):  # shaped after one volunteer, who may well take it
            anchor = draw(st.sampled_from(volunteers))
            if anchor["skills"]:
                service = draw(st.sampled_from(anchor["skills"]))
            free = [s for s in pool if s in anchor["availability"]]
            windows = list(dict.fromkeys(free[:sessions] + windows))
        n: Doc = {
            "id": f"n{i}",
            "beneficiary": draw(st.sampled_from(ben_ids)),
            "service": service,
            "hours": draw(st.sampled_from([0.1, 0.5, 1, 1.5, 2, 2.5])),
            "sessions": sessions,
            "windows": windows,
        }
        _maybe(draw, n, "requires", st.lists(st.sampled_from(KINDS), unique=True), tenths=3)
        _maybe(draw, n, "minor_ok", st.booleans())
        needs.append(n)
    doc["needs"] = needs

    if vol_ids:
        pairs = st.fixed_dictionaries(
            {"volunteer": st.sampled_from(vol_ids), "beneficiary": st.sampled_from(ben_ids)}
        )
        _maybe(draw, doc, "previous", st.lists(pairs, max_size=4))
    _maybe(draw, doc, "time_limit_s", st.sampled_from([1, 2.5, 10]))
    return doc


def _ben(problem: Problem, n: Need) -> str:
    return next(b.district for b in problem.beneficiaries if b.id == n.beneficiary)


def first_refusal(problem: Problem, v: Volunteer, n: Need) -> str | None:
    """The code of the first hard rule refusing a skilled, in-reach volunteer (None: none does)."""
    ben = next(b for b in problem.beneficiaries if b.id == n.beneficiary)
    if any(not any(c.kind == k and c.expires >= DEADLINE for c in v.certifications) for k in n.requires):
        return codes.NO_CERTIFIED_VOLUNTEER
    if v.minor and not n.minor_ok:
        return codes.MINOR_NOT_ALLOWED
    if ben.volunteer_gender is not None and v.gender != ben.volunteer_gender:
        return codes.GENDER_MISMATCH
    if v.id in ben.excluded_volunteers:
        return codes.VOLUNTEER_EXCLUDED
    if len(usable_slots(problem, v, n)) < n.sessions:
        return codes.NO_AVAILABLE_SLOT
    if exact(n.hours) * n.sessions > exact(v.max_hours):
        return codes.EXCEEDS_MAX_HOURS
    if v.max_beneficiaries < 1:
        return codes.NO_BENEFICIARY_CAPACITY
    return None


def skilled_in_reach(problem: Problem, n: Need) -> list[Volunteer]:
    """Volunteers with the need's service whose district reaches the beneficiary's."""
    district = _ben(problem, n)
    return [
        v for v in problem.volunteers if n.service in v.skills and in_reach(problem, v.district, district)
    ]


def solved(doc: Doc) -> tuple[Problem, SolveResult]:
    problem = to_problem(doc)
    return problem, solve_and_check(problem, TIME_LIMIT)


@SETTINGS
@given(problems())
def test_plan_valid_complete_and_bounded(doc: Doc) -> None:
    """Every plan validates, lists each need once, and keeps coverage <= bound (= when optimal)."""
    problem, result = solved(doc)  # solve_and_check asserts validity and completeness
    assert Fraction(0) <= result.coverage <= result.coverage_bound
    assert result.status in ("optimal", "feasible")
    if result.status == "optimal":
        assert result.coverage == result.coverage_bound
    assert result.plan.objective.coverage_bound >= result.plan.objective.coverage
    reachable = sum(
        (
            next(b.priority for b in problem.beneficiaries if b.id == n.beneficiary)
            * exact(n.hours)
            * n.sessions
            for n in problem.needs
        ),
        Fraction(0),
    )
    assert result.coverage_bound <= reachable


@SETTINGS
@given(problems())
def test_unmet_reasons_are_true(doc: Doc) -> None:
    """Unmet reasons are known codes and true: e.g. no_volunteer_with_skill_in_reach means none exists."""
    problem, result = solved(doc)
    needs = {n.id: n for n in problem.needs}
    for unmet in result.plan.unmet:
        assert unmet.reasons and set(unmet.reasons) <= set(codes.REASON_CODES)
        n = needs[unmet.need]
        candidates = skilled_in_reach(problem, n)
        if codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH in unmet.reasons:
            assert candidates == [], (unmet, [v.id for v in candidates])
            assert unmet.reasons == [codes.NO_VOLUNTEER_WITH_SKILL_IN_REACH]
            continue
        refusals = {first_refusal(problem, v, n) for v in candidates}
        expected = {codes.CAPACITY_TAKEN if r is None else r for r in refusals}
        assert set(unmet.reasons) == expected, (unmet, expected)
        assert unmet.reasons == [c for c in codes.REASON_CODES if c in expected]


@SETTINGS
@given(problems())
def test_plan_is_maximal(doc: Doc) -> None:
    """No unmet need could still be added as it stands: no eligible volunteer has room for it."""
    problem, result = solved(doc)
    vols = {v.id: v for v in problem.volunteers}
    needs = {n.id: n for n in problem.needs}
    busy: dict[str, set[str]] = {v: set() for v in vols}
    hours: dict[str, Fraction] = {v: Fraction(0) for v in vols}
    serves: dict[str, set[str]] = {v: set() for v in vols}
    for a in result.plan.assignments:
        n = needs[a.need]
        busy[a.volunteer].update(a.slots)
        hours[a.volunteer] += exact(n.hours) * n.sessions
        serves[a.volunteer].add(n.beneficiary)
    for unmet in result.plan.unmet:
        n = needs[unmet.need]
        for v in skilled_in_reach(problem, n):
            if first_refusal(problem, v, n) is not None:
                continue
            free = [s for s in usable_slots(problem, v, n) if s not in busy[v.id]]
            room = hours[v.id] + exact(n.hours) * n.sessions <= exact(v.max_hours)
            place = n.beneficiary in serves[v.id] or len(serves[v.id]) < v.max_beneficiaries
            assert not (len(free) >= n.sessions and room and place), (unmet.need, v.id)


@SETTINGS
@given(problems())
def test_problem_round_trips(doc: Doc) -> None:
    """Problem.model_validate_json(p.model_dump_json()) == p, with and without None fields."""
    p = to_problem(doc)
    assert Problem.model_validate_json(p.model_dump_json()) == p
    assert Problem.model_validate_json(p.model_dump_json(exclude_none=True)) == p
    assert parse(Problem, p.model_dump(mode="json"), "problem") == p


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_plan_round_trips(doc: Doc) -> None:
    """A solved plan survives its own JSON (Plan.to_json) unchanged."""
    _, result = solved(doc)
    assert parse(Plan, result.plan.to_json(), "plan") == result.plan
