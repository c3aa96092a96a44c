"""Levels 1-2 proved by column generation: a Lagrangian bound over per-volunteer plans.

Every hard rule but rule 1's "at most one volunteer per need" concerns one volunteer at
a time (hours, slots, beneficiaries: :func:`applies` checks it on the rule list), and so
does the primary objective
``(K + 1) x coverage + continuity`` (a kept pair is one volunteer's).  Relaxing "at most
one volunteer per need" with multipliers ``lam >= 0`` therefore splits the problem into
one small problem per volunteer, and for *any* ``lam >= 0``

    L(lam) = sum_n lam_n + sum_v max(0, max over v's feasible sets S of value(S) - lam(S))

bounds the primary objective from above.  The multipliers come from the LP over the
volunteer plans generated so far (Dantzig-Wolfe column generation), whose bound is much
tighter than the compact model's LP relaxation: on generated cities it usually equals
the optimum, where HiGHS's branch-and-cut spends seconds of root cuts to get there.

The bound is exact whatever the LP's rounding: ``lam`` is rounded to a multiple of
``2**-10`` so every sum below is exact in floating point, and each volunteer's problem is
solved exactly by depth-first search.  A plan comes from the same columns, solved as a
MIP; when it reaches ``floor(L)`` both levels are proved, otherwise the caller falls back
to the compact model.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import highspy
import numpy as np

from matcher.clock import Deadline, OutOfTimeError
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.model.rules import RULES, Additive, Distinct, Rule, Scope, limits, one_volunteer
from matcher.model.slotting import match_slots
from matcher.params import DEFAULTS, SolveParams
from matcher.search.mip import limit_time, quiet_highs, run_highs

LAMBDA_GRID = 1024
"""Multipliers are rounded to multiples of 1 / LAMBDA_GRID, so the bound is computed exactly."""
BANNED = 1e9
"""Multiplier that keeps a need out of a volunteer's pricing (see :func:`price_all`)."""
PRICED_KEPT = 64
"""Pricing answers each volunteer remembers (see :meth:`Volunteer.price`)."""
MASTER_RULE = one_volunteer.RULE
"""The rule the master's rows hold (each need at most once); pricing holds the others."""


def _priced(rule: Rule, inst: Instance) -> bool:
    """Whether the per-volunteer pricing problem (or the master) encodes ``rule`` on ``inst``."""
    if rule is MASTER_RULE or rule.scope is Scope.PAIR or rule.redundant or not rule.binds(inst):
        return True
    if rule.scope is Scope.GLOBAL or rule.limit is None:
        return False
    # Pricing starts every volunteer with no keys used: fixed assignments' keys (re-solve) are not seeded.
    return not (isinstance(rule.limit, Distinct) and rule.limit.held(inst))


def applies(inst: Instance, rules: tuple[Rule, ...] = RULES) -> bool:
    """Whether column generation solves ``inst``'s problem: every rule that binds is priced.

    That is: pair rules (in the pairs), rule 1's one volunteer per need (the master), and
    volunteer limits pricing checks: any number of additive budgets (the first, hours,
    also bounds the search), at most one distinct-keys limit, and the slots.  A rule
    across volunteers (a re-solve's move budget) is not; nor is a re-solve's home
    objective, which pricing does not value.
    """
    if len(limits(Distinct, rules)) > 1 or not limits(Additive, rules):
        return False
    return all(_priced(rule, inst) for rule in rules) and not inst.need_home


