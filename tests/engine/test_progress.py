"""Progress while the engine solves (``matcher/progress.py``, ``solve``/``resolve``'s ``on_progress``).

The reports are monotone (coverage never falls, the bound never rises), start after the
greedy plan and end with the figures returned; a callback that raises is dropped without
changing the plan; without a callback nothing changes.  Small problems and short limits.
"""

from __future__ import annotations

import itertools
import logging
import time
from fractions import Fraction
from typing import Any

import pytest
from helpers import SPEC_DIR, Doc, load_example_doc, to_problem
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import brute_force, mip_optimum, small_problem, tiny_problem
from strategies import SETTINGS, TIME_LIMIT, problems

from matcher.format.io import load_changes
from matcher.format.schema import Plan, Problem
from matcher.format.validate import validate_plan
from matcher.params import SolveParams
from matcher.progress import STAGES, Progress, Reporter
from matcher.resolve import resolve
from matcher.search import colgen, proof
from matcher.solve import solve
from matcher.synth.generate import generate_changes, generate_city


def check_reports(calls: list[Progress], coverage: Fraction, bound: Fraction, status: str) -> None:
    """The contract of the reports of one call that returned ``coverage``, ``bound``, ``status``."""
    assert len(calls) >= 2, calls
    assert calls[0].stage == "start"
    assert calls[-1].stage == "done"
    assert [c.stage for c in calls].count("done") == 1
    for before, after in itertools.pairwise(calls):
        assert after.elapsed_s >= before.elapsed_s
        assert after.coverage >= before.coverage, (before, after)
        if before.bound is not None:
            assert after.bound is not None and after.bound <= before.bound, (before, after)
    for c in calls:
        assert c.stage in STAGES, c.stage  # every stage is named (web.labels.STAGES)
        assert c.demand == calls[0].demand
        assert Fraction(0) <= c.coverage <= c.demand
        if c.bound is not None:
            assert c.coverage <= c.bound
            assert 0.0 <= c.coverage_share <= (c.bound_share or 0.0) <= 1.0
        assert c.proved == (c.bound is not None and c.coverage == c.bound)
    last = calls[-1]
    assert last.coverage == coverage
    assert last.bound == bound
    assert last.proved == (status == "optimal")


def assignments(plan: Plan) -> list[tuple[str, str, tuple[str, ...]]]:
    """A plan's assignments, comparable across runs."""
    return sorted((a.need, a.volunteer, tuple(a.slots)) for a in plan.assignments)


