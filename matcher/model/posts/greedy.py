"""A quick plan of a format-2 problem with posts, and the complete solution hint it makes.

Needs are taken in decreasing order of their most value (``priority x hours x sessions x max``);
each takes, among up to :data:`WINDOW_SETS` sets of ``sessions`` windows, the one where the most
volunteers (up to ``max``) are still free, with hours and places left, the scarcest volunteers
first (those eligible for the fewest needs), a lead holder and an adult first where the post
needs one; a post with fewer than ``min`` such volunteers is left out.  The plan keeps every rule,
so it is a valid start for the exact solvers (HiGHS found no plan at all in 10 s without one).
"""

from __future__ import annotations

import itertools

from matcher.model.posts.instance import PostInstance, PostNeed
from matcher.model.posts.variables import PostVars

WINDOW_SETS = 60
"""Most window sets tried per need."""

Team = tuple[list[int], tuple[str, ...]]


def greedy(
    inst: PostInstance, only: set[int] | None = None, fixed: dict[int, Team] | None = None
) -> dict[int, Team]:
    """Need index -> (volunteer indices, slots) of a plan keeping every rule (of the needs ``only``).

    ``fixed`` assignments (a re-solve's kept ones, valid together) are part of the plan as they
    are; the other needs are placed around them.
    """
    busy: list[set[str]] = [set() for _ in inst.volunteers]
    hours_left = list(inst.max_hours)
    places: list[set[str]] = [set() for _ in inst.volunteers]
    options = [0] * len(inst.volunteers)
    for pn in inst.needs:
        for v in pn.eligible:
            options[v] += 1
    plan: dict[int, Team] = dict(fixed or {})
    for n, (kept, at) in plan.items():
        for v in kept:
            busy[v].update(at)
            hours_left[v] -= inst.needs[n].unit_hours
            places[v].add(inst.needs[n].place)
    order = sorted(
        (pn for pn in inst.needs if (only is None or pn.index in only) and pn.index not in plan),
        key=lambda pn: -pn.unit_value * pn.high,
    )
    for pn in order:
        if len(pn.eligible) < pn.low:
            continue
        best: Team | None = None
        for slots in itertools.islice(itertools.combinations(pn.need.windows, pn.need.sessions), WINDOW_SETS):
            team = _team(inst, pn, slots, busy, hours_left, places, options)
            if team is not None and (best is None or len(team) > len(best[0])):
                best = (team, slots)
                if len(team) == pn.high:
                    break
        if best is None:
            continue
        plan[pn.index] = best
        for v in best[0]:
            busy[v].update(best[1])
            hours_left[v] -= pn.unit_hours
            places[v].add(pn.place)
    return plan


def free_for(
    inst: PostInstance,
    pn: PostNeed,
    slots: tuple[str, ...],
    busy: list[set[str]],
    hours_left: list[int],
    places: list[set[str]],
) -> list[int]:
    """``pn``'s eligible volunteers who can still join it at ``slots`` beside what a plan gives them
    (``busy`` slots, ``hours_left`` in scaled units, ``places``): free and idle at every slot, the
    hours left, and the place already theirs or room for one more (rules 3-6)."""
    return [
        v
        for v in pn.eligible
        if inst.free[v].issuperset(slots)
        and busy[v].isdisjoint(slots)
        and hours_left[v] >= pn.unit_hours
        and (pn.place in places[v] or len(places[v]) < inst.volunteers[v].max_beneficiaries)
    ]


def _team(
    inst: PostInstance,
    pn: PostNeed,
    slots: tuple[str, ...],
    busy: list[set[str]],
    hours_left: list[int],
    places: list[set[str]],
    options: list[int],
) -> list[int] | None:
    free = free_for(inst, pn, slots, busy, hours_left, places)
    free.sort(key=lambda v: (options[v], v))
    if pn.need.lead is not None:
        leads = [v for v in free if v in pn.leads]
        if not leads:
            return None
        free.remove(leads[0])
        free.insert(0, leads[0])
    team = free[: pn.high]
    if pn.group and team and all(inst.volunteers[v].minor for v in team):
        adults = [v for v in free if not inst.volunteers[v].minor]
        if not adults:
            return None
        team = [adults[0], *team[: pn.high - 1]]
    return team if len(team) >= pn.low else None


def hint(pv: PostVars, plan: dict[int, Team]) -> None:
    """Set ``pv.model``'s solution hint to ``plan``, every variable of the model included."""
    inst = pv.inst
    ones: set[int] = set()
    places: set[tuple[int, str]] = set()
    for n, (team, slots) in plan.items():
        ones.add(pv.run[n].Index())
        for w in slots:
            ones.add(pv.chosen[n, w].Index())
        for v in team:
            ones.add(pv.join[v, n].Index())
            places.add((v, inst.needs[n].place))
            for w in slots:
                ones.add(pv.at[v, n, w].Index())
    for key, use in pv.use.items():
        if key in places:
            ones.add(use.Index())
    for key, keep in pv.keep.items():
        if key in places:
            ones.add(keep.Index())
    proto = pv.model.proto
    pv.model.clear_hints()  # type: ignore[no-untyped-call]
    count = len(proto.variables)
    proto.solution_hint.vars.extend(range(count))
    proto.solution_hint.values.extend(int(i in ones) for i in range(count))


def value_of(inst: PostInstance, plan: dict[int, Team]) -> int:
    """The coverage of ``plan`` in scaled units."""
    return sum(inst.needs[n].unit_value * len(team) for n, (team, _) in plan.items())


def left_for_one_to_one(inst: PostInstance, plan: dict[int, Team]) -> list[tuple[frozenset[str], int, int]]:
    """Per volunteer, what ``plan`` leaves: (free slots, hours in scaled units, places)."""
    busy: list[set[str]] = [set() for _ in inst.volunteers]
    hours = list(inst.max_hours)
    places: list[set[str]] = [set() for _ in inst.volunteers]
    for n, (team, slots) in plan.items():
        for v in team:
            busy[v].update(slots)
            hours[v] -= inst.needs[n].unit_hours
            places[v].add(inst.needs[n].place)
    return [
        (inst.free[v] - busy[v], hours[v], inst.volunteers[v].max_beneficiaries - len(places[v]))
        for v in range(len(inst.volunteers))
    ]
