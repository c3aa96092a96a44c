"""City-scale coverage bound: column generation on the needs a plan leaves uncovered.

At city size :mod:`matcher.colgen` cannot price the whole week (its master LP over every
pair is far too slow), but the needs a good plan leaves uncovered sit in small pockets:
a few candidates each, all busy.  The *core* is those needs and the needs their
candidates hold in the plan.  Any plan's assignments inside the core are a plan of the
core sub-problem (the core's pairs, every rule kept; dropping assignments keeps a plan
valid), so

    coverage <= sum of need_value outside the core (reachable needs) + bound(core)

where ``bound(core)`` is colgen's exact Lagrangian bound on the core's coverage (weight 1,
continuity left out, multipliers on the ``2**-10`` grid, the last complete pricing round's
value when time runs out).  With no core, or no round finished in time, the bound is the
reachable sum.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from matcher import colgen
from matcher.clock import Deadline, OutOfTimeError
from matcher.eligibility import Pairs
from matcher.greedy import Chosen
from matcher.instance import Instance


@dataclass
class CityBound:
    """An upper bound on coverage units and how it was reached."""

    units: int
    reachable: int
    core_needs: int
    core_pairs: int
    rounds: int
    seconds: float


def core_needs(inst: Instance, pairs: Pairs, chosen: Chosen) -> np.ndarray:
    """Mask of the core: reachable needs ``chosen`` leaves open, and what their candidates hold."""
    reachable = pairs.by_need.sizes() > 0
    core = reachable.copy()
    held = np.fromiter(chosen.keys(), dtype=np.int64, count=len(chosen))
    core[held] = False
    if not core.any():
        return core
    busy = np.zeros(inst.n_volunteers, dtype=bool)
    busy[pairs.vol[core[pairs.need]]] = True
    holder = np.fromiter((int(pairs.vol[p]) for p, _ in chosen.values()), dtype=np.int64, count=len(chosen))
    core[held[busy[holder]]] = True
    return core


def bound(inst: Instance, pairs: Pairs, chosen: Chosen, deadline: Deadline) -> CityBound:
    """Upper bound on coverage units of any plan, given a valid plan ``chosen``.

    Never above the reachable sum nor below ``chosen``'s coverage.
    """
    t0 = time.perf_counter()
    reachable_mask = pairs.by_need.sizes() > 0
    reachable = int(inst.need_value[reachable_mask].sum())
    core = core_needs(inst, pairs, chosen)
    keep = np.flatnonzero(core[pairs.need])
    units, rounds = reachable, 0
    if len(keep) and deadline.remaining() > 0:
        sub = pairs.subset(inst, keep)
        local = {p: i for i, p in enumerate(keep.tolist())}
        start = {n: (local[p], slots) for n, (p, slots) in chosen.items() if core[n]}
        # coverage alone: weight 1 and no previous pairs, so the bound is on coverage units
        plain = dataclasses.replace(inst, previous=[])
        result = colgen.prove(plain, sub, start, 1, deadline, mip_limit=0.0)
        rounds = result.rounds
        if result.bound is not None:
            outside = int(inst.need_value[reachable_mask & ~core].sum())
            units = min(reachable, outside + result.bound)
    covered = sum(int(inst.need_value[n]) for n in chosen)
    return CityBound(
        max(units, covered), reachable, int(core.sum()), len(keep), rounds, time.perf_counter() - t0
    )


MAX_CORE_PAIRS = 60_000
"""Above this many core pairs no bound is attempted (its master LP would not finish a round:
26,501 core pairs at 4,000 volunteers take ~0.8 s per LP; 411,928 at 20,000 did not finish in 120 s)."""


def core_pairs(inst: Instance, pairs: Pairs, chosen: Chosen) -> int:
    """Pairs of the core of ``chosen`` (see :func:`core_needs`)."""
    core = core_needs(inst, pairs, chosen)
    return int(core[pairs.need].sum())


class Beside:
    """The city bound computed in a forked process while the search runs in this one.

    The search (one CP-SAT worker per neighbourhood) leaves a core idle; the bound of the
    plan the search starts from uses it, so it costs the search nothing.  Where ``fork``
    is not available, or the core is too large, there is no bound (``result`` is None).
    """

    def __init__(self, inst: Instance, pairs: Pairs, chosen: Chosen, until: float) -> None:
        self._proc: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        if "fork" not in mp.get_all_start_methods() or core_pairs(inst, pairs, chosen) > MAX_CORE_PAIRS:
            return
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_work, args=(child, inst, pairs, chosen, until), daemon=True)
        self._proc.start()
        child.close()

    def result(self, timeout: float) -> int | None:
        """The bound in coverage units, waiting at most ``timeout`` s; None if there is none."""
        if self._proc is None or self._conn is None:
            return None
        try:
            units: int | None = self._conn.recv() if self._conn.poll(max(0.0, timeout)) else None
        except EOFError:
            units = None
        self._proc.terminate()
        self._proc.join(1)
        self._conn.close()
        self._proc = None
        return units


def _work(conn: Connection, inst: Instance, pairs: Pairs, chosen: Chosen, until: float) -> None:
    try:
        conn.send(bound(inst, pairs, chosen, Deadline(until)).units)
    except OutOfTimeError:
        conn.send(None)
    finally:
        conn.close()
