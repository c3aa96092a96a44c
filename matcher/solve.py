"""``solve()``: a problem in, a plan out, always within a time limit.

Phases (see :mod:`matcher.model` for the objective):

0. compile the problem, build the eligible pairs, and a greedy plan (always valid);
1. station size (at most :data:`FULL_MODEL_MAX_PAIRS` pairs): with the HiGHS prover,
   column generation over per-volunteer plans (:mod:`matcher.colgen`, at most
   :data:`COLGEN_SHARE` of the time left) first; its Lagrangian bound usually meets its
   plan, which proves levels 1-2 without the full model.  Otherwise the coverage-only
   master and branch-and-price on it (:mod:`matcher.branch`, odd-cycle cuts at its root)
   usually find and prove the optimal coverage; then a MIP over each pair's best set with
   the pair forced in may find the missing plan; failing that, the full model's
   levels 1-2 are solved exactly, hinted with the best plan so far, for the time that
   remains — by HiGHS on the exported model (:mod:`matcher.mip`, the default; built
   meanwhile by :mod:`matcher.prebuild`; pairs the Lagrangian bound rules out of any better
   plan are left out) or by CP-SAT, whose callback stops it once coverage alone is proved.
   City size: the greedy plan is improved by large-neighbourhood search (:mod:`matcher.lns`)
   until the limit;
2. if the plan is not proved, a greedy pass tops it up (it only adds needs, so it never
   lowers coverage or continuity);
3. once coverage is proved and time remains, continuity (where phase 1 did not settle it)
   and travel and load, never lowering a level above, for at most half the time phase 1
   took (at least :data:`MIN_POLISH_S`): on the full model up to
   :data:`FULL_POLISH_MAX_PAIRS` pairs, else by neighbourhoods (:func:`matcher.lns.polish`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from ortools.sat.python import cp_model

from matcher import branch, citybound, colgen, greedy, lns
from matcher.beside import Progress, SearchBeside
from matcher.clock import Deadline, OutOfTimeError
from matcher.eligibility import Pairs, build_pairs, static_reasons
from matcher.greedy import coverage_units
from matcher.instance import Instance
from matcher.mip import solve_input
from matcher.model import LinliModel, build
from matcher.prebuild import MipBeside, Prebuilt, prebuilt_of
from matcher.rules.skill_in_reach import Candidates
from matcher.schema import Assignment, Objective, Plan, Problem, Unmet
from matcher.transfer import extract, extract_indexed, hint

LNS_SIZE = 30
"""Volunteers freed per neighbourhood-search step."""
FINISH_S_PER_NEED = 40e-6
"""Time kept back per need for explaining unmet needs and writing the plan."""
FULL_MODEL_MAX_PAIRS = 20_000
"""Above this many eligible pairs the full model is not built (see :func:`solve`)."""
MIN_POLISH_S = 0.5
"""Least time given to the polishing phase when there is time left."""
FULL_POLISH_MAX_PAIRS = 500
"""Up to this many pairs, levels 2-3 are polished on the full model, above it by
neighbourhoods (``python -m benchmarks.polish``: up to 70 volunteers, about 330 pairs, the
full model ends a little lower and sooner; at 100 volunteers, about 700 pairs, the
neighbourhoods cut travel and load more, median 11% against 5%; at 200 and 300 the full
model found nothing in its time)."""
HIGHS_TIME_SHARE = 0.9
"""Share of the time left given to HiGHS as its limit (it can overrun its limit a little)."""
COLGEN_SHARE = 0.5
"""Share of the time left that column generation may use before the full model is solved."""
POOL_SHARE = 0.2
POOL_MAX_S = 1.5
"""At most this share of the time left, and this many seconds, go to the MIP over the
forced columns (see :meth:`matcher.colgen.PairBounds.plan`).  Where the bound is above
the optimum it cannot stop early: on a 30 s limit one 300-volunteer city spent 4.9 s in it,
where branch-and-price or HiGHS find the plan anyway."""
COVERAGE_SHARE = 0.2
"""At most this share of the time left goes to the coverage-only bound (see
:meth:`matcher.colgen.ColgenResult.coverage_master`)."""
BRANCH_FIRST_S = 2.0
BRANCH_FIRST_SHARE = 0.3
"""Branch-and-price on the coverage-only master, before anything else, gets at most this
long and this share of the time left (on thirty 300-volunteer cities it settled the 12
the columns left open in 0.05-1.23 s; the pool and HiGHS follow where it does not)."""
BRANCH_S = 2.0
"""Branch-and-price beside HiGHS (again, when the pool found a better plan to start
from) stops after this long; where it settles nothing HiGHS is faster alone."""
BRANCH_HEAD_S = 0.6
BRANCH_HEAD_SHARE = 0.1
"""That search runs alone for at most BRANCH_HEAD_S seconds, and this share of the time
left, before HiGHS starts beside it: most proofs it finds take less, and HiGHS checks for
a stop only once its presolve is over."""
CITY_BOUND_AFTER = 0.3
"""City size: share of the search's time before the coverage bound starts beside it."""
CITY_BOUND_MARGIN_S = 0.2
"""The city bound's process stops this long before the search, so its answer is ready."""
DETERMINISTIC_MIP_NODES = 2000
"""Node limit of the MIP over the columns in a deterministic solve."""
COLGEN_S_PER_PAIR = 2e-5
"""Column generation's set-up and first round, per eligible pair (measured: 0.4 s for 19,433 pairs)."""


