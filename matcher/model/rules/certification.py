"""Rule 2 (certificates): every kind in ``requires`` held and valid for the week."""

from __future__ import annotations

import numpy as np

from matcher.format.reasons import NO_CERTIFIED_VOLUNTEER
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Rule, Scope

CODE = NO_CERTIFIED_VOLUNTEER


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates holding every required certification, valid through the week's Sunday."""
    required = inst.need_requires[n]
    if len(required) == 0:  # most needs: nothing to look up
        return np.ones(len(cand), dtype=bool)
    held = inst.vol_cert[cand[:, None], required]
    return np.asarray(held.all(axis=1), dtype=bool)


RULE = Rule("certification", (2,), Scope.PAIR, code=CODE, keep=keep)
