"""``simulate()``: the Monte Carlo runs of a scenario, aggregated into a report.

The report (a JSON-ready dict, see :func:`simulate`) holds, for the whole week and per category and
district, the mean, p5, p50 and p95 over the runs of the coverage (priority-weighted hours), the
coverage share and the unmet hours, next to the unperturbed base; the most frequent unmet reasons;
and the "recruit first" advice: for the (skill, district) pairs that leave the most
priority-weighted hours unmet, the mean coverage that ``advice.recruits`` recruits would add, in
paired runs (the same draws with and without them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from matcher.format.evaluate import Cell
from matcher.format.schema import CATEGORIES, AnyProblem
from scenarios.model import Scenario, base_problem, check_references, load_scenario
from scenarios.perturbations import PROFILES, Closure, Recruitment, neighbours
from scenarios.perturbations.recruitment import Profile
from scenarios.run import Gap, Key, PostCounts, RunResult, Task, executor, run_all

REPORT_FORMAT = 1
ADVICE_PROFILES: tuple[Profile, ...] = ("worker", "retiree", "student")
"""Availability profiles the advice may give its recruits."""
TOP_REASONS = 6


class Progress(Protocol):
    """Receives progress: a phase starts with a number of solves, then each solve finishes."""

    def start(self, description: str, total: int) -> None:
        """A new phase of ``total`` solves."""
        ...

    def advance(self) -> None:
        """One solve finished."""
        ...


@dataclass
class Simulation:
    """A finished simulation: the report and the raw runs behind it."""

    scenario: Scenario
    base_problem: AnyProblem
    base: RunResult
    runs: list[RunResult]
    report: dict[str, Any]
    seconds: float


def _f(x: Fraction | float) -> float:
    return round(float(x), 3)


def stats(values: Sequence[float], base: float | None = None) -> dict[str, float | None]:
    """Mean and percentiles of per-run values (in run order, so the mean is reproducible).

    Parameters
    ----------
    values
        One value per run.
    base
        The unperturbed base's value, reported beside them.

    Returns
    -------
    dict
        ``mean``, ``p5``, ``p50``, ``p95`` and ``base``, rounded to 3 decimals.
    """
    if not values:
        return {"mean": None, "p5": None, "p50": None, "p95": None, "base": base}
    arr = np.asarray(values, dtype=np.float64)
    p5, p50, p95 = np.percentile(arr, [5, 50, 95])
    out: dict[str, float | None] = {
        "mean": round(math.fsum(values) / len(values), 3),
        "p5": round(float(p5), 3),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "base": None if base is None else round(base, 3),
    }
    return out


def _pct(cell: Cell) -> float | None:
    return None if not cell.demand else float(100 * cell.covered / cell.demand)


def _cells(
    runs: Sequence[RunResult], base: RunResult, axis: str, keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per key of an axis (category or district): stats of coverage, coverage share, unmet hours."""
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        cells = [getattr(r, axis).get(key, Cell()) for r in runs]
        b = getattr(base, axis).get(key, Cell())
        pcts = [p for p in (_pct(c) for c in cells) if p is not None]
        out[key] = {
            "coverage": stats([float(c.covered) for c in cells], float(b.covered)),
            "demand": stats([float(c.demand) for c in cells], float(b.demand)),
            "coverage_pct": stats(pcts, _pct(b)),
            "unmet_hours": stats([float(c.unmet_hours) for c in cells], float(b.unmet_hours)),
        }
    return out


def _total(r: RunResult) -> Cell:
    return Cell(
        covered=r.coverage,
        demand=r.demand,
        unmet_hours=sum((c.unmet_hours for c in r.by_category.values()), Fraction(0)),
    )


def _reasons(runs: Sequence[RunResult], base: RunResult) -> list[dict[str, Any]]:
    totals: dict[str, int] = {}
    for r in runs:
        for code, n in r.reasons.items():
            totals[code] = totals.get(code, 0) + n
    unmet = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return [
        {
            "reason": code,
            "needs_mean": round(n / len(runs), 3),
            "needs_base": base.reasons.get(code, 0),
            "share": round(n / unmet, 3) if unmet else 0.0,
        }
        for code, n in ranked
    ]


