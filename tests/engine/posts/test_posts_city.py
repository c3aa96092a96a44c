"""The city route of posts (matcher.search.posts_city), forced on small generated cities."""

from __future__ import annotations

import pytest
from posts_support import post, problem2, vol

from matcher.format.schema import Assignment, Objective, Plan, Plan2, Problem, Problem2, Unmet
from matcher.format.validate2 import validate_plan2
from matcher.model.posts import model as posts_model
from matcher.model.posts.instance import NeedCompiler, PostInstance
from matcher.search import posts_city
from matcher.search.posts import PostsTooLargeError, solve_posts
from matcher.solve import CITY_CANDIDATES, posts_route, solve, solve_any, takes_city_route
from matcher.synth.generate import generate_city_with_posts


def _one_to_one(problem: Problem, seconds: float) -> Plan:
    return solve(problem, min(seconds, 3.0)).plan


def _city(seed: int) -> Problem2:
    return generate_city_with_posts(60, 45, seed=seed, posts=0.3, time_limit_s=10.0)


@pytest.mark.parametrize("seed", [1, 3])
def test_city_route_plan_is_valid_and_below_the_optimum(seed: int) -> None:
    problem = _city(seed)
    result = posts_city.solve_city(problem, 8.0, _one_to_one)
    assert validate_plan2(problem, result.plan) == []
    mins = {n.id: n.volunteers.min for n in problem.needs}
    assert all(len(a.volunteers) >= mins[a.need] for a in result.plan.assignments)
    assert result.posts_run > 0
    exact = solve_any(problem, 20.0)  # station route: proves its optimum at this size
    assert exact.route == "posts"
    assert result.coverage <= exact.coverage_bound
    assert result.coverage <= result.coverage_bound


def test_the_repair_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the repair, seats filled below a post's minimum (or without its lead) reach the plan
    and the validator refuses it; with it, the plan is valid.  (Every post seated, as without
    CORE_FIRST: with it, the posts the greedy plan runs cannot fall below their minimum.)"""
    monkeypatch.setattr(posts_city, "CORE_FIRST", False)
    problem = _city(1)
    repaired = posts_city.solve_city(problem, 8.0, _one_to_one)
    assert repaired.repaired + repaired.released > 0
    monkeypatch.setattr(posts_city, "_repair", lambda *args: (0, 0))
    broken = posts_city.solve_city(problem, 8.0, _one_to_one)
    assert validate_plan2(problem, broken.plan) != []


def test_solve_any_routes_large_problems_to_the_city_route(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _city(2)
    monkeypatch.setattr("matcher.solve.CITY_CANDIDATES", 0)
    result = solve_any(problem, 6.0)
    assert result.route == "posts-city"
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == []


def test_the_route_is_chosen_on_the_count_the_compact_model_refuses_on() -> None:
    """Between MAX_PAIRS eligible pairs and CITY_CANDIDATES candidates a problem used to reach the
    compact model and be refused (PostsTooLargeError); the eligible pairs decide there too."""
    below = CITY_CANDIDATES  # candidates alone do not say city size
    assert not takes_city_route(below, None)
    assert not takes_city_route(below, posts_model.MAX_PAIRS)
    assert takes_city_route(below, posts_model.MAX_PAIRS + 1)
    assert takes_city_route(CITY_CANDIDATES + 1, None)
    assert takes_city_route(CITY_CANDIDATES + 1, 0)


def test_a_problem_the_compact_model_refuses_takes_the_city_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real problem in the band (its pairs above the compact model's limit, its candidates below
    CITY_CANDIDATES): solved by the city route, valid, instead of PostsTooLargeError."""
    problem = _city(2)
    compiler, station = posts_route(problem)
    assert station is not None and compiler.problem is problem
    pairs = station.pairs
    candidates = sum(compiler.candidates(i) for i in range(len(problem.needs)))
    assert candidates <= CITY_CANDIDATES
    monkeypatch.setattr(posts_model, "MAX_PAIRS", pairs - 1)
    with pytest.raises(PostsTooLargeError):  # what the compact model says of it
        solve_posts(problem, 1.0)
    assert posts_route(problem)[1] is None
    result = solve_any(problem, 6.0)
    assert result.route == "posts-city"
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == []


