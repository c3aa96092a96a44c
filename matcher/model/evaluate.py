"""The values of a plan, computed in one place: coverage, continuity, the re-solve's stays
and backs, the lexicographic objective of levels 1-2, and level 3's travel and load.

:class:`LexObjective` owns the weight construction every stage shares (the model's
objective, the columns' pricing, the proofs' reading of a bound, the search's comparison
of plans): ``(S + 1) x coverage + secondary`` with ``secondary = w_stays x stays +
w_backs x backs + continuity`` (see :mod:`matcher.model.full`).  Its methods work on
integers and on CP-SAT expressions alike.

The exchange format's own evaluator, independent of this one (the validator must not
trust the engine), is :mod:`matcher.format.evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from matcher.model.instance import Instance
from matcher.model.objectives.travel import pair_km
from matcher.model.pairs import Pairs
from matcher.model.plan import IndexedPlan

#: Level-3 weight: one hour above half of a volunteer's max_hours costs as much as 2 km of travel.
LOAD_WEIGHT = 20

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import LinearExpr as Expr


@dataclass(frozen=True)
class LexObjective:
    """Levels 1-2 as one exact integer objective.

    ``K`` previous pairs could be kept at all; a re-solve adds up to ``stays_max`` needs
    that keep their volunteer and slots and ``backs_max`` freed needs back with their
    volunteer.  Each level's weight exceeds the largest value of everything below it, so
    the maximum of the weighted sum is the lexicographic maximum, and a bound ``B`` on it
    bounds coverage by ``floor(B / weight)``.
    """

    continuity_max: int
    """``K``."""
    stays_max: int = 0
    backs_max: int = 0

    @classmethod
    def of_columns(cls, inst: Instance, pairs: Pairs) -> LexObjective:
        """A plain solve's objective over ``pairs``: coverage, then continuity (no re-solve
        terms); ``K`` counts the previous pairs some eligible pair could keep (as
        :mod:`matcher.model.objectives.continuity` does)."""
        by_vol_ben = pairs.by_vol_ben
        return cls(sum(1 for vol, ben in inst.previous if by_vol_ben.get((vol, ben))))

    @property
    def w_backs(self) -> int:
        """Weight of one freed need back with its volunteer."""
        return self.continuity_max + 1

    @property
    def w_stays(self) -> int:
        """Weight of one need that stays where it was."""
        return (self.backs_max + 1) * self.w_backs

    @property
    def secondary_max(self) -> int:
        """``S``, the largest secondary value."""
        return self.w_stays * self.stays_max + self.w_backs * self.backs_max + self.continuity_max

    @property
    def weight(self) -> int:
        """Weight of one coverage unit: ``S + 1``."""
        return self.secondary_max + 1

    @overload
    def secondary(self, stays: int, backs: int, continuity: int) -> int: ...
    @overload
    def secondary(self, stays: Expr, backs: Expr, continuity: Expr) -> Expr: ...
    def secondary(self, stays: Any, backs: Any, continuity: Any) -> Any:
        """The nested value below coverage (ints or CP-SAT expressions)."""
        return self.w_stays * stays + self.w_backs * backs + continuity

    @overload
    def primary(self, coverage: int, secondary: int) -> int: ...
    @overload
    def primary(self, coverage: Expr, secondary: Expr) -> Expr: ...
    def primary(self, coverage: Any, secondary: Any) -> Any:
        """``(S + 1) x coverage + secondary`` (ints or CP-SAT expressions)."""
        return self.weight * coverage + secondary

    def coverage_of(self, primary: float) -> int:
        """Coverage units of a plan's primary value (a solver's objective, maybe inexact)."""
        return round(primary) // self.weight

    def coverage_bound(self, bound: float) -> int:
        """Coverage units a primary bound allows: ``floor`` may only loosen it."""
        return math.floor(bound + 1e-6) // self.weight


def coverage_units(inst: Instance, plan: IndexedPlan | Mapping[int, object]) -> int:
    """Scaled coverage of a plan (the sum of its needs' values); also of a stage's working
    view keyed by need."""
    needs = plan.needs.tolist() if isinstance(plan, IndexedPlan) else plan
    return sum(int(inst.need_value[n]) for n in needs)


def served(inst: Instance, plan: IndexedPlan) -> set[tuple[int, int]]:
    """(volunteer, beneficiary) pairs that serve at least one need together."""
    needs = plan.needs
    return set(zip(plan.vol[needs].tolist(), inst.need_ben[needs].tolist(), strict=True))


def continuity(inst: Instance, plan: IndexedPlan) -> int:
    """Previous pairs served again (level 2)."""
    return len(set(inst.previous) & served(inst, plan))


def stays_backs(inst: Instance, plan: IndexedPlan) -> tuple[int, int]:
    """A re-solve's needs that stay at their home volunteer and slots, and freed needs back
    with their previous volunteer (see :mod:`matcher.model.objectives.home`)."""
    stays = backs = 0
    for n, (vol, slots) in inst.need_home.items():
        if plan.vol[n] != vol:
            continue
        if slots is None:
            backs += 1
        elif set(plan.slots_of(n)) == set(slots):
            stays += 1
    return stays, backs


def secondary(inst: Instance, plan: IndexedPlan, lex: LexObjective) -> int:
    """The plan's value below coverage: stays, backs and continuity, nested."""
    stays, backs = stays_backs(inst, plan)
    return lex.secondary(stays, backs, continuity(inst, plan))


def primary_of(inst: Instance, plan: IndexedPlan, lex: LexObjective) -> int:
    """The plan's levels-1-2 value, ``(S + 1) x coverage + secondary``."""
    return lex.primary(coverage_units(inst, plan), secondary(inst, plan, lex))


def travel_load(inst: Instance, pairs: Pairs, plan: IndexedPlan) -> int:
    """Level 3, lower is better: ``scale x`` tenths of a km travelled plus ``LOAD_WEIGHT x``
    scaled hours above half a volunteer's ``max_hours`` (as the model's
    :meth:`matcher.model.full.LinliModel.polish` counts them); ``plan`` numbered over ``pairs``."""
    chosen = plan.pair[plan.needs]
    km = pair_km(inst, pairs)[chosen]
    sessions = inst.need_sessions[plan.needs]
    travel = int(np.rint(km * 10 * sessions).astype(np.int64).sum())
    load: dict[int, int] = {}
    for n, v in zip(plan.needs.tolist(), plan.vol[plan.needs].tolist(), strict=True):
        load[v] = load.get(v, 0) + int(inst.need_load[n])
    excess = 0
    for v, hours in load.items():
        # Fixed assignments (re-solve) count towards the volunteer's load too.
        base = inst.vol_base_load.get(v, 0)
        half = (int(inst.vol_cap[v]) + base) // 2 - base
        excess += max(0, hours - half)
    return inst.scale * travel + LOAD_WEIGHT * excess
