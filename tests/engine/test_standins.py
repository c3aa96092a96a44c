"""Ranked stand-ins (:mod:`matcher.standins`): valid, complete and ranked as documented.

The oracle here is written from ``docs/format.md`` alone: :func:`could_take` re-states who
may take over one session (or all) of an assignment in a plan, and :func:`oracle_key` the
documented ranking, without the engine's rules or arrays.  Every listed stand-in, swapped
in, must give a plan the independent validator accepts; and every volunteer not listed
(with ``k`` large enough to list them all) must give one it refuses.
"""

from __future__ import annotations

import math
import random

import pytest
from helpers import exact, in_reach, to_problem
from hypothesis import given
from oracles import small_problem, tiny_problem
from strategies import SETTINGS, TIME_LIMIT, problems

from matcher.format.changes import apply_changes
from matcher.format.errors import InputError
from matcher.format.schema import Assignment, Plan, Problem
from matcher.format.validate import validate_plan
from matcher.solve import solve
from matcher.standins import Reliability, Standin, rank_key, standins, swap, with_standins

ALL = 1000
"""A ``k`` that lists every stand-in."""


def could_take(problem: Problem, plan: Plan, a: Assignment, volunteer: str, slots: list[str]) -> bool:
    """Whether ``volunteer`` may take ``slots`` of assignment ``a`` as the plan stands (brute force)."""
    if volunteer == a.volunteer:
        return False
    v = next(x for x in problem.volunteers if x.id == volunteer)
    n = next(x for x in problem.needs if x.id == a.need)
    ben = next(b for b in problem.beneficiaries if b.id == n.beneficiary)
    deadline = problem.certification_deadline
    if n.service not in v.skills or not in_reach(problem, v.district, ben.district):
        return False
    if not all(any(c.kind == k and c.expires >= deadline for c in v.certifications) for k in n.requires):
        return False
    if (v.minor and not n.minor_ok) or v.id in ben.excluded_volunteers:
        return False
    if ben.volunteer_gender is not None and v.gender != ben.volunteer_gender:
        return False
    own = [x for x in plan.assignments if x.volunteer == volunteer]
    if not set(slots) <= set(v.availability) or any(set(slots) & set(x.slots) for x in own):
        return False
    needs = {x.id: x for x in problem.needs}
    hours = sum(exact(needs[x.need].hours) * needs[x.need].sessions for x in own)
    if hours + exact(n.hours) * len(slots) > exact(v.max_hours):
        return False
    served = {needs[x.need].beneficiary for x in own}
    return ben.id in served or len(served) + 1 <= v.max_beneficiaries


def km(problem: Problem, volunteer: str, need: str) -> float:
    """One trip's great-circle km; without locations 0 in the district, 3 km from a neighbour."""
    v = next(x for x in problem.volunteers if x.id == volunteer)
    n = next(x for x in problem.needs if x.id == need)
    b = next(x for x in problem.beneficiaries if x.id == n.beneficiary)
    if v.location is None or b.location is None:
        return 0.0 if v.district == b.district else 3.0
    (la1, lo1), (la2, lo2) = (map(math.radians, p) for p in (v.location, b.location))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def oracle_key(
    problem: Problem, plan: Plan, a: Assignment, volunteer: str, records: dict[str, Reliability]
) -> tuple[int, int, int, float, float, int]:
    """The documented ranking: kept pair, whole km, incidents, rate (higher first), hours, position."""
    needs = {x.id: x for x in problem.needs}
    ben = needs[a.need].beneficiary
    own = [x for x in plan.assignments if x.volunteer == volunteer]
    kept = any(p.volunteer == volunteer and p.beneficiary == ben for p in problem.previous) or any(
        needs[x.need].beneficiary == ben for x in own
    )
    r = records.get(volunteer, Reliability())
    hours = float(sum(exact(needs[x.need].hours) * needs[x.need].sessions for x in own))
    position = [v.id for v in problem.volunteers].index(volunteer)
    rate = 1.0 if r.rate is None else r.rate
    return (
        0 if kept else 1,
        int(km(problem, volunteer, a.need)),
        r.no_shows + r.late_cancellations,
        -rate,
        hours,
        position,
    )


def swapped_is_valid(problem: Problem, plan: Plan, need: str, volunteer: str, slot: str | None) -> bool:
    """Swap, then hold the plan to the independent validator on the changed problem."""
    changes, new = swap(problem, plan, need, volunteer, slot)
    return validate_plan(apply_changes(problem, changes), new) == []


