"""Rule 1: a need goes to at most one volunteer, for exactly ``sessions`` distinct slots.

The slot half of the rule lives with rule 4 in :mod:`matcher.model.rules.one_session_per_slot`,
which places sessions in slots; slots are drawn from the pair's usable slots (windows x
availability), so "all in its windows" holds by construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matcher.model.rules.base import Rule, Scope

if TYPE_CHECKING:
    from matcher.model.variables import Vars


def add(v: Vars) -> None:
    """At most one chosen pair per need."""
    for pairs in v.pairs.by_need:
        if len(pairs) > 1:
            v.model.add_at_most_one(v.x[p] for p in pairs)


RULE = Rule("one_volunteer", (1,), Scope.GLOBAL, add=add)
"""Across the volunteers of a need: the one rule column generation keeps in its master."""
