"""Monte Carlo runs: perturb the base week, solve it, measure; locally or on a Dask cluster.

Run ``i`` applies the scenario's ``j``-th perturbation with
``numpy.random.default_rng([seed, i, j])`` and solves with ``solve(deterministic=True)``:
column generation to convergence and its MIP to a node limit, no clock-budgeted phase.  So a
run's result depends only on (base, perturbations, seed, i) — not on the worker count, the
cluster or the order in which runs finish — as long as its solve is *settled*: nothing was cut
short by the per-run time limit, which stays as a safety net.  Reports count the runs that
were not (``runs.unsettled``).
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from matcher.format.errors import InputError
from matcher.format.evaluate import Cell, CoverageBreakdown
from matcher.format.hours import exact
from matcher.format.schema import (
    CATEGORIES,
    SERVICES_BY_PROGRAMME,
    AnyProblem,
    Need2,
    Plan2,
    Problem,
    Problem2,
)
from scenarios.perturbations import Perturbation, apply

Key = tuple[str, str]
"""(service code, beneficiary district)."""


@dataclass
class Gap:
    """Unmet needs of one (service, district): how much, when, and which certificates they ask."""

    weighted: Fraction = Fraction(0)
    windows: dict[str, float] = field(default_factory=dict)
    """Slot -> priority-weighted unmet hours that could take place in it."""
    requires: dict[str, float] = field(default_factory=dict)
    """Certification kind -> priority-weighted unmet hours that ask for it."""
    leads: dict[str, float] = field(default_factory=dict)
    """Certification kind -> priority-weighted unmet hours of posts whose lead asks for it."""
    posts: Fraction = Fraction(0)
    """The part of ``weighted`` that is posts' (format 2): the advice tries these gaps first."""


@dataclass
class RunResult:
    """What one run measured."""

    run: int
    status: str
    settled: bool
    """Coverage proved optimal and no later solver phase stopped on its time limit."""
    coverage: Fraction
    demand: Fraction
    by_category: dict[str, Cell]
    by_district: dict[str, Cell]
    reasons: dict[str, int]
    """Unmet needs per reason code."""
    gaps: dict[Key, Gap]
    volunteers: int
    """Volunteers able to serve (some availability)."""
    seconds: float
    posts: PostCounts | None = None
    """Format 2 with posts only: how many posts ran, did not run, and their open places."""


@dataclass(frozen=True)
class PostCounts:
    """The posts of one run: held, run (at least ``min`` volunteers), not run, places open."""

    posts: int
    run: int
    not_run: int
    places_open: int
    """Volunteers the posts that ran could still take (``max`` minus their volunteers)."""
    volunteers: int
    """Volunteers on the posts that ran."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Reason code -> posts that did not run giving it."""


@dataclass(frozen=True)
class Task:
    """One solve: the base week under some perturbations, for run ``run``."""

    run: int
    perturbations: tuple[Perturbation, ...]
    seed: int
    time_limit: float
    tag: str = ""
    """Which batch it belongs to (``base``, ``run``, ``advice:<k>``)."""


def perturbed(problem: AnyProblem, perturbations: Sequence[Perturbation], seed: int, run: int) -> AnyProblem:
    """Apply perturbations in order, the ``j``-th with ``default_rng([seed, run, j])``.

    Parameters
    ----------
    problem
        The base week.
    perturbations
        The scenario's perturbations.
    seed
        The scenario's seed (>= 0 after :func:`entropy`).
    run
        The run index.

    Returns
    -------
    Problem
        The perturbed week.
    """
    for j, p in enumerate(perturbations):
        problem = apply(p, problem, np.random.default_rng([entropy(seed), run, j]), j)
    return problem


def entropy(seed: int) -> int:
    """A non-negative seed for ``SeedSequence`` (negative seeds are folded in, distinctly)."""
    return seed if seed >= 0 else 2**63 + (-seed)


def measure(problem: Problem, run: int, result: Any) -> RunResult:
    """Summarise a solve of ``problem``.

    Parameters
    ----------
    problem
        The perturbed week that was solved.
    run
        The run index.
    result
        Its :class:`matcher.solve.SolveResult`.

    Returns
    -------
    RunResult
        Coverage by category and district, unmet reasons and gaps.
    """
    b = CoverageBreakdown.of(problem, result.plan, every_district=True)
    bens = {ben.id: ben for ben in problem.beneficiaries}
    gaps: defaultdict[Key, Gap] = defaultdict(Gap)
    for need in problem.needs:
        if need.id in b.met:
            continue
        value = b.value[need.id]
        gap = gaps[need.service, bens[need.beneficiary].district]
        gap.weighted += value
        for w in need.windows:
            gap.windows[w] = gap.windows.get(w, 0.0) + float(value)
        for k in need.requires:
            gap.requires[k] = gap.requires.get(k, 0.0) + float(value)
    settled = result.deterministic
    return RunResult(
        run=run,
        status=result.status,
        settled=settled,
        coverage=Fraction(result.coverage),
        demand=b.demand,
        by_category=b.by_category,
        by_district=b.by_district,
        reasons=dict(sorted(b.reasons.items())),
        gaps=dict(gaps),
        volunteers=sum(1 for v in problem.volunteers if v.availability and v.max_hours > 0),
        seconds=result.solve_seconds,
    )