def random_records(problem: Problem, seed: int) -> dict[str, Reliability]:
    rng = random.Random(seed)
    out = {}
    for v in problem.volunteers:
        if rng.random() < 0.6:
            no, late = rng.choice((0, 0, 0, 1, 2)), rng.choice((0, 0, 1))
            out[v.id] = Reliability(no, late, rng.choice((None, 0.5, 0.8, 1.0)))
    return out


def check_plan(problem: Problem, plan: Plan, k: int, records: dict[str, Reliability]) -> None:
    """Every assertion of this module on one plan: complete, top-k in order, valid, nothing else valid."""
    found = standins(problem, plan, k, records)
    everyone = standins(problem, plan, ALL, records)
    assert [f.need for f in found] == [a.need for a in plan.assignments]
    volunteers = [v.id for v in problem.volunteers]
    for a, f, full in zip(plan.assignments, found, everyone, strict=True):
        cases: list[tuple[str | None, list[str], list[Standin], list[Standin]]] = [
            (s, [s], f.sessions[s], full.sessions[s]) for s in a.slots
        ]
        cases.append((None, list(a.slots), f.whole, full.whole))
        for slot, slots, listed, all_listed in cases:
            eligible = [v for v in volunteers if could_take(problem, plan, a, v, slots)]
            # complete: with room for all, exactly the eligible volunteers are listed
            assert sorted(x.volunteer for x in all_listed) == sorted(eligible), (a, slot)
            # ranked: the top k of them by the documented key, in that order
            best = sorted(eligible, key=lambda v: oracle_key(problem, plan, a, v, records))[:k]
            assert [x.volunteer for x in listed] == best, (a, slot)
            keys = [rank_key(x) for x in all_listed]
            assert keys == sorted(keys)
            # valid: every stand-in swapped in keeps every rule; nobody else does
            for v in volunteers:
                assert swapped_is_valid(problem, plan, a.need, v, slot) == (v in eligible), (a, slot, v)


@pytest.mark.parametrize("seed", range(12))
def test_tiny_problems_complete_ranked_and_valid(seed: int) -> None:
    problem = tiny_problem(seed)
    plan = solve(problem, TIME_LIMIT, workers=1).plan
    check_plan(problem, plan, 3, random_records(problem, seed))


@pytest.mark.parametrize("seed", range(6))
def test_small_problems_complete_ranked_and_valid(seed: int) -> None:
    problem = small_problem(seed)
    plan = solve(problem, TIME_LIMIT, workers=1).plan
    assert plan.assignments, "a test problem with nothing assigned tests nothing"
    check_plan(problem, plan, 2, random_records(problem, seed))


@given(problems())
@SETTINGS
def test_random_problems(doc: dict[str, object]) -> None:
    problem = to_problem(doc)
    plan = solve(problem, TIME_LIMIT, workers=1).plan
    check_plan(problem, plan, 1, {})


def two_candidates(**second: object) -> tuple[Problem, Plan]:
    """v1 serves n1; v2 and v3 could stand in (v3 changed by ``second``)."""
    vol = {"district": "d1", "skills": ["life_care"], "availability": ["mon-am"], "max_hours": 4}
    doc = {
        "format": 1,
        "week_start": "2026-12-07",
        "districts": [{"id": "d1", "neighbors": []}],
        "volunteers": [{"id": "v1", **vol}, {"id": "v2", **vol}, {"id": "v3", **vol, **second}],
        "beneficiaries": [{"id": "b1", "category": "elderly", "district": "d1", "priority": 3}],
        "needs": [
            {
                "id": "n1",
                "beneficiary": "b1",
                "service": "life_care",
                "hours": 1,
                "sessions": 1,
                "windows": ["mon-am"],
            }
        ],
    }
    problem = to_problem(doc)
    plan = solve(problem, TIME_LIMIT, workers=1).plan
    return problem, plan


def test_reliability_ranks_a_volunteer_without_no_shows_first() -> None:
    problem, plan = two_candidates()
    own = plan.assignments[0].volunteer
    others = [v for v in ("v1", "v2", "v3") if v != own]
    records = {others[0]: Reliability(no_shows=2, rate=0.5)}
    listed = standins(problem, plan, 3, records)[0].whole
    assert [s.volunteer for s in listed] == [others[1], others[0]]
    assert listed[1].no_shows == 2 and listed[1].rate == 0.5