def candidates(scenario: Scenario, problem: AnyProblem, runs: Sequence[RunResult]) -> list[Recruitment]:
    """The recruitments the advice tries: for the (skill, district) gaps with most unmet value
    (with posts: the gaps of posts first, by their posts' unmet value).

    Each candidate recruits ``advice.recruits`` volunteers with the gap's skill in its district
    (or, if that district's station is closed in the scenario, in its first open neighbour),
    certified for what at least half the unmet value asks, with the availability profile that
    best fits the unmet needs' windows.

    Parameters
    ----------
    scenario
        The scenario.
    problem
        Its base problem (for the district graph and slots).
    runs
        The scenario's runs.

    Returns
    -------
    list[Recruitment]
        At most ``advice.candidates`` recruitments, largest gap first.
    """
    gaps: dict[Key, Gap] = {}
    for r in runs:
        for key, g in r.gaps.items():
            total = gaps.setdefault(key, Gap())
            total.weighted += g.weighted
            total.posts += g.posts
            for w, x in sorted(g.windows.items()):
                total.windows[w] = total.windows.get(w, 0.0) + x
            for k, x in sorted(g.requires.items()):
                total.requires[k] = total.requires.get(k, 0.0) + x
            for k, x in sorted(g.leads.items()):
                total.leads[k] = total.leads.get(k, 0.0) + x
    closed = {p.district for p in scenario.perturbations if isinstance(p, Closure)}
    slots = list(problem.slot_ids)
    out: list[Recruitment] = []
    seen: set[Key] = set()
    # Posts' gaps first (an event week asks whom to recruit for its posts; a format-1 week has
    # none, so its order is the unmet value's, as it always was).
    ranked = sorted(gaps.items(), key=lambda kv: (-kv[1].posts, -kv[1].weighted, kv[0]))
    for (service, district), gap in ranked:
        if len(out) >= scenario.advice.candidates:
            break
        where = district
        if district in closed:
            open_near = [d for d in neighbours(problem, district) if d not in closed]
            if problem.reach == "same" or not open_near:
                continue
            where = open_near[0]
        if (service, where) in seen:
            continue
        seen.add((service, where))
        value = float(gap.weighted)
        certs = {k for k, x in gap.requires.items() if x >= 0.5 * value}
        # A post needs one lead among its volunteers: recruits holding the lead's certificate can
        # lead and staff alike, so they hold it when a quarter of the gap's value asks for one.
        certs |= {k for k, x in gap.leads.items() if x >= 0.25 * value}
        window = np.array([gap.windows.get(s, 0.0) for s in slots])
        profile: Profile = "any"
        if len(slots) == len(PROFILES["worker"]) and window.any():
            fit = {
                name: float(window @ PROFILES[name]) / float(np.linalg.norm(PROFILES[name]))
                for name in ADVICE_PROFILES
            }
            profile = max(ADVICE_PROFILES, key=lambda name: (fit[name], name))
        out.append(
            Recruitment(
                kind="recruitment",
                count=scenario.advice.recruits,
                skills=[service],
                district=where,
                certifications=sorted(certs),
                availability=profile,
                id_prefix="advice",
            )
        )
    return out