def test_solve_any_compiles_the_needs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route's count and the station route share one compiler (review finding)."""
    problem = _city(3)
    made: list[NeedCompiler] = []
    original = NeedCompiler.__init__

    def counting(self: NeedCompiler, p: Problem2) -> None:
        made.append(self)
        original(self, p)

    monkeypatch.setattr(NeedCompiler, "__init__", counting)
    result = solve_any(problem, 6.0)
    assert result.route == "posts"
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == []
    assert len(made) == 1


@pytest.mark.parametrize("seed", [1, 2])
def test_core_first_runs_every_post_given_a_core(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With CORE_FIRST each post given a core team is committed to it before the one-to-one solve, so
    it runs and keeps rules 10-12 even with the repair turned off (the posts without one are seated
    as before, and may not)."""
    problem = _city(seed)
    compiler = NeedCompiler(problem)
    posts = [compiler.compile(i) for i, n in enumerate(problem.needs) if not n.is_plain]
    inst = PostInstance(
        problem, compiler.scale, posts, compiler.volunteers, compiler.free, compiler.max_units, []
    )
    _, core = posts_city._window_sets(inst, compiler, [v.minor for v in compiler.volunteers])
    assert core
    monkeypatch.setattr(posts_city, "_repair", lambda *args: (0, 0))
    monkeypatch.setattr(posts_city, "CORE_FIRST", True)
    result = posts_city.solve_city(problem, 8.0, _one_to_one)
    cored = {problem.needs[p].id for p in core}
    assert cored <= {a.need for a in result.plan.assignments}
    errors = validate_plan2(problem, result.plan)
    assert not [e for e in errors if any(f"(need '{n}')" in e for n in cored)]


def _trade_problem() -> Problem2:
    """Two volunteers free only on Saturday morning; a post there for both (3 x 2 h each) and a
    one-to-one need of b1 there (4 x 1 h)."""
    return problem2(
        [vol("va", availability=["sat-am"]), vol("vb", availability=["sat-am"])],
        [
            post("n1", low=2, high=2, windows=["sat-am"]),
            {
                "id": "n-care",
                "beneficiary": "b1",
                "service": "civility_guidance",
                "hours": 1,
                "sessions": 1,
                "windows": ["sat-am"],
            },
        ],
    )


def _poor_plan(problem: Problem, seconds: float) -> Plan:
    """A one-to-one plan that gives the one-to-one need to va and one seat of n1 to vb."""
    seat = next(n.id for n in problem.needs if n.id.startswith("n1+"))
    taken = {"n-care", seat}
    return Plan(
        format=1,
        status="feasible",
        assignments=[
            Assignment(need="n-care", volunteer="va", slots=["sat-am"]),
            Assignment(need=seat, volunteer="vb", slots=["sat-am"]),
        ],
        unmet=[Unmet(need=n.id, reasons=["capacity_taken"]) for n in problem.needs if n.id not in taken],
        objective=Objective(coverage=10, coverage_bound=16, continuity=0),
        solve_seconds=0.0,
    )


@pytest.mark.parametrize("trade", [True, False])
def test_a_post_takes_a_volunteer_from_a_one_to_one_need_worth_less(
    trade: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-to-one plan leaves the post below its minimum and its volunteer's need cannot move:
    the repair releases the post (coverage 4); with TRADE the post then runs with both, the need
    dropped (12, the optimum); without, it stays at 4."""
    monkeypatch.setattr(posts_city, "CORE_FIRST", False)
    monkeypatch.setattr(posts_city, "TRADE", trade)
    problem = _trade_problem()
    result = posts_city.solve_city(problem, 5.0, _poor_plan)
    assert validate_plan2(problem, result.plan) == []
    assert result.released == 1
    assert result.coverage == (12 if trade else 4)
    assert result.coverage <= solve_any(problem, 5.0).coverage_bound


def test_a_post_grows_by_taking_a_volunteer_from_a_one_to_one_need_worth_less(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A running post with a place open takes a volunteer whose one-to-one need is worth less than
    the place (_grow), not one whose need is worth more."""
    monkeypatch.setattr(posts_city, "CORE_FIRST", False)
    vols = [vol(v, availability=["sat-am"]) for v in ("va", "vb", "vc")]
    care = {"service": "civility_guidance", "sessions": 1, "windows": ["sat-am"], "beneficiary": "b1"}
    problem = problem2(
        vols,
        [
            post("n1", low=1, high=3, windows=["sat-am"]),  # 3 x 2 h a place
            {"id": "n-low", "hours": 1, **care},  # 4 x 1 h
            {"id": "n-high", "hours": 2, **care},  # 4 x 2 h
        ],
    )

    def plan(p: Problem, seconds: float) -> Plan:
        seat = next(n.id for n in p.needs if n.id.startswith("n1+"))
        taken = {"n-low": "va", "n-high": "vb", seat: "vc"}
        return Plan(
            format=1,
            status="feasible",
            assignments=[Assignment(need=n, volunteer=v, slots=["sat-am"]) for n, v in taken.items()],
            unmet=[Unmet(need=n.id, reasons=["capacity_taken"]) for n in p.needs if n.id not in taken],
            objective=Objective(coverage=18, coverage_bound=30, continuity=0),
            solve_seconds=0.0,
        )

    result = posts_city.solve_city(problem, 5.0, plan)
    assert validate_plan2(problem, result.plan) == []
    teams = {a.need: sorted(a.volunteers) for a in result.plan.assignments}
    assert teams["n1"] == ["va", "vc"]
    assert teams["n-high"] == ["vb"] and "n-low" not in teams
    assert result.coverage == 6 + 6 + 8


@pytest.mark.parametrize("hours", [True, False])
def test_a_volunteer_out_of_hours_gives_up_a_need_elsewhere_for_a_post(
    hours: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """va has 2 h and serves b1's 1 h need on Saturday afternoon; the post on Saturday morning
    needs va and vb for 2 h each (3 x 2 a place).  With TRADE_HOURS va gives the need up, the post
    runs and vb takes the need (6 + 6 + 4); without, the post cannot run (4)."""
    monkeypatch.setattr(posts_city, "CORE_FIRST", False)
    monkeypatch.setattr(posts_city, "TRADE_HOURS", hours)
    problem = problem2(
        [vol("va", max_hours=2), vol("vb")],
        [
            post("n1", low=2, high=2, windows=["sat-am"]),
            {
                "id": "n-care",
                "beneficiary": "b1",
                "service": "civility_guidance",
                "hours": 1,
                "sessions": 1,
                "windows": ["sat-pm"],
            },
        ],
    )

    def plan(p: Problem, seconds: float) -> Plan:
        seat = next(n.id for n in p.needs if n.id.startswith("n1+"))
        return Plan(
            format=1,
            status="feasible",
            assignments=[
                Assignment(need="n-care", volunteer="va", slots=["sat-pm"]),
                Assignment(need=seat, volunteer="vb", slots=["sat-am"]),
            ],
            unmet=[
                Unmet(need=n.id, reasons=["capacity_taken"]) for n in p.needs if n.id not in {"n-care", seat}
            ],
            objective=Objective(coverage=10, coverage_bound=16, continuity=0),
            solve_seconds=0.0,
        )

    result = posts_city.solve_city(problem, 5.0, plan)
    assert validate_plan2(problem, result.plan) == []
    assert result.coverage == (16 if hours else 4)
    assert result.coverage <= solve_any(problem, 5.0).coverage_bound
