"""Progress of a format-2 solve with posts (:func:`matcher.solve.solve_any`'s posts route,
:mod:`matcher.search.posts_progress`): reported while it solves, monotone, ending on the plan's figures."""

from __future__ import annotations

import itertools
from fractions import Fraction

from matcher.format.evaluate import hours_fraction
from matcher.format.schema import Plan2
from matcher.progress import Progress
from matcher.solve import solve_any
from matcher.synth.generate import generate_city_with_posts


def test_a_posts_solve_reports_its_start_each_pass_and_its_end() -> None:
    problem = generate_city_with_posts(60, 45, 2, seed=5, posts=0.15)
    assert problem.has_posts and not problem.is_plain
    reports: list[Progress] = []
    result = solve_any(problem, 20.0, workers=1, on_progress=reports.append)
    plan = result.plan
    assert isinstance(plan, Plan2)
    stages = [r.stage for r in reports]
    assert stages[0] == "start" and stages[-1] == "done" and stages.count("done") == 1
    assert "columns" in stages or "prove" in stages  # a pass after the start reported its bound
    # The start's reports carry no bound; the later passes' do.
    assert all(r.bound is None for r in reports if r.stage == "start")
    # Monotone: coverage never falls, a bound once known never rises.
    for before, after in itertools.pairwise(reports):
        assert after.coverage >= before.coverage and after.elapsed_s >= before.elapsed_s
        if before.bound is not None:
            assert after.bound is not None and after.bound <= before.bound
    last = reports[-1]
    assert last.coverage == result.coverage == hours_fraction(plan.objective.coverage)
    assert last.bound == result.coverage_bound
    assert last.proved == (plan.status == "optimal")
    # Demand: every need at its most volunteers; the shares are of it.
    demand = sum(
        (
            problem.priority_of(n) * hours_fraction(n.hours) * n.sessions * n.volunteers.max
            for n in problem.needs
        ),
        Fraction(0),
    )
    assert last.demand == demand and 0 < last.coverage_share <= 1


def test_without_a_callback_nothing_changes() -> None:
    problem = generate_city_with_posts(40, 30, 2, seed=2, posts=0.15)
    quiet = solve_any(problem, 20.0, workers=1)
    heard: list[Progress] = []
    loud = solve_any(problem, 20.0, workers=1, on_progress=heard.append)
    assert heard and quiet.coverage == loud.coverage
