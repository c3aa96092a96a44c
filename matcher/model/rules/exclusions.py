"""Rule 9 (second half): never pair a beneficiary with an excluded volunteer."""

from __future__ import annotations

import numpy as np

from matcher.format.reasons import VOLUNTEER_EXCLUDED
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.rules.base import Rule, Scope

CODE = VOLUNTEER_EXCLUDED


def keep(inst: Instance, n: int, cand: IntArray) -> BoolArray:
    """Candidates the beneficiary has not excluded."""
    excluded = inst.ben_excluded[inst.need_ben[n]]
    if not excluded:
        return np.ones(len(cand), dtype=bool)
    allowed: BoolArray = ~np.isin(cand, np.fromiter(excluded, dtype=np.int64))
    return allowed


RULE = Rule("exclusions", (9,), Scope.PAIR, code=CODE, keep=keep)
