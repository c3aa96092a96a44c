"""What a hard rule is: one object declaring every encoding the engine has of it.

A :class:`Rule` names its reason code and its :class:`Scope`, and holds up to three
encodings of the same rule:

* ``keep(inst, n, cand)``: a filter on the candidate volunteers of need ``n`` before the
  model exists (:mod:`matcher.model.eligibility` runs them, :mod:`matcher.explain`
  replays them to say why a need is unmet);
* ``add(vars)``: a constraint on the CP-SAT model over the eligible pairs
  (:func:`matcher.model.full.build`);
* ``limit``: for a rule over all of one volunteer's needs, a declarative limit that the
  searches which build plans without the model (the greedy fill, column generation's
  pricing) check: :class:`Additive`, :class:`Distinct` or :class:`Slots`.

:data:`matcher.model.rules.RULES` lists every rule; each consumer iterates that list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from matcher.model.instance import BoolArray, Instance, IntArray

if TYPE_CHECKING:
    # Type-only: the variables name the pairs, which the eligibility filters build.
    from matcher.model.variables import Vars

Filter = Callable[[Instance, int, IntArray], BoolArray]
"""``keep(inst, n, cand)``: which candidates ``cand`` of need ``n`` the rule allows."""
Constraint = Callable[["Vars"], None]
"""``add(vars)``: post the rule on the model."""


class Scope(Enum):
    """What a rule looks at, and so what a search that splits the problem may assume."""

    PAIR = "pair"
    """One volunteer and one need: fully applied by the eligibility filter."""
    VOLUNTEER = "volunteer"
    """All of one volunteer's needs together (hours, slots, beneficiaries)."""
    GLOBAL = "global"
    """Across volunteers (one volunteer per need, a re-solve's move budget)."""


@dataclass(frozen=True)
class Additive:
    """A per-volunteer budget the chosen needs' amounts must add up within (rule 5's hours).

    ``amount(inst)[n]`` is need ``n``'s use of it, ``budget(inst)[v]`` volunteer ``v``'s
    budget; both are integers, so the check is exact.
    """

    amount: Callable[[Instance], IntArray]
    budget: Callable[[Instance], IntArray]


@dataclass(frozen=True)
class Distinct:
    """At most ``most(inst)[v]`` distinct keys ``key(inst)[n]`` among a volunteer's needs (rule 6).

    ``held(inst)`` gives the keys a volunteer's fixed assignments already use (re-solve):
    they count towards the limit and take no further room.
    """

    key: Callable[[Instance], IntArray]
    most: Callable[[Instance], IntArray]
    held: Callable[[Instance], Mapping[int, frozenset[int]]]


@dataclass(frozen=True)
class Slots:
    """A volunteer's sessions go to distinct usable slots (rules 1, 3 and 4).

    The searches place sessions by matching (:func:`matcher.model.slotting.match_slots`).
    """


Limit = Additive | Distinct | Slots


def always(inst: Instance) -> bool:
    """A rule that binds on every instance."""
    return True


@dataclass(frozen=True)
class Rule:
    """One hard rule and its encodings (see the module docstring)."""

    name: str
    """The module that defines it (``matcher.model.rules.<name>``)."""
    numbers: tuple[int, ...]
    """The rules of ``docs/format.md`` it implements (empty: re-solve's, or a redundant cut)."""
    scope: Scope
    code: str | None = None
    """The reason code a candidate refused by ``keep`` gets (:mod:`matcher.format.reasons`)."""
    keep: Filter | None = None
    add: Constraint | None = None
    limit: Limit | None = None
    binds: Callable[[Instance], bool] = always
    """Whether the rule can bind on an instance at all (a re-solve's move budget, when set)."""
    redundant: bool = False
    """Implied by the other rules: a cut that tightens the bound, no plan is removed."""

    def __post_init__(self) -> None:
        # Pricing's single-pair columns and the greedy fill take any one eligible pair as
        # fitting a volunteer on its own: a budget or a count needs its filter for that.
        if isinstance(self.limit, Additive | Distinct) and self.keep is None:
            raise ValueError(f"rule {self.name}: a limit needs a filter keeping the pairs that fit it alone")
