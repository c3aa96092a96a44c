"""Tests of the synthetic city generator (matcher.synth.generate)."""

from __future__ import annotations

import ast
import datetime as dt
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.format.changes import apply_changes
from matcher.format.schema import SERVICES_BY_PROGRAMME, Problem
from matcher.synth.generate import DISTRICT_NAMES, LIGHT_SERVICES, generate_changes, generate_city


@pytest.fixture(scope="module")
def city() -> Problem:
    """A mid-sized city: 1000 volunteers, 750 beneficiaries, default districts."""
    return generate_city(1000, 750, seed=7)


def _components(problem: Problem) -> int:
    """Number of connected components of the (symmetric) district graph."""
    adjacent: dict[str, set[str]] = {d.id: set() for d in problem.districts}
    for d in problem.districts:
        for n in d.neighbors:
            adjacent[d.id].add(n)
            adjacent[n].add(d.id)
    seen: set[str] = set()
    components = 0
    for start in adjacent:
        if start in seen:
            continue
        components += 1
        queue = deque([start])
        seen.add(start)
        while queue:
            for n in adjacent[queue.popleft()] - seen:
                seen.add(n)
                queue.append(n)
    return components


def test_same_seed_gives_identical_json() -> None:
    """The same arguments and seed give byte-identical JSON."""
    a = generate_city(300, 200, seed=42)
    b = generate_city(300, 200, seed=42)
    assert a.model_dump_json() == b.model_dump_json()


def test_different_seeds_differ() -> None:
    """Different seeds give different problems."""
    assert (
        generate_city(300, 200, seed=1).model_dump_json() != generate_city(300, 200, seed=2).model_dump_json()
    )


def test_round_trips_through_json(city: Problem) -> None:
    """The problem survives a JSON round trip through the strict schema unchanged."""
    again = Problem.model_validate_json(city.model_dump_json())
    assert again == city
    assert again.model_dump_json() == city.model_dump_json()


def test_counts_and_ids_match_arguments() -> None:
    """Counts follow the arguments and ids follow the documented patterns."""
    p = generate_city(120, 90, districts=4, seed=3)
    assert len(p.volunteers) == 120
    assert len(p.beneficiaries) == 90
    assert [d.id for d in p.districts] == list(DISTRICT_NAMES[:4])
    assert p.volunteers[0].id == "v0001" and p.volunteers[-1].id == "v0120"
    assert p.beneficiaries[0].id == "b0001" and p.beneficiaries[-1].id == "b0090"
    assert p.needs[0].id == "n00001"
    assert p.week_start == dt.date(2026, 12, 7) and p.reach == "adjacent" and p.time_limit_s == 10.0


def test_district_names_and_default_count() -> None:
    """Real Jiayuguan names come first; the default is about one district per 500 volunteers, 1 to 20."""
    assert DISTRICT_NAMES[:6] == ("xiongguan", "jingtie", "changcheng", "xincheng", "yuquan", "wenshu")
    assert DISTRICT_NAMES[6] == "district-07"
    assert [d.id for d in generate_city(0, 5, districts=8).districts][-1] == "district-08"
    assert len(generate_city(0, 0).districts) == 1
    assert len(generate_city(2000, 0).districts) == 4
    assert len(generate_city(12000, 0).districts) == 20
    assert len(generate_city(10, 0, districts=25).districts) == 25


def test_minors_are_about_one_in_ten(city: Problem) -> None:
    """About 10% of volunteers are minors, with light skills and small loads."""
    minors = [v for v in city.volunteers if v.minor]
    assert 0.05 <= len(minors) / len(city.volunteers) <= 0.15
    for v in minors:
        assert set(v.skills) <= LIGHT_SERVICES
        assert v.max_hours <= 4 and v.max_beneficiaries <= 2


def test_some_certificates_are_expired(city: Problem) -> None:
    """Roughly 15% of certificates do not count for the week; the rest do."""
    deadline = city.week_start + dt.timedelta(days=6)
    certs = [c for v in city.volunteers for c in v.certifications]
    expired = sum(c.expires < deadline for c in certs)
    assert certs and 0.05 <= expired / len(certs) <= 0.30


