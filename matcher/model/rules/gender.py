"""Rule 9 (first half): a beneficiary's ``volunteer_gender`` is respected.

A volunteer who gave no gender does not satisfy a stated preference: the beneficiary
asked for someone they know to be of that gender.
"""

from __future__ import annotations

import numpy as np

from matcher.format.reasons import GENDER_MISMATCH
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Rule, Scope

CODE = GENDER_MISMATCH


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates of the requested gender, or all when none is requested."""
    wanted = inst.ben_gender[inst.need_ben[n]]
    if wanted == 0:
        return np.ones(len(cand), dtype=bool)
    same: BoolArray = inst.vol_gender[cand] == wanted
    return same


RULE = Rule("gender", (9,), Scope.PAIR, code=CODE, keep=keep)
