"""Hard rules 1-9 of ``docs/format.md`` (and a re-solve's move budget), one module each.

Each module defines one :class:`~matcher.model.rules.base.Rule` object, ``RULE``, that
declares its reason code, its scope and its encodings: an eligibility filter ``keep``, a
model constraint ``add`` and, for a limit over a volunteer's needs, the limit the greedy
fill and column generation's pricing check.  :data:`RULES` lists them in the order of
``docs/format.md``; every consumer iterates it: :mod:`matcher.model.eligibility` (the
filters, ordered by reason code), :func:`matcher.model.full.build` (the constraints),
:mod:`matcher.search.greedy` and :mod:`matcher.search.colgen` (the limits) and
:mod:`matcher.explain` (the filters again, to explain unmet needs).
"""

from __future__ import annotations

from typing import TypeVar

from matcher.model.rules import (
    availability,
    certification,
    exclusions,
    gender,
    max_beneficiaries,
    max_hours,
    minors,
    move_budget,
    one_session_per_slot,
    one_volunteer,
    skill_in_reach,
    volunteer_value,
)
from matcher.model.rules.base import Additive, Distinct, Limit, Rule, Scope, Slots

__all__ = ["RULES", "Additive", "Distinct", "Limit", "Rule", "Scope", "Slots", "limits"]

RULES: tuple[Rule, ...] = (
    one_volunteer.RULE,  # rule 1: at most one volunteer per need
    availability.RULE,  # rules 1 and 3: sessions in windows the volunteer is free in
    skill_in_reach.RULE,  # rules 2 and 7: skill, district in reach
    certification.RULE,  # rule 2: certifications valid for the week
    one_session_per_slot.RULE,  # rules 1 and 4: distinct slots, one session per slot
    max_hours.RULE,  # rule 5
    max_beneficiaries.RULE,  # rule 6
    minors.RULE,  # rule 8
    gender.RULE,  # rule 9
    exclusions.RULE,  # rule 9
    move_budget.RULE,  # re-solve with --allow-moves K
    volunteer_value.RULE,  # redundant: rules 3-5 per volunteer, to tighten the LP bound
)
"""Every hard rule, in the order of ``docs/format.md`` (constraints are posted in this order)."""

L = TypeVar("L", Additive, Distinct, Slots)


def limits(kind: type[L], rules: tuple[Rule, ...] = RULES) -> list[L]:
    """The volunteer limits of one kind, in rule order."""
    return [rule.limit for rule in rules if isinstance(rule.limit, kind)]