def simulate(
    scenario: Scenario,
    root: Path,
    *,
    runs: int | None = None,
    workers: int = 1,
    cluster: str | None = None,
    progress: Progress | None = None,
    scenario_file: str | None = None,
    problem: AnyProblem | None = None,
) -> Simulation:
    """Run a scenario's Monte Carlo solves and aggregate them.

    Parameters
    ----------
    scenario
        The scenario.
    root
        Directory its relative paths start from.
    runs
        Override of ``scenario.runs``.
    workers
        Local worker processes (1: in this process).
    cluster
        Address of a Dask scheduler; runs go there instead of local processes.
    progress
        Receives progress (e.g. a progress bar).
    scenario_file
        The file the scenario came from, recorded in the report.
    problem
        The base week to start from instead of the scenario's ``base`` (a station's own week,
        for the web app's 情景模拟); its district references are checked.

    Returns
    -------
    Simulation
        The report and the runs; the report is the same for the same scenario and seed,
        whatever ``workers`` or ``cluster`` (see :mod:`scenarios.run` for the caveat).
    """
    import time

    started = time.perf_counter()
    if runs is not None:
        scenario = scenario.model_copy(update={"runs": runs})
    if scenario.advice.runs > scenario.runs:  # the advice pairs its runs with the scenario's first ones
        advice = scenario.advice.model_copy(update={"runs": scenario.runs})
        scenario = scenario.model_copy(update={"advice": advice})
    if problem is None:
        problem = base_problem(scenario, root)
    else:
        check_references(scenario, problem)
    perturbations = tuple(scenario.perturbations)
    tasks = [Task(-1, (), scenario.seed, scenario.time_limit, "base")]
    tasks += [Task(i, perturbations, scenario.seed, scenario.time_limit, "run") for i in range(scenario.runs)]

    def done(_task: Task, _result: RunResult) -> None:
        if progress is not None:
            progress.advance()

    with executor(problem, workers, cluster) as ex:
        if progress is not None:
            progress.start(f"{scenario.name}: {scenario.runs} runs", len(tasks))
        results = run_all(ex, tasks, done)
        base, results = results[0], results[1:]
        tried = candidates(scenario, problem, results) if scenario.advice.candidates else []
        advice_tasks = [
            Task(i, (*perturbations, c), scenario.seed, scenario.time_limit, f"advice:{k}")
            for k, c in enumerate(tried)
            for i in range(scenario.advice.runs)
        ]
        if advice_tasks and progress is not None:
            progress.start(f"{scenario.name}: recruit-first advice", len(advice_tasks))
        advice_results = run_all(ex, advice_tasks, done) if advice_tasks else []
    report = build_report(scenario, problem, base, results, tried, advice_results, scenario_file)
    return Simulation(scenario, problem, base, results, report, time.perf_counter() - started)