@dataclass
class Phase:
    """What one CP-SAT run did."""

    name: str
    status: str
    seconds: float
    objective: float
    bound: float


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


def default_workers() -> int:
    """CP-SAT search workers: at least 8 so the portfolio keeps its LNS and bound workers."""
    return max(8, os.cpu_count() or 1)


def number(q: Fraction) -> int | float:
    """A JSON number for an exact value: an integer when it is one."""
    return int(q) if q.denominator == 1 else float(q)


def solve(
    problem: Problem,
    time_limit: float | None = None,
    *,
    workers: int | None = None,
    seed: int = 0,
    log: bool = False,
    prover: Literal["highs", "cpsat"] = "highs",
    columns: bool = True,
    refine: bool = True,
    deterministic: bool = False,
) -> SolveResult:
    """Assign volunteers to needs for the week.

    Parameters
    ----------
    problem
        A validated problem.
    time_limit
        Wall-clock seconds for the whole call, building included; default
        ``problem.time_limit_s``.
    workers
        CP-SAT search workers (default :func:`default_workers`).
    seed
        CP-SAT random seed.
    log
        Print CP-SAT's search log.
    prover
        Which solver proves levels 1-2 at station size: HiGHS's branch-and-cut on the
        exported model (default, two to three times faster at 300 volunteers) or CP-SAT.
    columns
        With the HiGHS prover, first try to prove levels 1-2 by column generation
        (:mod:`matcher.colgen`), which usually settles a 300-volunteer station in about a
        second; the full model is solved only when its bound does not meet its plan.
    refine
        Run level 3 (travel and load) once levels 1-2 are proved.  Its budget is measured
        time, so its plan depends on the machine's load; ``False`` makes a proved plan
        depend only on the problem (what Monte Carlo simulations need).
    deterministic
        Bound the search by work, not by the clock, so the plan depends on the problem only
        (``SolveResult.deterministic`` says whether the time limit, kept as a safety net,
        cut anything short): column generation runs to convergence and its MIP to a node
        limit; no full-model fallback, no neighbourhood search, no level 3.  What
        simulations need at sizes that do not prove in time.

    Returns
    -------
    SolveResult
        The plan (status, objective, bound) and timings.
    """
    start = time.perf_counter()
    limit = problem.time_limit_s if time_limit is None else time_limit
    if not limit > 0:
        raise ValueError("time_limit: must be > 0")
    inst = Instance.from_problem(problem)
    out = optimise(
        inst,
        start,
        start + limit,
        workers=workers,
        seed=seed,
        log=log,
        prover=prover,
        columns=columns,
        refine=refine,
        deterministic=deterministic,
    )
    covered = coverage_units(inst, out.chosen)
    plan = to_plan(
        inst, volunteers_of(out.pairs, out.chosen), covered, out.bound_units, time.perf_counter() - start
    )
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
class Outcome:
    """What :func:`optimise` found: a plan over ``pairs`` and its proved bound."""

    pairs: Pairs
    chosen: greedy.Chosen
    bound_units: int
    """Proved upper bound on coverage units (at least the plan's own coverage)."""
    build_seconds: float
    proved_seconds: float | None
    phases: list[Phase]
    deterministic: bool = False
    """Asked for, and nothing was cut short by the clock."""


