"""Column generation for group posts (:mod:`matcher.search.posts_colgen`) against the brute force.

The brute force (:func:`oracles.brute_force_posts`) shares nothing with the engine.  On random
tiny problems: the Lagrangian bound, with the LP's multipliers and with arbitrary ones, is never
below the optimum; branch-and-price ends with a plan at the optimum, proved; every plan keeps
every rule (the solver-free validator).  A deliberately wrong pricing is caught.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from helpers import Doc
from hypothesis import given
from hypothesis import strategies as st
from oracles import brute_force_posts
from posts_support import post, problem2, vol
from strategies import SETTINGS, post_problems

from matcher import solve as solve_module
from matcher.clock import Deadline
from matcher.format.io import parse_problem
from matcher.format.schema import Problem2
from matcher.format.validate2 import validate_plan2
from matcher.model.posts.greedy import greedy
from matcher.model.posts.instance import PostInstance
from matcher.search import posts_colgen
from matcher.search.colgen import LAMBDA_GRID
from matcher.search.posts import solve_posts
from matcher.search.posts_colgen import compile_master, plan2, prove_posts, solve_colgen, tighten
from matcher.solve import solve_any
from matcher.synth.generate import generate_city_with_posts


def _inst(doc: Doc) -> PostInstance:
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    return PostInstance.of(problem)


def _lagrangian(inst: PostInstance, pi: np.ndarray) -> float:
    """``L(pi)`` of the master of ``inst`` (on the primary objective)."""
    master = compile_master(inst)
    assert master is not None
    deadline = Deadline.never()
    total = float(pi @ master.rhs) + master.posts_part(pi)
    return total + sum(p.price(pi, deadline)[0] for p in master.pricers)


def _solved_optimally(inst: PostInstance) -> bool:
    """Whether column generation and branching prove the brute-force optimum, with a valid plan."""
    optimum = brute_force_posts(inst.problem).coverage * inst.scale
    result = solve_colgen(inst, greedy(inst), 20.0)
    assert result is not None
    plan = plan2(inst, result.plan, result.covered, result.bound, result.seconds)
    assert validate_plan2(inst.problem, plan) == []
    root = math.floor(result.lagrangian) // result.weight if math.isfinite(result.lagrangian) else math.inf
    return bool(root >= optimum and result.bound >= optimum and result.covered == optimum and result.optimal)


@SETTINGS
@given(post_problems())
def test_branch_and_price_proves_the_brute_force_optimum(doc: Doc) -> None:
    assert _solved_optimally(_inst(doc))


@SETTINGS
@given(post_problems(), st.integers(0, 2**32 - 1))
def test_any_multipliers_give_a_bound(doc: Doc, seed: int) -> None:
    inst = _inst(doc)
    master = compile_master(inst)
    assert master is not None
    optimum = brute_force_posts(inst.problem).coverage * inst.scale
    rng = np.random.default_rng(seed)
    pi = np.round(rng.uniform(0, 3 * master.weight * 40, master.n_coupling) * LAMBDA_GRID) / LAMBDA_GRID
    pi[rng.random(master.n_coupling) < 0.3] = 0.0
    assert math.floor(_lagrangian(inst, pi)) // master.weight >= optimum


def _items_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Branch-and-price on volunteers' items alone: no branching on posts, no dive, no MIP at a node
    (a node closes only where its LP is integral)."""
    monkeypatch.setattr(posts_colgen, "_branching", lambda *args: None)
    monkeypatch.setattr(posts_colgen, "dive", lambda lp, root, best, primary, *args: (best, primary))
    monkeypatch.setattr(posts_colgen, "SETTLE_S", 0.0)


@SETTINGS
@given(post_problems())
def test_branching_on_items_alone_proves_the_brute_force_optimum(doc: Doc) -> None:
    """Held and banned items (:class:`posts_colgen.Node`'s ``on``/``off``) keep every node's bound
    valid, and branching on them alone reaches the optimum (with the linking rows an integral
    choice of items makes every ``w`` integral)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _items_only(monkeypatch)
        assert _solved_optimally(_inst(doc))


def test_a_banned_item_that_stays_in_the_pricing_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutation check: a node whose ``off`` item is still priced repeats its parent, and the
    tree proves nothing (a problem Hypothesis found whose root LP takes items fractionally: a
    lead post, a one-person post and a post for three, in one place)."""
    civility = "civility_guidance"
    aid = [{"kind": "first_aid", "expires": "2026-12-12"}]
    both = ["mon-am", "mon-pm"]
    doc: Doc = {
        "format": 2,
        "week_start": "2026-12-07",
        "districts": [{"id": "d0", "neighbors": ["d1"]}, {"id": "d1", "neighbors": []}],
        "volunteers": [
            {"id": "v0", "district": "d1", "skills": [civility], "availability": both, "max_hours": 2},
            {"id": "v1", "district": "d1", "skills": ["life_care"], "availability": both, "max_hours": 4},
            {"id": "v2", "district": "d0", "skills": [civility], "availability": both, "max_hours": 3},
            {"id": "v3", "district": "d0", "skills": [civility], "availability": both, "max_hours": 3},
        ],
        "beneficiaries": [],
        "sites": [{"id": "s0", "name": "广场0", "district": "d1"}],
        "needs": [
            {"id": "n0", "service": civility, "hours": 2, "sessions": 1, "windows": ["mon-am"], "site": "s0"},
            {"id": "n1", "service": civility, "hours": 2, "sessions": 1, "windows": both, "site": "s0"},
            {"id": "n2", "service": civility, "hours": 2, "sessions": 1, "windows": ["mon-pm"], "site": "s0"},
        ],
    }
    doc["volunteers"][2]["max_beneficiaries"] = 2
    doc["volunteers"][3]["certifications"] = aid
    doc["needs"][0].update(priority=5, lead={"certifications": ["first_aid"]})
    doc["needs"][1]["priority"] = 2
    doc["needs"][2].update(priority=1, volunteers={"min": 3, "max": 3})
    inst = _inst(doc)
    _items_only(monkeypatch)
    assert _solved_optimally(inst)
    original = posts_colgen.Node.banned

    def keeps_off(self: posts_colgen.Node, m: posts_colgen.PostsMaster) -> dict[int, frozenset[int]]:
        return original(dataclasses.replace(self, off=frozenset()), m)

    monkeypatch.setattr(posts_colgen.Node, "banned", keeps_off)
    assert not _solved_optimally(inst)


