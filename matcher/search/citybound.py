"""City-scale coverage bound: column generation on the needs a plan leaves uncovered.

At city size :mod:`matcher.search.colgen` cannot price the whole week (its master LP over every
pair is far too slow), but the needs a good plan leaves uncovered sit in small pockets:
a few candidates each, all busy.  The *core* is those needs and the needs their
candidates hold in the plan.  Any plan's assignments inside the core are a plan of the
core sub-problem (the core's pairs, every rule kept; dropping assignments keeps a plan
valid), so

    coverage <= sum of need_value outside the core (reachable needs) + bound(core)

where ``bound(core)`` is colgen's Lagrangian bound on the core's coverage (weight 1,
continuity left out, multipliers on the ``2**-10`` grid, each volunteer's pricing search
capped at ``price_steps`` steps and replaced by an upper bound where it stops, the last
complete pricing round's value when time runs out).  With no core, or no round finished in
time, the bound is the reachable sum.

A large core (a 20,000-volunteer city's has some 400,000 pairs, an LP that does not
converge in minutes) is split by the district of each need.  The same argument holds part
by part: a plan's assignments to the needs of one part are a plan of that part's
sub-problem, every volunteer's whole week available to it, so ``bound(core) <= sum over
parts of bound(part)``.  Looser (a volunteer who serves two districts is counted in
both) but each part converges in seconds, and a part left unsettled keeps its own sum.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matcher.clock import Deadline, OutOfTimeError
from matcher.model.evaluate import coverage_units
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.params import DEFAULTS, SolveParams
from matcher.search import colgen


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


def bound(
    inst: Instance,
    pairs: Pairs,
    chosen: Chosen,
    deadline: Deadline,
    params: SolveParams = DEFAULTS,
    on_bound: Callable[[int], None] | None = None,
) -> CityBound:
    """Upper bound on coverage units of any plan, given a valid plan ``chosen``.

    Never above the reachable sum nor below ``chosen``'s coverage.  ``params``:
    ``city_price_steps``, the step limit of each volunteer's pricing search;
    ``city_max_core_pairs``, above which the core is split by district; the ``colgen_*``
    tuning of column generation on each part.  ``on_bound``: called with the bound as it
    stands (each a valid bound, at least the one returned) after every pricing round of
    every part: the parts not yet settled count their whole value; None by default.
    """
    price_steps = params.city_price_steps
    t0 = time.perf_counter()
    reachable_mask = pairs.by_need.sizes() > 0
    reachable = int(inst.need_value[reachable_mask].sum())
    core = core_needs(inst, pairs, chosen)
    n_core_pairs = int(core[pairs.need].sum())
    parts = [core] if n_core_pairs <= params.city_max_core_pairs else by_district(inst, core)
    # smallest first: when time runs short, as many parts as possible are settled
    parts.sort(key=lambda part: int(part[pairs.need].sum()))
    # coverage alone: weight 1 and no previous pairs, so the bound is on coverage units
    plain = dataclasses.replace(inst, previous=[])
    outside = int(inst.need_value[reachable_mask & ~core].sum())
    total = outside
    rounds = 0
    lam = np.zeros(inst.n_needs)
    covered = coverage_units(inst, chosen)
    # Per part, its bound as it stands (its whole value until a pricing round bounds it).
    standing = [int(inst.need_value[part].sum()) for part in parts]

    def tell(index: int, part_bound: int) -> None:
        if on_bound is not None:
            standing[index] = min(standing[index], part_bound)
            on_bound(max(min(reachable, outside + sum(standing)), covered))

    for index, part in enumerate(parts):
        part_units = int(inst.need_value[part].sum())
        keep = np.flatnonzero(part[pairs.need])
        if len(keep) and deadline.remaining() > 0:
            sub = pairs.subset(inst, keep)
            local = {p: i for i, p in enumerate(keep.tolist())}
            start = {n: (local[p], slots) for n, (p, slots) in chosen.items() if part[n]}
            try:
                result = colgen.prove(
                    plain,
                    sub,
                    start,
                    1,
                    deadline,
                    mip_limit=0.0,
                    price_steps=price_steps,
                    singles=False,
                    params=params,
                    on_round=None if on_bound is None else functools.partial(tell, index),
                )
            except OutOfTimeError:
                result = None  # out of time while setting up: this part keeps its sum
            if result is not None:
                rounds += result.rounds
                if result.bound is not None:
                    part_units = min(part_units, result.bound)
                if result.lam is not None:
                    lam[part] = result.lam[part]
        total += part_units
    if len(parts) > 1 and deadline.remaining() > 0:
        # The parts' multipliers together, priced over the whole core: every volunteer
        # now sees all its candidate needs at once, so nothing is counted twice, and the
        # value is never above the parts' sum (a set splits into one set per part).
        try:
            whole = lagrangian(plain, pairs, core, lam, deadline, price_steps)
        except OutOfTimeError:
            whole = None
        if whole is not None:
            total = min(total, outside + math.floor(whole))
    units = min(reachable, total)
    return CityBound(
        max(units, covered), reachable, int(core.sum()), n_core_pairs, rounds, time.perf_counter() - t0
    )


def lagrangian(
    inst: Instance,
    pairs: Pairs,
    needs: np.ndarray,
    lam: np.ndarray,
    deadline: Deadline,
    price_steps: int = DEFAULTS.city_price_steps,
) -> float:
    """``L(lam)`` over the sub-problem of ``needs`` (a mask): an upper bound on its coverage units.

    ``lam`` is rounded down to the ``2**-10`` grid first (any ``lam >= 0`` gives a bound).
    """
    lam = np.floor(np.maximum(lam, 0.0) * colgen.LAMBDA_GRID) / colgen.LAMBDA_GRID
    keep = np.flatnonzero(needs[pairs.need])
    sub = pairs.subset(inst, keep)
    value = float(lam[needs].sum())
    for v in range(inst.n_volunteers):
        if len(sub.by_vol[v]):
            price, _ = colgen.Volunteer(inst, sub, v, 1, set()).price(lam, deadline, max_steps=price_steps)
            value += price
    return value


def by_district(inst: Instance, needs: np.ndarray) -> list[np.ndarray]:
    """``needs`` (a mask) split by the district of each need's beneficiary."""
    district = inst.ben_district[inst.need_ben]
    return [needs & (district == d) for d in np.unique(district[needs]).tolist()]
