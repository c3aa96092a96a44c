"""Upper bound on coverage: the LP relaxation of the natural model, solved with HiGHS.

The *natural model* of FORMAT.md has, for every eligible (volunteer, need) pair, a variable
``x[v,n]`` (v takes n) and, for every slot ``s`` usable by the pair (in the need's windows
and the volunteer's availability), ``y[v,n,s]`` (a session of n by v in s); ``z[v,b]`` says
that v serves beneficiary b.  Relaxed to ``[0, 1]``:

* ``sum_v x[v,n] <= 1`` per need (rule 1);
* ``sum_s y[v,n,s] = sessions_n x[v,n]`` and ``y[v,n,s] <= x[v,n]`` (rules 1, 3);
* ``sum_n y[v,n,s] <= 1`` per volunteer and slot (rule 4);
* ``sum_n hours_n sessions_n x[v,n] <= max_hours_v`` (rule 5);
* ``x[v,n] <= z[v,b]`` and ``sum_b z[v,b] <= max_beneficiaries_v`` (rule 6);

maximising ``sum priority x hours x sessions x[v,n]``.  A pair exists only if it passes the
static rules (skill, certificates valid on ``week_start`` + 6 days, reach, minors, gender,
exclusions, at least ``sessions`` usable slots, ``hours x sessions <= max_hours`` and
``max_beneficiaries >= 1``); :func:`eligible_pairs` computes them, vectorised per (district,
service) block, from the arrays of :class:`matcher.model.instance.Instance` only, so the bound
does not depend on the engine's eligibility code.

**Exact reductions.**  Rows and columns that cannot change the LP optimum are left out: the
need row of a need with one pair, the hours row of a volunteer whose candidate hours all
fit, the rule-6 row of a volunteer with no more candidate beneficiaries than
``max_beneficiaries``, a volunteer-slot row with one entry, ``y <= x`` when ``sessions`` is 1
(implied by the sum); the ``y`` of a pair with exactly ``sessions`` usable slots, which the
rows force to equal ``x``; and ``z[v,b]`` when v has one candidate need of b (``z = x`` is
then optimal, so ``x`` stands in for it).

**Solving.**  A city has hundreds of thousands of pairs (470,184 at 4,000 volunteers, seed 1: an LP
of 1.3 million columns and 0.6 million rows after the reductions).  Measured there (2 cores):
neither HiGHS's dual simplex nor its interior point method (IPX without crossover; its
presolve alone took 150 s) finished within 600 s, and column generation over the pairs fared
no better (restricted LPs of 170,000 columns took the dual simplex 9 minutes); HiGHS's
first-order solver PDLP met a relative tolerance of 1e-4 in 130-145 s (not its default 1e-7,
nor 1e-5, within 600 s), with a bound 1e-6 above its primal objective.  So a small LP (at most
:data:`SIMPLEX_MAX_COLUMNS` columns) is solved exactly by the dual simplex, and a larger one
by PDLP to :data:`PDLP_TOLERANCE`.

**The bound is a dual value.**  Whatever solver and tolerance, the bound returned is computed
from HiGHS's row duals: dualising the coupling rows (needs, volunteer slots, hours,
beneficiaries) with multipliers ``lambda, mu, pi, rho >= 0`` leaves one small problem per
(volunteer, beneficiary) whose optimum is closed-form, so

    L = sum lambda_n + sum mu_vs + sum pi_v max_hours_v + sum rho_v max_beneficiaries_v
        + sum_(v,b) max(0, sum_(n of b) max(0, profit_vn) - rho_v)

with ``profit_vn = value_n - lambda_n - pi_v load_n - (the sessions_n smallest mu_vs over
the pair's usable slots)`` is an upper bound on coverage for *any* multipliers (Lagrangian
duality), and equals the LP optimum at optimal duals.  An approximate solution (PDLP's, or
a simplex's within its tolerances) therefore still gives a valid bound, slightly above the
LP optimum (by about the solver's duality gap).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from matcher.format.schema import Problem
from matcher.model.instance import BoolArray, FloatArray, Instance, IntArray
from matcher.search.mip import run_highs

__all__ = [
    "LpModel",
    "LpReport",
    "Multipliers",
    "NaturalPairs",
    "Structure",
    "build_lp",
    "eligible_pairs",
    "lp_bound",
    "lp_bound_report",
    "price",
    "solve_lp",
]

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 600.0
"""Seconds for the whole computation before the bound is given up (``None``)."""
PDLP_TOLERANCE = 1e-4
"""Relative tolerance (duality gap, infeasibilities) at which PDLP stops on large LPs."""
SOLVER_OPTIONS: dict[str, dict[str, str | int | float]] = {
    "dual-simplex": {"solver": "simplex", "simplex_strategy": 1},
    # HiGHS re-checks PDLP's answer against its feasibility tolerances (default 1e-7) and
    # calls it "Unknown" unless they are as loose as PDLP's own.
    "pdlp": {
        "solver": "pdlp",
        "presolve": "off",
        "pdlp_optimality_tolerance": PDLP_TOLERANCE,
        "primal_feasibility_tolerance": PDLP_TOLERANCE,
        "dual_feasibility_tolerance": PDLP_TOLERANCE,
    },
    "ipm": {"solver": "ipm", "run_crossover": "off", "presolve": "off"},
}
"""HiGHS settings by name (``ipm`` is kept for comparison: it was slower than PDLP)."""
SIMPLEX_MAX_COLUMNS = 200_000
"""Reduced LPs up to this many columns are solved by the dual simplex, larger ones by PDLP."""
PRICE_CHUNK = 500_000
"""Pairs priced at once (bounds the memory of the slot-cost sort)."""


@dataclass
class NaturalPairs:
    """Eligible (volunteer, need) pairs of the natural model.

    Pair ``p`` links volunteer ``vol[p]`` to need ``need[p]``; ``usable[p, s]`` says slot
    ``s`` is in both the need's windows and the volunteer's availability.  Pairs are sorted
    by volunteer, then need.
    """

    vol: IntArray
    need: IntArray
    usable: BoolArray

    def __len__(self) -> int:
        return len(self.vol)


def eligible_pairs(inst: Instance) -> NaturalPairs:
    """Apply every static rule to every (volunteer, need) pair, one block per district and service.

    Parameters
    ----------
    inst
        The compiled problem.

    Returns
    -------
    NaturalPairs
        The pairs that can be part of some valid plan on their own.
    """
    n_slots = len(inst.slots)
    need_district = inst.ben_district[inst.need_ben]
    blocks: defaultdict[tuple[int, str], list[int]] = defaultdict(list)
    for n, (d, service) in enumerate(zip(need_district.tolist(), inst.need_service, strict=True)):
        blocks[(d, service)].append(n)
    requires = np.zeros((inst.n_needs, inst.vol_cert.shape[1]), dtype=np.int64)
    for n, kinds in enumerate(inst.need_requires):
        requires[n, kinds] = 1
    lacks = (~inst.vol_cert).astype(np.int64)  # lacks[v, k]: no valid certificate of kind k
    avail = inst.vol_avail.astype(np.int64)
    windows = inst.need_win.astype(np.int64)
    need_gender = inst.ben_gender[inst.need_ben]

    vols: list[IntArray] = []
    needs: list[IntArray] = []
    for (d, service), members in blocks.items():
        skilled = inst.vol_skill.get(service)
        if skilled is None:
            continue  # rule 2: nobody has the skill
        cand = np.flatnonzero(skilled & inst.reach[inst.vol_district, d])  # rules 2, 7
        if len(cand) == 0:
            continue
        ns = np.asarray(members, dtype=np.int64)
        ok = (requires[ns] @ lacks[cand].T) == 0  # rule 2: every required certificate held
        ok &= inst.need_minor_ok[ns, None] | ~inst.vol_minor[None, cand]  # rule 8
        wanted = need_gender[ns, None]
        ok &= (wanted == 0) | (inst.vol_gender[None, cand] == wanted)  # rule 9
        ok &= (windows[ns] @ avail[cand].T) >= inst.need_sessions[ns, None]  # rules 1, 3
        ok &= inst.vol_cap[None, cand] >= inst.need_load[ns, None]  # rule 5, one need alone
        ok &= inst.vol_max_ben[None, cand] >= 1  # rule 6
        for i, n in enumerate(members):  # rule 9: exclusions (rare)
            excluded = inst.ben_excluded[inst.need_ben[n]]
            if excluded:
                ok[i] &= ~np.isin(cand, np.fromiter(excluded, dtype=np.int64))
        rows, cols = np.nonzero(ok)
        needs.append(ns[rows])
        vols.append(cand[cols])
    vol = np.concatenate(vols) if vols else np.zeros(0, dtype=np.int64)
    need = np.concatenate(needs) if needs else np.zeros(0, dtype=np.int64)
    order = np.lexsort((need, vol))
    vol, need = vol[order].astype(np.int64), need[order].astype(np.int64)
    usable: BoolArray = (
        inst.vol_avail[vol] & inst.need_win[need] if len(vol) else np.zeros((0, n_slots), dtype=bool)
    )
    return NaturalPairs(vol, need, usable)


@dataclass
class Structure:
    """Which coupling rows the LP over *all* pairs has, and the (volunteer, beneficiary) groups."""

    need_row: BoolArray
    """Needs with at least two pairs."""
    slot_row: BoolArray
    """``slot_row[v * n_slots + s]``: volunteer-slot rows with at least two entries."""
    hours_row: BoolArray
    """Volunteers whose candidate hours exceed ``max_hours``."""
    ben_row: BoolArray
    """Volunteers with more candidate beneficiaries than ``max_beneficiaries``."""
    group: IntArray
    """(volunteer, beneficiary) group of each pair, numbered from 0."""
    group_vol: IntArray
    """Volunteer of each group."""
    group_size: IntArray
    """Pairs in each group."""

    @classmethod
    def of(cls, inst: Instance, pairs: NaturalPairs) -> Structure:
        """Derive the structure from the pairs."""
        n_vol, n_slots = inst.n_volunteers, len(inst.slots)
        per_vol_slot = np.zeros((n_vol, n_slots), dtype=np.int64)
        if len(pairs):
            starts = np.flatnonzero(np.r_[True, pairs.vol[1:] != pairs.vol[:-1]])
            per_vol_slot[pairs.vol[starts]] = np.add.reduceat(pairs.usable, starts, axis=0, dtype=np.int64)
        load = inst.need_load[pairs.need]
        keys = pairs.vol * max(1, len(inst.ben_district)) + inst.need_ben[pairs.need]
        uniq, group, group_size = np.unique(keys, return_inverse=True, return_counts=True)
        group_vol = uniq // max(1, len(inst.ben_district))
        return cls(
            need_row=np.bincount(pairs.need, minlength=inst.n_needs) >= 2,
            slot_row=per_vol_slot.ravel() >= 2,
            hours_row=np.bincount(pairs.vol, weights=load, minlength=n_vol) > inst.vol_cap,
            ben_row=np.bincount(group_vol, minlength=n_vol) > inst.vol_max_ben,
            group=group.astype(np.int64),
            group_vol=group_vol.astype(np.int64),
            group_size=group_size.astype(np.int64),
        )


@dataclass
class LpModel:
    """A (restricted) LP as a minimisation of ``cost @ x`` (``cost`` is minus the coverage).

    The ``*_row`` arrays give the row of each coupling constraint, -1 where it is absent.
    """

    cost: FloatArray
    matrix: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    pair: IntArray
    """The pair of each ``x`` column (columns ``0 .. len(pair) - 1``)."""
    n_y: int
    n_z: int
    need_row: IntArray
    slot_row: IntArray
    hours_row: IntArray
    ben_row: IntArray

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lower)


class _Rows:
    """Sparse rows collected as blocks of (row, column, value) triplets."""

    def __init__(self) -> None:
        self.n = 0
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.vals: list[FloatArray] = []
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []

    def new(self, count: int, lower: float | FloatArray, upper: float | FloatArray) -> IntArray:
        """Open ``count`` rows with these bounds; return their indexes."""
        first = self.n
        self.n += count
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (count,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)))
        return np.arange(first, first + count, dtype=np.int64)

    def for_keys(
        self, wanted: BoolArray, keys: IntArray, lower: float, upper: FloatArray | float
    ) -> IntArray:
        """Open one row per key in ``keys`` that is ``wanted``; return a key -> row map (-1: none)."""
        present = np.zeros(len(wanted), dtype=bool)
        present[keys] = True
        present &= wanted
        where = np.flatnonzero(present)
        bound = upper[where] if isinstance(upper, np.ndarray) else upper
        row = np.full(len(wanted), -1, dtype=np.int64)
        row[where] = self.new(len(where), lower, bound)
        return row

    def add(self, rows: IntArray, cols: IntArray, vals: float | FloatArray) -> None:
        """Add the entries ``(rows[i], cols[i], vals[i])`` for ``rows[i] >= 0``."""
        on = rows >= 0
        vals_a = np.broadcast_to(np.asarray(vals, dtype=np.float64), rows.shape)
        self.rows.append(rows[on])
        self.cols.append(cols[on])
        self.vals.append(vals_a[on])

    def matrix(self, n_cols: int) -> sp.csr_matrix:
        """All rows as one CSR matrix."""
        empty_i = np.zeros(0, dtype=np.int64)
        coo = sp.coo_matrix(
            (
                np.concatenate([*self.vals, np.zeros(0)]),
                (np.concatenate([*self.rows, empty_i]), np.concatenate([*self.cols, empty_i])),
            ),
            shape=(self.n, n_cols),
        )
        return sp.csr_matrix(coo)

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Row lower and upper bounds."""
        return np.concatenate([*self.lower, np.zeros(0)]), np.concatenate([*self.upper, np.zeros(0)])