def _two_together() -> PostInstance:
    """A post for two volunteers together (min 2), and a one-person need competing for one of them."""
    problem = problem2(
        [vol("v1"), vol("v2"), vol("v3", availability=["sat-am"])],
        [
            post("n1", 2, 2, hours=3),
            post("n2", 1, 1, site="s2", windows=["sat-am"], priority=1),
        ],
    )
    return PostInstance.of(problem)


def test_a_small_post_is_proved() -> None:
    inst = _two_together()
    assert brute_force_posts(inst.problem).coverage == 3 * 3 * 2 + 1 * 2
    assert _solved_optimally(inst)


def test_a_pricing_that_misses_memberships_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutation check: pricing that never offers a post's membership gives a bound below the optimum."""
    original = posts_colgen.Pricer._search

    def no_posts(
        self: posts_colgen.Pricer, pi: np.ndarray, deadline: Deadline, banned: frozenset[int]
    ) -> object:
        posts = frozenset(i for i, it in enumerate(self.items) if it.option >= 0)
        return original(self, pi, deadline, banned | posts)

    inst = _two_together()
    master = compile_master(inst)
    assert master is not None
    optimum = brute_force_posts(inst.problem).coverage * inst.scale
    zero = np.zeros(master.n_coupling)
    assert math.floor(_lagrangian(inst, zero)) // master.weight >= optimum
    monkeypatch.setattr(posts_colgen.Pricer, "_search", no_posts)
    assert math.floor(_lagrangian(inst, zero)) // master.weight < optimum


def test_a_pricing_that_ignores_hours_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutation check: a volunteer's best set over his hours makes an invalid plan or a wrong bound."""
    problem = problem2(
        [vol("v1", max_hours=3), vol("v2", max_hours=3)],
        [post("n1", 2, 2, hours=2), post("n2", 1, 1, site="s2", windows=["sat-pm"], hours=2, priority=5)],
    )
    inst = PostInstance.of(problem)
    assert _solved_optimally(inst)
    for v in range(len(inst.max_hours)):
        inst.max_hours[v] = 100  # the pricing (and the plan) now ignore the hours
    with pytest.raises(AssertionError):
        _solved_optimally(inst)


def test_a_small_station_is_proved_by_column_generation_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """``solve_any`` routes a posts problem to column generation, which proves it: no fallback."""

    def no_fallback(*args: object, **kwargs: object) -> object:
        raise AssertionError("the compact model was called")

    monkeypatch.setattr(solve_module, "solve_posts", no_fallback)
    problem = generate_city_with_posts(40, 30, seed=3, time_limit_s=30)
    result = solve_any(problem, 30.0)  # time enough for the fallback, were it called
    assert result.route == "posts"
    assert result.plan.status == "optimal"
    assert result.coverage == result.coverage_bound
    assert validate_plan2(problem, result.plan) == []  # type: ignore[arg-type]


def test_a_lower_proved_bound_tightens_the_fallback() -> None:
    problem = problem2([vol("v1"), vol("v2")], [post("n1", 2, 2)])
    proved = prove_posts(problem, 5.0)
    assert proved is not None and proved.plan.status == "optimal"
    loose = dataclasses.replace(
        proved,
        coverage_bound=proved.coverage_bound + 5,
        plan=proved.plan.model_copy(update={"status": "feasible"}),
    )
    tightened = tighten(loose, proved)
    assert tightened.coverage_bound == proved.coverage
    assert tightened.plan.status == "optimal"
    assert tightened.plan.objective.coverage_bound == proved.plan.objective.coverage_bound
    assert tighten(proved, loose) is proved  # a looser bound changes nothing


@pytest.mark.parametrize("seed", [1, 4])
def test_the_compact_model_proves_the_same_optimum(seed: int) -> None:
    """On generated 30-volunteer cities both methods prove their plans: the optima agree."""
    problem = generate_city_with_posts(30, 22, seed=seed, time_limit_s=30)
    proved = prove_posts(problem, 20.0)
    assert proved is not None and proved.plan.status == "optimal"
    compact = solve_posts(problem, 30.0)
    assert compact.plan.status == "optimal"
    assert proved.coverage == compact.coverage