PROGRAMME_OF: dict[str, str] = {code: p for p, codes in SERVICES_BY_PROGRAMME.items() for code in codes}
"""Service code -> its programme: a post's category in the breakdowns (a post serves no one person)."""
assert set(PROGRAMME_OF.values()) <= set(CATEGORIES)


def measure2(problem: Problem2, run: int, plan: Plan2, settled: bool, seconds: float) -> RunResult:
    """Summarise a format-2 solve: as :func:`measure`, each need worth its value with posts.

    A need's demand is its value fully staffed (``priority x hours x sessions x max``), its
    coverage its value as staffed (``x k``, 0 when the post does not run), so a one-person need
    counts as in format 1.  A post counts in its service's programme (``civility_guidance`` and
    ``environment``: community; ``health_check``: migrant_worker) and its site's district.  An
    unmet need's unmet hours are its ``hours x sessions`` (a post's event hours, once).  Gaps (for
    the advice) hold unmet needs' value and, for posts that ran short, the value of their open
    places; a post's lead counts among the certificates it asks for.

    Parameters
    ----------
    problem
        The perturbed format-2 week that was solved.
    run
        The run index.
    plan
        Its plan.
    settled
        Whether the plan is proved optimal.
    seconds
        Solver seconds.

    Returns
    -------
    RunResult
        Coverage by category and district, unmet reasons, gaps and the posts' counts.
    """
    bens = {b.id: b for b in problem.beneficiaries}
    site_district = {s.id: s.district for s in problem.sites}
    staffed = {a.need: len(a.volunteers) for a in plan.assignments}
    by_category: dict[str, Cell] = {}
    by_district: dict[str, Cell] = {d.id: Cell() for d in problem.districts}
    gaps: defaultdict[Key, Gap] = defaultdict(Gap)
    demand = covered = Fraction(0)
    counts = [0, 0, 0, 0, 0]  # posts, run, not run, places open, volunteers on them
    for need in problem.needs:
        if need.beneficiary is not None:
            ben = bens[need.beneficiary]
            category, district = ben.category, ben.district
        else:
            category, district = PROGRAMME_OF[need.service], site_district[str(need.site)]
        hours = exact(need.hours) * need.sessions
        unit = problem.priority_of(need) * hours
        k = staffed.get(need.id, 0)
        k = min(k, need.volunteers.max) if k >= need.volunteers.min else 0
        value, full = unit * k, unit * need.volunteers.max
        demand += full
        covered += value
        for cell in (by_category.setdefault(category, Cell()), by_district.setdefault(district, Cell())):
            cell.demand += full
            cell.covered += value
            if not k:
                cell.unmet_hours += hours
        if need.is_post:
            counts[0] += 1
            counts[1 if k else 2] += 1
            counts[3] += need.volunteers.max - k if k else 0
            counts[4] += k
        if full > value:
            _add_gap(gaps[need.service, district], need, full - value)
    posts = {n.id for n in problem.needs if n.is_post}
    reasons: dict[str, int] = {}
    post_reasons: dict[str, int] = {}
    for u in plan.unmet:
        for code in u.reasons:
            reasons[code] = reasons.get(code, 0) + 1
            if u.need in posts:
                post_reasons[code] = post_reasons.get(code, 0) + 1
    held, ran, not_run, places, on_posts = counts
    return RunResult(
        run=run,
        status=plan.status,
        settled=settled,
        coverage=covered,
        demand=demand,
        by_category=by_category,
        by_district=by_district,
        reasons=dict(sorted(reasons.items())),
        gaps=dict(gaps),
        volunteers=sum(1 for v in problem.volunteers if v.availability and v.max_hours > 0),
        seconds=seconds,
        posts=PostCounts(held, ran, not_run, places, on_posts, dict(sorted(post_reasons.items())))
        if held
        else None,
    )


def _add_gap(gap: Gap, need: Need2, short: Fraction) -> None:
    """Count ``short`` (unmet value) of ``need`` in its gap: its windows, certificates and lead."""
    gap.weighted += short
    if need.is_post:
        gap.posts += short
    for w in need.windows:
        gap.windows[w] = gap.windows.get(w, 0.0) + float(short)
    for c in need.requires:
        gap.requires[c] = gap.requires.get(c, 0.0) + float(short)
    for c in need.lead.certifications if need.lead is not None else []:
        gap.leads[c] = gap.leads.get(c, 0.0) + float(short)