def build_lp(
    inst: Instance, pairs: NaturalPairs, structure: Structure, keep: IntArray | None = None
) -> LpModel:
    """Assemble the reduced LP of the natural model (over the pairs ``keep``).

    Parameters
    ----------
    inst
        The compiled problem.
    pairs
        All eligible pairs (:func:`eligible_pairs`).
    structure
        Their coupling rows (:meth:`Structure.of`): a coupling row exists in the restricted LP
        when it exists in the full one and has an entry among the kept pairs, so that every
        coupling constraint the full LP has gets a dual to price with.
    keep
        Indexes of the pairs to include, ascending (default all): a restricted LP, whose
        duals still price every pair.

    Returns
    -------
    LpModel
        Columns ``x`` (one per kept pair), then ``y``, then ``z``; the rows as CSR.
    """
    n_slots = len(inst.slots)
    if keep is None:
        keep = np.arange(len(pairs), dtype=np.int64)
    n_x = len(keep)
    vol, need = pairs.vol[keep], pairs.need[keep]
    usable = pairs.usable[keep]
    x = np.arange(n_x, dtype=np.int64)
    sessions = inst.need_sessions[need]
    scale = float(inst.scale)
    rows = _Rows()

    # rule 1: at most one volunteer per need
    need_row = rows.for_keys(structure.need_row, need, -np.inf, 1.0)
    rows.add(need_row[need], x, 1.0)

    # slot entries (pair, slot); a pair with exactly `sessions` usable slots uses x itself
    entry_pair, entry_slot = np.nonzero(usable)
    entry_pair = entry_pair.astype(np.int64)
    tight = usable.sum(axis=1) == sessions
    free = ~tight[entry_pair]
    n_y = int(free.sum())
    entry_col = entry_pair.copy()
    entry_col[free] = n_x + np.arange(n_y, dtype=np.int64)

    # rules 1 and 3: sum_s y = sessions x, and y <= x (implied by the sum when sessions is 1)
    loose = np.flatnonzero(~tight)
    pair_row = np.full(n_x, -1, dtype=np.int64)
    pair_row[loose] = rows.new(len(loose), 0.0, 0.0)
    rows.add(pair_row[entry_pair[free]], entry_col[free], 1.0)
    rows.add(pair_row[loose], loose, -sessions[loose].astype(np.float64))
    capped = np.flatnonzero(free & (sessions[entry_pair] >= 2))
    capped_rows = rows.new(len(capped), -np.inf, 0.0)
    rows.add(capped_rows, entry_col[capped], 1.0)
    rows.add(capped_rows, entry_pair[capped], -1.0)

    # rule 4: one session per volunteer and slot
    slot_key = vol[entry_pair] * n_slots + entry_slot
    slot_row = rows.for_keys(structure.slot_row, slot_key, -np.inf, 1.0)
    rows.add(slot_row[slot_key], entry_col, 1.0)

    # rule 5: hours
    load = inst.need_load[need] / scale
    hours_row = rows.for_keys(structure.hours_row, vol, -np.inf, inst.vol_cap / scale)
    rows.add(hours_row[vol], x, load)

    # rule 6: x <= z[v,b] and sum_b z[v,b] <= max_beneficiaries; x stands in for a lone z
    ben_row = rows.for_keys(structure.ben_row, vol, -np.inf, inst.vol_max_ben.astype(np.float64))
    group = structure.group[keep]
    lone = structure.group_size[group] == 1
    rows.add(ben_row[vol[lone]], x[lone], 1.0)
    shared = np.flatnonzero(~lone & (ben_row[vol] >= 0))
    z_groups, z_local = np.unique(group[shared], return_inverse=True)
    n_z = len(z_groups)
    z_col = n_x + n_y + np.arange(n_z, dtype=np.int64)
    link_rows = rows.new(len(shared), -np.inf, 0.0)
    rows.add(link_rows, shared, 1.0)
    rows.add(link_rows, z_col[z_local], -1.0)
    rows.add(ben_row[structure.group_vol[z_groups]], z_col, 1.0)

    cost = np.zeros(n_x + n_y + n_z)
    cost[:n_x] = -inst.need_value[need] / scale
    row_lower, row_upper = rows.bounds()
    return LpModel(
        cost=cost,
        matrix=rows.matrix(len(cost)),
        row_lower=row_lower,
        row_upper=row_upper,
        pair=keep,
        n_y=n_y,
        n_z=n_z,
        need_row=need_row,
        slot_row=slot_row,
        hours_row=hours_row,
        ben_row=ben_row,
    )


