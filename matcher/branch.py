"""Coverage proved by branch-and-price on the columns' coverage-only master.

Where the Dantzig-Wolfe bound (:mod:`matcher.colgen`) stays above the best plan's
coverage, its master LP is fractional, often half-integral: a few needs half covered by
two volunteers' sets each.  Branching on whether such a need is covered, and where every
need's coverage is whole on whether one volunteer takes it, splits the plans in two; in
each part column generation goes on (same columns, their LP bounds set by the branch) and
the part is closed once its Lagrangian bound leaves no room for a better plan.

Every bound here is a Lagrangian bound, exact whatever the LP's rounding (as in
:mod:`matcher.colgen`): for a node whose plans cover the ``forced`` needs exactly once,
the others at most once, and use none of the ``banned`` pairs,

    L(lam) = sum_n lam_n + sum_v max over v's allowed sets S of value(S) - lam(S)

bounds their coverage for any ``lam`` with ``lam_n >= 0`` on needs not forced (a forced
need's multiplier may take either sign).  A node whose LP is integral is a plan; one
better than the incumbent becomes the incumbent.  When every node is closed the
incumbent is proved optimal.

On ten 300-volunteer cities whose column bound was above the optimum, 3 to 17 nodes
proved six of them in 0.3-1.3 s, where HiGHS's branch-and-cut on the full model took
1.7-5.9 s; one took 179 nodes (7.7 s, HiGHS 3.9 s), so the search has a time limit and
HiGHS proves what it leaves open.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import highspy
import numpy as np

from matcher.clock import Deadline, OutOfTimeError
from matcher.colgen import ColgenResult, MasterLP, Volunteer, multipliers, plan_of, price_all
from matcher.greedy import Chosen
from matcher.instance import Instance

ARTIFICIAL_COST = 1e7
"""LP cost of an artificial unit of a forced need (keeps every node's LP feasible)."""
MAX_NODE_ROUNDS = 200
"""Pricing rounds per node at most (each adds columns; convergence usually takes a few)."""


@dataclass
class BranchResult:
    """What the search settled: ``proved`` is True when every node was closed."""

    proved: bool
    best: int
    """Coverage units of the best plan known at the end (the incumbent's or ``found``'s)."""
    found: Chosen | None
    """A plan better than the incumbent given, when a node's LP was one."""
    nodes: int
    seconds: float


@dataclass(frozen=True)
class _Node:
    banned: frozenset[tuple[int, int]]
    """(volunteer slot, item) pairs no plan here uses."""
    forced: frozenset[int]
    """Needs every plan here covers."""


class _Master(MasterLP):
    """The coverage-only master LP with artificial columns for forced needs, and per set
    the pairs it holds (numbered volunteer by volunteer), so a node's banned pairs close
    its sets in one pass of numpy."""

    def __init__(self, master: ColgenResult, n_needs: int) -> None:
        super().__init__(master.vols, n_needs, ARTIFICIAL_COST)
        self.first = np.cumsum([0] + [len(vol.pairs) for vol in self.vols[:-1]]).tolist()
        self.entry_set: list[int] = []
        self.entry_pair: list[int] = []
        self.add(master.columns)
        if master.basis is not None:
            self.warm(master.basis)

    def add(self, sets: Iterable[tuple[int, Iterable[int]]]) -> list[tuple[int, tuple[int, ...]]]:
        """Add the sets not in the master yet, recording their pairs; returns those added."""
        before = len(self.columns)
        keys = super().add(sets)
        for c, (k, items) in enumerate(keys, start=before):
            self.entry_set.extend([c] * len(items))
            self.entry_pair.extend(self.first[k] + i for i in items)
        return keys

    def restrict(self, node: _Node) -> None:
        """Column and row bounds of ``node``: banned sets and unforced artificials at 0."""
        inf = highspy.kHighsInf
        n_needs, n = self.n_needs, len(self.columns)
        upper = np.full(n_needs + n, inf)
        upper[:n_needs] = 0.0
        upper[list(node.forced)] = inf
        banned = np.zeros(self.first[-1] + len(self.vols[-1].pairs))
        banned[[self.first[k] + i for k, i in node.banned]] = 1.0
        hit = np.bincount(self.entry_set, weights=banned[self.entry_pair], minlength=n) > 0
        upper[n_needs:][hit] = 0.0
        everything = np.arange(n_needs + n, dtype=np.int32)
        self.h.changeColsBounds(n_needs + n, everything, np.zeros(n_needs + n), upper)
        lower = np.full(self.rows, -inf)
        lower[list(node.forced)] = 1.0
        rows = np.arange(self.rows, dtype=np.int32)
        # in highspy 1.16 but not in its type stubs
        self.h.changeRowsBounds(self.rows, rows, lower, np.ones(self.rows))  # type: ignore[attr-defined]


def prove_coverage(
    inst: Instance,
    master: ColgenResult,
    incumbent: int,
    deadline: Deadline,
    known: Callable[[], int] | None = None,
    stop: threading.Event | None = None,
) -> BranchResult:
    """Search the plans for one covering more than ``incumbent`` units, until ``deadline``.

    Parameters
    ----------
    inst
        The compiled problem the columns are of.
    master
        A converged coverage-only column generation (:meth:`ColgenResult.coverage_master`):
        its pricing problems, columns and last basis.
    incumbent
        Coverage units of the best plan known.
    deadline
        When to give up (the result then proves nothing, but may still hold a better plan).
    known
        Coverage units of the best plan found elsewhere meanwhile (read at every node;
        a proof then says no plan covers more than that plan).
    stop
        Set to give up at the next node.

    Returns
    -------
    BranchResult
        ``proved`` when no plan covers more than ``best``.
    """
    t0 = time.perf_counter()
    n_needs = inst.n_needs
    lp = _Master(master, n_needs)
    vols = lp.vols
    items_of_need: dict[int, list[tuple[int, int]]] = {}
    for k, vol in enumerate(vols):
        for i, n in enumerate(vol.need):
            items_of_need.setdefault(n, []).append((k, i))
    best, found, nodes = incumbent, None, 0
    stack = [_Node(frozenset(), frozenset())]
    try:
        while stack:
            node = stack.pop()
            nodes += 1
            if stop is not None and stop.is_set():
                raise OutOfTimeError
            if known is not None:
                best = max(best, known())
            if any(all(p in node.banned for p in items_of_need.get(n, [])) for n in node.forced):
                continue  # a need no one may take must be covered: no plan here
            bound, x = _bound(lp, vols, node, best, deadline)
            if math.floor(bound) <= best:
                continue
            if np.any(x[:n_needs] > 1e-6):
                # An artificial left in a node's LP (pricing rounds ran out): unsettled.
                raise OutOfTimeError
            used = [(lp.columns[c], float(x[n_needs + c])) for c in np.flatnonzero(x[n_needs:] > 1e-6)]
            children = _children(node, used, vols, items_of_need)
            if children:
                stack.extend(reversed(children))  # the first child is searched first
                continue
            # Every pair whole, so every set whole: the LP's plan is the node's best.
            whole = [column for column, _ in used]
            covered = sum(vols[k].worth(list(items)) for k, items in whole)
            if covered > best:
                best, found = covered, plan_of(vols, whole)
    except OutOfTimeError:
        return BranchResult(False, best, found, nodes, time.perf_counter() - t0)
    return BranchResult(True, best, found, nodes, time.perf_counter() - t0)


def _bound(
    lp: _Master, vols: list[Volunteer], node: _Node, enough: int, deadline: Deadline
) -> tuple[float, np.ndarray]:
    """Column generation at ``node``: its best Lagrangian bound and the last LP's set values.

    Raises :class:`OutOfTimeError` at the deadline, and when MAX_NODE_ROUNDS rounds did
    not converge (the search then proves nothing).
    """
    lp.restrict(node)
    h, n_needs = lp.h, lp.n_needs
    banned_by_vol: dict[int, list[int]] = {}
    for k, i in node.banned:
        banned_by_vol.setdefault(k, []).append(i)
    forced = np.zeros(n_needs, dtype=bool)
    forced[list(node.forced)] = True
    best = math.inf
    x = np.zeros(0)
    for _ in range(MAX_NODE_ROUNDS):
        deadline.check()
        h.setOptionValue("time_limit", max(0.01, deadline.remaining()))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise OutOfTimeError
        lp_value = h.getInfo().objective_function_value
        solution = h.getSolution()
        duals = np.asarray(solution.row_dual)
        x = np.asarray(solution.col_value)
        lam = multipliers(duals[:n_needs], forced)
        values, new = price_all(vols, lam, duals[n_needs:], deadline, banned=banned_by_vol)
        best = min(best, float(lam.sum()) + sum(values))
        if math.floor(best) <= enough:
            break
        if not lp.add(new) or math.floor(best) <= math.floor(lp_value + 1e-6):
            break
    else:
        # Not converged, so the LP's plan need not be the node's best: unsettled.
        raise OutOfTimeError
    return best, x


def _children(
    node: _Node,
    used: list[tuple[tuple[int, tuple[int, ...]], float]],
    vols: list[Volunteer],
    items_of_need: dict[int, list[tuple[int, int]]],
) -> list[_Node]:
    """Two nodes splitting ``node``'s plans, or none when the LP (``used``) is a plan.

    A need neither forced nor whole: not covered / covered.  Else a pair not whole: not
    used / the only way its need is covered.  Each child bans a pair the LP used or forces
    a need it did not cover whole, so no child repeats its parent.
    """
    coverage: dict[int, float] = {}
    share: dict[tuple[int, int], float] = {}
    for (k, items), value in used:
        for i in items:
            n = vols[k].need[i]
            coverage[n] = coverage.get(n, 0.0) + value
            share[(k, i)] = share.get((k, i), 0.0) + value
    # the most evenly split first (either way the LP must change), the larger need on a tie
    split = [
        (abs(c - 0.5), -vols[items_of_need[n][0][0]].value[items_of_need[n][0][1]], n)
        for n, c in coverage.items()
        if n not in node.forced and 1e-6 < c < 1 - 1e-6
    ]
    if split:
        n = min(split)[2]
        return [
            _Node(node.banned | frozenset(items_of_need[n]), node.forced),
            _Node(node.banned, node.forced | {n}),
        ]
    pairs = [(abs(v - 0.5), p) for p, v in share.items() if 1e-6 < v < 1 - 1e-6]
    if not pairs:
        return []
    k, i = min(pairs)[1]
    n = vols[k].need[i]
    others = frozenset(p for p in items_of_need[n] if p != (k, i))
    return [_Node(node.banned | {(k, i)}, node.forced), _Node(node.banned | others, node.forced | {n})]


class BranchBeside:
    """:func:`prove_coverage` on a thread, beside HiGHS on the calling one.

    HiGHS leaves Python's lock while it solves, so the two share the process and use both
    cores; whichever settles coverage first stops the other (HiGHS through
    :meth:`settled`, read in its callback).
    """

    def __init__(
        self, inst: Instance, master: ColgenResult, incumbent: int, until: float, known: Callable[[], int]
    ) -> None:
        self._stop = threading.Event()
        self._done = threading.Event()
        self._result: BranchResult | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._result = prove_coverage(inst, master, incumbent, Deadline(until), known, self._stop)
            except BaseException as error:  # re-raised by result(), on the caller's thread
                self._error = error
            finally:
                self._done.set()

        self._thread = threading.Thread(target=run, name="linli-branch", daemon=True)
        self._thread.start()

    def wait(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for the search to end; whether it settled coverage."""
        self._done.wait(max(0.0, seconds))
        return self.settled()

    def settled(self) -> bool:
        """Whether the search has proved coverage (its result is then final)."""
        result = self._result
        return result is not None and result.proved

    def result(self) -> BranchResult | None:
        """Stop the search and return what it settled (None if it had not started a node)."""
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result
