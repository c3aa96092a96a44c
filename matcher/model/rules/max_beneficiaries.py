"""Rule 6: a volunteer serves at most ``max_beneficiaries`` distinct beneficiaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from matcher.format.reasons import NO_BENEFICIARY_CAPACITY
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Distinct, Rule, Scope

if TYPE_CHECKING:
    from matcher.model.variables import Vars

CODE = NO_BENEFICIARY_CAPACITY


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates who may serve one more beneficiary, or already serve this need's."""
    some: BoolArray = inst.vol_max_ben[cand] >= 1
    if inst.vol_held:  # re-solve: fixed assignments use up some of the room
        ben = int(inst.need_ben[n])
        some = np.array(
            [inst.ben_room(v) >= 1 or ben in inst.vol_held.get(v, ()) for v in cand.tolist()], dtype=bool
        )
    return some


def add(v: Vars) -> None:
    """Count the beneficiaries each volunteer serves, where their candidates exceed the cap.

    ``serves(vol, ben)`` is implied by every pair of that volunteer with a need of that
    beneficiary; the cap then bounds the sum of the ``serves`` literals.
    """
    inst = v.inst
    for vol, candidates in enumerate(v.pairs.bens_by_vol):
        v.deadline.check()
        # Beneficiaries a fixed assignment already serves take no further room.
        held = inst.vol_held.get(vol, frozenset())
        bens = [b for b in candidates if b not in held]
        room = inst.ben_room(vol)
        if len(bens) <= room:
            continue
        for ben in bens:
            lit = v.serves(vol, ben)
            for p in v.pairs.by_vol_ben[(vol, ben)]:
                v.model.add_implication(v.x[p], lit)
        v.model.add(sum(v.serves(vol, ben) for ben in bens) <= room)


def _beneficiary(inst: Instance) -> IntArray:
    return inst.need_ben


def _most(inst: Instance) -> IntArray:
    return inst.vol_max_ben


def _held(inst: Instance) -> Mapping[int, frozenset[int]]:
    return inst.vol_held


RULE = Rule(
    "max_beneficiaries",
    (6,),
    Scope.VOLUNTEER,
    code=CODE,
    keep=keep,
    add=add,
    limit=Distinct(key=_beneficiary, most=_most, held=_held),
)
"""Beneficiaries are distinct keys: at most ``max_beneficiaries`` of them per volunteer."""
