"""The same model as an exact MIP for HiGHS, read from the CP-SAT proto.

At station size HiGHS's branch-and-cut proves Linli's model two to three times faster
than CP-SAT on two cores (300 volunteers: 3-9 s against 10-13 s), so :func:`matcher.solve.solve`
proves levels 1-2 with it and keeps CP-SAT for neighbourhoods and polishing.  The export
is exact for the constraint kinds Linli's model uses (linear rows, at-most-one,
exactly-one, and clauses or conjunctions with at most one enforcement literal) and refuses
anything else, so the MIP can never silently be a relaxation.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from matcher.model.instance import FloatArray

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_KINDS = ("linear", "at_most_one", "exactly_one", "bool_and", "bool_or")


@dataclass
class MipResult:
    """What HiGHS found: variable values (None if no plan), objective and proved bound.

    ``objective`` and ``bound`` are in the CP-SAT model's own terms (maximised).
    """

    optimal: bool
    values: FloatArray | None
    objective: float
    bound: float | None
    seconds: float


def _bound(value: int) -> float:
    return -math.inf if value <= INT64_MIN + 1 else math.inf if value >= INT64_MAX - 1 else float(value)


def _literal(lit: int) -> tuple[int, float, float]:
    """(variable, coefficient, constant) of a literal: ``x`` or ``1 - x``."""
    return (lit, 1.0, 0.0) if lit >= 0 else (-lit - 1, -1.0, 1.0)


def _kind(ct: object) -> str:
    for kind in _KINDS:
        if getattr(ct, f"has_{kind}")():
            return kind
    raise NotImplementedError("constraint kind not supported by the MIP export")


class _Rows:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.data: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, terms: list[tuple[int, float, float]], lo: float, hi: float) -> None:
        """Add ``lo <= sum(coef * var + const) <= hi``."""
        const = sum(t[2] for t in terms)
        r = len(self.lo)
        for var, coef, _ in terms:
            self.rows.append(r)
            self.cols.append(var)
            self.data.append(coef)
        self.lo.append(lo - const)
        self.hi.append(hi - const)


Exported = tuple[sp.csc_matrix, FloatArray, FloatArray, FloatArray, FloatArray]
"""What :func:`export` returns: ``(A, row_lo, row_hi, col_lo, col_hi)``."""


def export(model: cp_model.CpModel) -> Exported:
    """The model's constraints as ``row_lo <= A x <= row_hi`` with column bounds.

    Returns
    -------
    tuple
        ``(A, row_lo, row_hi, col_lo, col_hi)``, ``A`` in CSC form.
    """
    proto = model.proto
    # The proto wrapper does not support negative indexes: take the last item by length.
    col_lo = np.array([_bound(v.domain[0]) for v in proto.variables])
    col_hi = np.array([_bound(v.domain[len(v.domain) - 1]) for v in proto.variables])
    rows = _Rows()
    for ct in proto.constraints:
        kind = _kind(ct)
        enforced = [_literal(e) for e in ct.enforcement_literal]
        if len(enforced) > 1 or (enforced and kind not in ("bool_and", "bool_or")):
            raise NotImplementedError(f"{kind} with {len(enforced)} enforcement literals")
        if kind == "bool_and":
            for lit in ct.bool_and.literals:
                if enforced:  # e => lit:  lit - e >= 0
                    e_var, e_coef, e_const = enforced[0]
                    rows.add([_literal(lit), (e_var, -e_coef, -e_const)], 0.0, math.inf)
                else:
                    rows.add([_literal(lit)], 1.0, 1.0)
        elif kind == "bool_or":
            terms = [_literal(lit) for lit in ct.bool_or.literals]
            if enforced:  # e => OR(lits):  sum(lits) - e >= 0
                e_var, e_coef, e_const = enforced[0]
                rows.add([*terms, (e_var, -e_coef, -e_const)], 0.0, math.inf)
            else:
                rows.add(terms, 1.0, math.inf)
        elif kind in ("at_most_one", "exactly_one"):
            terms = [_literal(lit) for lit in getattr(ct, kind).literals]
            rows.add(terms, -math.inf if kind == "at_most_one" else 1.0, 1.0)
        else:
            dom = ct.linear.domain
            if len(dom) != 2:
                raise NotImplementedError("linear constraint with a domain of several intervals")
            terms = [(v, float(c), 0.0) for v, c in zip(ct.linear.vars, ct.linear.coeffs, strict=True)]
            rows.add(terms, _bound(dom[0]), _bound(dom[1]))
    a = sp.csc_matrix((rows.data, (rows.rows, rows.cols)), shape=(len(rows.lo), len(col_lo)))
    return a, np.array(rows.lo), np.array(rows.hi), col_lo, col_hi


def limit_time(h: highspy.Highs, seconds: float) -> None:
    """Let ``h``'s next ``run()`` take about ``seconds`` (at least 0.01).

    HiGHS compares its ``time_limit`` option with the object's run time summed over all
    its runs, not the next run's: an object that solves LP after LP (column generation,
    branch-and-price) would otherwise stop at once, as out of time, after a while.
    """
    h.setOptionValue("time_limit", h.getRunTime() + max(0.01, seconds))


def run_highs(h: highspy.Highs) -> highspy.HighsStatus:
    """``h.run()``, on the thread pool this process already has if its size differs.

    HiGHS keeps one thread scheduler per process, sized by the first run's ``threads``
    option; a later run asking for another size fails at once (``kError``, no solution, no
    duals) instead of solving.  A job worker or a benchmark solves many problems in one
    process, with ``threads`` 1 for column generation's LPs and the caller's ``workers`` for
    branch-and-cut, so a run that is refused for that reason runs again with ``threads`` 0
    (HiGHS's "whatever the scheduler has"): the answer is the same, only the pool's size is not
    the one asked for.  Every HiGHS run of the engine and the benchmarks goes through here
    (``tests/engine/search/test_highs_threads.py`` checks that no other ``run()`` is left).
    """
    status = h.run()
    if status == highspy.HighsStatus.kError and h.getOptionValue("threads")[1] != 0:
        h.setOptionValue("threads", 0)
        status = h.run()
    return status


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing.

    highspy 1.16 writes its banner to file descriptor 1 when the object is created, before
    any option can be set; ``linli solve`` writes the plan to stdout, so the banner is sent
    to /dev/null for that instant.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


_BOUND_HOLDS = {
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kTimeLimit,
    highspy.HighsModelStatus.kInterrupt,
    highspy.HighsModelStatus.kIterationLimit,
    highspy.HighsModelStatus.kSolutionLimit,
    highspy.HighsModelStatus.kObjectiveTarget,
}
"""HiGHS statuses after which its MIP dual bound is a bound."""


@dataclass
class MipInput:
    """A model as HiGHS takes it: ``row_lo <= A x <= row_hi``, column bounds, a cost to
    minimise and (optionally) a start; the model's objective is ``scale x (cost @ x + offset)``.

    Plain arrays, so a process that built the model can hand it to another.
    """

    a: sp.csc_matrix
    row_lo: FloatArray
    row_hi: FloatArray
    col_lo: FloatArray
    col_hi: FloatArray
    cost: FloatArray
    scale: float
    offset: float
    start: FloatArray | None


def mip_input(
    model: cp_model.CpModel,
    zero: list[int] | None = None,
    exported: Exported | None = None,
) -> MipInput:
    """The model's objective and constraints for HiGHS, started from the model's hint.

    Parameters
    ----------
    model
        A CP-SAT model with an objective and (optionally) a complete solution hint.
    zero
        Variables fixed to 0, except those the hint sets (see :func:`solve_mip`).
    exported
        :func:`export` of the model, when already computed (it is the costly part).
    """
    proto = model.proto
    a, row_lo, row_hi, col_lo, col_hi = exported if exported is not None else export(model)
    col_hi = col_hi.copy()
    n = a.shape[1]
    hinted = len(proto.solution_hint.vars) == n
    start_values = np.zeros(n)
    if hinted:
        start_values[list(proto.solution_hint.vars)] = list(proto.solution_hint.values)
    if zero:
        fixed = np.asarray(zero, dtype=np.int64)
        # The start's own nonzero variables stay free, so the start stays feasible: HiGHS
        # 1.16 "repairs" an infeasible start by a sub-MIP and then reports that sub-MIP's
        # optimum as the whole model's (caught below, but only by solving again).
        col_hi[fixed[start_values[fixed] == 0]] = 0.0
    cost = np.zeros(n)
    for var, coef in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
        cost[var] = coef
    # CP-SAT keeps "maximise f" as "minimise -f" with scaling_factor -1.
    return MipInput(
        a=a,
        row_lo=row_lo,
        row_hi=row_hi,
        col_lo=col_lo,
        col_hi=col_hi,
        cost=cost,
        scale=proto.objective.scaling_factor or 1.0,
        offset=proto.objective.offset,
        start=start_values if hinted else None,
    )


def solve_mip(
    model: cp_model.CpModel,
    time_limit: float,
    threads: int = 1,
    zero: list[int] | None = None,
    stop: Callable[[float, float], bool] | None = None,
) -> MipResult:
    """Solve the model's objective exactly with HiGHS, starting from the model's hint.

    Parameters
    ----------
    model
        A CP-SAT model with an objective and (optionally) a complete solution hint.
    time_limit
        Seconds for HiGHS, the export included.
    threads
        HiGHS threads.
    zero
        Variables fixed to 0 for this solve, except those the hint sets (the result then
        holds for the model with them fixed: its bound is a bound for the plans that leave
        them out).
    stop
        Called with the model objective's best value (``-inf`` before a plan) and bound as
        HiGHS goes; HiGHS stops when it returns True (the result has the bound reached so far).

    Returns
    -------
    MipResult
        ``optimal`` when HiGHS closed the gap (the objective is integral, so an absolute
        gap below 1 is a proof).
    """
    started = time.perf_counter()
    inp = mip_input(model, zero)
    return solve_input(inp, time_limit - (time.perf_counter() - started), threads, stop)


def solve_input(
    inp: MipInput,
    time_limit: float,
    threads: int = 1,
    stop: Callable[[float, float], bool] | None = None,
) -> MipResult:
    """Solve a :class:`MipInput` exactly with HiGHS (see :func:`solve_mip`)."""
    started = time.perf_counter()
    a, cost, scale, offset = inp.a, inp.cost, inp.scale, inp.offset
    n = a.shape[1]
    hinted = inp.start is not None

    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = inp.col_lo
    lp.col_upper_ = inp.col_hi
    lp.row_lower_ = inp.row_lo
    lp.row_upper_ = inp.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = quiet_highs()
    h.passModel(lp)
    h.setOptionValue("time_limit", max(0.01, time_limit - (time.perf_counter() - started)))
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.999)  # integral objective: a gap below 1 is closed
    if inp.start is not None:
        # Feasibility jump only looks for a first plan, which the start is: off, it saved
        # about 5% of HiGHS's time over ten 300-volunteer proofs.
        h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        start = highspy.HighsSolution()
        start.col_value = inp.start
        h.setSolution(start)
    if stop is not None:

        def interrupt(event: highspy.highs.HighsCallbackEvent) -> None:
            out = event.data_out
            # Before its first plan and root bound HiGHS reports infinities.
            value = (
                scale * (out.mip_primal_bound + offset) if math.isfinite(out.mip_primal_bound) else -math.inf
            )
            if math.isfinite(out.mip_dual_bound) and stop(value, scale * (out.mip_dual_bound + offset)):
                event.interrupt()

        h.cbMipInterrupt.subscribe(interrupt)
    for attempt in range(2):
        run_highs(h)
        info = h.getInfo()
        status = h.getModelStatus()
        found = info.primal_solution_status == 2  # kSolutionStatusFeasible
        values_out = np.asarray(h.getSolution().col_value) if found else None
        # A bound only from a run that ended normally: after an error HiGHS reports 0.
        bound = info.mip_dual_bound if status in _BOUND_HOLDS else math.nan
        # The objective of the values returned, not HiGHS's report: with a MIP start, HiGHS
        # 1.16 can report the optimum yet return the start (whose value it mis-mapped in
        # presolve), so "optimal" is claimed only when the values reach the bound.
        value = float(cost @ np.round(values_out)) if values_out is not None else math.inf
        reaches = math.isfinite(bound) and value <= bound + 0.5
        left = time_limit - (time.perf_counter() - started)
        if attempt or reaches or not hinted or status != highspy.HighsModelStatus.kOptimal or left <= 0.01:
            break
        # Optimal, yet the values are the start's: solve again without it.
        h.clearSolver()
        limit_time(h, left)
    return MipResult(
        optimal=status == highspy.HighsModelStatus.kOptimal and reaches,
        values=values_out,
        objective=scale * (value + offset) if found else -math.inf,
        bound=scale * (bound + offset) if math.isfinite(bound) else None,
        seconds=h.getRunTime(),
    )


def lp_dual_bound(inp: MipInput, time_limit: float) -> float | None:
    """A proved upper bound on the model's (maximised) objective from its LP relaxation's duals.

    HiGHS solves the LP relaxation (no integrality) within ``time_limit`` seconds; whatever row
    multipliers ``y`` it returns, optimal or not, give an exact Lagrangian bound: for every
    ``x`` in the column bounds with ``row_lo <= A x <= row_hi``,
    ``cost @ x = (cost - A^T y) @ x + y @ A x`` is at least
    ``sum_j min(d_j lo_j, d_j hi_j) + sum_i min(y_i row_lo_i, y_i row_hi_i)``
    (a multiplier whose side is unbounded is taken as 0), so the bound never rests on the LP
    being solved to tolerance, nor on its finishing: an interrupted dual simplex's multipliers
    give a (looser) bound too.  None when HiGHS returned no duals.
    """
    started = time.perf_counter()
    a = inp.a
    if not np.any(inp.cost):
        return inp.scale * inp.offset  # a constant objective (nothing can be covered)
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = inp.cost
    lp.col_lower_ = inp.col_lo
    lp.col_upper_ = inp.col_hi
    lp.row_lower_ = inp.row_lo
    lp.row_upper_ = inp.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h = quiet_highs()
    h.passModel(lp)
    h.setOptionValue("time_limit", max(0.01, time_limit - (time.perf_counter() - started)))
    h.setOptionValue("threads", 1)
    # Without presolve the dual simplex's multipliers are the model's own even when the time
    # limit stops it (with presolve an interrupted run has none), and each gives a bound; at
    # station size it was also faster (2.0-2.6 s against 2.9-4.5 s).
    h.setOptionValue("presolve", "off")
    run_highs(h)
    solution = h.getSolution()
    if not solution.dual_valid:
        return None
    y = np.asarray(solution.row_dual, dtype=float)
    if len(y) != a.shape[0]:
        return None
    return lagrangian_bound(inp, y)


def lagrangian_bound(inp: MipInput, y: FloatArray) -> float | None:
    """The upper bound on the model's (maximised) objective that row multipliers ``y`` prove.

    Valid for any ``y`` (see :func:`lp_dual_bound`); None when the model is not a maximisation
    or a column is unbounded.
    """
    a = inp.a
    if not np.any(inp.cost):
        return inp.scale * inp.offset  # a constant objective (nothing can be covered)
    y = np.asarray(y, dtype=float)
    y = np.where((y > 0) & ~np.isfinite(inp.row_lo), 0.0, y)
    y = np.where((y < 0) & ~np.isfinite(inp.row_hi), 0.0, y)
    rows = np.where(y > 0, y * np.where(np.isfinite(inp.row_lo), inp.row_lo, 0.0), 0.0) + np.where(
        y < 0, y * np.where(np.isfinite(inp.row_hi), inp.row_hi, 0.0), 0.0
    )
    d = inp.cost - a.T @ y
    if not (np.all(np.isfinite(inp.col_lo)) and np.all(np.isfinite(inp.col_hi))):
        return None
    cols = np.minimum(d * inp.col_lo, d * inp.col_hi)
    low = float(math.fsum(rows) + math.fsum(cols))  # min cost @ x >= low
    if not math.isfinite(low) or inp.scale >= 0:
        return None  # a maximised model keeps "minimise -f" (scale -1); nothing else is bounded here
    return inp.scale * (low + inp.offset)