def build_report(
    scenario: Scenario,
    problem: AnyProblem,
    base: RunResult,
    runs: Sequence[RunResult],
    tried: Sequence[Recruitment],
    advice_runs: Sequence[RunResult],
    scenario_file: str | None = None,
) -> dict[str, Any]:
    """Aggregate runs into the report (JSON-ready, deterministic: runs in index order).

    Parameters
    ----------
    scenario
        The scenario.
    problem
        Its base problem.
    base
        The unperturbed base's run.
    runs
        The scenario's runs, in index order.
    tried
        The advice's candidate recruitments.
    advice_runs
        Their runs: ``advice.runs`` per candidate, in candidate order.
    scenario_file
        The scenario's file name.

    Returns
    -------
    dict
        The report written to ``report.json``.
    """
    categories = [c for c in CATEGORIES if any(c in r.by_category for r in [base, *runs])]
    districts = [d.id for d in problem.districts]
    totals = [_total(r) for r in runs]
    base_total = _total(base)
    recruit: list[dict[str, Any]] = []
    n = scenario.advice.runs
    for k, c in enumerate(tried):
        mine = advice_runs[k * n : (k + 1) * n]
        gains = [float(a.coverage - runs[a.run].coverage) for a in mine]
        demand = math.fsum(float(runs[a.run].demand) for a in mine) / len(mine)
        gain = math.fsum(gains) / len(gains)
        recruit.append(
            {
                "skill": c.skills[0],
                "district": c.district,
                "recruits": c.count,
                "certifications": list(c.certifications),
                "availability": c.availability,
                "coverage_gain": round(gain, 3),
                "coverage_gain_pct_points": round(100 * gain / demand, 3) if demand else 0.0,
                "gain_per_recruit": round(gain / c.count, 3),
                "runs": len(mine),
                "settled": all(a.settled for a in mine),
            }
        )
    recruit.sort(key=lambda x: (-x["coverage_gain"], x["skill"], x["district"]))
    unsettled = [r.run for r in runs if not r.settled]
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "scenario": {
            "name": scenario.name,
            "description": scenario.description.strip(),
            "file": scenario_file,
            "runs": scenario.runs,
            "seed": scenario.seed,
            "time_limit": scenario.time_limit,
            "base": scenario.base.model_dump(mode="json", exclude_none=True),
            "perturbations": [p.model_dump(mode="json") for p in scenario.perturbations],
        },
        "base": {
            "status": base.status,
            "settled": base.settled,
            "volunteers": base.volunteers,
            "beneficiaries": len(problem.beneficiaries),
            "needs": len(problem.needs),
            "districts": len(districts),
        },
        "runs": {
            "count": len(runs),
            "optimal": sum(r.status == "optimal" for r in runs),
            "settled": len(runs) - len(unsettled),
            "unsettled": unsettled,
        },
        "total": {
            "coverage": stats([float(t.covered) for t in totals], float(base_total.covered)),
            "demand": stats([float(t.demand) for t in totals], float(base_total.demand)),
            "coverage_pct": stats([p for p in (_pct(t) for t in totals) if p is not None], _pct(base_total)),
            "unmet_hours": stats([float(t.unmet_hours) for t in totals], float(base_total.unmet_hours)),
            "volunteers": stats([float(r.volunteers) for r in runs], float(base.volunteers)),
        },
        "by_category": _cells(runs, base, "by_category", categories),
        "by_district": _cells(runs, base, "by_district", districts),
        "unmet_reasons": _reasons(runs, base),
        "recruit_first": recruit,
        "per_run": [
            {
                "run": r.run,
                "status": r.status,
                "coverage": _f(r.coverage),
                "coverage_pct": round(p, 3) if (p := _pct(t)) is not None else None,
                "unmet_hours": _f(t.unmet_hours),
            }
            for r, t in zip(runs, totals, strict=True)
        ],
    }
    if any(r.posts is not None for r in [base, *runs]):
        report["posts"] = _posts(runs, base)
        report["base"]["sites"] = len(getattr(problem, "sites", []))
        for row, r in zip(report["per_run"], runs, strict=True):
            row["posts_run"] = r.posts.run if r.posts is not None else 0
    return report


def _posts(runs: Sequence[RunResult], base: RunResult) -> dict[str, Any]:
    """The posts over the runs: held, run, not run, places open, volunteers on them (format 2 only)."""
    none = PostCounts(0, 0, 0, 0, 0)
    counts = [r.posts or none for r in runs]
    b = base.posts or none
    out: dict[str, Any] = {
        name: stats([float(getattr(c, name)) for c in counts], float(getattr(b, name)))
        for name in ("posts", "run", "not_run", "places_open", "volunteers")
    }
    totals: dict[str, int] = {}
    for c in counts:
        for code, n in c.reasons.items():
            totals[code] = totals.get(code, 0) + n
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    out["unmet_reasons"] = [
        {"reason": code, "posts_mean": round(n / len(runs), 3), "posts_base": b.reasons.get(code, 0)}
        for code, n in ranked
    ]
    return out


def simulate_file(
    path: str | Path,
    *,
    runs: int | None = None,
    workers: int = 1,
    cluster: str | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Load a scenario file and simulate it (see :func:`simulate`).

    Parameters
    ----------
    path
        The scenario YAML.
    runs, workers, cluster, progress
        As for :func:`simulate`.

    Returns
    -------
    Simulation
        The finished simulation.
    """
    scenario, root = load_scenario(path)
    return simulate(
        scenario,
        root,
        runs=runs,
        workers=workers,
        cluster=cluster,
        progress=progress,
        scenario_file=str(path),
    )


__all__ = ["Progress", "Simulation", "build_report", "candidates", "simulate", "simulate_file", "stats"]