@dataclass
class ColgenResult:
    """Best plan from the columns (None if none), proved primary bound, and time taken."""

    found: Chosen | None
    primary: int
    """Primary value of ``found`` (``-1`` if none)."""
    bound: int | None
    seconds: float
    rounds: int
    vols: list[Volunteer] = field(default_factory=list)
    lam: np.ndarray | None = None
    """The multipliers of the best bound, and each volunteer's best value under them."""
    best: list[float] = field(default_factory=list)
    lagrangian: float = math.inf
    complete: bool = True
    """No step was cut short by the clock (the result depends on the problem only)."""
    columns: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    """The master's columns: (volunteer slot in ``vols``, sorted items)."""
    basis: highspy.HighsBasis | None = None
    """The master LP's last optimal basis (over the first columns: later ones came after it)."""
    params: SolveParams = DEFAULTS
    """The tuning the run had (a coverage-only master from it runs with the same)."""

    def coverage_master(
        self,
        inst: Instance,
        pairs: Pairs,
        enough: int,
        give_up: int,
        deadline: Deadline,
        on_round: Callable[[int], None] | None = None,
    ) -> ColgenResult | None:
        """Column generation on coverage alone, from these columns and basis on.

        ``floor(L) // weight`` bounds coverage with up to ``K / weight`` of continuity from
        the master LP on top: at coverage ``C + 0.5`` and continuity 20, weight 31, it says
        ``C + 1`` where the coverage-only master says ``C``.  Generation goes on from this
        result's columns with costs of coverage alone; it stops once the bound (in coverage
        units) is at most ``enough`` (a plan's coverage: nothing lower is needed) or once
        the master LP reaches ``give_up`` (the bound cannot go below it).  On ten
        300-volunteer cities whose primary bound was above the optimum it proved two
        optimal and came one unit closer on three.  None if no pricing round completed in
        time, or a result whose ``bound`` is None.  ``on_round``: as :func:`prove`'s, with
        the bound in coverage units.
        """
        if not self.columns:
            return None
        plain = [vol.coverage_only() for vol in self.vols]
        try:
            return prove(
                inst,
                pairs,
                {},
                1,
                deadline,
                mip_limit=0.0,
                singles=False,
                columns=self.columns,
                basis=self.basis,
                volunteers=plain,
                enough=enough,
                give_up=give_up,
                params=self.params,
                on_round=on_round,
            )
        except OutOfTimeError:
            return None

    def pair_bounds(
        self, floor: int, deadline: Deadline, tick: Callable[[], None] | None = None
    ) -> PairBounds:
        """Per pair, an upper bound on the primary value of any plan that uses it.

        Forcing pair ``i`` of volunteer ``v`` into the plan bounds the primary value by
        ``L - best_v + best_v(with i)`` (Lagrangian reduced-cost fixing).  The cheap
        ``best_v(with i) <= red_i + 1 + best_v`` settles most pairs; the others, where that
        reaches ``floor``, are priced with the pair forced in, and each such best set is
        kept: together they are the columns of :meth:`PairBounds.plan`.  ``tick``: called
        before each volunteer (a progress heartbeat), None by default.
        """
        out = PairBounds(self.vols)
        if self.lam is None:
            return out
        lag = self.lagrangian
        for k, (vol, best) in enumerate(zip(self.vols, self.best, strict=True)):
            deadline.check()
            if tick is not None:
                tick()
            for i, p in enumerate(vol.pairs):
                cheap = lag + vol.value[i] - float(self.lam[vol.need[i]]) + 1
                if cheap < floor:
                    out.bound[p] = cheap
                    continue
                forced, items = vol.price(self.lam, deadline, forced=i)
                out.bound[p] = lag - best + forced
                if out.bound[p] >= floor:
                    out.sets.append((k, tuple(sorted(items)), out.bound[p]))
        return out


@dataclass
class PairBounds:
    """What :meth:`ColgenResult.pair_bounds` found: per pair, a bound on the plans that use it."""

    vols: list[Volunteer]
    bound: dict[int, float] = field(default_factory=dict)
    """Pair -> upper bound on the primary value of any plan that holds it."""
    sets: list[tuple[int, tuple[int, ...], float]] = field(default_factory=list)
    """(volunteer slot in ``vols``, items, bound): best sets with one pair forced in."""

    def zero(self, target: int) -> list[int]:
        """Pairs in no plan of primary value >= ``target``."""
        return [p for p, b in self.bound.items() if b < target]

    def plan(self, inst: Instance, start: Chosen, target: int, stop_at: int, deadline: Deadline) -> Chosen:
        """The best plan made of ``start``'s volunteer sets and the forced sets, by a MIP.

        The forced sets are the best ways to use each pair that may still pay, so they hold
        the moves the columns' own plan misses (on a 300-volunteer city that missed 10
        coverage units, this MIP over 5,768 sets found the optimum in under a second).
        Only sets whose bound reaches ``target`` are offered; the MIP starts from ``start``,
        stops at ``stop_at`` (nothing can beat it) or at the deadline, and never returns
        a plan worse than ``start``.
        """
        columns = _columns_of(self.vols, start)
        first = len(columns)
        columns += [(k, items) for k, items, b in self.sets if b >= target]
        columns = list(dict.fromkeys(columns))
        if deadline.remaining() <= 0.01 or len(columns) == first:
            return start
        cost, starts, index = column_arrays(self.vols, columns, inst.n_needs)
        n, rows = len(columns), inst.n_needs + len(self.vols)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, rows
        lp.col_cost_ = cost
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lp.row_lower_, lp.row_upper_ = np.full(rows, -highspy.kHighsInf), np.ones(rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.r_[starts, len(index)].astype(np.int32)
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = np.ones(len(index))
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        lp.sense_ = highspy.ObjSense.kMaximize
        h = quiet_highs()
        h.passModel(lp)
        h.setOptionValue("threads", 1)
        limit_time(h, deadline.remaining())
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.999)
        h.setOptionValue("objective_target", stop_at - 0.5)
        given = highspy.HighsSolution()
        given.col_value = np.r_[np.ones(first), np.zeros(n - first)]
        h.setSolution(given)
        run_highs(h)
        if h.getInfo().primal_solution_status != 2:  # pragma: no cover - the start is feasible
            return start
        x = np.asarray(h.getSolution().col_value)
        picked = [columns[c] for c in np.flatnonzero(x > 0.5)]
        worth = sum(self.vols[k].worth(list(items)) for k, items in picked)
        if worth <= sum(self.vols[k].worth(list(items)) for k, items in columns[:first]):
            return start
        return plan_of(self.vols, picked)


