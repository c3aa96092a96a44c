"""Proving levels 1-2 at station size: closing the columns' gap, HiGHS, CP-SAT.

Where column generation (:mod:`matcher.search.colgen`) leaves its plan below its bound,
:func:`close_gap` tries the coverage-only master, branch-and-price on it
(:mod:`matcher.search.branch`) and the pool MIP; what is still open goes to the full model's
levels 1-2, solved by HiGHS (:func:`prove_with_highs`, on the MIP exported by
:mod:`matcher.search.mip`) or CP-SAT (:func:`prove_with_cpsat`), which stop once coverage alone
is proved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from matcher.clock import Budget, Deadline, OutOfTimeError
from matcher.model.evaluate import LexObjective, coverage_units, primary_of
from matcher.model.full import LinliModel
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, IndexedPlan
from matcher.progress import CheckIn
from matcher.search import branch, colgen
from matcher.search.mip import solve_input
from matcher.search.portfolio import Progress, SearchBeside
from matcher.search.prebuild import Prebuilt
from matcher.search.trace import Phase, Search, phase
from matcher.search.transfer import extract, extract_indexed


def close_gap(
    inst: Instance,
    pairs: Pairs,
    cg: colgen.ColgenResult,
    chosen: Chosen,
    bound_units: int,
    weight: int,
    search: Search,
    work: Budget,
    check_in: CheckIn | None = None,
) -> tuple[Chosen, int, list[int], colgen.ColgenResult | None]:
    """Where the columns' plan falls short of their bound: a tighter bound, a better plan.

    In turn, each only while the gap stays open: the coverage-only master's bound;
    branch-and-price on that master; the pool of best sets per pair (and the pairs in no
    better plan, for HiGHS).  Each gets a share of the time left in ``work`` (the search's
    budget), as ``search.params`` says.

    ``check_in`` (see :data:`matcher.progress.CheckIn`; None: nobody asked, nothing is
    computed for it) hears the coverage-only master's bound round by round (stage
    ``columns``), branch-and-price's plan and bound node by node (``branch``: its plan is
    taken whatever follows, and its bound is returned), and a heartbeat while the pool is
    priced (``pool``).

    Returns
    -------
    tuple
        The best plan, the coverage bound (units), the pairs HiGHS may fix to zero and
        the coverage-only master (for branch-and-price again beside HiGHS; None when
        that would repeat the first search: same plan to start from, no more time).
    """
    params = search.params
    zero: list[int] = []
    master = None
    searched = 0.0  # seconds the first branch-and-price was given
    started_from = -1  # coverage units of the plan it started from

    try:
        covered = coverage_units(inst, chosen)
        # The primary bound carries some continuity on top of coverage; the coverage-only
        # master, from the same columns, may be lower (and then often proves the plan).
        on_round = None if check_in is None else lambda bound: check_in("columns", None, bound)
        master = cg.coverage_master(
            inst, pairs, covered, bound_units, work.share(params.coverage_share), on_round
        )
        if master is not None and master.bound is not None:
            bound_units = min(bound_units, master.bound)
        elif master is not None:
            master = None  # out of time before a pricing round: not every volunteer is in it
        if master is not None and covered < bound_units:
            # Branch-and-price on that master (odd-cycle cuts at its root, then branching)
            # settles most of what is left in a few nodes, finding the plan on the way.
            searched = work.seconds(params.branch_first_share, params.branch_first_s)
            started_from = covered
            on_node = None if check_in is None else lambda found, bound: check_in("branch", found, bound)
            first = branch.prove_coverage(
                inst, master, covered, Deadline.after(searched), params=params, on_node=on_node
            )
            search.phases.append(branch_phase(first))
            chosen, bound_units = take_branched(inst, first, chosen, bound_units)
            covered = coverage_units(inst, chosen)
        if covered < bound_units:
            # Per pair, a bound on the plans that use it; the best set holding each pair
            # that may still pay makes a pool of columns whose MIP often finds the plan
            # the columns' own MIP missed (then the bound proves it).
            better = weight * (covered + 1)
            tick = None if check_in is None else lambda: check_in("pool", None, None)
            bounds = cg.pair_bounds(better, work.deadline, tick)
            chosen = bounds.plan(
                inst, chosen, better, weight * bound_units, work.share(params.pool_share, params.pool_max_s)
            )
            # Pairs in no plan of higher coverage than ``chosen``'s: the full model's
            # search need not consider them.
            zero = bounds.zero(weight * (coverage_units(inst, chosen) + 1))
            if coverage_units(inst, chosen) <= started_from and searched >= params.branch_s:
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
    inst: Instance, branched: branch.BranchResult, chosen: Chosen, bound_units: int
) -> tuple[Chosen, int]:
    """A branch-and-price search's outcome taken: its plan where it covers more than
    ``chosen``, its bound (proved optimal, or the open nodes' when cut short)."""
    if branched.found is not None and coverage_units(inst, branched.found) > coverage_units(inst, chosen):
        chosen = branched.found
    if branched.proved:
        bound_units = min(bound_units, branched.best)
    elif branched.bound is not None:
        bound_units = min(bound_units, branched.bound)
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
    :func:`matcher.search.refine.keep_secondary` does on a smaller budget.
    """

    def __init__(self, solver: cp_model.CpSolver, lex: LexObjective) -> None:
        super().__init__()
        self._solver = solver
        self._lex = lex
        self._best: float = -math.inf
        self._bound: float = math.inf
        solver.best_bound_callback = self._on_bound

    def coverage_of(self, objective: float) -> int:
        """Coverage units of a primary objective value."""
        return self._lex.coverage_of(objective)

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
        return self._lex.coverage_bound(bound)

    def on_solution_callback(self) -> None:
        """Record the new best plan and stop if its coverage meets the bound."""
        self._best = max(self._best, self.objective_value)
        self._bound = min(self._bound, self.best_objective_bound)
        self._check()

    def _on_bound(self, bound: float) -> None:
        self._bound = min(self._bound, bound)
        self._check()

    def _check(self) -> None:
        if self._best > -math.inf and self.coverage_of(self._best) >= self._lex.coverage_bound(self._bound):
            self._solver.stop_search()


def prove_with_cpsat(lm: LinliModel, search: Search) -> tuple[Chosen | None, int | None, bool]:
    """Levels 1-2 with CP-SAT: (plan found, proved coverage bound, both levels proved)."""
    solver = search.solver(Deadline(search.deadline).remaining())
    watch = CoverageProof(solver, lm.lex)
    t = time.perf_counter()
    status = solver.solve(lm.model, watch)
    search.phases.append(phase("coverage+continuity", solver, status, time.perf_counter() - t))
    found = extract(lm, solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    return found, watch.coverage_bound(status), status == cp_model.OPTIMAL


def take_better(
    searching: SearchBeside, inst: Instance, pairs: Pairs, lex: LexObjective, plan: IndexedPlan
) -> IndexedPlan:
    """Stop the search beside the proof; its plan if better than ``plan`` on levels 1-2."""
    searched = IndexedPlan.from_chosen(inst, pairs, searching.result())
    if primary_of(inst, searched, lex) > primary_of(inst, plan, lex):
        return searched
    return plan


def prove_with_highs(
    inst: Instance,
    pairs: Pairs,
    prebuilt: Prebuilt,
    search: Search,
    best: Progress,
    settled: Callable[[], bool] | None = None,
    tick: Callable[[], None] | None = None,
) -> tuple[Chosen | None, int | None, bool]:
    """Levels 1-2 with HiGHS on the exported model (see :mod:`matcher.search.mip`).

    ``best``: coverage of the best valid plan known, updated as a search beside HiGHS
    goes; HiGHS stops once its bound proves that coverage optimal, or once it is enough.

    ``settled``: whether coverage was settled elsewhere meanwhile (HiGHS then stops).

    ``tick``: called from HiGHS's callback on this thread, to say the proof is still going
    (the caller's progress heartbeat; HiGHS's own figures are not passed on, since they
    count only once checked against the values it returns).

    With pairs fixed to zero in ``prebuilt`` (see :meth:`matcher.search.colgen.PairBounds.zero`)
    the bound returned holds only for the plans without them.
    """
    # HiGHS checks its clock between presolve passes and cut rounds, and was seen to
    # overrun by ~0.7 s on a 9 s limit: it gets a tenth less than the time left.
    seconds = search.params.highs_time_share * Deadline(search.deadline).remaining()
    lex = prebuilt.lex

    def coverage_settled(value: float, bound: float) -> bool:
        # Coverage is proved once the bound leaves no room for one more unit of it
        # beyond the best plan's, HiGHS's or one found beside it (HiGHS may not be able
        # to take those with zero pairs); continuity is then settled by the lower levels.
        covered = lex.coverage_bound(value) if math.isfinite(value) else -1
        if tick is not None:
            tick()
        if settled is not None and settled():
            return True
        return best.report(covered) or lex.coverage_bound(bound) <= best.covered

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
        proved = lex.coverage_bound(result.bound)
    return found, proved, result.optimal
