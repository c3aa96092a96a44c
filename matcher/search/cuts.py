"""Odd-cycle cuts on the coverage master: rank-1 Chvátal-Gomory cuts with multipliers 1/2.

The master's rows say each need is covered at most once and each volunteer takes at most
one set.  Its LP optimum is often a web of half-taken sets: set ``a`` and set ``b`` share a
row, ``b`` and ``c`` another, ... around an odd cycle back to ``a``, each at 1/2.  Summing
the cycle's ``2k + 1`` rows, halving and rounding down gives a cut every plan meets::

    sum over sets S of floor(|rows(S) & R| / 2) x_S  <=  k        (R: the cycle's rows)

which the half-taken cycle (``k + 1/2`` on the left) breaks.  The cut is written in rows,
not in columns, so a set priced later has a coefficient too: ``floor((|S & R_needs| +
[v's row in R]) / 2)`` for a set ``S`` of volunteer ``v``, which its pricing problem takes
off its value through the cut's dual (:class:`matcher.search.colgen.Penalties`).

Cycles are found as in the classic odd-cycle separation: on the graph of the fractional
sets, joined where they share a tight row with weight ``1 - x_a - x_b``, a shortest path
between the two copies of a set in the bipartite double cover is an odd cycle, violated
when shorter than 1.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

EPS = 1e-6
MIN_VIOLATION = 1e-3
"""A cut must cut the LP point off by this much to be added."""
MAX_STARTS = 100
"""Fractional sets a cycle is looked for from, at most (those nearest 1/2 first)."""


@dataclass(frozen=True)
class Cut:
    """``sum_S floor((|needs(S) & needs| + [vol(S) in vols]) / 2) x_S <= rhs``."""

    needs: frozenset[int]
    vols: frozenset[int]
    """Volunteer slots (in the master's list) whose one-set row is in the cut."""

    @property
    def rhs(self) -> int:
        """Half the number of rows, rounded down."""
        return (len(self.needs) + len(self.vols)) // 2

    def coefficient(self, vol: int, needs: Iterable[int]) -> int:
        """The coefficient of a set of volunteer slot ``vol`` covering ``needs``."""
        return (sum(1 for n in needs if n in self.needs) + int(vol in self.vols)) // 2


def separate(
    columns: Sequence[tuple[int, Sequence[int]]],
    x: np.ndarray,
    n_needs: int,
    known: set[Cut],
    most: int = 50,
) -> list[Cut]:
    """Odd-cycle cuts the LP point ``x`` breaks, the most violated first.

    Parameters
    ----------
    columns
        Per set column, its volunteer slot and the needs it covers.
    x
        The LP value of each set column.
    n_needs
        Rows ``0 .. n_needs - 1`` are needs; volunteer slot ``k``'s row is ``n_needs + k``.
    known
        Cuts in the master already (not returned again).
    most
        At most this many cuts.
    """
    frac = [int(c) for c in np.flatnonzero((x > EPS) & (x < 1 - EPS))]
    if len(frac) < 3:
        return []
    rows_of = {c: [*columns[c][1], n_needs + columns[c][0]] for c in frac}
    activity: dict[int, float] = {}
    for c in map(int, np.flatnonzero(x > EPS)):
        for r in (*columns[c][1], n_needs + columns[c][0]):
            activity[r] = activity.get(r, 0.0) + float(x[c])
    on_row: dict[int, list[int]] = {}
    for c in frac:
        for r in rows_of[c]:
            if activity[r] > 1 - EPS:
                on_row.setdefault(r, []).append(c)
    # edge a-b: the sets share a tight row; its weight 1 - x_a - x_b is >= 0 on such a row
    edges: dict[int, dict[int, tuple[float, int]]] = {c: {} for c in frac}
    for r, cs in on_row.items():
        for i, a in enumerate(cs):
            for b in cs[i + 1 :]:
                w = max(0.0, 1.0 - float(x[a]) - float(x[b]))
                if b not in edges[a] or w < edges[a][b][0]:
                    edges[a][b] = edges[b][a] = (w, r)
    active = [int(c) for c in np.flatnonzero(x > EPS)]
    found: dict[Cut, float] = {}
    seen: set[int] = set()
    for s in sorted(frac, key=lambda c: abs(float(x[c]) - 0.5))[:MAX_STARTS]:
        if s in seen:
            continue  # on a cycle found already: its own would most likely be the same
        cycle = _odd_cycle(s, edges)
        if cycle is None:
            continue
        seen.update(cycle)
        rows = [edges[a][b][1] for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True)]
        if len(set(rows)) < len(rows):
            continue  # two steps on one row: not the cut of an odd hole
        cut = Cut(
            frozenset(r for r in rows if r < n_needs), frozenset(r - n_needs for r in rows if r >= n_needs)
        )
        if cut in known or cut in found:
            continue
        lhs = sum(cut.coefficient(columns[c][0], columns[c][1]) * float(x[c]) for c in active)
        if lhs > cut.rhs + MIN_VIOLATION:
            found[cut] = lhs - cut.rhs
    return sorted(found, key=lambda cut: -found[cut])[:most]


def _odd_cycle(start: int, edges: dict[int, dict[int, tuple[float, int]]]) -> list[int] | None:
    """A simple odd cycle through ``start`` of weight below 1, or None (Dijkstra on the
    bipartite double cover: from ``start`` on side 0 to ``start`` on side 1)."""
    dist = {(start, 0): 0.0}
    back: dict[tuple[int, int], tuple[int, int]] = {}
    heap = [(0.0, start, 0)]
    while heap:
        d, u, side = heapq.heappop(heap)
        if d > dist.get((u, side), np.inf) or d >= 1 - MIN_VIOLATION:
            continue
        if (u, side) == (start, 1):
            path = [u]
            node = (u, side)
            while node != (start, 0):
                node = back[node]
                path.append(node[0])
            cycle = path[:-1][::-1]
            return cycle if len(set(cycle)) == len(cycle) else None
        for v, (w, _) in edges[u].items():
            key = (v, 1 - side)
            if d + w < dist.get(key, np.inf):
                dist[key] = d + w
                back[key] = (u, side)
                heapq.heappush(heap, (d + w, v, 1 - side))
    return None
