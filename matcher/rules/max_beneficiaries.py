"""Rule 6: a volunteer serves at most ``max_beneficiaries`` distinct beneficiaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matcher.instance import BoolArray, Instance, IntArray
from matcher.reasons import NO_BENEFICIARY_CAPACITY

if TYPE_CHECKING:
    from matcher.variables import Vars

CODE = NO_BENEFICIARY_CAPACITY


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates who may serve at least one beneficiary."""
    some: BoolArray = inst.vol_max_ben[cand] >= 1
    return some


def add(v: Vars) -> None:
    """Count the beneficiaries each volunteer serves, where their candidates exceed the cap.

    ``serves(vol, ben)`` is implied by every pair of that volunteer with a need of that
    beneficiary; the cap then bounds the sum of the ``serves`` literals.
    """
    inst = v.inst
    for vol, bens in enumerate(v.pairs.bens_by_vol):
        v.deadline.check()
        if len(bens) <= inst.vol_max_ben[vol]:
            continue
        for ben in bens:
            lit = v.serves(vol, ben)
            for p in v.pairs.by_vol_ben[(vol, ben)]:
                v.model.add_implication(v.x[p], lit)
        v.model.add(sum(v.serves(vol, ben) for ben in bens) <= int(inst.vol_max_ben[vol]))