def test_needs_per_beneficiary_ratio(city: Problem) -> None:
    """There are about 5 needs per 3 beneficiaries, 1-3 each, feasible in count of windows."""
    assert 1.3 <= len(city.needs) / len(city.beneficiaries) <= 2.0
    per = Counter(n.beneficiary for n in city.needs)
    assert set(per.values()) <= {1, 2, 3} and len(per) == len(city.beneficiaries)
    for n in city.needs:
        assert n.sessions <= len(n.windows) and 3 <= len(n.windows) <= 8


@pytest.mark.parametrize("count", [1, 2, 3, 5, 6, 7, 12, 20])
def test_district_graph_is_connected(count: int) -> None:
    """The district graph is connected and each district has 1-4 neighbours."""
    p = generate_city(50, 20, districts=count, seed=count)
    assert _components(p) == 1
    for d in p.districts:
        assert d.id not in d.neighbors
        assert (count == 1 and d.neighbors == []) or 1 <= len(d.neighbors) <= 4


def test_previous_pairs_are_plausible(city: Problem) -> None:
    """Each previous pair shares a district and the volunteer has a skill the beneficiary needs."""
    volunteers = {v.id: v for v in city.volunteers}
    beneficiaries = {b.id: b for b in city.beneficiaries}
    services: dict[str, set[str]] = {}
    for n in city.needs:
        services.setdefault(n.beneficiary, set()).add(n.service)
    assert 0.2 <= len(city.previous) / len(city.beneficiaries) <= 0.3
    for pair in city.previous:
        v, b = volunteers[pair.volunteer], beneficiaries[pair.beneficiary]
        assert set(v.skills) & services[b.id]
        assert v.district == b.district
        assert v.id not in b.excluded_volunteers
        assert b.volunteer_gender is None or v.gender == b.volunteer_gender


def test_beneficiaries_are_realistic(city: Problem) -> None:
    """Categories, priorities, services and constraints follow the service plan's shape."""
    bens = {b.id: b for b in city.beneficiaries}
    share = Counter(b.category for b in city.beneficiaries)
    assert share["elderly"] > share["child"] > share["disabled"] > share["community"]

    def mean_priority(category: str) -> float:
        ps = [b.priority for b in city.beneficiaries if b.category == category]
        return sum(ps) / len(ps)

    assert mean_priority("elderly") > mean_priority("migrant_worker") > mean_priority("community")
    assert all(b.category == "elderly" for b in city.beneficiaries if b.volunteer_gender)
    assert any(b.volunteer_gender == "f" for b in city.beneficiaries)
    assert 0 < sum(bool(b.excluded_volunteers) for b in city.beneficiaries) < 0.08 * len(bens)
    for n in city.needs:
        assert n.service in SERVICES_BY_PROGRAMME[bens[n.beneficiary].category]
        assert not n.minor_ok or (n.service in LIGHT_SERVICES and not n.requires)
        if n.service == "emergency_aid":
            assert n.requires == ["first_aid"]
        if n.service == "legal_aid":
            assert n.requires == ["legal"]


def test_edge_cases() -> None:
    """No volunteers, no beneficiaries and a single district all give valid problems."""
    empty = generate_city(0, 30, districts=1)
    assert empty.volunteers == [] and empty.previous == []
    assert all(b.excluded_volunteers == [] for b in empty.beneficiaries)
    nobody = generate_city(40, 0, districts=3)
    assert nobody.beneficiaries == [] and nobody.needs == [] and nobody.previous == []
    one = generate_city(60, 45, districts=1)
    assert [d.neighbors for d in one.districts] == [[]]
    assert {v.district for v in one.volunteers} == {"xiongguan"}
    assert generate_city(0, 0).model_dump_json() == generate_city(0, 0).model_dump_json()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"volunteers": -1, "beneficiaries": 1}, "volunteers"),
        ({"volunteers": 1, "beneficiaries": -5}, "beneficiaries"),
        ({"volunteers": 1, "beneficiaries": 1, "districts": 0}, "districts"),
        ({"volunteers": 1.5, "beneficiaries": 1}, "volunteers"),
        ({"volunteers": 1, "beneficiaries": 1, "week_start": dt.date(2026, 12, 8)}, "week_start"),
        ({"volunteers": 1, "beneficiaries": 1, "time_limit_s": 0}, "time_limit_s"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], name: str) -> None:
    """Out-of-range arguments raise ValueError whose message starts with the argument's name."""
    with pytest.raises(ValueError, match=rf"^{name}: "):
        generate_city(**kwargs)


