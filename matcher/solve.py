"""``solve()``: a problem in, a plan out, always within a time limit.

Phases (see :mod:`matcher.model.full` for the objective; each is a stage of
:mod:`matcher.search.stages`, and the names in code below are fields of
:class:`matcher.params.SolveParams`):

0. compile the problem, build the eligible pairs, and a greedy plan (always valid);
1. station size (at most ``full_model_max_pairs`` pairs): with the HiGHS prover, column
   generation over per-volunteer plans (:mod:`matcher.search.colgen`, at most ``colgen_share``
   of the time left) first; its Lagrangian bound usually meets its plan, which proves
   levels 1-2 without the full model.  Otherwise the coverage-only master and
   branch-and-price on it (:mod:`matcher.search.branch`, odd-cycle cuts at its root) usually
   find and prove the optimal coverage; then a MIP over each pair's best set with the
   pair forced in may find the missing plan; failing that, the full model's levels 1-2
   are solved exactly, hinted with the best plan so far, for the time that remains — by
   HiGHS on the exported model (:mod:`matcher.search.mip`, the default; built meanwhile in a
   process of :mod:`matcher.search.portfolio`; pairs the Lagrangian bound rules out of any
   better plan are left out) or by CP-SAT, whose callback stops it once coverage alone is
   proved.  City size: the greedy plan is improved by large-neighbourhood search
   (:mod:`matcher.search.lns`) until the limit;
2. if the plan is not proved, a greedy pass tops it up (it only adds needs, so it never
   lowers coverage or continuity);
3. once coverage is proved and time remains, continuity (where phase 1 did not settle it)
   and travel and load, never lowering a level above, for at most half the time phase 1
   took (at least ``min_polish_s``): on the full model up to ``full_polish_max_pairs``
   pairs, else by neighbourhoods (:func:`matcher.search.lns.polish`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

from matcher.clock import Budget
from matcher.explain import to_format
from matcher.format.schema import AnyProblem, Plan, Plan2, Problem, Problem2
from matcher.format.versions import as_format1, plan_as_format2
from matcher.model.evaluate import coverage_units
from matcher.model.instance import Instance
from matcher.model.posts import model as posts_model
from matcher.model.posts.greedy import Team, greedy, left_for_one_to_one, value_of
from matcher.model.posts.instance import NeedCompiler, PostInstance
from matcher.params import Prover, SolveParams
from matcher.progress import ProgressCallback, Reporter, reporter_of
from matcher.search import posts_progress
from matcher.search.posts import solve_posts
from matcher.search.posts_city import solve_city
from matcher.search.posts_colgen import prove_posts, team_plan, tighten
from matcher.search.stages import optimise
from matcher.search.trace import Phase


@dataclass
class SolveResult:
    """A plan with the figures behind it.

    ``coverage`` and ``coverage_bound`` are exact; ``status`` is ``optimal`` only when the
    coverage is proved optimal.
    """

    plan: Plan
    status: str
    coverage: Fraction
    coverage_bound: Fraction
    continuity: int
    build_seconds: float
    """Compiling, eligible pairs, greedy plan and (station size) the CP-SAT model."""
    solve_seconds: float
    pairs: int
    proved_seconds: float | None = None
    """Seconds from the start until coverage was proved optimal (None if it was not)."""
    phases: list[Phase] = field(default_factory=list)
    deterministic: bool = False
    """With ``solve(deterministic=True)``: nothing was cut short by the clock, so the plan
    depends on the problem only."""


def solve(
    problem: Problem,
    time_limit: float | None = None,
    *,
    params: SolveParams | None = None,
    workers: int | None = None,
    seed: int | None = None,
    log: bool | None = None,
    prover: Prover | None = None,
    columns: bool | None = None,
    refine: bool | None = None,
    deterministic: bool | None = None,
    on_progress: ProgressCallback | None = None,
) -> SolveResult:
    """Assign volunteers to needs for the week.

    Parameters
    ----------
    problem
        A validated problem.
    time_limit
        Wall-clock seconds for the whole call, building included; default
        ``problem.time_limit_s``.
    params
        Options and tuning (default :class:`matcher.params.SolveParams`); the keyword
        arguments below, where given, replace its fields of the same name.
    workers
        CP-SAT search workers (default :func:`matcher.search.trace.default_workers`).
    seed
        CP-SAT random seed (default 0).
    log
        Print CP-SAT's search log.
    prover
        Which solver proves levels 1-2 at station size: HiGHS's branch-and-cut on the
        exported model (default, two to three times faster at 300 volunteers) or CP-SAT.
    columns
        (Default true.) With the HiGHS prover, first try to prove levels 1-2 by column generation
        (:mod:`matcher.search.colgen`), which usually settles a 300-volunteer station in about a
        second; the full model is solved only when its bound does not meet its plan.
    refine
        (Default true.) Run level 3 (travel and load) once levels 1-2 are proved.  Its budget is measured
        time, so its plan depends on the machine's load; ``False`` makes a proved plan
        depend only on the problem (what Monte Carlo simulations need).
    deterministic
        Bound the search by work, not by the clock, so the plan depends on the problem only
        (``SolveResult.deterministic`` says whether the time limit, kept as a safety net,
        cut anything short): column generation runs to convergence and its MIP to a node
        limit; no full-model fallback, no neighbourhood search, no level 3.  What
        simulations need at sizes that do not prove in time.
    on_progress
        Called in this process with a :class:`matcher.progress.Progress` (elapsed time,
        stage, the incumbent's coverage, the proved bound) once after the greedy start, as
        the incumbent or the bound improves (otherwise at most every 0.2 s) and once at the
        end with the figures returned; monotone.  An exception it raises is logged and
        stops the reports, never the solve.  None (the default) costs nothing: the plan
        is the same as without.

    Returns
    -------
    SolveResult
        The plan (status, objective, bound) and timings.
    """
    limit = problem.time_limit_s if time_limit is None else time_limit
    if not limit > 0:
        raise ValueError("time_limit: must be > 0")
    budget = Budget.starting_now(limit)
    params = (params or SolveParams()).with_options(
        workers=workers,
        seed=seed,
        log=log,
        prover=prover,
        columns=columns,
        refine=refine,
        deterministic=deterministic,
    )
    inst = Instance.from_problem(problem)
    progress = reporter_of(on_progress, inst.coverage, int(inst.need_value.sum()), budget.start)
    out = optimise(inst, budget, params, progress=progress)
    covered = coverage_units(inst, out.plan)
    plan = to_format(inst, out.plan, out.bound_units, budget.elapsed())
    if progress is not None:
        progress.report("done", covered, out.bound_units, force=True)
    return SolveResult(
        plan=plan,
        status=plan.status,
        coverage=inst.coverage(covered),
        coverage_bound=inst.coverage(out.bound_units),
        continuity=plan.objective.continuity,
        build_seconds=out.build_seconds,
        solve_seconds=plan.solve_seconds,
        pairs=len(out.pairs),
        phases=out.phases,
        proved_seconds=out.proved_seconds,
        deterministic=out.deterministic,
    )


@dataclass
class AnySolveResult:
    """A plan of either format, with its exact coverage and bound."""

    plan: Plan | Plan2
    coverage: Fraction
    coverage_bound: Fraction
    pairs: int
    route: str
    """``one-to-one`` (today's pipeline, :func:`solve`), ``posts`` (:mod:`matcher.model.posts`) or
    ``posts-city`` (:mod:`matcher.search.posts_city`)."""


def solve_any(
    problem: AnyProblem,
    time_limit: float | None = None,
    *,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> AnySolveResult:
    """Solve a problem of either format, routing it (``docs/engine.md``, "Format 2").

    A format-1 problem, and a format-2 problem without posts or leads (every need a
    beneficiary's, for one volunteer, :attr:`~matcher.format.schema.Problem2.is_plain`), go to
    :func:`solve` unchanged (the latter as format 1, its plan written back in format 2); any
    other format-2 problem (posts, or a lead, which format 1 cannot say) gets a start (posts
    greedily, then the one-to-one needs by :func:`solve`), then at station size column generation
    from it (:func:`matcher.search.posts_colgen.prove_posts`, up to ``COLGEN_SHARE`` of the time
    left), and when that does not prove its plan, the exact posts model
    (:func:`matcher.search.posts.solve_posts`) from the better start, keeping the tighter bound;
    the latter refuses a problem too large for it with
    :class:`~matcher.model.posts.model.PostsTooLargeError`, so above station size
    (:func:`posts_route`: any problem it would refuse) the posts become one-to-one seats for
    :func:`solve`, then a repair (:func:`matcher.search.posts_city.solve_city`, route ``posts-city``).
    The needs are compiled once (:func:`posts_route`) and passed on.
    """
    limit = problem.time_limit_s if time_limit is None else time_limit
    if not limit > 0:
        raise ValueError("time_limit: must be > 0")
    if isinstance(problem, Problem):
        result = solve(problem, limit, workers=workers, on_progress=on_progress)
        return AnySolveResult(result.plan, result.coverage, result.coverage_bound, result.pairs, "one-to-one")
    if problem.is_plain:
        result = solve(as_format1(problem), limit, workers=workers, on_progress=on_progress)
        plan2 = plan_as_format2(result.plan)
        return AnySolveResult(plan2, result.coverage, result.coverage_bound, result.pairs, "one-to-one")
    started = time.monotonic()
    compiler, station = posts_route(problem)
    if station is None:
        left = max(0.5, limit - (time.monotonic() - started))  # the route's count and compiling spent
        city = solve_city(
            problem, left, lambda p, seconds: solve(p, seconds, workers=workers).plan, compiler=compiler
        )
        return AnySolveResult(city.plan, city.coverage, city.coverage_bound, city.pairs, "posts-city")
    inst = station if on_progress is not None else None
    # Each pass reports (matcher.search.posts_progress): the start, column generation, the exact model.
    progress = None if inst is None else posts_progress.posts_reporter(inst, on_progress, time.perf_counter())
    start = _posts_then_one_to_one(problem, ONE_TO_ONE_SHARE * limit, workers, progress, station)
    # Station size: column generation from that start (matcher.search.posts_colgen); the compact
    # model is the fallback, started from the better plan and keeping the tighter bound.
    spent = time.monotonic() - started
    proved = prove_posts(problem, COLGEN_SHARE * (limit - spent), start, elapsed=spent, inst=station)
    if proved is not None and inst is not None:
        posts_progress.report(progress, "columns", inst, proved.coverage, proved.coverage_bound)
    left = limit - (time.monotonic() - started)
    if proved is not None and (proved.plan.status == "optimal" or left < FALLBACK_MIN_S):
        found = proved
    else:
        if proved is not None:
            start = team_plan(station, proved.plan)  # never worse than the start
        posts = solve_posts(
            problem, limit - (time.monotonic() - started), workers=workers, start=start, inst=station
        )
        found = tighten(posts, proved)
        if inst is not None:
            posts_progress.report(progress, "prove", inst, found.coverage, found.coverage_bound)
    if inst is not None:
        posts_progress.report(progress, "done", inst, found.coverage, found.coverage_bound)
    return AnySolveResult(found.plan, found.coverage, found.coverage_bound, found.pairs, "posts")


def posts_route(problem: Problem2) -> tuple[NeedCompiler, PostInstance | None]:
    """The route of a format-2 problem with posts: its compiler, and the problem compiled for the
    station route, or None for the city route (:func:`takes_city_route`).

    The needs are compiled (every candidate of every need asked) only when the candidate count,
    cheap, does not already say city size: compiling a 4,000-volunteer city took seconds.  What is
    compiled is passed on, so the station route compiles nothing again.
    """
    compiler = NeedCompiler(problem)
    candidates = sum(compiler.candidates(i) for i in range(len(problem.needs)))
    if takes_city_route(candidates, None):
        return compiler, None
    inst = PostInstance.of(problem, compiler)
    return compiler, (None if takes_city_route(candidates, inst.pairs) else inst)


def takes_city_route(candidates: int, pairs: int | None) -> bool:
    """Whether a format-2 problem with posts takes the city route, from ``candidates`` (volunteers with
    a need's skill within its reach, summed over the needs: a bound on the eligible pairs, cheap to
    count) and, once compiled, ``pairs`` (its eligible pairs; None: not compiled yet).

    Above :data:`CITY_CANDIDATES` candidates, or above the compact model's
    :data:`~matcher.model.posts.model.MAX_PAIRS` eligible pairs (the count the compact model refuses
    a problem on, :class:`~matcher.model.posts.model.PostsTooLargeError`), it does: a problem the
    station route could not finish never reaches it.  (The eligible pairs are about 40% of the
    candidates on generated cities: 300 volunteers have about 15,000 candidates, 4,000 about 1.1
    million.)
    """
    if candidates > CITY_CANDIDATES:
        return True
    return pairs is not None and pairs > posts_model.MAX_PAIRS


CITY_CANDIDATES = 2 * posts_model.MAX_PAIRS
"""Above this many candidate pairs a problem with posts goes to the city route without being
compiled (:func:`takes_city_route`)."""
ONE_TO_ONE_SHARE = 0.4
"""Share of a posts problem's time limit for the start's one-to-one part (usually proved sooner)."""
COLGEN_SHARE = 0.7
"""Most share of a posts problem's time left after the start for column generation (the rest:
the fallback)."""
FALLBACK_MIN_S = 10.0
"""Least time left for the compact model after column generation: HiGHS's presolve alone takes 5 s
at station size and cannot be stopped, so with less it only overran the limit (by 13 s on a
loaded machine) without bettering column generation's plan or bound."""


def _posts_then_one_to_one(
    problem: Problem2,
    seconds: float,
    workers: int | None,
    progress: Reporter | None = None,
    inst: PostInstance | None = None,
) -> dict[int, Team]:
    """A start for the posts model: the posts greedily, then the one-to-one needs by :func:`solve`.

    The one-to-one needs (a beneficiary's, for one volunteer) are written as a format-1 problem
    whose volunteers keep only what the posts leave them (slots, hours, places), and solved by
    today's pipeline (for a station, usually to its optimum given the posts); both parts keep
    every rule, so together they do.
    """
    if inst is None:
        inst = PostInstance.of(problem)
    posts = {pn.index for pn in inst.needs if not pn.need.is_plain}  # a lead is not format 1's
    plan = greedy(inst, only=posts)
    ones = [pn for pn in inst.needs if pn.index not in posts]
    if not ones:
        if progress is not None:
            progress.report("start", value_of(inst, plan), None, force=True)
        return plan
    left = left_for_one_to_one(inst, plan)
    order = {slot: i for i, slot in enumerate(problem.slot_ids)}
    volunteers = [
        v.model_copy(
            update={
                "availability": sorted(free, key=order.__getitem__),
                "max_hours": float(Fraction(hours, inst.scale)),
                "max_beneficiaries": max(0, places),
            }
        )
        for v, (free, hours, places) in zip(problem.volunteers, left, strict=True)
    ]
    rest = as_format1(
        problem.model_copy(update={"needs": [pn.need for pn in ones], "volunteers": volunteers})
    )
    forward = posts_progress.one_to_one_progress(inst, progress, value_of(inst, plan))
    result = solve(rest, max(0.1, seconds), workers=workers, on_progress=forward)
    index = {pn.need.id: pn.index for pn in ones}
    position = {v.id: i for i, v in enumerate(problem.volunteers)}
    for a in result.plan.assignments:
        plan[index[a.need]] = ([position[a.volunteer]], tuple(a.slots))
    if progress is not None:
        progress.report("start", value_of(inst, plan), None, force=True)
    return plan