class Volunteer:
    """One volunteer's candidate pairs and the data of their pricing problem."""

    def __init__(self, inst: Instance, pairs: Pairs, vol: int, weight: int, previous: set[int]) -> None:
        ps = [int(p) for p in pairs.by_vol[vol]]
        self.vol = vol
        self.pairs = ps
        self.need = [int(pairs.need[p]) for p in ps]
        hours, *extra = limits(Additive)
        (distinct,) = limits(Distinct)
        amount = hours.amount(inst)
        self.load = [int(amount[n]) for n in self.need]
        """Per item, its use of the first additive limit (hours): the one the search's bounds use."""
        self.extra = [([int(x) for x in a.amount(inst)[self.need]], int(a.budget(inst)[vol])) for a in extra]
        """Further additive limits: per item amounts, and the budget (checked, not used in bounds)."""
        self.sessions = [int(inst.need_sessions[n]) for n in self.need]
        key = distinct.key(inst)
        self.ben = [int(key[n]) for n in self.need]
        self.slots = [tuple(int(s) for s in pairs.slots[p]) for p in ps]
        self.mask = [sum(1 << s for s in sl) for sl in self.slots]
        self.coverage = [int(inst.need_value[n]) for n in self.need]
        self.value = [weight * c for c in self.coverage]
        self.cap = int(hours.budget(inst)[vol])
        self.max_ben = int(distinct.most(inst)[vol])
        self.previous = previous
        """Beneficiaries this volunteer served last week (each kept one is worth 1)."""
        self._fits: dict[int, bool] = {}
        """Whether a set of items (bitmask) fits the volunteer's slots, cached across rounds."""
        self._need = np.asarray(self.need, dtype=np.int64)
        self._priced: dict[tuple[bytes, int | None, int | None, object], tuple[float, list[int]]] = {}
        """Recent answers by the multipliers of this volunteer's needs: between rounds, and
        between branches, most volunteers' multipliers do not change."""
        self.n_slots = 0
        for m in self.mask:
            self.n_slots |= m
        self.n_slots = self.n_slots.bit_count()
        """Slots any of the volunteer's items may use: at most this many sessions in all."""

    def coverage_only(self) -> Volunteer:
        """The same pricing problem for coverage alone (weight 1, no previous pairs).

        It shares this one's lists and its cache of the sets that fit.
        """
        plain = copy.copy(self)
        plain.value = [int(v) for v in self.coverage]
        plain.previous = set()
        plain._priced = {}
        return plain

    def _extra_fit(self, used: list[int], i: int) -> bool:
        """Whether item ``i`` fits the further additive limits beside ``used``."""
        return all(used[j] + amounts[i] <= budget for j, (amounts, budget) in enumerate(self.extra))

    def worth(self, items: list[int]) -> int:
        """Primary value of a set of this volunteer's items."""
        return sum(self.value[i] for i in items) + len({self.ben[i] for i in items} & self.previous)

    def price(
        self,
        lam: np.ndarray,
        deadline: Deadline,
        forced: int | None = None,
        max_steps: int | None = None,
        penalties: Penalties | None = None,
    ) -> tuple[float, list[int]]:
        """Exact ``max(0, max_S value(S) - lam(S) - penalty(S))`` over feasible sets, and a best set.

        With ``forced``, the best over the sets that hold that item (without the ``max(0, .)``).
        With ``max_steps``, a search that takes more steps stops and returns an upper bound
        instead of the maximum (the fractional knapsack over the hours, a little above),
        with the best set found so far.  ``penalties``: the duals of cuts on the master
        (see :class:`Penalties`); none by default.

        Only items that can add value are searched: an item whose reduced value is <= 0
        belongs to a best set only to keep a previous beneficiary (+1), and dropping any
        item keeps a set feasible.
        """
        key = (lam[self._need].tobytes(), forced, max_steps, penalties.key if penalties else None)
        known = self._priced.get(key)
        if known is not None:
            return known[0], list(known[1])
        if len(self._priced) >= PRICED_KEPT:
            self._priced.clear()
        value, best = self._search(lam, deadline, forced, max_steps, penalties)
        self._priced[key] = (value, list(best))
        return value, best

    def _search(
        self,
        lam: np.ndarray,
        deadline: Deadline,
        forced: int | None,
        max_steps: int | None,
        penalties: Penalties | None = None,
    ) -> tuple[float, list[int]]:
        """:meth:`price` without its memory."""
        red = [self.value[i] - float(lam[self.need[i]]) for i in range(len(self.pairs))]
        # Per item, the cuts its need is in; a count per cut of the items taken so far.
        cuts_of = penalties.cuts_of if penalties else [()] * len(red)
        counts = list(penalties.base) if penalties else []
        sigma = penalties.sigma if penalties else []

        def penalty(i: int) -> float:
            # the penalty item i adds to the chosen set (counts updated; undone by unpenalise)
            added = 0.0
            for j in cuts_of[i]:
                counts[j] += 1
                if counts[j] % 2 == 0:
                    added += sigma[j]
            return added

        def unpenalise(i: int) -> None:
            for j in cuts_of[i]:
                counts[j] -= 1

        gain = [red[i] + (1 if self.ben[i] in self.previous else 0) for i in range(len(red))]
        items = [i for i in range(len(red)) if gain[i] > 0 and i != forced]
        # densest first, so the fractional knapsack over the items left is a cheap bound
        items.sort(key=lambda i: -gain[i] / self.load[i] if self.load[i] else -math.inf)
        n_items = len(items)
        loads = [self.load[i] for i in items]
        gains = [gain[i] for i in items]
        sessions = [self.sessions[i] for i in items]
        bens_of = [self.ben[i] for i in items]
        # the same items densest per session first, for the bound on the slots left
        by_session = sorted(range(n_items), key=lambda j: -gains[j] / sessions[j])
        n_slots = self.n_slots
        best_val = 0.0
        best_set: list[int] = []
        chosen: list[int] = []
        cap, max_ben, previous = self.cap, self.max_ben, self.previous
        fits = self._fits
        extra = self.extra
        extra_used = [0] * len(extra)
        steps = 0

        def fractional(
            order: Iterable[int], size: list[int], room: int, k: int, full: bool, bens: frozenset[int]
        ) -> float:
            # the fractional knapsack of the items from k on, taken in ``order``, in ``room``
            bound = 0.0
            for j in order:
                if j < k or (full and bens_of[j] not in bens):
                    continue
                if size[j] <= room:
                    bound += gains[j]
                    room -= size[j]
                else:
                    return bound + gains[j] * room / size[j]
            return bound

        def dfs(k: int, cur: float, load: int, bens: frozenset[int], union: int, sess: int, key: int) -> None:
            nonlocal best_val, best_set, steps
            if cur > best_val:
                best_val, best_set = cur, list(chosen)
            # Upper bounds: fractional knapsacks on the hours left and on the slots left
            # (each session takes a slot of its own), over the items that may still come
            # in (none of a new beneficiary once there are max_ben).  Values are exact
            # multiples of 1/LAMBDA_GRID, far above the bounds' rounding error.
            full = len(bens) >= max_ben
            if cur + fractional(range(k, n_items), loads, cap - load, k, full, bens) <= best_val:
                return
            if cur + fractional(by_session, sessions, n_slots - sess, k, full, bens) <= best_val:
                return
            steps += 1
            if steps % 4096 == 0:
                deadline.check()
            if max_steps is not None and steps > max_steps:
                raise _TooLongError
            i = items[k]
            load2 = load + self.load[i]
            if load2 <= cap and (not extra or self._extra_fit(extra_used, i)):
                b = self.ben[i]
                new_ben = b not in bens
                if not new_ben or len(bens) < max_ben:
                    union2 = union | self.mask[i]
                    sess2 = sess + self.sessions[i]
                    if sess2 <= union2.bit_count():
                        key2 = key | (1 << i)
                        ok = fits.get(key2)
                        if ok is None:
                            ok = (
                                match_slots([(self.sessions[j], self.slots[j]) for j in (*chosen, i)])
                                is not None
                            )
                            fits[key2] = ok
                        if ok:
                            chosen.append(i)
                            for j, (amounts, _) in enumerate(extra):
                                extra_used[j] += amounts[i]
                            bonus = 1 if new_ben and b in previous else 0
                            # Penalties only lower a set's value as items join it, so the
                            # bounds above, which leave them out, stay upper bounds.
                            cost = penalty(i) if cuts_of[i] else 0.0
                            dfs(
                                k + 1,
                                cur + red[i] + bonus - cost,
                                load2,
                                bens | {b} if new_ben else bens,
                                union2,
                                sess2,
                                key2,
                            )
                            if cuts_of[i]:
                                unpenalise(i)
                            for j, (amounts, _) in enumerate(extra):
                                extra_used[j] -= amounts[i]
                            chosen.pop()
            if k + 1 < n_items:
                dfs(k + 1, cur, load, bens, union, sess, key)

        if forced is not None:
            f = forced
            best_val, best_set = red[f] + (1 if self.ben[f] in previous else 0) - penalty(f), [f]
            chosen.append(f)
            for j, (amounts, _) in enumerate(extra):
                extra_used[j] += amounts[f]
            if items:
                dfs(
                    0,
                    best_val,
                    self.load[f],
                    frozenset({self.ben[f]}),
                    self.mask[f],
                    self.sessions[f],
                    1 << f,
                )
        elif items:
            try:
                dfs(0, 0.0, 0, frozenset(), 0, 0, 0)
            except _TooLongError:
                room, bound = float(cap), 0.0
                for load, gain_j in zip(loads, gains, strict=True):
                    take = min(1.0, room / load) if load else 1.0
                    bound += gain_j * take
                    room -= load * take
                    if room <= 0:
                        break
                # 1e-6 covers the float rounding of the fraction
                return max(best_val, bound + 1e-6), best_set
        return best_val, best_set