def test_a_kept_pair_comes_first() -> None:
    problem, plan = two_candidates()
    own = plan.assignments[0].volunteer
    last = [v for v in ("v1", "v2", "v3") if v != own][-1]
    doc = problem.model_dump(mode="json", exclude_none=True)
    problem = to_problem({**doc, "previous": [{"volunteer": last, "beneficiary": "b1"}]})
    first = standins(problem, plan, 3)[0].whole[0]
    assert first.volunteer == last and first.kept_pair and first.previous


def test_one_session_of_several_splits_the_need() -> None:
    vol = {"district": "d1", "skills": ["life_care"], "availability": ["mon-am", "sat-am"], "max_hours": 4}
    doc = {
        "format": 1,
        "week_start": "2026-12-07",
        "districts": [{"id": "d1", "neighbors": []}],
        "volunteers": [{"id": "v1", **vol}, {"id": "v2", **vol, "availability": ["sat-am"]}],
        "beneficiaries": [{"id": "b1", "category": "elderly", "district": "d1", "priority": 3}],
        "needs": [
            {
                "id": "n1",
                "beneficiary": "b1",
                "service": "life_care",
                "hours": 1.5,
                "sessions": 2,
                "windows": ["mon-am", "sat-am", "sun-am"],
            }
        ],
    }
    problem = to_problem(doc)
    plan = solve(problem, TIME_LIMIT, workers=1).plan
    assert plan.assignments[0].volunteer == "v1"
    found = standins(problem, plan)[0]
    assert [s.volunteer for s in found.sessions["sat-am"]] == ["v2"]
    assert found.sessions["mon-am"] == [] and found.whole == []
    changes, new = swap(problem, plan, "n1", "v2", "sat-am")
    changed = apply_changes(problem, changes)
    assert validate_plan(changed, new) == []
    assert changes.needs_cancelled == ["n1"]
    assert {(a.need, a.volunteer, tuple(a.slots)) for a in new.assignments} == {
        ("n1+sat-am", "v2", ("sat-am",)),
        ("n1+rest", "v1", ("mon-am",)),
    }
    assert new.objective.coverage == plan.objective.coverage
    # the withdrawal is recorded: v1 is no longer free on Saturday morning
    assert "sat-am" not in next(v for v in changed.volunteers if v.id == "v1").availability


def test_swap_names_the_field() -> None:
    problem, plan = two_candidates()
    need = plan.assignments[0].need
    with pytest.raises(InputError, match=r"^volunteer: "):
        swap(problem, plan, need, "nobody")
    with pytest.raises(InputError, match=r"^slot: "):
        swap(problem, plan, need, "v2", "tue-pm")
    with pytest.raises(InputError, match=r"^need: "):
        swap(problem, plan, "n9", "v2")


def test_the_format_field_only_when_asked() -> None:
    problem, plan = two_candidates()
    assert "standins" not in plan.to_json()
    listed = with_standins(plan, standins(problem, plan))
    doc = listed.model_dump(mode="json", exclude_none=True)
    assert doc["assignments"][0]["standins"] == [
        {"slot": "mon-am", "volunteers": [s.volunteer for s in standins(problem, plan)[0].whole]}
    ]
    # a plan with stand-ins is still a valid format-1 plan, and reads back the same
    assert validate_plan(problem, listed) == []
    assert Plan.model_validate_json(listed.to_json()) == listed


def test_travel_counts_in_whole_kilometres() -> None:
    """1.2 km with a no-show ranks below 1.6 km without: within a kilometre, reliability decides."""
    problem, plan = two_candidates()
    own = plan.assignments[0].volunteer
    near, far = [v for v in ("v1", "v2", "v3") if v != own]
    doc = problem.model_dump(mode="json", exclude_none=True)
    doc["beneficiaries"][0]["location"] = [39.9, 116.4]
    for v in doc["volunteers"]:
        v["location"] = [39.9 + {near: 0.0108, far: 0.0144}.get(v["id"], 0.0), 116.4]
    problem = to_problem(doc)
    listed = standins(problem, plan, 3, {near: Reliability(no_shows=1, rate=0.9)})[0].whole
    assert [(s.volunteer, s.km) for s in listed] == [(far, 1.6), (near, 1.2)]