def optimise(
    inst: Instance,
    start: float,
    deadline: float,
    *,
    workers: int | None = None,
    seed: int = 0,
    log: bool = False,
    prover: Literal["highs", "cpsat"] = "highs",
    columns: bool = True,
    refine: bool = True,
    deterministic: bool = False,
    initial: Assigned | None = None,
    lns_stall: int | None = 0,
) -> Outcome:
    """The phases of :func:`solve` on a compiled instance (also what a re-solve runs).

    Parameters
    ----------
    inst
        The compiled problem (with fixed assignments, for a re-solve).
    start, deadline
        ``time.perf_counter()`` values: when the call started and when it must end.
    workers, seed, log, prover, columns, refine, deterministic
        As for :func:`solve`.
    initial
        A valid partial plan to start from (need -> (volunteer, slots)); the greedy
        plan only adds to it.
    lns_stall
        City size: stop the neighbourhood search after this many steps without a gain
        (0: run to the deadline; None: the search's own default).

    Returns
    -------
    Outcome
        The plan over the instance's eligible pairs, with its bound and timings.
    """
    limit = deadline - start
    # The eligibility pass always completes: without it no plan can be explained.
    pairs = build_pairs(inst)
    start_plan = {n: (pairs.index[(v, n)], slots) for n, (v, slots) in (initial or {}).items()}
    chosen = greedy.fill(inst, pairs, start_plan, deadline=Deadline(deadline))
    build_seconds = time.perf_counter() - start
    # Searching stops early enough to explain the unmet needs and write the plan in time.
    work_deadline = deadline - min(0.1 * limit, 0.05 + FINISH_S_PER_NEED * inst.n_needs)
    # A move budget spans the whole plan, which a neighbourhood's sub-model cannot see.
    reachable = int(inst.need_value[pairs.by_need.sizes() > 0].sum())
    bound_units = reachable
    if len(pairs) > FULL_MODEL_MAX_PAIRS and inst.move_budget is None and not deterministic:
        # A city: the full model would spend the time limit in building and presolve, so
        # the greedy plan is improved by neighbourhood search on small sub-models instead.
        # Once the search has closed most of the greedy plan's gaps, a forked process
        # bounds coverage on the core the plan leaves open, beside the search.
        first = time.perf_counter() + CITY_BOUND_AFTER * (work_deadline - time.perf_counter())
        chosen = lns.improve(
            inst, pairs, chosen, Deadline(first), size=LNS_SIZE, seed=seed, max_stall=lns_stall
        )
        beside = citybound.Beside(inst, pairs, chosen, work_deadline - CITY_BOUND_MARGIN_S)
        chosen = lns.improve(
            inst, pairs, chosen, Deadline(work_deadline), size=LNS_SIZE, seed=seed + 1, max_stall=lns_stall
        )
        units = beside.result(max(0.1, work_deadline - time.perf_counter()))
        if units is not None:
            bound_units = min(bound_units, units)
    search = Search(work_deadline, workers, seed, log)
    lm = None
    proved_coverage = False
    proved_seconds = None
    both_levels = False
    zero: list[int] = []
    searching: SearchBeside | None = None
    master: colgen.ColgenResult | None = None
    branched: branch.BranchResult | None = None
    station = 0 < len(pairs) <= FULL_MODEL_MAX_PAIRS
    # Column generation prices one volunteer at a time: only for a plain solve, whose
    # objective and rules are all per volunteer (a re-solve's move budget is not).
    # Deterministic: all the time (a safety net; convergence, not the clock, ends it).
    share = 1.0 if deterministic else COLGEN_SHARE
    colgen_time = share * (work_deadline - time.perf_counter())
    # Its set-up and first round are not interruptible: only start with time for them.
    colgen_fits = colgen_time >= COLGEN_S_PER_PAIR * len(pairs)
    wanted = station and prover == "highs" and columns and not (inst.need_home or inst.vol_held)
    complete = deterministic and time.perf_counter() < deadline and (colgen_fits or not wanted)
    prebuilt: Prebuilt | None = None
    builder: MipBeside | None = None
    if wanted and colgen_fits:
        weight = colgen.continuity_max(inst, pairs) + 1
        if not deterministic and MipBeside.available():
            # The full model, in case the columns do not settle coverage, built on the
            # core they leave idle (:mod:`matcher.prebuild`).
            builder = MipBeside(inst, pairs, work_deadline)
        # At most a share of the time left: the full model needs the rest if the bound falls short.
        budget = Deadline(time.perf_counter() + colgen_time)
        cg = colgen.prove(
            inst, pairs, chosen, weight, budget, mip_nodes=DETERMINISTIC_MIP_NODES if deterministic else None
        )
        complete = complete and cg.complete
        search.phases.append(
            Phase(
                name="coverage+continuity (columns)",
                status="OPTIMAL" if cg.bound is not None and cg.primary >= cg.bound else "FEASIBLE",
                seconds=cg.seconds,
                objective=cg.primary,
                bound=math.nan if cg.bound is None else cg.bound,
            )
        )
        if cg.found is not None and cg.primary >= colgen.primary_of(inst, pairs, chosen, weight):
            chosen = cg.found
        if cg.bound is not None:
            bound_units = min(bound_units, cg.bound // weight)
            both_levels = colgen.primary_of(inst, pairs, chosen, weight) >= cg.bound
        if not deterministic and coverage_units(inst, chosen) < bound_units:
            chosen, bound_units, zero, master = close_gap(
                inst, pairs, cg, chosen, bound_units, weight, search
            )
            if cg.bound is not None:
                both_levels = colgen.primary_of(inst, pairs, chosen, weight) >= cg.bound
        proved_coverage = coverage_units(inst, chosen) >= bound_units
        if builder is not None and proved_coverage:
            builder.close()
        elif builder is not None:
            prebuilt = builder.request(chosen, zero, work_deadline)
        if proved_coverage:
            proved_seconds = time.perf_counter() - start
        elif not deterministic:
            # Where the columns hold no plan at their bound, one may still exist (the
            # bound is often the optimum): neighbourhood search from the best plan so far,
            # on the other core from now on (:mod:`matcher.beside`), looks for it while
            # the full model is built and proved; it stops at the bound or when told.
            searching = SearchBeside(
                inst, pairs, chosen, bound_units, work_deadline, size=LNS_SIZE, seed=seed
            )
    # Proved by the columns, the full model is only needed for what comes after levels 1-2,
    # and then only where those levels are not settled by neighbourhoods (see settle_lower_levels).
    needed = full_model_settles(inst, pairs, both_levels, refine) if proved_coverage else prebuilt is None
    if station and not deterministic and needed:
        t = time.perf_counter()
        try:
            lm = build(inst, pairs, Deadline(work_deadline))
        except OutOfTimeError:
            lm = None  # out of time while building: the plan so far stands
        build_seconds += time.perf_counter() - t

    if station and not deterministic and proved_coverage:
        settle_lower_levels(inst, pairs, lm, chosen, search, both_levels, refine, seed)
    elif (lm is not None or prebuilt is not None) and work_deadline - time.perf_counter() > 0.01:
        if lm is not None:
            hint(lm, chosen)
        if prover == "highs" and prebuilt is None and lm is not None:
            try:
                prebuilt = prebuilt_of(lm, zero)
            except NotImplementedError:
                prover = "cpsat"  # a constraint the export cannot carry exactly
        if prover == "highs" and prebuilt is not None:
            incumbent = coverage_units(inst, chosen)
            # HiGHS proves on this thread while the search goes on beside it: HiGHS stops
            # once its bound meets the best plan either has, and both once a plan reaches
            # the columns' bound (then HiGHS need not start at all).
            best = searching if searching is not None else Progress(incumbent, bound_units)
            if searching is not None and searching.report(incumbent):
                found, proved, both_levels = None, None, False
            else:
                # Branch-and-price on the coverage master beside HiGHS (see
                # :mod:`matcher.branch`): where the master LP is fractional it usually
                # settles coverage in a few branches, HiGHS proves the rest.
                brancher = None
                if master is not None:
                    brancher = branch.BranchBeside(
                        inst, master, incumbent, time.perf_counter() + BRANCH_S, lambda: best.covered
                    )
                head = min(BRANCH_HEAD_S, BRANCH_HEAD_SHARE * (work_deadline - time.perf_counter()))
                if brancher is not None and brancher.wait(head):
                    # settled before HiGHS started (HiGHS cannot be stopped in its presolve)
                    found, proved, both_levels = None, None, False
                else:
                    found, proved, both_levels = prove_with_highs(
                        inst,
                        pairs,
                        prebuilt,
                        search,
                        best,
                        brancher.settled if brancher is not None else None,
                    )
                if brancher is not None:
                    branched = brancher.result()
                    if branched is not None:
                        search.phases.append(branch_phase(branched))
            if zero:
                # What HiGHS proved holds for the plans without the zero pairs; the
                # others cover at most the incumbent's coverage.
                both_levels = False
                if proved is not None:
                    proved = max(proved, incumbent)
        elif lm is not None:
            found, proved, both_levels = prove_with_cpsat(lm, search)
        if searching is not None:
            chosen = take_better(searching, inst, pairs, weight, chosen)
            searching = None
        # A solver may stop on a plan worse than its own hint; keep the better one.
        if found is not None and primary_of(inst, pairs, lm, prebuilt, found) >= primary_of(
            inst, pairs, lm, prebuilt, chosen
        ):
            chosen = found
        if branched is not None:
            chosen, bound_units = take_branched(inst, branched, chosen, bound_units)
        if proved is not None:
            bound_units = min(bound_units, proved)
        proved_coverage = coverage_units(inst, chosen) >= bound_units
        if proved_coverage:
            proved_seconds = time.perf_counter() - start
            settle_lower_levels(inst, pairs, lm, chosen, search, both_levels, refine, seed)
    if searching is not None:
        # the full model was not built or not proved in time: the search's plan may be better
        chosen = take_better(searching, inst, pairs, weight, chosen)
        proved_coverage = proved_coverage or coverage_units(inst, chosen) >= bound_units
    if not proved_coverage:
        chosen = greedy.fill(inst, pairs, chosen, deadline=Deadline(deadline))

    covered = coverage_units(inst, chosen)
    bound_units = max(bound_units, covered)  # equal only when a solver proved it
    complete = complete and time.perf_counter() < deadline
    return Outcome(pairs, chosen, bound_units, build_seconds, proved_seconds, search.phases, complete)


def close_gap(
    inst: Instance,
    pairs: Pairs,
    cg: colgen.ColgenResult,
    chosen: greedy.Chosen,
    bound_units: int,
    weight: int,
    search: Search,
) -> tuple[greedy.Chosen, int, list[int], colgen.ColgenResult | None]:
    """Where the columns' plan falls short of their bound: a tighter bound, a better plan.

    In turn, each only while the gap stays open: the coverage-only master's bound;
    branch-and-price on that master; the pool of best sets per pair (and the pairs in no
    better plan, for HiGHS).

    Returns
    -------
    tuple
        The best plan, the coverage bound (units), the pairs HiGHS may fix to zero and
        the coverage-only master (for branch-and-price again beside HiGHS; None when
        that would repeat the first search: same plan to start from, no more time).
    """
    work_deadline = search.deadline
    zero: list[int] = []
    master = None
    searched = 0.0  # seconds the first branch-and-price was given
    started_from = -1  # coverage units of the plan it started from

    def seconds(share: float, most: float = math.inf) -> float:
        return min(most, share * (work_deadline - time.perf_counter()))

    def until(share: float, most: float = math.inf) -> Deadline:
        return Deadline.after(seconds(share, most))

    try:
        covered = coverage_units(inst, chosen)
        # The primary bound carries some continuity on top of coverage; the coverage-only
        # master, from the same columns, may be lower (and then often proves the plan).
        master = cg.coverage_master(inst, pairs, covered, bound_units, until(COVERAGE_SHARE))
        if master is not None and master.bound is not None:
            bound_units = min(bound_units, master.bound)
        elif master is not None:
            master = None  # out of time before a pricing round: not every volunteer is in it
        if master is not None and covered < bound_units:
            # Branch-and-price on that master (odd-cycle cuts at its root, then branching)
            # settles most of what is left in a few nodes, finding the plan on the way.
            searched = seconds(BRANCH_FIRST_SHARE, BRANCH_FIRST_S)
            started_from = covered
            first = branch.prove_coverage(inst, master, covered, Deadline.after(searched))
            search.phases.append(branch_phase(first))
            chosen, bound_units = take_branched(inst, first, chosen, bound_units)
            covered = coverage_units(inst, chosen)
        if covered < bound_units:
            # Per pair, a bound on the plans that use it; the best set holding each pair
            # that may still pay makes a pool of columns whose MIP often finds the plan
            # the columns' own MIP missed (then the bound proves it).
            better = weight * (covered + 1)
            bounds = cg.pair_bounds(better, Deadline(work_deadline))
            chosen = bounds.plan(inst, chosen, better, weight * bound_units, until(POOL_SHARE, POOL_MAX_S))
            # Pairs in no plan of higher coverage than ``chosen``'s: the full model's
            # search need not consider them.
            zero = bounds.zero(weight * (coverage_units(inst, chosen) + 1))
            if coverage_units(inst, chosen) <= started_from and searched >= BRANCH_S:
                # Branch-and-price beside HiGHS would start again from the same plan and
                # have no more time than it just had: HiGHS is faster alone.  (From a
                # better plan, its own or the pool's, it prunes more: on a 250/250 city
                # the first search found the optimum in its 2 s, the second proved it in
                # 0.8 s.)
                master = None
    except OutOfTimeError:
        zero = []
    return chosen, bound_units, zero, master


def take_branched(
    inst: Instance, branched: branch.BranchResult, chosen: greedy.Chosen, bound_units: int
) -> tuple[greedy.Chosen, int]:
    """A branch-and-price search's outcome taken: its plan where it covers more than
    ``chosen``, its bound where it proved one."""
    if branched.found is not None and coverage_units(inst, branched.found) > coverage_units(inst, chosen):
        chosen = branched.found
    if branched.proved:
        bound_units = min(bound_units, branched.best)
    return chosen, bound_units


def branch_phase(branched: branch.BranchResult) -> Phase:
    """The record of a branch-and-price search."""
    return Phase(
        name="coverage (branch-and-price)",
        status="OPTIMAL" if branched.proved else "UNKNOWN",
        seconds=branched.seconds,
        objective=branched.best,
        bound=branched.best if branched.proved else math.nan,
    )


class CoverageProof(cp_model.CpSolverSolutionCallback):
    """Stops the level-1-2 search once coverage alone is proved optimal.

    The objective is ``(K + 1) x coverage + continuity``; once ``floor(bound / (K + 1))``
    equals the best plan's coverage, only continuity is left to prove, which
    :func:`keep_continuity` does on a smaller budget.
    """

    def __init__(self, solver: cp_model.CpSolver, weight: int) -> None:
        super().__init__()
        self._solver = solver
        self._weight = weight
        self._best: float = -math.inf
        self._bound: float = math.inf
        solver.best_bound_callback = self._on_bound

    def coverage_of(self, objective: float) -> int:
        """Coverage units of a primary objective value."""
        return round(objective) // self._weight

    def coverage_bound(self, status: cp_model.CpSolverStatus) -> int | None:
        """Proved bound on coverage units, or None when the run proved none.

        A run that ends UNKNOWN (no plan found, e.g. still in presolve) reports a bound
        of 0 that means nothing; only bounds from a run with a plan, or announced
        through the bound callback, are used.  ``floor`` may only loosen a bound.
        """
        bound = self._bound
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            bound = min(bound, self._solver.best_objective_bound)
        if math.isinf(bound):
            return None
        return math.floor(bound + 1e-6) // self._weight

    def on_solution_callback(self) -> None:
        """Record the new best plan and stop if its coverage meets the bound."""
        self._best = max(self._best, self.objective_value)
        self._bound = min(self._bound, self.best_objective_bound)
        self._check()

    def _on_bound(self, bound: float) -> None:
        self._bound = min(self._bound, bound)
        self._check()

    def _check(self) -> None:
        if (
            self._best > -math.inf
            and self.coverage_of(self._best) >= math.floor(self._bound + 1e-6) // self._weight
        ):
            self._solver.stop_search()


def prove_with_cpsat(lm: LinliModel, search: Search) -> tuple[greedy.Chosen | None, int | None, bool]:
    """Levels 1-2 with CP-SAT: (plan found, proved coverage bound, both levels proved)."""
    solver = search.solver(search.deadline - time.perf_counter())
    watch = CoverageProof(solver, lm.secondary_max + 1)
    t = time.perf_counter()
    status = solver.solve(lm.model, watch)
    search.phases.append(phase("coverage+continuity", solver, status, time.perf_counter() - t))
    found = extract(lm, solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    return found, watch.coverage_bound(status), status == cp_model.OPTIMAL


def take_better(
    searching: SearchBeside, inst: Instance, pairs: Pairs, weight: int, chosen: greedy.Chosen
) -> greedy.Chosen:
    """Stop the search beside the proof; its plan if better than ``chosen`` on levels 1-2."""
    searched = searching.result()
    if colgen.primary_of(inst, pairs, searched, weight) > colgen.primary_of(inst, pairs, chosen, weight):
        return searched
    return chosen


def primary_of(
    inst: Instance, pairs: Pairs, lm: LinliModel | None, prebuilt: Prebuilt | None, chosen: greedy.Chosen
) -> int:
    """A plan's levels-1-2 value: on the model when built here (it knows a re-solve's
    stays and backs), else as the columns count it (a plain solve's are the same)."""
    if lm is not None:
        return lm.primary_of(chosen)
    if prebuilt is None:
        raise ValueError("primary_of: needs the model or what was built beside")
    return colgen.primary_of(inst, pairs, chosen, prebuilt.secondary_max + 1)


def prove_with_highs(
    inst: Instance,
    pairs: Pairs,
    prebuilt: Prebuilt,
    search: Search,
    best: Progress,
    settled: Callable[[], bool] | None = None,
) -> tuple[greedy.Chosen | None, int | None, bool]:
    """Levels 1-2 with HiGHS on the exported model (see :mod:`matcher.mip`).

    ``best``: coverage of the best valid plan known, updated as a search beside HiGHS
    goes; HiGHS stops once its bound proves that coverage optimal, or once it is enough.

    ``settled``: whether coverage was settled elsewhere meanwhile (HiGHS then stops).

    With pairs fixed to zero in ``prebuilt`` (see :meth:`matcher.colgen.PairBounds.zero`)
    the bound returned holds only for the plans without them.
    """
    # HiGHS checks its clock between presolve passes and cut rounds, and was seen to
    # overrun by ~0.7 s on a 9 s limit: it gets a tenth less than the time left.
    seconds = HIGHS_TIME_SHARE * (search.deadline - time.perf_counter())
    weight = prebuilt.secondary_max + 1

    def coverage_settled(value: float, bound: float) -> bool:
        # Coverage is proved once the bound leaves no room for one more unit of it
        # beyond the best plan's, HiGHS's or one found beside it (HiGHS may not be able
        # to take those with zero pairs); continuity is then settled by the lower levels.
        covered = math.floor(value + 1e-6) // weight if math.isfinite(value) else -1
        if settled is not None and settled():
            return True
        return best.report(covered) or math.floor(bound + 1e-6) // weight <= best.covered

    result = solve_input(prebuilt.mip, seconds, stop=coverage_settled)
    search.phases.append(
        Phase(
            name="coverage+continuity (HiGHS)",
            status="OPTIMAL" if result.optimal else "FEASIBLE" if result.values is not None else "UNKNOWN",
            seconds=result.seconds,
            objective=result.objective,
            bound=math.nan if result.bound is None else result.bound,
        )
    )
    found = None if result.values is None else extract_indexed(inst, pairs, prebuilt.literals, result.values)
    proved = None
    if result.bound is not None:
        # floor() may only loosen the bound; the primary objective is integral.
        proved = math.floor(result.bound + 1e-6) // weight
    return found, proved, result.optimal


def make_solver(seconds: float, workers: int | None, seed: int, log: bool) -> cp_model.CpSolver:
    """A CP-SAT solver with a time limit (never unlimited)."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, seconds)
    solver.parameters.num_workers = workers or default_workers()
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log
    return solver


def phase(name: str, solver: cp_model.CpSolver, status: cp_model.CpSolverStatus, seconds: float) -> Phase:
    """Summarise one CP-SAT run."""
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return Phase(
        name=name,
        status=solver.status_name(status),
        seconds=seconds,
        objective=solver.objective_value if found else math.nan,
        bound=solver.best_objective_bound,
    )


@dataclass
class Search:
    """Settings shared by the CP-SAT phases of one :func:`solve` call, and their record."""

    deadline: float
    workers: int | None
    seed: int
    log: bool
    phases: list[Phase] = field(default_factory=list)

    def solver(self, seconds: float) -> cp_model.CpSolver:
        """A solver for a phase of at most ``seconds``."""
        return make_solver(seconds, self.workers, self.seed, self.log)


def full_model_settles(inst: Instance, pairs: Pairs, both_levels: bool, refine: bool) -> bool:
    """Whether the levels after a proved coverage are settled on the full model (which must
    then be built) rather than by neighbourhoods (:func:`matcher.lns.polish`).

    The full model is used where it solves them in its budget (up to
    :data:`FULL_POLISH_MAX_PAIRS` pairs), and where neighbourhoods may not go: a re-solve's
    move budget spans the whole plan.  Nothing is needed when both levels are proved and
    level 3 is not asked for.
    """
    if both_levels and not refine:
        return False
    return not refine or inst.move_budget is not None or len(pairs) <= FULL_POLISH_MAX_PAIRS


def settle_lower_levels(
    inst: Instance,
    pairs: Pairs,
    lm: LinliModel | None,
    chosen: greedy.Chosen,
    search: Search,
    both_levels: bool,
    refine: bool,
    seed: int,
) -> None:
    """Once coverage is proved: level 2 if not proved with it, then level 3 if ``refine``.

    Updates ``chosen`` in place.  On the full model (see :func:`full_model_settles`) each
    level is one CP-SAT phase with the levels before it fixed; otherwise one neighbourhood
    search does both (at 300 volunteers the full model's phases found nothing in their
    half second each, its presolve alone taking longer).  Either way for at most half the
    time the proof took, at least :data:`MIN_POLISH_S`.
    """
    if not full_model_settles(inst, pairs, both_levels, refine):
        if not refine:
            return
        t = time.perf_counter()
        budget = polish_budget(search)
        if budget <= 0.01:
            return
        stats = lns.LNSStats()
        found = lns.polish(inst, pairs, chosen, Deadline(t + budget), seed=seed, stats=stats)
        chosen.clear()
        chosen.update(found)
        search.phases.append(
            Phase(
                name="continuity+travel+load (neighbourhoods)",
                status=f"{stats.improved} of {stats.steps} steps improved",
                seconds=time.perf_counter() - t,
                objective=math.nan,
                bound=math.nan,
            )
        )
        return
    if lm is None:
        try:
            lm = build(inst, pairs, Deadline(search.deadline))
        except OutOfTimeError:
            return  # out of time: the proved plan stands
    if not both_levels and lm.secondary_max:
        keep_secondary(lm, chosen, search)
    if refine:
        polish(lm, chosen, search)


def keep_secondary(lm: LinliModel, chosen: greedy.Chosen, search: Search) -> None:
    """Level 2 on its own: coverage fixed at its proved optimum, maximise continuity.

    (For a re-solve, the stays and backs that rank above continuity too.)
    """
    lm.model.add(lm.coverage >= coverage_units(lm.vars.inst, chosen))
    lm.model.maximize(lm.secondary)
    follow_up("continuity", lm, chosen, search)


def polish(lm: LinliModel, chosen: greedy.Chosen, search: Search) -> None:
    """Level 3: keep the levels 1-2 values reached, minimise travel and load spread."""
    lm.model.add(lm.coverage >= coverage_units(lm.vars.inst, chosen))
    lm.model.add(lm.secondary >= lm.secondary_of(chosen))
    lm.model.minimize(lm.polish())
    follow_up("travel+load", lm, chosen, search)


Assigned = dict[int, tuple[int, tuple[int, ...]]]
"""need index -> (volunteer index, slot indexes): a plan independent of any pair numbering."""


def volunteers_of(pairs: Pairs, chosen: greedy.Chosen) -> Assigned:
    """A plan over ``pairs`` with volunteers instead of pair indexes."""
    return {n: (int(pairs.vol[p]), slots) for n, (p, slots) in chosen.items()}


def continuity_units(inst: Instance, assigned: Assigned) -> int:
    """Previous pairs served again by a set of assignments."""
    served = {(vol, int(inst.need_ben[n])) for n, (vol, _) in assigned.items()}
    return len(set(inst.previous) & served)


def polish_budget(search: Search) -> float:
    """Seconds for a phase after the proof: half the first phase's, at least
    :data:`MIN_POLISH_S`, never past the deadline."""
    first = search.phases[0].seconds if search.phases else 0.0
    return min(search.deadline - time.perf_counter(), max(MIN_POLISH_S, first / 2))


def follow_up(name: str, lm: LinliModel, chosen: greedy.Chosen, search: Search) -> None:
    """Run a later phase, hinted with ``chosen``, for at most half the time phase 1 took.

    Updates ``chosen`` in place when CP-SAT finds a plan; the constraints already added
    keep every earlier level at least as good.
    """
    budget = polish_budget(search)
    if budget <= 0.01:
        return
    hint(lm, chosen)
    solver = search.solver(budget)
    t = time.perf_counter()
    status = solver.solve(lm.model)
    search.phases.append(phase(name, solver, status, time.perf_counter() - t))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen.clear()
        chosen.update(extract(lm, solver))


def to_plan(
    inst: Instance,
    assigned: Assigned,
    coverage_units: int,
    bound_units: int,
    seconds: float,
) -> Plan:
    """Write the format-1 plan: assignments and unmet needs in problem order.

    Unmet needs are explained on ``inst`` as given: pass the instance without fixed
    assignments, so that time a fixed assignment holds reads as ``capacity_taken``.
    """
    problem = inst.problem
    assignments: list[Assignment] = []
    unmet: list[Unmet] = []
    candidates = Candidates(inst)
    for n, need in enumerate(problem.needs):
        got = assigned.get(n)
        if got is None:
            unmet.append(Unmet(need=need.id, reasons=static_reasons(inst, n, candidates)))
            continue
        v, slots = got
        vol = problem.volunteers[v].id
        assignments.append(
            Assignment(need=need.id, volunteer=vol, slots=[inst.slots[s] for s in sorted(slots)])
        )
    continuity = continuity_units(inst, assigned)
    return Plan(
        format=1,
        status="optimal" if coverage_units == bound_units else "feasible",
        assignments=assignments,
        unmet=unmet,
        objective=Objective(
            coverage=number(inst.coverage(coverage_units)),
            coverage_bound=number(inst.coverage(bound_units)),
            continuity=continuity,
        ),
        solve_seconds=round(seconds, 3),
    )