@pytest.mark.parametrize(
    "problem",
    [
        pytest.param(to_problem(load_example_doc()), id="example"),
        pytest.param(generate_city(60, 45, seed=1), id="station-60"),
        pytest.param(generate_city(120, 90, seed=2), id="station-120"),
    ],
)
def test_solve_reports_are_monotone_and_end_with_the_result(problem: Problem) -> None:
    """First report after greedy, last with the returned coverage and bound, monotone between."""
    calls: list[Progress] = []
    result = solve(problem, 5, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    assert calls[0].demand == sum(
        (
            next(b.priority for b in problem.beneficiaries if b.id == n.beneficiary)
            * Fraction(n.hours)
            * n.sessions
            for n in problem.needs
        ),
        Fraction(0),
    )


def test_city_search_reports_as_it_goes() -> None:
    """On the city path (forced here by a low ``full_model_max_pairs``) the neighbourhood search
    reports its gains while it runs, not only when it ends."""
    problem = generate_city(60, 45, seed=3)
    calls: list[Progress] = []
    result = solve(problem, 1.5, params=SolveParams(full_model_max_pairs=10), on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    assert any(c.stage == "city_search" for c in calls)


def test_callback_changes_nothing() -> None:
    """With a callback the plan and figures are those of the solve without (a deterministic
    solve, whose plan depends on the problem only)."""
    problem = generate_city(60, 45, seed=1)
    plain = solve(problem, 10, deterministic=True)
    calls: list[Progress] = []
    watched = solve(problem, 10, deterministic=True, on_progress=calls.append)
    assert plain.status == "optimal"
    assert assignments(watched.plan) == assignments(plain.plan)
    assert (watched.coverage, watched.coverage_bound, watched.continuity) == (
        plain.coverage,
        plain.coverage_bound,
        plain.continuity,
    )
    assert calls


def test_callback_keeps_the_figures_of_a_timed_solve() -> None:
    """On the default (timed) path the figures are the same with a callback: coverage and bound
    (its plan may differ where a search is cut by the clock, with or without a callback)."""
    problem = generate_city(120, 90, seed=2)
    plain = solve(problem, 10, refine=False)
    watched = solve(problem, 10, refine=False, on_progress=lambda _: None)
    assert plain.status == watched.status == "optimal"
    assert (watched.coverage, watched.coverage_bound) == (plain.coverage, plain.coverage_bound)


def test_a_raising_callback_is_dropped_and_the_plan_stands(caplog: pytest.LogCaptureFixture) -> None:
    """A callback that raises is called once, logged, and the plan is the one without it."""
    problem = generate_city(60, 45, seed=1)
    plain = solve(problem, 10, deterministic=True)
    seen: list[Progress] = []

    def broken(progress: Progress) -> None:
        seen.append(progress)
        raise RuntimeError("the display fell over")

    with caplog.at_level(logging.WARNING, logger="matcher.progress"):
        result = solve(problem, 10, deterministic=True, on_progress=broken)
    assert len(seen) == 1
    assert assignments(result.plan) == assignments(plain.plan)
    assert (result.coverage, result.coverage_bound, result.status) == (
        plain.coverage,
        plain.coverage_bound,
        plain.status,
    )
    assert "on_progress raised" in caplog.text
    assert "the display fell over" in caplog.text


@pytest.mark.parametrize("columns", [True, False])
def test_highs_proof_is_given_a_heartbeat(monkeypatch: pytest.MonkeyPatch, columns: bool) -> None:
    """HiGHS proving (here without columns, or with the columns' plan and bound taken away)
    gets the heartbeat with a callback, none without; its reports keep the contract."""
    ticks: list[object] = []
    prove_with_highs = proof.prove_with_highs

    def spied(*args: Any) -> object:
        tick = args[6] if len(args) > 6 else None
        ticks.append(tick)
        if callable(tick):
            tick()  # harmless at any time
        return prove_with_highs(*args)

    def planless(*args: Any, **kwargs: Any) -> colgen.ColgenResult:
        result = prove(*args, **kwargs)
        result.found, result.primary, result.bound = None, -1, None
        return result

    prove = colgen.prove
    monkeypatch.setattr(proof, "prove_with_highs", spied)
    monkeypatch.setattr(colgen, "prove", planless)
    monkeypatch.setattr(colgen.ColgenResult, "coverage_master", lambda *args: None)
    problem = generate_city(60, 45, seed=4)
    params = SolveParams(columns=columns)
    plain = solve(problem, 10, params=params)
    assert ticks == [None]
    calls: list[Progress] = []
    result = solve(problem, 10, params=params, on_progress=calls.append)
    assert len(ticks) == 2 and callable(ticks[1])
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    assert result.coverage == plain.coverage and result.status == plain.status == "optimal"


@pytest.mark.parametrize("moves", [0, 2])
def test_resolve_reports_the_whole_resolve(moves: int) -> None:
    """A re-solve's reports count the kept assignments and end with the returned figures; with
    moves, the pass without them reports no bound (it bounds only the plans without moves)."""
    problem = to_problem(load_example_doc())
    plan = solve(problem, 5).plan
    changes = load_changes(SPEC_DIR / "example-changes.json")
    calls: list[Progress] = []
    result = resolve(problem, plan, changes, 5, allow_moves=moves, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    if result.released:
        assert calls[0].bound is None
    else:
        assert all(c.bound is not None for c in calls)


def test_resolve_with_moves_on_a_station() -> None:
    """Both passes of a re-solve with moves, on a generated station: monotone across them."""
    problem = generate_city(60, 45, seed=1)
    plan = solve(problem, 5, deterministic=True).plan
    changes = generate_changes(problem, withdraw=0.05, seed=2)
    calls: list[Progress] = []
    result = resolve(problem, plan, changes, 5, allow_moves=3, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)


@settings(SETTINGS, max_examples=20)
@given(problems())
def test_reports_hold_on_random_problems(doc: Doc) -> None:
    """On random small problems too: monotone, first and last present, last = returned."""
    calls: list[Progress] = []
    result = solve(to_problem(doc), TIME_LIMIT, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)


# ---------------------------------------------------------------------------- Reporter


def reporter(calls: list[Progress], interval_s: float = 60.0) -> Reporter:
    """A reporter in half units (as an instance with hours in halves would have)."""
    return Reporter(calls.append, lambda units: Fraction(units, 2), 100, started=0.0, interval_s=interval_s)


def in_units(calls: list[Progress]) -> list[tuple[str, int, int | None, bool]]:
    """(stage, coverage, bound, proved) of each call, back in the half units of :func:`reporter`."""
    return [
        (c.stage, int(2 * c.coverage), None if c.bound is None else int(2 * c.bound), c.proved) for c in calls
    ]


def test_reporter_throttles_what_is_not_new() -> None:
    """Unchanged figures wait for the interval; a change, or ``force``, is reported at once."""
    calls: list[Progress] = []
    r = reporter(calls)
    r.update("start", 10, 80, force=True)
    r.update("columns", 10, 80)  # nothing new, within the interval
    r.update("columns", 12, 80)  # better incumbent
    r.update("columns", 12, 70)  # better bound
    r.update("prove", 12, 70, force=True)
    assert in_units(calls) == [
        ("start", 10, 80, False),
        ("columns", 12, 80, False),
        ("columns", 12, 70, False),
        ("prove", 12, 70, False),
    ]
    assert calls[0].demand == 50
    assert calls[0].coverage_share == pytest.approx(0.1)
    assert calls[-1].gap == pytest.approx(29 / 35)


def test_reporter_after_the_interval_reports_again() -> None:
    """With a zero interval, every check-in is reported."""
    calls: list[Progress] = []
    r = reporter(calls, interval_s=0.0)
    assert r.due()
    r.update("city_search", 10, 80)
    r.update("city_search", 10, 80)
    assert len(calls) == 2
    assert reporter(calls).due()  # never called yet
    slow = reporter(calls)
    slow.update("start", 1, 2, force=True)
    assert not slow.due()


def test_reporter_is_monotone_and_proves() -> None:
    """A lower coverage or a higher bound than reported before is not reported; a bound never
    falls below the coverage, and meeting it is ``proved``."""
    calls: list[Progress] = []
    r = reporter(calls)
    r.update("a", 10, 80)
    r.update("b", 8, 90)
    r.update("c", 20, None)
    r.update("d", 30, 20)
    assert in_units(calls) == [
        ("a", 10, 80, False),  # "b" reported nothing new once held to what "a" reported
        ("c", 20, 80, False),
        ("d", 30, 30, True),
    ]


def test_reporter_offset_and_unbounded_pass() -> None:
    """A re-solve's pass: the fixed assignments' units are added; an unbounded pass reports none."""
    calls: list[Progress] = []
    r = reporter(calls)
    r.offset_units, r.bounded = 4, False
    r.update("start", 10, 30, force=True)
    r.offset_units, r.bounded = 2, True
    r.update("start", 12, 40, force=True)
    assert in_units(calls) == [("start", 14, None, False), ("start", 14, 42, False)]


def test_reporter_drops_a_raising_callback(caplog: pytest.LogCaptureFixture) -> None:
    """The first exception is logged and the callback is not called again."""
    seen: list[Progress] = []

    def broken(progress: Progress) -> None:
        seen.append(progress)
        raise ValueError("boom")

    r = Reporter(broken, Fraction, 10, started=0.0)
    with caplog.at_level(logging.WARNING, logger="matcher.progress"):
        r.update("start", 1, 5, force=True)
        r.update("done", 2, 5, force=True)
    assert len(seen) == 1
    assert not r.active
    assert "boom" in caplog.text


# ------------------------------------------------------------- inside the long stages


def planless_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Column generation without its plan (its bound kept): the gap closers run, branch-and-price
    among them, from the greedy plan."""
    prove = colgen.prove

    def planless(*args: Any, **kwargs: Any) -> colgen.ColgenResult:
        result = prove(*args, **kwargs)
        result.found, result.primary = None, -1
        return result

    monkeypatch.setattr(colgen, "prove", planless)


@pytest.mark.parametrize("path", ["station", "gap-closers", "city"])
@pytest.mark.parametrize("seed", range(8))
def test_every_report_brackets_the_exact_optimum(
    seed: int, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On small problems, whichever path solves them: every coverage reported is at most the
    optimum (the MIP oracle's) and every bound at least it, and the reports keep the contract."""
    problem = small_problem(seed)
    optimum = mip_optimum(problem).coverage
    params = SolveParams()
    if path == "gap-closers":
        planless_columns(monkeypatch)
    elif path == "city":
        params = SolveParams(full_model_max_pairs=10)
    calls: list[Progress] = []
    result = solve(problem, 1.5 if path == "city" else 5, params=params, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    assert validate_plan(problem, result.plan) == []
    for c in calls:
        assert c.coverage <= optimum, c
        assert c.bound is None or c.bound >= optimum, c


@settings(SETTINGS, max_examples=25)
@given(seed=st.integers(0, 10**6), gap_closers=st.booleans())
def test_every_report_brackets_the_brute_force_optimum(seed: int, gap_closers: bool) -> None:
    """On random tiny problems (every plan enumerated): every coverage reported is at most the
    optimum, every bound at least it, on the station path or the gap closers'."""
    problem = tiny_problem(seed)
    optimum = brute_force(problem).coverage
    calls: list[Progress] = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        if gap_closers:
            planless_columns(monkeypatch)
        result = solve(problem, TIME_LIMIT, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    assert result.coverage == optimum  # tiny: always proved
    for c in calls:
        assert c.coverage <= optimum <= (c.bound if c.bound is not None else optimum), c


def test_gap_closers_report_their_rounds_and_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """From the greedy plan (the columns' plan taken away), the coverage-only master's rounds and
    branch-and-price's nodes report as they go."""
    planless_columns(monkeypatch)
    problem = generate_city(120, 90, seed=2)
    calls: list[Progress] = []
    result = solve(problem, 10, on_progress=calls.append)
    check_reports(calls, result.coverage, result.coverage_bound, result.status)
    stages = [c.stage for c in calls]
    assert "branch" in stages
    rounds = stages[: stages.index("branch")]
    assert rounds.count("columns") > 2
    assert all(c.coverage == calls[0].coverage for c in calls[: len(rounds)])  # no plan taken yet
    branched = [c for c in calls if c.stage == "branch"]
    assert branched[-1].coverage > calls[0].coverage  # its plan, as soon as found


def test_column_generation_reports_its_bound_round_by_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a station, the columns' rounds report: several times during the stage, the bound
    below the reachable one before column generation returns."""
    returned: list[float] = []
    prove = colgen.prove

    def timed(*args: Any, **kwargs: Any) -> colgen.ColgenResult:
        result = prove(*args, **kwargs)
        returned.append(time.perf_counter())
        return result

    monkeypatch.setattr(colgen, "prove", timed)
    problem = generate_city(300, 225, seed=4)
    calls: list[tuple[float, Progress]] = []
    result = solve(problem, 10, on_progress=lambda p: calls.append((time.perf_counter(), p)))
    check_reports([p for _, p in calls], result.coverage, result.coverage_bound, result.status)
    first = returned[0]  # the columns' own run (the coverage-only master may follow)
    during = [p for at, p in calls if at < first and p.stage == "columns"]
    assert len(during) > 3, [(p.elapsed_s, p.stage, p.bound) for _, p in calls]
    reachable = calls[0][1].bound
    assert reachable is not None
    assert any(p.bound is not None and p.bound < reachable for p in during)


@pytest.mark.parametrize(
    "problem",
    [
        pytest.param(generate_city(120, 90, seed=2), id="station-120"),
        pytest.param(generate_city(300, 225, seed=4), id="station-300"),
    ],
)
def test_callback_changes_nothing_on_larger_stations(problem: Problem) -> None:
    """As :func:`test_callback_changes_nothing`, where column generation runs several rounds."""
    plain = solve(problem, 20, deterministic=True)
    calls: list[Progress] = []
    watched = solve(problem, 20, deterministic=True, on_progress=calls.append)
    assert assignments(watched.plan) == assignments(plain.plan)
    assert (watched.coverage, watched.coverage_bound, watched.continuity, watched.status) == (
        plain.coverage,
        plain.coverage_bound,
        plain.continuity,
        plain.status,
    )
    assert [c.stage for c in calls].count("columns") > 1