@dataclass(frozen=True)
class Penalties:
    """One volunteer's share of the master's cuts, for its pricing problem.

    A cut over need rows ``R`` (and maybe this volunteer's row) with dual ``sigma`` takes
    ``sigma * floor((|S & R| + base) / 2)`` off a set ``S``'s reduced value, ``base``
    being 1 when the volunteer's own row is in the cut (see :mod:`matcher.search.cuts`).
    """

    cuts_of: list[tuple[int, ...]]
    """Per item of the volunteer, the (local) cuts its need is in."""
    base: tuple[int, ...]
    """Per local cut, 1 if the volunteer's row is in it."""
    sigma: tuple[float, ...]
    """Per local cut, its dual (> 0)."""
    key: tuple[tuple[object, float], ...]
    """(cut, dual) per local cut: what the memory of answers is keyed by (the cut itself,
    not its number: two searches on the same volunteers number their cuts apart)."""


class _TooLongError(Exception):
    """A pricing search ran past its step limit."""


def prove(
    inst: Instance,
    pairs: Pairs,
    start: Chosen,
    weight: int,
    deadline: Deadline,
    mip_limit: float | None = None,
    mip_nodes: int | None = None,
    price_steps: int | None = None,
    singles: bool = True,
    columns: list[tuple[int, tuple[int, ...]]] | None = None,
    basis: highspy.HighsBasis | None = None,
    volunteers: list[Volunteer] | None = None,
    enough: int | None = None,
    give_up: int | None = None,
    params: SolveParams = DEFAULTS,
    on_round: Callable[[int], None] | None = None,
    tick: Callable[[], None] | None = None,
) -> ColgenResult:
    """Column generation on the primary objective ``weight x coverage + continuity``.

    Parameters
    ----------
    inst, pairs
        The compiled problem and its eligible pairs.
    start
        A valid plan (its volunteers' sets are the first columns).
    weight
        ``K + 1`` (see :mod:`matcher.model.full`).
    deadline
        When to stop; the bound returned is from the last complete pricing round.
    mip_nodes
        Node limit of the MIP over the columns (with no time limit of its own): the plan
        then depends on the problem only, not on the machine's speed.
    mip_limit
        Seconds for the MIP over the columns (default: ``params.colgen_mip_share`` of the
        time taken so far, at least ``params.colgen_min_mip_s``).
    price_steps
        Step limit of each volunteer's pricing search (see :meth:`Volunteer.price`): the
        bound stays valid, a little looser where a search stops early.
    singles
        Start with a column per pair besides ``start``'s (better first duals; on hundreds
        of thousands of pairs, a first LP too large to solve in time).
    columns
        Columns to start from besides ``start``'s (another run's, on the same pairs).
    basis
        A basis of the master LP over the first of ``columns`` (another run's, same
        rows): its first solve starts there.
    volunteers
        The pricing problems, when made already (another run's, or their
        :meth:`Volunteer.coverage_only`); ``weight`` is then theirs.
    enough
        Stop once the bound is at most this.
    give_up
        Stop once the master LP reaches this (the bound can no longer go below it).
    params
        The ``colgen_*`` tuning (see :class:`matcher.params.SolveParams`).
    on_round
        Called after each complete pricing round with ``floor`` of the best Lagrangian bound
        so far (the ``bound`` the result would have if the rounds stopped there: it never
        rises from one call to the next); a progress report's hook, None by default.
    tick
        Called from HiGHS's callback while the MIP over the columns runs (a progress
        heartbeat; the MIP's plan is the result's, taken only once this returns).
    """
    t0 = time.perf_counter()
    by_vol_ben = pairs.by_vol_ben
    prev: dict[int, set[int]] = {}
    for v, b in inst.previous:
        if by_vol_ben.get((v, b)):
            prev.setdefault(v, set()).add(b)
    if deadline.remaining() <= 0:
        return ColgenResult(None, -1, None, 0.0, 0, params=params)
    vols = volunteers or [
        Volunteer(inst, pairs, v, weight, prev.get(v, set()))
        for v in range(inst.n_volunteers)
        if len(pairs.by_vol[v])
    ]
    n_needs = inst.n_needs
    lp = MasterLP(vols, n_needs)
    h, master = lp.h, lp.columns
    lp.add(_columns_of(vols, start))
    if columns:
        lp.add(columns)
    if basis is not None and not start:
        lp.warm(basis)
    if singles:
        # every single pair too, so the LP's duals mean something from the first round
        lp.add([(k, (i,)) for k, vol in enumerate(vols) for i in range(len(vol.pairs))])

    best_bound = math.inf
    last_basis = None
    best_lam: np.ndarray | None = None
    best_values: list[float] = []
    rounds = 0
    complete = True
    try:
        while rounds < params.colgen_max_rounds:
            rounds += 1
            limit_time(h, deadline.remaining())
            run_highs(h)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                complete = False
                break  # out of time: the last complete round's bound stands
            last_basis = h.getBasis()
            sol = h.getSolution()
            lp_value = h.getInfo().objective_function_value
            duals = np.asarray(sol.row_dual)
            lam = multipliers(duals[:n_needs])
            values, new = price_all(vols, lam, duals[n_needs:], deadline, max_steps=price_steps)
            bound = float(lam.sum()) + sum(values)
            new_count = len(lp.add(new))
            if bound < best_bound:
                best_bound, best_lam, best_values = bound, lam, values
            if on_round is not None:
                on_round(math.floor(best_bound))
            if new_count == 0 or math.floor(best_bound) <= math.floor(lp_value + 1e-6):
                break
            if (enough is not None and math.floor(best_bound) <= enough) or (
                give_up is not None and math.floor(lp_value + 1e-6) >= give_up
            ):
                break
    except OutOfTimeError:
        complete = False
    bound_int = None if math.isinf(best_bound) else math.floor(best_bound)

    # a plan from the columns
    if mip_nodes is not None:
        h.setOptionValue("mip_max_nodes", mip_nodes)
    elif mip_limit is None:
        # The MIP over the columns only looks for a plan; when the bound is not tight it
        # cannot prove anything, so it gets a share of the time spent so far.
        mip_limit = max(params.colgen_min_mip_s, params.colgen_mip_share * (time.perf_counter() - t0))
    _heartbeat(h, tick)
    found, primary = _best_plan(
        h, inst, pairs, vols, master, start, weight, deadline, mip_limit, bound_int, params.colgen_min_run_s
    )
    complete = (
        complete and deadline.remaining() > 0.01 and h.getModelStatus() != highspy.HighsModelStatus.kTimeLimit
    )
    return ColgenResult(
        found,
        primary,
        bound_int,
        time.perf_counter() - t0,
        rounds,
        vols,
        best_lam,
        best_values,
        best_bound,
        complete=complete,
        columns=master,
        basis=last_basis,
        params=params,
    )