@dataclass
class LpSolution:
    """What HiGHS returned for one LP."""

    status: str
    optimal: bool
    objective: float
    """Coverage of HiGHS's primal solution (NaN unless optimal)."""
    row_dual: FloatArray
    dual_valid: bool
    seconds: float


def solve_lp(model: LpModel, time_limit: float, solver: str, verbose: bool = False) -> LpSolution:
    """Solve an LP with HiGHS, handing it over in one call.

    Parameters
    ----------
    model
        The LP.
    time_limit
        Seconds HiGHS may take.
    solver
        A key of :data:`SOLVER_OPTIONS`.
    verbose
        Print HiGHS's log.

    Returns
    -------
    LpSolution
        Status, objective and row duals (zeros when HiGHS gave none).
    """
    start = time.perf_counter()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", verbose)
    h.setOptionValue("time_limit", max(1.0, float(time_limit)))
    for key, value in SOLVER_OPTIONS[solver].items():
        h.setOptionValue(key, value)
    a = model.matrix
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = model.n_rows
    lp.col_cost_ = model.cost
    lp.col_lower_ = np.zeros(model.n_cols)
    lp.col_upper_ = np.ones(model.n_cols)
    lp.row_lower_ = np.where(np.isfinite(model.row_lower), model.row_lower, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(model.row_upper), model.row_upper, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = model.n_cols
    lp.a_matrix_.num_row_ = model.n_rows
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    h.passModel(lp)
    del lp
    run_highs(h)
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    solution = h.getSolution()
    row_dual: FloatArray = (
        np.asarray(solution.row_dual, dtype=np.float64) if solution.dual_valid else np.zeros(model.n_rows)
    )
    objective = -float(h.getInfo().objective_function_value) if optimal else float("nan")
    return LpSolution(
        h.modelStatusToString(status),
        optimal,
        objective,
        row_dual,
        bool(solution.dual_valid),
        time.perf_counter() - start,
    )


@dataclass
class Multipliers:
    """Lagrange multipliers (>= 0) of the coupling rows, in coverage per unit of the row."""

    need: FloatArray
    slot: FloatArray
    hours: FloatArray
    ben: FloatArray

    @classmethod
    def of(cls, model: LpModel, row_dual: FloatArray) -> Multipliers:
        """Read them off HiGHS's duals of a minimisation (``<=`` rows have duals <= 0)."""

        def take(row: IntArray) -> FloatArray:
            out = np.zeros(len(row))
            on = row >= 0
            out[on] = np.maximum(0.0, -row_dual[row[on]])
            return out

        return cls(take(model.need_row), take(model.slot_row), take(model.hours_row), take(model.ben_row))


def price(
    inst: Instance, pairs: NaturalPairs, structure: Structure, mult: Multipliers
) -> tuple[float, FloatArray, FloatArray]:
    """Lagrangian bound over all pairs, with each pair's and group's profit.

    Parameters
    ----------
    inst
        The compiled problem.
    pairs
        All eligible pairs.
    structure
        Their coupling rows and groups.
    mult
        Multipliers of the coupling rows.

    Returns
    -------
    tuple[float, FloatArray, FloatArray]
        ``L`` (an upper bound on coverage, see the module docstring), ``profit`` of each pair
        and the value ``max(0, ...)`` of each (volunteer, beneficiary) group.
    """
    n_slots = len(inst.slots)
    scale = float(inst.scale)
    slot_cost = np.zeros(len(pairs))
    mu = mult.slot.reshape(inst.n_volunteers, n_slots)
    for lo in range(0, len(pairs), PRICE_CHUNK):
        hi = min(lo + PRICE_CHUNK, len(pairs))
        costs = np.where(pairs.usable[lo:hi], mu[pairs.vol[lo:hi]], np.inf)
        costs.sort(axis=1)
        k = inst.need_sessions[pairs.need[lo:hi]]
        first_k = np.cumsum(np.where(np.isfinite(costs), costs, 0.0), axis=1)
        slot_cost[lo:hi] = first_k[np.arange(hi - lo), k - 1]
    need = pairs.need
    profit = (
        inst.need_value[need] / scale
        - mult.need[need]
        - mult.hours[pairs.vol] * inst.need_load[need] / scale
        - slot_cost
    )
    gain = np.bincount(structure.group, weights=np.maximum(profit, 0.0), minlength=len(structure.group_vol))
    group_value = np.maximum(0.0, gain - mult.ben[structure.group_vol])
    bound = (
        mult.need.sum()
        + mult.slot.sum()
        + float(mult.hours @ (inst.vol_cap / scale))
        + float(mult.ben @ inst.vol_max_ben)
        + group_value.sum()
    )
    return float(bound), profit, group_value


@dataclass
class LpReport:
    """What one LP bound computation did."""

    bound: float | None
    """Upper bound on coverage; ``None`` unless HiGHS solved the LP (to its tolerance)."""
    status: str
    solver: str
    pairs: int
    """Pairs (``x`` columns) of the natural model."""
    full_columns: int
    """Columns of the natural model (x, y and z), before the reductions."""
    full_rows: int
    """Rows of the natural model, before the reductions."""
    columns: int
    """Columns of the LP handed to HiGHS (after the reductions)."""
    rows: int
    nonzeros: int
    build_seconds: float
    """Compiling, eligible pairs and the sparse matrix."""
    solve_seconds: float
    """HiGHS (model hand-over included) and the bound from the duals."""
    lagrangian: float = float("nan")
    """The bound from HiGHS's duals, valid even when the LP was not solved (NaN: no duals)."""
    primal: float = float("nan")
    """HiGHS's primal objective (coverage), NaN unless solved."""

    def summary(self) -> str:
        """One line: sizes, times and the bound."""
        return (
            f"natural LP {self.full_columns:,} columns ({self.pairs:,} pairs) x {self.full_rows:,} rows, "
            f"reduced to {self.columns:,} x {self.rows:,} ({self.nonzeros:,} nonzeros), "
            f"built in {self.build_seconds:.1f} s; "
            f"{self.solver} {self.status} in {self.solve_seconds:.1f} s; "
            f"bound {self.lagrangian:.3f}, primal {self.primal:.3f}"
        )


def _full_size(inst: Instance, pairs: NaturalPairs, structure: Structure) -> tuple[int, int]:
    """Columns and rows of the unreduced natural model."""
    n_x = len(pairs)
    n_y = int(pairs.usable.sum())
    vol_slots = np.zeros(inst.n_volunteers * len(inst.slots), dtype=bool)
    for lo in range(0, n_x, PRICE_CHUNK):
        at, slot = np.nonzero(pairs.usable[lo : lo + PRICE_CHUNK])
        vol_slots[pairs.vol[lo + at] * len(inst.slots) + slot] = True
    vols = int(np.count_nonzero(np.bincount(pairs.vol, minlength=inst.n_volunteers)))
    needs = int(np.count_nonzero(np.bincount(pairs.need, minlength=inst.n_needs)))
    # need rows, session rows, y <= x, x <= z, volunteer-slot rows, hours and rule-6 rows
    rows = needs + n_x + n_y + n_x + int(vol_slots.sum()) + 2 * vols
    return n_x + n_y + len(structure.group_vol), rows


def lp_bound_report(
    problem: Problem, time_limit: float = DEFAULT_TIME_LIMIT, solver: str | None = None, verbose: bool = False
) -> LpReport:
    """Build and solve the natural model's LP relaxation, with sizes and timings.

    Parameters
    ----------
    problem
        A validated problem.
    time_limit
        Seconds HiGHS may take (building is not limited).
    solver
        A key of :data:`SOLVER_OPTIONS`; default by size (see :data:`SIMPLEX_MAX_COLUMNS`).
    verbose
        Print HiGHS's log.

    Returns
    -------
    LpReport
        The bound (``None`` unless HiGHS solved the LP), the model's sizes and the times.
    """
    start = time.perf_counter()
    inst = Instance.from_problem(problem)
    pairs = eligible_pairs(inst)
    structure = Structure.of(inst, pairs)
    full_cols, full_rows = _full_size(inst, pairs, structure)
    model = build_lp(inst, pairs, structure)
    built = time.perf_counter()
    if solver is None:
        solver = "dual-simplex" if model.n_cols <= SIMPLEX_MAX_COLUMNS else "pdlp"
    log.info(
        "natural LP: %d pairs, %d columns, %d rows; reduced to %d columns (%d x, %d y, %d z), "
        "%d rows, %d nonzeros in %.1f s; solving with %s",
        len(pairs),
        full_cols,
        full_rows,
        model.n_cols,
        len(pairs),
        model.n_y,
        model.n_z,
        model.n_rows,
        model.matrix.nnz,
        built - start,
        solver,
    )
    report = LpReport(
        bound=0.0 if len(pairs) == 0 else None,
        status="Optimal" if len(pairs) == 0 else "not solved",
        solver=solver,
        pairs=len(pairs),
        full_columns=full_cols,
        full_rows=full_rows,
        columns=model.n_cols,
        rows=model.n_rows,
        nonzeros=int(model.matrix.nnz),
        build_seconds=built - start,
        solve_seconds=0.0,
        lagrangian=0.0 if len(pairs) == 0 else float("nan"),
    )
    if len(pairs):
        solution = solve_lp(model, time_limit, solver, verbose)
        report.status, report.primal = solution.status, solution.objective
        if solution.dual_valid:
            bound, _, _ = price(inst, pairs, structure, Multipliers.of(model, solution.row_dual))
            report.lagrangian = bound
            if solution.optimal:
                report.bound = bound
        report.solve_seconds = time.perf_counter() - built
    log.info("%s", report.summary())
    return report


def lp_bound(problem: Problem, time_limit: float = DEFAULT_TIME_LIMIT) -> float | None:
    """Optimum of the natural model's LP relaxation: an upper bound on coverage.

    Parameters
    ----------
    problem
        A validated problem.
    time_limit
        Seconds HiGHS may take.

    Returns
    -------
    float | None
        The bound in priority-weighted hours (from HiGHS's duals, so valid even within the
        solver's tolerances), or ``None`` if HiGHS did not solve the LP within the limit.
    """
    return lp_bound_report(problem, time_limit).bound