def solve_task(base: AnyProblem, task: Task) -> tuple[AnyProblem, Any]:
    """Perturb and solve one run (one CP-SAT worker): ``(week, plan)``.

    A format-1 week is solved as before, ``solve(deterministic=True)``, and so is a format-2 week
    without posts or leads (as format 1, its plan written back in format 2: the same plan, so the
    same report); any other format-2 week by :func:`matcher.solve.solve_any` (its posts by the
    exact posts model within the time limit: a run counts as settled when its plan is proved optimal).
    """
    from matcher.format.versions import as_format1, plan_as_format2
    from matcher.solve import AnySolveResult, solve, solve_any

    problem = perturbed(base, task.perturbations, task.seed, task.run)
    one_to_one = (
        problem if isinstance(problem, Problem) else as_format1(problem) if problem.is_plain else None
    )
    if one_to_one is None:
        return problem, solve_any(problem, task.time_limit, workers=1)
    result = solve(one_to_one, task.time_limit, workers=1, seed=0, refine=False, deterministic=True)
    if one_to_one is not problem:  # the format-2 week's plan, in format 2
        plan2 = plan_as_format2(result.plan)
        return problem, AnySolveResult(
            plan2, result.coverage, result.coverage_bound, result.pairs, "one-to-one"
        )
    return problem, result


def run_task(base: AnyProblem, task: Task) -> RunResult:
    """Perturb, solve (one CP-SAT worker) and measure one run.

    Parameters
    ----------
    base
        The base week.
    task
        What to run.

    Returns
    -------
    RunResult
        The run's measures.
    """
    problem, result = solve_task(base, task)
    if isinstance(problem, Problem):
        return measure(problem, task.run, result)
    plan = result.plan
    assert isinstance(plan, Plan2)
    return measure2(problem, task.run, plan, plan.status == "optimal", plan.solve_seconds)


# --------------------------------------------------------------------------- executors

CONNECT_TIMEOUT_S = 10.0
"""Seconds to wait for a Dask scheduler before giving up."""
_BASE: AnyProblem | None = None


def _init_worker(base: AnyProblem) -> None:
    global _BASE
    _BASE = base


def _pool_task(task: Task) -> RunResult:
    assert _BASE is not None, "worker not initialised"
    return run_task(_BASE, task)


class Executor(Protocol):
    """Runs tasks on the base week and yields ``(position, result)`` as they finish."""

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, RunResult]]:
        """Yield each task's position in ``tasks`` and result, in completion order."""
        ...


class InProcess:
    """Runs tasks one after another in this process (``--workers 1``)."""

    def __init__(self, base: AnyProblem) -> None:
        self.base = base

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, RunResult]]:
        """Yield each task's position and result, in order."""
        for k, task in enumerate(tasks):
            yield k, run_task(self.base, task)


class LocalPool:
    """A pool of local worker processes (forkserver: no solver threads are forked)."""

    def __init__(self, base: AnyProblem, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(base,)
        )

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, RunResult]]:
        """Submit every task; yield results as they finish."""
        futures: dict[Future[RunResult], int] = {
            self.pool.submit(_pool_task, t): k for k, t in enumerate(tasks)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        """Shut the pool down (cancelling what has not started)."""
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskCluster:
    """Runs tasks on an existing Dask distributed cluster (the base week is scattered once)."""

    def __init__(self, base: AnyProblem, address: str, timeout: float | None = None) -> None:
        dist: Any = importlib.import_module("distributed")
        seconds = CONNECT_TIMEOUT_S if timeout is None else timeout
        try:
            self.client: Any = dist.Client(address, timeout=f"{seconds}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--cluster: cannot connect to {address} ({exc})") from None
        self.base = self.client.scatter(base, broadcast=True, hash=False)

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, RunResult]]:
        """Submit every task; yield results as they finish."""
        completed: Any = importlib.import_module("distributed").as_completed
        futures = [self.client.submit(run_task, self.base, t, pure=False) for t in tasks]
        position = {f.key: k for k, f in enumerate(futures)}
        for future in completed(futures, loop=self.client.loop):
            yield position[future.key], future.result()

    def close(self) -> None:
        """Disconnect from the cluster (the cluster keeps running)."""
        self.client.close()


@contextmanager
def executor(base: AnyProblem, workers: int = 1, cluster: str | None = None) -> Iterator[Executor]:
    """The executor for a simulation.

    Parameters
    ----------
    base
        The base week, sent once to each worker.
    workers
        Local worker processes (1: in this process); ignored with ``cluster``.
    cluster
        Address of a Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.

    Yields
    ------
    Executor
        Something that runs tasks.
    """
    if cluster is not None:
        dask = DaskCluster(base, cluster)
        try:
            yield dask
        finally:
            dask.close()
    elif workers > 1:
        pool = LocalPool(base, workers)
        try:
            yield pool
        finally:
            pool.close()
    else:
        yield InProcess(base)


def run_all(
    ex: Executor, tasks: Sequence[Task], on_done: Callable[[Task, RunResult], None] | None = None
) -> list[RunResult]:
    """Run tasks and return their results in task order (whatever order they finish in).

    Parameters
    ----------
    ex
        The executor.
    tasks
        The tasks.
    on_done
        Called once per finished task (progress bars).

    Returns
    -------
    list[RunResult]
        One result per task, in the order of ``tasks``.
    """
    out: list[RunResult | None] = [None] * len(tasks)
    for k, result in ex.run(tasks):
        out[k] = result
        if on_done is not None:
            on_done(tasks[k], result)
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]