def _heartbeat(h: highspy.Highs, tick: Callable[[], None] | None) -> None:
    """Have HiGHS's MIP callback call ``tick`` (if any), never interrupting it."""
    if tick is not None:
        h.cbMipInterrupt.subscribe(lambda _event: tick())


def multipliers(duals: np.ndarray, free: np.ndarray | None = None) -> np.ndarray:
    """The need rows' duals as Lagrangian multipliers: at least 0 (except where ``free``,
    rows held at exactly 1), rounded to multiples of 1 / LAMBDA_GRID so bounds are exact."""
    lam = np.maximum(duals, 0.0) if free is None else np.where(free, duals, np.maximum(duals, 0.0))
    return np.round(lam * LAMBDA_GRID) / LAMBDA_GRID


def price_all(
    vols: list[Volunteer],
    lam: np.ndarray,
    vol_duals: np.ndarray,
    deadline: Deadline,
    max_steps: int | None = None,
    banned: dict[int, list[int]] | None = None,
    penalties: dict[int, Penalties] | None = None,
) -> tuple[list[float], list[tuple[int, list[int]]]]:
    """Every volunteer's pricing under ``lam``: their best values and the new columns.

    The Lagrangian bound is ``lam.sum()`` plus the values (plus the cuts' duals times
    their right-hand sides); a best set is a new column when it prices above its
    volunteer's row dual.  ``banned``: per volunteer slot, items kept out of its search
    (their needs priced at BANNED).  ``penalties``: per volunteer slot, the cuts' duals.
    """
    values: list[float] = []
    new: list[tuple[int, list[int]]] = []
    for k, vol in enumerate(vols):
        priced = lam
        if banned and k in banned:
            priced = lam.copy()
            priced[[vol.need[i] for i in banned[k]]] = BANNED
        value, items = vol.price(
            priced, deadline, max_steps=max_steps, penalties=penalties.get(k) if penalties else None
        )
        values.append(value)
        if items and value > max(0.0, vol_duals[k]) + 1e-6:
            new.append((k, items))
    return values, new