@settings(max_examples=20, deadline=None)
@given(
    volunteers=st.integers(0, 60),
    beneficiaries=st.integers(0, 40),
    districts=st.one_of(st.none(), st.integers(1, 9)),
    seed=st.integers(0, 2**32),
)
def test_any_small_city_is_valid(
    volunteers: int, beneficiaries: int, districts: int | None, seed: int
) -> None:
    """Any small argument combination gives a problem the strict schema accepts."""
    p = generate_city(volunteers, beneficiaries, districts, seed=seed)
    assert Problem.model_validate_json(p.model_dump_json()) == p
    assert _components(p) == 1


def test_generator_is_fast_and_ortools_free() -> None:
    """A 5000-volunteer city takes well under a second or two; the module does not import ortools."""
    start = time.perf_counter()
    generate_city(5000, 3750, seed=1)
    assert time.perf_counter() - start < 5.0
    source = Path(__file__).parents[3].joinpath("matcher", "synth", "generate.py").read_text(encoding="utf-8")
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert not any(name.split(".")[0] == "ortools" for name in imported)


def test_generated_changes_apply_and_match_their_fractions(city: Problem) -> None:
    """A generated change set applies cleanly and withdraws, cancels and adds what was asked."""
    changes = generate_changes(city, withdraw=0.05, partial=0.02, cancel=0.01, add=7, seed=3)
    whole = [w for w in changes.volunteers_withdrawn if w.slots is None]
    partial = [w for w in changes.volunteers_withdrawn if w.slots is not None]
    assert len(whole) == 50
    assert 15 <= len(partial) <= 20  # volunteers with no availability cannot lose a slot
    assert len(changes.needs_cancelled) == round(0.01 * len(city.needs))
    assert [n.id for n in changes.needs_added] == [f"n-new-{i}" for i in range(1, 8)]
    changed = apply_changes(city, changes)
    assert len(changed.needs) == len(city.needs) - len(changes.needs_cancelled) + 7
    empty = {v.id for v in changed.volunteers if not v.availability}
    assert {w.volunteer for w in whole} <= empty
    assert generate_changes(city, seed=3) == generate_changes(city, seed=3)


@pytest.mark.parametrize(("kwargs", "name"), [({"withdraw": 1.5}, "withdraw"), ({"cancel": -0.1}, "cancel")])
def test_generated_changes_bad_arguments(city: Problem, kwargs: dict[str, Any], name: str) -> None:
    """Out-of-range fractions are refused naming the argument."""
    with pytest.raises(ValueError, match=f"^{name}:"):
        generate_changes(city, **kwargs)


# ------------------------------------------------------------------ format 2: posts


def test_posts_option_keeps_the_city_and_adds_a_tenth_of_posts() -> None:
    """generate_city_with_posts: the same one-to-one week, plus posts of 2-8 at sites (about 1 need in 10)."""
    from matcher.format.schema import Need2
    from matcher.synth.generate import generate_city_with_posts

    city = generate_city(300, 225, seed=4)
    posts = generate_city_with_posts(300, 225, seed=4)
    assert posts.volunteers == city.volunteers
    assert posts.beneficiaries == city.beneficiaries
    assert [n for n in posts.needs if not n.is_post] == [Need2(**n.model_dump()) for n in city.needs]
    share = sum(n.is_post for n in posts.needs) / len(posts.needs)
    assert 0.08 <= share <= 0.12
    for n in posts.needs:
        if n.is_post:
            assert n.site is not None
            assert 2 <= n.volunteers.min <= n.volunteers.max <= 8
            assert n.service in {"civility_guidance", "environment", "safety_education", "health_check"}
    assert {s.district for s in posts.sites} <= {d.id for d in posts.districts}
    assert generate_city_with_posts(300, 225, seed=4) == posts  # a pure function of its arguments
    none = generate_city_with_posts(300, 225, seed=4, posts=0)
    assert not none.has_posts
