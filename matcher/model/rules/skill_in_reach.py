"""Rules 2 (skill) and 7 (reach): who can be a candidate for a need at all."""

from __future__ import annotations

import numpy as np

from matcher.format.reasons import NO_VOLUNTEER_WITH_SKILL_IN_REACH
from matcher.model.instance import Instance, IntArray
from matcher.model.rules.base import Rule, Scope

CODE = NO_VOLUNTEER_WITH_SKILL_IN_REACH


class Candidates:
    """Volunteers in reach of a beneficiary's district who have a service code.

    Needs share the lookup by (district, service), so a city builds each list once.
    """

    def __init__(self, inst: Instance) -> None:
        self._inst = inst
        self._cache: dict[tuple[int, str], IntArray] = {}
        self._empty = np.zeros(0, dtype=np.int64)

    def __call__(self, n: int) -> IntArray:
        """Indexes of volunteers in reach with the skill of need ``n``, ascending."""
        inst = self._inst
        key = (int(inst.ben_district[inst.need_ben[n]]), inst.need_service[n])
        found = self._cache.get(key)
        if found is None:
            skilled = inst.vol_skill.get(key[1])
            if skilled is None:
                found = self._empty
            else:
                in_reach = inst.reach[inst.vol_district, key[0]]
                found = np.flatnonzero(skilled & in_reach).astype(np.int64)
            self._cache[key] = found
        return found


RULE = Rule("skill_in_reach", (2, 7), Scope.PAIR, code=CODE)
"""No ``keep``: :class:`Candidates` gives each need's candidates, which the filters then narrow."""