class MasterLP:
    """The master LP over volunteer sets, maximised: a ``<= 1`` row per need, then one per
    volunteer; a column per set, each set once.

    With ``artificial_cost``, a column per need comes first, at that negative cost and held
    at 0 (:mod:`matcher.search.branch` frees those of the needs a node forces, so its LP stays
    feasible); ``offset`` is their number.
    """

    def __init__(self, vols: list[Volunteer], n_needs: int, artificial_cost: float | None = None) -> None:
        self.vols = vols
        self.n_needs = n_needs
        self.rows = n_needs + len(vols)
        self.columns: list[tuple[int, tuple[int, ...]]] = []
        """(volunteer slot in ``vols``, sorted items) per set column."""
        self._seen: set[tuple[int, tuple[int, ...]]] = set()
        h = quiet_highs()
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        empty = np.zeros(0, np.int32)
        h.addRows(self.rows, np.full(self.rows, -inf), np.ones(self.rows), 0, empty, empty, np.zeros(0))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.offset = 0
        if artificial_cost is not None:
            idx = np.arange(n_needs, dtype=np.int32)
            zeros = np.zeros(n_needs)
            h.addCols(
                n_needs, np.full(n_needs, -artificial_cost), zeros, zeros, n_needs, idx, idx, np.ones(n_needs)
            )
            self.offset = n_needs
        self.h = h

    def add(self, sets: Iterable[tuple[int, Iterable[int]]]) -> list[tuple[int, tuple[int, ...]]]:
        """Add the sets not in the master yet; returns those it added."""
        keys = []
        for k, items in sets:
            key = (k, tuple(sorted(items)))
            if key not in self._seen:
                self._seen.add(key)
                keys.append(key)
        if keys:
            cost, starts, index = column_arrays(self.vols, keys, self.n_needs)
            n = len(keys)
            self.h.addCols(
                n,
                cost,
                np.zeros(n),
                np.full(n, highspy.kHighsInf),
                len(index),
                starts,
                index,
                np.ones(len(index)),
            )
            self.columns.extend(keys)
        return keys

    def warm(self, basis: highspy.HighsBasis) -> None:
        """Start from another master's basis over the same rows and its first set columns."""
        lower = highspy.HighsBasisStatus.kLower
        given = highspy.HighsBasis()
        extra = len(self.columns) - len(basis.col_status)
        given.col_status = [lower] * self.offset + list(basis.col_status) + [lower] * extra
        given.row_status = list(basis.row_status)
        self.h.setBasis(given)


