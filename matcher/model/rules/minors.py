"""Rule 8: a minor ("little volunteer") takes only needs marked ``minor_ok``."""

from __future__ import annotations

import numpy as np

from matcher.format.reasons import MINOR_NOT_ALLOWED
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Rule, Scope

CODE = MINOR_NOT_ALLOWED


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Adults always; minors only for ``minor_ok`` needs."""
    if inst.need_minor_ok[n]:
        return np.ones(len(cand), dtype=bool)
    adult: BoolArray = ~inst.vol_minor[cand]
    return adult


RULE = Rule("minors", (8,), Scope.PAIR, code=CODE, keep=keep)