def _best_plan(
    h: highspy.Highs,
    inst: Instance,
    pairs: Pairs,
    vols: list[Volunteer],
    columns: list[tuple[int, tuple[int, ...]]],
    start: Chosen,
    weight: int,
    deadline: Deadline,
    mip_limit: float | None,
    bound: int | None,
    min_run_s: float,
) -> tuple[Chosen | None, int]:
    limit = deadline.remaining() if mip_limit is None else min(mip_limit, deadline.remaining())
    if limit <= 0.01:
        return None, -1
    t0 = time.perf_counter()
    limit_time(h, limit)
    ones = None
    if bound is not None:
        # Reduced-cost filter: a column whose LP reduced cost is below -(LP - bound) is in
        # no plan worth the bound, so the MIP, which only looks for such a plan, drops it.
        # (A heuristic step: the bound does not depend on it.)
        run_highs(h)
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            lp_value = h.getInfo().objective_function_value
            duals = np.asarray(h.getSolution().row_dual)
            ones = np.flatnonzero(np.asarray(h.getSolution().col_value) > 1 - 1e-6).astype(np.int32)
            n_needs = inst.n_needs
            slack = lp_value - bound + 1e-4
            drop = [
                c
                for c, (k, items) in enumerate(columns)
                if vols[k].worth(list(items))
                - sum(duals[vols[k].need[i]] for i in items)
                - duals[n_needs + k]
                < -slack
            ]
            if drop:
                h.changeColsBounds(
                    len(drop), np.array(drop, dtype=np.int32), np.zeros(len(drop)), np.zeros(len(drop))
                )
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.999)
    if bound is not None:
        # a plan reaching the bound is all we need: stop there, with no proof of the MIP
        h.setOptionValue("objective_target", bound - 0.5)
    everything = np.arange(len(columns), dtype=np.int32)
    h.changeColsIntegrality(len(columns), everything, np.full(len(columns), highspy.HighsVarType.kInteger))
    x = None
    dive: tuple[float, np.ndarray] | None = None
    if ones is not None and len(ones):
        # Dive first: keep the columns the LP takes whole, solve the small MIP left over.
        h.changeColsBounds(len(ones), ones, np.ones(len(ones)), np.ones(len(ones)))
        run_highs(h)
        info = h.getInfo()
        if info.primal_solution_status == 2:
            dive = info.objective_function_value, np.asarray(h.getSolution().col_value)
            if bound is not None and dive[0] >= bound - 0.5:
                x = dive[1]
        h.changeColsBounds(len(ones), ones, np.zeros(len(ones)), np.ones(len(ones)))
    left = limit - (time.perf_counter() - t0)
    # HiGHS cannot stop in its presolve: with almost no time left the MIP would overrun
    # (by 0.66 s on a 300-volunteer city), so the dive's plan stands.
    if x is None and (dive is None or left >= min_run_s):
        limit_time(h, left)
        run_highs(h)
        info = h.getInfo()
        if info.primal_solution_status == 2 and (dive is None or info.objective_function_value > dive[0]):
            x = np.asarray(h.getSolution().col_value)
    if x is None and dive is not None:
        x = dive[1]
    if x is None:
        return None, -1
    picked = [columns[c] for c in np.flatnonzero(x > 0.5)]
    primary = sum(vols[k].worth(list(items)) for k, items in picked)
    return plan_of(vols, picked), primary


def _columns_of(vols: list[Volunteer], plan: Chosen) -> list[tuple[int, tuple[int, ...]]]:
    """A plan as one set per volunteer who takes part: (slot in ``vols``, sorted items)."""
    item = {p: (k, i) for k, vol in enumerate(vols) for i, p in enumerate(vol.pairs)}
    taken: dict[int, list[int]] = {}
    for p, _ in plan.values():
        k, i = item[p]
        taken.setdefault(k, []).append(i)
    return [(k, tuple(sorted(items))) for k, items in taken.items()]


def column_arrays(
    vols: list[Volunteer], columns: list[tuple[int, tuple[int, ...]]], n_needs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Costs, column starts and row indices of sets as master columns.

    A set of volunteer ``k`` (slot in ``vols``) covers its needs' rows and row
    ``n_needs + k`` (one set per volunteer); its cost is its primary value.
    """
    starts: list[int] = []
    index: list[int] = []
    cost: list[float] = []
    for k, items in columns:
        vol = vols[k]
        starts.append(len(index))
        index.extend(vol.need[i] for i in items)
        index.append(n_needs + k)
        cost.append(float(vol.worth(list(items))))
    return np.array(cost), np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32)


def plan_of(vols: list[Volunteer], picked: list[tuple[int, tuple[int, ...]]]) -> Chosen:
    """The plan of one set per volunteer (slot in ``vols``, items), slots matched."""
    found: Chosen = {}
    for k, items in picked:
        vol = vols[k]
        slots = match_slots([(vol.sessions[i], vol.slots[i]) for i in items])
        if slots is None:  # pragma: no cover - every set passed match_slots
            raise RuntimeError("column does not fit its volunteer's slots")
        for i, sl in zip(items, slots, strict=True):
            found[vol.need[i]] = (vol.pairs[i], sl)
    return found
