"""Format 2 with posts at city size: each post's window set fixed, its places as one-to-one "seats",
today's format-1 pipeline on the whole, then a repair that makes every post run or release it.

Column generation (:mod:`matcher.search.posts_colgen`) and the compact model
(:mod:`matcher.search.posts`) stop at station size.  Here (:func:`solve_city`):

1. each post gets a window set: its core team's (:func:`_core_teams`: the posts alone, ``min``
   volunteers each, those the one-to-one needs would miss least), else the set where the most
   eligible volunteers are free; a post with fewer than ``min`` eligible volunteers free at any
   set stays unmet (with :data:`CORE_FIRST`, a post with a core runs with it, seats only above);
2. with its window set fixed a post of ``max`` places is ``max`` format-1 needs at exactly those
   slots (windows = the set, sessions = its size), each for the post's place (a site becomes a
   beneficiary of the post's priority and district, so the places cap counts it once; a
   volunteer cannot take two seats, they share their slots); the first seat of a post with a
   lead asks for the lead's certifications, and of a group post that admits minors, an adult;
3. the seats and the one-to-one needs are one format-1 problem, solved by the caller's pipeline
   (:func:`matcher.solve.solve`, handed in: the city route of format 1);
4. repair: a post below its ``min``, or without its lead, or with only minors, is worth nothing
   and breaks rules 10-12; it is filled by insertion (free eligible volunteers) and by ejection
   (a one-to-one need of an eligible volunteer moved to another free volunteer), else released;
   released and unstaffed posts are tried again at each window set with the volunteers left, the
   running ones topped up to ``max``; with :data:`TRADE` a post then takes volunteers whose
   one-to-one needs at its slots are worth less than a place on it (moved to another volunteer
   if one can take them, else dropped), and an unstaffed post runs where its team is worth more
   than the needs it displaces; last the unmet (and dropped) one-to-one needs are inserted.

Every step keeps rules 1-9 per volunteer, so the plan is valid (the tests check it with
:func:`matcher.format.validate2.validate_plan2`).  The bound reported is the demand (each need's
value at its most volunteers, posts that can never run left out): no better bound is proved here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from matcher.format import reasons
from matcher.format.schema import (
    Beneficiary,
    Need2,
    Objective2,
    Plan,
    Plan2,
    PostAssignment,
    Problem,
    Problem2,
    Unmet,
    Volunteer,
)
from matcher.format.versions import as_format1
from matcher.model.posts.greedy import WINDOW_SETS, Team, free_for
from matcher.model.posts.instance import NeedCompiler, PostInstance, PostNeed
from matcher.model.posts.model import number, unmet_reasons

OneToOne = Callable[[Problem, float], Plan]
"""Solves a format-1 problem within the seconds given (:func:`matcher.solve.solve`'s plan)."""

CORE_FIRST = False
"""Commit posts to core teams (:func:`_core_teams`) before the one-to-one solve, seats only above
them, rather than seating every place and releasing posts left below their minimum.  Off: at 4,000
volunteers it ran about 340 posts instead of about 220 but covered less (seed 2: 46,424.5 against
46,886.5 without, seed 3: 44,651 against 44,708.5; one run each): its cores take volunteers
the one-to-one needs would have used better, and nothing undoes them."""
TRADE = True
"""After the repair, let posts take volunteers from one-to-one needs worth less (:func:`_grow`,
:func:`_staff_by_trade`); the needs dropped are offered to other volunteers."""
Dropped = list[tuple[int, int, tuple[str, ...]]]
"""One-to-one needs dropped for a post: (need, the volunteer who served it, its slots)."""
TRADE_HOURS = True
"""With :data:`TRADE`, a volunteer out of hours or places for a post may also give up its one-to-one
needs elsewhere in the week (the least valuable first), not only those at the post's slots."""
REPAIR_SHARE = 0.05
"""Share of the time limit kept for the repair and the plan (at least :data:`REPAIR_MIN_S`)."""
REPAIR_MIN_S = 1.0
EJECT_TRIES = 40
"""Most volunteers per post whose one-to-one needs the repair tries to move elsewhere."""


@dataclass
class CityResult:
    """The plan of :func:`solve_city` with its figures (scaled units are the compiler's)."""

    plan: Plan2
    coverage: Fraction
    coverage_bound: Fraction
    pairs: int
    posts_run: int
    """Posts in the plan (running: at least ``min`` volunteers, lead and adult rules kept)."""
    repaired: int
    """Posts the format-1 plan left invalid (below ``min``, no lead, only minors) that the repair
    filled."""
    released: int
    """Such posts the repair could not fill and released."""


@dataclass
class _State:
    """Who serves what: the plan being repaired, with each volunteer's slots, hours and places."""

    compiler: NeedCompiler
    busy: list[dict[str, int]]
    """Volunteer -> slot -> the need (problem index) it serves there."""
    hours: list[int]
    places: list[dict[str, int]]
    """Volunteer -> place -> how many of its needs there it serves."""
    posts: dict[int, Team] = field(default_factory=dict)
    ones: dict[int, tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    compiled: dict[int, PostNeed] = field(default_factory=dict)

    def need(self, i: int) -> PostNeed:
        """Need ``i``: a post compiled, a one-to-one need as a shell (its eligibility asked per
        volunteer, :meth:`taker`: compiling every need the repair touches took seconds)."""
        if i not in self.compiled:
            self.compiled[i] = self.compiler.shell(i)
        return self.compiled[i]

    def taker(self, pn: PostNeed, but: int = -1) -> tuple[int, tuple[str, ...]] | None:
        """A volunteer (not ``but``) eligible for one-to-one need ``pn`` who can take it now, with slots."""
        for u in self.compiler.candidate_list(pn.index):
            if u == but:
                continue
            slots = self.one_slots(u, pn)
            if slots is not None and self.compiler.refusal(pn.index, u) is None:
                return u, slots
        return None

    def can_take(self, v: int, pn: PostNeed, slots: Iterable[str]) -> bool:
        """Whether volunteer ``v`` (eligible for ``pn``) can serve it at ``slots`` besides what it serves."""
        busy = self.busy[v]
        free = self.compiler.free[v]
        if any(s in busy or s not in free for s in slots):
            return False
        if self.hours[v] + pn.unit_hours > self.compiler.max_units[v]:
            return False
        places = self.places[v]
        return pn.place in places or len(places) < self.compiler.volunteers[v].max_beneficiaries

    def add(self, v: int, pn: PostNeed, slots: Iterable[str]) -> None:
        """Volunteer ``v`` serves ``pn`` at ``slots``."""
        for s in slots:
            self.busy[v][s] = pn.index
        self.hours[v] += pn.unit_hours
        self.places[v][pn.place] = self.places[v].get(pn.place, 0) + 1

    def remove(self, v: int, pn: PostNeed, slots: Iterable[str]) -> None:
        """Volunteer ``v`` no longer serves ``pn`` (at ``slots``)."""
        for s in slots:
            del self.busy[v][s]
        self.hours[v] -= pn.unit_hours
        left = self.places[v][pn.place] - 1
        if left:
            self.places[v][pn.place] = left
        else:
            del self.places[v][pn.place]

    def one_slots(self, v: int, pn: PostNeed) -> tuple[str, ...] | None:
        """Slots at which ``v`` could take one-to-one need ``pn`` now (None: it cannot)."""
        if self.hours[v] + pn.unit_hours > self.compiler.max_units[v]:
            return None
        places = self.places[v]
        if pn.place not in places and len(places) >= self.compiler.volunteers[v].max_beneficiaries:
            return None
        free = self.compiler.free[v]
        open_ = [w for w in pn.need.windows if w in free and w not in self.busy[v]]
        return tuple(open_[: pn.need.sessions]) if len(open_) >= pn.need.sessions else None


def _valid_team(pn: PostNeed, team: list[int], volunteers: list[bool]) -> bool:
    """Rules 10-12 on a post's team (``volunteers``: volunteer index -> minor)."""
    if len(team) < pn.low:
        return False
    if pn.need.lead is not None and not any(v in pn.leads for v in team):
        return False
    return not (pn.group and all(volunteers[v] for v in team))


def solve_city(
    problem: Problem2, time_limit: float, one_to_one: OneToOne, *, compiler: NeedCompiler | None = None
) -> CityResult:
    """Solve a format-2 problem with posts by seats, ``one_to_one`` and repair (module docstring).

    ``one_to_one`` gets the seats problem and the seconds left before the repair's share;
    ``compiler``: the problem's, if the caller has made it.
    """
    started = time.monotonic()
    if compiler is None:
        compiler = NeedCompiler(problem)
    elif compiler.problem is not problem:
        raise ValueError("compiler: made for another problem")
    post_idx = [i for i, n in enumerate(problem.needs) if not n.is_plain]
    posts = [compiler.compile(i) for i in post_idx]
    inst = PostInstance(
        problem, compiler.scale, posts, compiler.volunteers, compiler.free, compiler.max_units, previous=[]
    )
    windows, core = _window_sets(inst, compiler, [v.minor for v in compiler.volunteers])
    if not CORE_FIRST:
        core = {}
    seats, seat_of = _seats_problem(problem, inst, windows, core)
    reserve = max(REPAIR_MIN_S, REPAIR_SHARE * time_limit)
    plan1 = one_to_one(seats, max(0.5, time_limit - (time.monotonic() - started) - reserve))

    n_vol = len(compiler.volunteers)
    state = _State(compiler, [{} for _ in range(n_vol)], [0] * n_vol, [{} for _ in range(n_vol)])
    for pn in posts:
        state.compiled[pn.index] = pn
    need_index = {n.id: i for i, n in enumerate(problem.needs)}
    position = {v.id: i for i, v in enumerate(compiler.volunteers)}
    teams: dict[int, list[int]] = {p: list(team) for p, team in core.items()}
    for a in plan1.assignments:
        v = position[a.volunteer]
        if a.need in seat_of:
            teams.setdefault(seat_of[a.need], []).append(v)
        else:
            i = need_index[a.need]
            state.ones[i] = (v, tuple(a.slots))
            state.add(v, state.need(i), a.slots)
    for p, team in teams.items():
        state.posts[p] = (team, windows[p])
        for v in team:
            state.add(v, state.need(p), windows[p])
    minor = [v.minor for v in compiler.volunteers]
    deadline = started + time_limit - 0.3 * reserve  # the plan's writing and checks after it
    repaired, released = _repair(
        state, sorted(teams, key=lambda p: -state.need(p).unit_value), minor, deadline
    )
    dropped = _staff_and_top_up(state, post_idx, minor, deadline)
    unmet1 = {u.need: u.reasons for u in plan1.unmet if u.need not in seat_of}
    _insert_ones(state, [need_index[n] for n in unmet1] + [i for i, _, _ in dropped], deadline)
    plan, covered, bound = _plan2(state, inst, unmet1, time.monotonic() - started)
    return CityResult(
        plan,
        Fraction(covered, compiler.scale),
        Fraction(bound, compiler.scale),
        sum(len(pn.eligible) for pn in posts) + len(seats.needs),
        len(state.posts),
        repaired,
        released,
    )


def _staff_and_top_up(state: _State, posts: list[int], minor: list[bool], deadline: float) -> Dropped:
    """The most valuable first, top up each running post of ``posts`` and staff each other, with the
    volunteers free, then (:data:`TRADE`) with those whose one-to-one needs are worth less: the
    needs dropped."""
    dropped: Dropped = []
    for p in sorted(posts, key=lambda p: -state.need(p).unit_value):
        if time.monotonic() >= deadline:
            break
        if p in state.posts:
            _top_up(state, state.need(p))
            if TRADE:
                dropped += _grow(state, state.need(p))
        else:
            _staff(state, state.need(p), minor)
            if TRADE and p not in state.posts:
                dropped += _staff_by_trade(state, state.need(p), minor)
    return dropped


def _repair(state: _State, posts: list[int], minor: list[bool], deadline: float) -> tuple[int, int]:
    """Fill each invalid post of ``posts`` (rules 10-12) or release it: (filled, released)."""
    repaired = released = 0
    for p in posts:
        pn = state.need(p)
        if _valid_team(pn, state.posts[p][0], minor):
            continue
        if time.monotonic() < deadline and _fill(state, pn, minor):
            repaired += 1
        else:
            released += 1
            team, slots = state.posts.pop(p)
            for v in team:
                state.remove(v, pn, slots)
    return repaired, released


def _insert_ones(state: _State, unmet: list[int], deadline: float) -> None:
    """Give unmet one-to-one needs, the most valuable first, to volunteers who can still take them."""
    for i in sorted(unmet, key=lambda i: -_one_value(state.compiler, i)):
        if time.monotonic() >= deadline:
            break
        pn = state.need(i)
        to = state.taker(pn)
        if to is not None:
            state.ones[i] = to
            state.add(to[0], pn, to[1])


def _window_sets(
    inst: PostInstance, compiler: NeedCompiler, minor: list[bool]
) -> tuple[dict[int, tuple[str, ...]], dict[int, list[int]]]:
    """Post index -> its window set, and post index -> its core team (:func:`_core_teams`); a post
    without a core gets the set where most eligible volunteers are free."""
    plan = _core_teams(inst, minor, _opportunity(compiler))
    chosen = {p: slots for p, (_, slots) in plan.items()}
    core = {p: team for p, (team, _) in plan.items()}
    for pn in inst.needs:
        if pn.index in chosen or len(pn.eligible) < pn.low:
            continue
        best: tuple[int, tuple[str, ...]] | None = None
        for slots in itertools.islice(itertools.combinations(pn.need.windows, pn.need.sessions), WINDOW_SETS):
            free = [v for v in pn.eligible if inst.free[v].issuperset(slots)]
            if len(free) >= pn.low and (best is None or len(free) > best[0]):
                best = (len(free), slots)
        if best is not None:
            chosen[pn.index] = best[1]
    return chosen, core


def _opportunity(compiler: NeedCompiler) -> list[float]:
    """Volunteer index -> roughly what the one-to-one needs could make of it: over its skills and the
    districts in its reach, the value of the one-to-one needs there shared among the volunteers who
    could serve them (cheap: no need compiled)."""
    problem = compiler.problem
    demand: dict[tuple[str, str], float] = {}
    for i, n in enumerate(problem.needs):
        if n.is_plain:
            key = (n.service, compiler.district_of[n.place])
            demand[key] = demand.get(key, 0.0) + float(_one_value(compiler, i))
    supply: dict[tuple[str, str], int] = {}
    for (skill, district), members in compiler.by_skill_district.items():
        for near in compiler.near[district]:
            supply[skill, near] = supply.get((skill, near), 0) + len(members)
    share = {key: value / supply[key] for key, value in demand.items() if supply.get(key)}
    opportunity = [0.0] * len(compiler.volunteers)
    for (skill, district), members in compiler.by_skill_district.items():
        worth = sum(share.get((skill, near), 0.0) for near in compiler.near[district])
        for v in members:
            opportunity[v] += worth
    return opportunity


def _core_teams(inst: PostInstance, minor: list[bool], opportunity: list[float]) -> dict[int, Team]:
    """Post index -> a team of ``min`` volunteers keeping rules 10-12 (a lead, an adult) and a window
    set, the most valuable posts first: at each set the volunteers free there with the least
    ``opportunity``, the set whose team costs least (ties: most volunteers free there).  Together
    they keep every rule (slots, hours, places); a post no set can staff has none."""
    busy: list[set[str]] = [set() for _ in inst.volunteers]
    hours_left = list(inst.max_hours)
    places: list[set[str]] = [set() for _ in inst.volunteers]
    plan: dict[int, Team] = {}
    for pn in sorted(inst.needs, key=lambda pn: (-pn.unit_value, pn.index)):
        if len(pn.eligible) < pn.low:
            continue
        best: tuple[float, int, list[int], tuple[str, ...]] | None = None
        for slots in itertools.islice(itertools.combinations(pn.need.windows, pn.need.sessions), WINDOW_SETS):
            free = free_for(inst, pn, slots, busy, hours_left, places)
            team = _least_team(pn, free, minor, opportunity)
            if team is None:
                continue
            cost = sum(opportunity[v] for v in team)
            if best is None or (cost, -len(free)) < (best[0], -best[1]):
                best = (cost, len(free), team, slots)
        if best is None:
            continue
        _, _, team, slots = best
        plan[pn.index] = (team, slots)
        for v in team:
            busy[v].update(slots)
            hours_left[v] -= pn.unit_hours
            places[v].add(pn.place)
    return plan


def _least_team(
    pn: PostNeed, free: list[int], minor: list[bool], opportunity: list[float]
) -> list[int] | None:
    """``min`` of the ``free`` volunteers with the least ``opportunity``, a lead and an adult among them
    where ``pn`` needs one (None: there are not)."""
    if len(free) < pn.low:
        return None
    free = sorted(free, key=lambda v: (opportunity[v], v))
    team: list[int] = []
    if pn.need.lead is not None:
        lead = next((v for v in free if v in pn.leads), None)
        if lead is None:
            return None
        team.append(lead)
    if pn.group and all(minor[v] for v in team):
        adult = next((v for v in free if not minor[v] and v not in team), None)
        if adult is None:
            return None
        team.append(adult)
    team += [v for v in free if v not in team][: max(0, pn.low - len(team))]
    return team if _valid_team(pn, team, minor) else None


def _seats_problem(
    problem: Problem2, inst: PostInstance, windows: dict[int, tuple[str, ...]], core: dict[int, list[int]]
) -> tuple[Problem, dict[str, int]]:
    """The format-1 problem of the one-to-one needs and each post's seats; seat id -> post index.

    A post with a ``core`` team runs with it: its seats are its places beyond the core (any
    eligible volunteer may take them, the core keeping rules 10-12), and the core's volunteers
    keep only what it leaves them (slots, hours, places).
    """
    order = {s: i for i, s in enumerate(problem.slot_ids)}
    taken = {n.id for n in problem.needs} | {b.id for b in problem.beneficiaries}
    taken |= {s.id for s in problem.sites}
    sites = {s.id: s for s in problem.sites}
    extra: dict[tuple[str, int], Beneficiary] = {}
    needs: list[Need2] = [n for n in problem.needs if n.is_plain]
    seat_of: dict[str, int] = {}
    for pn in inst.needs:
        if pn.index not in windows:
            continue
        n = pn.need
        place = str(n.beneficiary)
        if n.site is not None:
            # A site, as a beneficiary of the post's priority (per priority: two posts of one site
            # may differ); format 1 then counts it once per priority, never less than the rule.
            key = (n.site, pn.priority)
            if key not in extra:
                site = sites[n.site]
                bid = _fresh(f"{n.site}+p{pn.priority}", taken)
                extra[key] = Beneficiary(
                    id=bid,
                    category="community",
                    district=site.district,
                    priority=pn.priority,
                    location=site.location,
                )
            place = extra[key].id
        slots = sorted(windows[pn.index], key=order.__getitem__)
        lead = n.lead
        first = len(core.get(pn.index, ()))
        lead_seat = first == 0 and lead is not None and set(lead.skills) <= {n.service}
        for k in range(first, pn.high):
            requires = list(n.requires)
            if k == 0 and lead_seat and lead is not None:
                requires = sorted(set(requires) | set(lead.certifications))
            seat = _fresh(f"{n.id}+{k + 1}", taken)
            seat_of[seat] = pn.index
            needs.append(
                Need2(
                    id=seat,
                    beneficiary=place,
                    service=n.service,
                    hours=n.hours,
                    sessions=len(slots),
                    windows=slots,
                    requires=requires,
                    minor_ok=n.minor_ok and not (k == 0 and pn.group),  # the first seat: an adult
                )
            )
    # The plain needs and the seats, each a beneficiary's need for one volunteer: format 1's.
    beneficiaries = [*problem.beneficiaries, *extra.values()]
    update = {"needs": needs, "beneficiaries": beneficiaries}
    if core:
        update["volunteers"] = _left_by_core(problem, inst, windows, core)
    seats = as_format1(problem.model_copy(update=update))
    return seats, seat_of


def _left_by_core(
    problem: Problem2, inst: PostInstance, windows: dict[int, tuple[str, ...]], core: dict[int, list[int]]
) -> list[Volunteer]:
    """The volunteers with what the core teams leave them: slots, hours, places."""
    by_index = {pn.index: pn for pn in inst.needs}
    busy: dict[int, set[str]] = {}
    hours: dict[int, int] = {}
    places: dict[int, set[str]] = {}
    for p, team in core.items():
        pn = by_index[p]
        for v in team:
            busy.setdefault(v, set()).update(windows[p])
            hours[v] = hours.get(v, 0) + pn.unit_hours
            places.setdefault(v, set()).add(pn.place)
    volunteers = list(problem.volunteers)
    for v, taken in busy.items():
        vol = volunteers[v]
        volunteers[v] = vol.model_copy(
            update={
                "availability": [s for s in vol.availability if s not in taken],
                "max_hours": float(Fraction(inst.max_hours[v] - hours[v], inst.scale)),
                "max_beneficiaries": max(0, vol.max_beneficiaries - len(places[v])),
            }
        )
    return volunteers


def _fresh(wanted: str, taken: set[str]) -> str:
    """``wanted``, or it with a number added, not in ``taken`` (which it joins)."""
    name, k = wanted, 1
    while name in taken:
        k += 1
        name = f"{wanted}.{k}"
    taken.add(name)
    return name


def _candidates(state: _State, pn: PostNeed, team: list[int], slots: tuple[str, ...]) -> list[int]:
    """Eligible volunteers not on ``team`` who can join it now."""
    on = set(team)
    return [v for v in pn.eligible if v not in on and state.can_take(v, pn, slots)]


def _free_up(state: _State, v: int, pn: PostNeed, slots: tuple[str, ...]) -> bool:
    """Move the one-to-one needs ``v`` serves at ``slots`` to other volunteers so that ``v`` can join
    ``pn``; all or none (undone if one cannot move or ``v`` still cannot join)."""
    if not state.compiler.free[v].issuperset(slots):
        return False
    blocking = {state.busy[v][s] for s in slots if s in state.busy[v]}
    if not blocking or any(i not in state.ones for i in blocking):
        return False  # nothing to move, or a post's (left as it is)
    moved: list[tuple[int, int, tuple[str, ...]]] = []
    for i in blocking:
        one = state.need(i)
        _, at = state.ones[i]
        state.remove(v, one, at)
        to = state.taker(one, but=v)
        if to is None:
            state.add(v, one, at)
            break
        state.add(to[0], one, to[1])
        state.ones[i] = to
        moved.append((i, v, at))
    else:
        if state.can_take(v, pn, slots):
            return True
    for i, owner, at in moved:  # undo
        one = state.need(i)
        u, new = state.ones[i]
        state.remove(u, one, new)
        state.add(owner, one, at)
        state.ones[i] = (owner, at)
    return False


def _join(state: _State, pn: PostNeed, want: Callable[[int], bool], eject: bool) -> int | None:
    """A volunteer ``want`` accepts who can join post ``pn`` (by moving one-to-one needs if ``eject``)."""
    team, slots = state.posts[pn.index]
    for v in _candidates(state, pn, team, slots):
        if want(v):
            return v
    if not eject:
        return None
    on = set(team)
    tries = 0
    for v in pn.eligible:
        if v in on or not want(v) or not state.compiler.free[v].issuperset(slots):
            continue
        tries += 1
        if _free_up(state, v, pn, slots):
            return v
        if tries >= EJECT_TRIES:
            break
    return None


def _fill(state: _State, pn: PostNeed, minor: list[bool]) -> bool:
    """Make post ``pn``'s team valid (rules 10-12) by insertion and ejection; False: it cannot be."""
    team, slots = state.posts[pn.index]
    kept_team = list(team)
    added: list[int] = []

    def enter(v: int) -> None:
        team.append(v)
        added.append(v)
        state.add(v, pn, slots)

    if pn.need.lead is not None and not any(v in pn.leads for v in team):
        v = _join(state, pn, lambda u: u in pn.leads, True)
        if v is None or len(team) >= pn.high:
            if v is None or not _swap_in(state, pn, v, lambda u: u not in pn.leads):
                return _undo(state, pn, kept_team, added)
        else:
            enter(v)
    if pn.group and team and all(minor[v] for v in team):
        v = _join(state, pn, lambda u: not minor[u], True)
        if v is None or len(team) >= pn.high:
            if v is None or not _swap_in(state, pn, v, lambda u: u not in pn.leads or pn.need.lead is None):
                return _undo(state, pn, kept_team, added)
        else:
            enter(v)
    while len(team) < pn.low:  # an adult and the lead are on it already, if it needs them
        v = _join(state, pn, lambda _: True, True)
        if v is None:
            return _undo(state, pn, kept_team, added)
        enter(v)
    if _valid_team(pn, team, minor):
        return True
    return _undo(state, pn, kept_team, added)


def _swap_in(state: _State, pn: PostNeed, v: int, out_ok: Callable[[int], bool]) -> bool:
    """Put ``v`` on the full team of ``pn`` in place of a member ``out_ok`` accepts."""
    team, slots = state.posts[pn.index]
    for u in team:
        if out_ok(u):
            team.remove(u)
            state.remove(u, pn, slots)
            team.append(v)
            state.add(v, pn, slots)
            return True
    return False


def _undo(state: _State, pn: PostNeed, kept: list[int], added: list[int]) -> bool:
    """Leave the team as ``kept`` (the one-to-one needs moved stay moved: still a valid plan)."""
    team, slots = state.posts[pn.index]
    for v in list(team):
        if v not in kept:
            team.remove(v)
            state.remove(v, pn, slots)
    for v in kept:
        if v not in team and state.can_take(v, pn, slots):  # swapped out: back if it still fits
            team.append(v)
            state.add(v, pn, slots)
    del added[:]
    return False


def _top_up(state: _State, pn: PostNeed) -> None:
    """Add free eligible volunteers to a running post up to its ``max`` (each adds its value)."""
    team, slots = state.posts[pn.index]
    for v in _candidates(state, pn, team, slots):
        if len(team) >= pn.high:
            break
        team.append(v)
        state.add(v, pn, slots)


def _staff(state: _State, pn: PostNeed, minor: list[bool]) -> None:
    """Run an unstaffed post with the free volunteers at its best window set, if any makes it valid."""
    if len(pn.eligible) < pn.low:
        return
    best: Team | None = None
    for slots in itertools.islice(itertools.combinations(pn.need.windows, pn.need.sessions), WINDOW_SETS):
        free = [v for v in pn.eligible if state.can_take(v, pn, slots)]
        if len(free) < pn.low:
            continue
        leads = [v for v in free if v in pn.leads]
        adults = [v for v in free if not minor[v]]
        team: list[int] = []
        if pn.need.lead is not None:
            if not leads:
                continue
            team.append(leads[0])
        if pn.group and not any(not minor[v] for v in team):
            if not adults:
                continue
            team.append(adults[0])
        team += [v for v in free if v not in team][: pn.high - len(team)]
        if _valid_team(pn, team, minor) and (best is None or len(team) > len(best[0])):
            best = (team, slots)
    if best is not None:
        state.posts[pn.index] = best
        for v in best[0]:
            state.add(v, pn, best[1])


def _blockers(state: _State, v: int, slots: tuple[str, ...]) -> set[int] | None:
    """The one-to-one needs ``v`` serves at ``slots`` (None: ``v`` is not free there, or a post holds it)."""
    if not state.compiler.free[v].issuperset(slots):
        return None
    blocking = {state.busy[v][s] for s in slots if s in state.busy[v]}
    return None if any(i not in state.ones for i in blocking) else blocking


def _cost(state: _State, v: int, pn: PostNeed, slots: tuple[str, ...]) -> int | None:
    """What ``v`` joining post ``pn`` at ``slots`` costs in scaled units: the value of the one-to-one
    needs :func:`_to_drop` gives up (0: it can join as it is; None: it cannot even without them)."""
    drop = _to_drop(state, v, pn, slots)
    if drop is None:
        return None
    return sum(int(_one_value(state.compiler, i) * state.compiler.scale) for i in drop)


def _to_drop(state: _State, v: int, pn: PostNeed, slots: tuple[str, ...]) -> list[int] | None:
    """The one-to-one needs ``v`` would give up to join post ``pn`` at ``slots``: those it serves
    there, then (:data:`TRADE_HOURS`) its others, the least valuable first, until its hours and
    places admit the post (empty: it can join as it is; None: it cannot even without them all)."""
    if state.can_take(v, pn, slots):
        return []
    blocking = _blockers(state, v, slots)
    if blocking is None:
        return None
    compiler = state.compiler
    drop = sorted(blocking)
    hours = state.hours[v] - sum(state.need(i).unit_hours for i in drop)
    places = dict(state.places[v])

    def leave(i: int) -> None:
        place = state.need(i).place
        places[place] -= 1
        if not places[place]:
            del places[place]

    for i in drop:
        leave(i)
    most = compiler.volunteers[v].max_beneficiaries

    def fits() -> bool:
        return hours + pn.unit_hours <= compiler.max_units[v] and (pn.place in places or len(places) < most)

    if not fits() and TRADE_HOURS:
        others = sorted(
            {i for i in state.busy[v].values() if i in state.ones} - blocking,
            key=lambda i: (_one_value(compiler, i), i),
        )
        for i in others:
            if fits():
                break
            drop.append(i)
            hours -= state.need(i).unit_hours
            leave(i)
    return drop if drop and fits() else None


def _take(state: _State, v: int, pn: PostNeed, slots: tuple[str, ...], dropped: Dropped) -> bool:
    """Put ``v`` on post ``pn`` (its team in ``state.posts``): as it is, by moving the one-to-one needs
    it serves at ``slots`` to other volunteers, else by dropping those :func:`_to_drop` names (added
    to ``dropped``); False (nothing changed) when it cannot join even so."""
    if not state.can_take(v, pn, slots) and not _free_up(state, v, pn, slots):
        drop = _to_drop(state, v, pn, slots)
        if drop is None:
            return False
        for i in drop:
            u, at = state.ones.pop(i)
            state.remove(u, state.need(i), at)
            dropped.append((i, u, at))
    state.posts[pn.index][0].append(v)
    state.add(v, pn, slots)
    return True


def _grow(state: _State, pn: PostNeed) -> Dropped:
    """Fill running post ``pn`` up to ``max`` with volunteers whose one-to-one needs at its slots are
    worth less than a place on it (moved elsewhere if they can be, else dropped): the needs dropped."""
    team, slots = state.posts[pn.index]
    dropped: Dropped = []
    if len(team) >= pn.high:
        return dropped
    on = set(team)
    offers = []
    for v in pn.eligible:
        cost = None if v in on else _cost(state, v, pn, slots)
        if cost is not None and cost < pn.unit_value:
            offers.append((cost, v))
    offers.sort()
    for cost, v in offers:
        if len(team) >= pn.high:
            break
        if _cost(state, v, pn, slots) == cost:  # unchanged by the moves so far
            _take(state, v, pn, slots, dropped)
    return dropped


def _trade_team(
    state: _State, pn: PostNeed, slots: tuple[str, ...], minor: list[bool]
) -> tuple[int, list[int]] | None:
    """The team of unstaffed post ``pn`` at ``slots`` worth most beyond the one-to-one needs its
    volunteers serve there (:func:`_cost`), with that gain; None when none keeps rules 10-12."""
    offers = []
    for v in pn.eligible:
        cost = _cost(state, v, pn, slots)
        if cost is not None:
            offers.append((cost, v))
    if len(offers) < pn.low:
        return None
    offers.sort()
    picked: list[tuple[int, int]] = []
    if pn.need.lead is not None:
        lead = next((o for o in offers if o[1] in pn.leads), None)
        if lead is None:
            return None
        picked.append(lead)
    if pn.group and all(minor[v] for _, v in picked):
        adult = next((o for o in offers if not minor[o[1]] and o not in picked), None)
        if adult is None:
            return None
        picked.append(adult)
    for offer in offers:
        if len(picked) >= pn.high:
            break
        if offer not in picked and (len(picked) < pn.low or offer[0] < pn.unit_value):
            picked.append(offer)
    team = [v for _, v in picked]
    if not _valid_team(pn, team, minor):
        return None
    return pn.unit_value * len(team) - sum(cost for cost, _ in picked), team


def _staff_by_trade(state: _State, pn: PostNeed, minor: list[bool]) -> Dropped:
    """Run unstaffed post ``pn`` at the window set where its team's value most exceeds what the
    one-to-one needs its volunteers leave are worth (if it does at any): the needs dropped."""
    if len(pn.eligible) < pn.low:
        return []
    best: tuple[int, list[int], tuple[str, ...]] | None = None
    for slots in itertools.islice(itertools.combinations(pn.need.windows, pn.need.sessions), WINDOW_SETS):
        found = _trade_team(state, pn, slots, minor)
        if found is not None and found[0] > 0 and (best is None or found[0] > best[0]):
            best = (found[0], found[1], slots)
    if best is None:
        return []
    _, team, slots = best
    state.posts[pn.index] = ([], slots)
    dropped: Dropped = []
    for v in team:
        _take(state, v, pn, slots, dropped)  # moving a need may cost a later one its place
    if _valid_team(pn, state.posts[pn.index][0], minor):
        return dropped
    for v in state.posts.pop(pn.index)[0]:  # undo: the needs dropped back where they still fit
        state.remove(v, pn, slots)
    for i, u, at in dropped:
        if state.can_take(u, state.need(i), at):
            state.ones[i] = (u, at)
            state.add(u, state.need(i), at)
    return [d for d in dropped if d[0] not in state.ones]


def _one_value(compiler: NeedCompiler, i: int) -> Fraction:
    """A one-to-one need's value (priority x hours x sessions), for ordering."""
    n = compiler.problem.needs[i]
    return compiler.ben[str(n.beneficiary)].priority * compiler.hours[i] * n.sessions


def _plan2(
    state: _State, inst: PostInstance, unmet1: dict[str, list[str]], seconds: float
) -> tuple[Plan2, int, int]:
    """The format-2 plan of the repaired state, its coverage and bound (scaled units)."""
    compiler = state.compiler
    problem = compiler.problem
    order = {s: i for i, s in enumerate(problem.slot_ids)}
    vols = compiler.volunteers
    assignments: list[PostAssignment] = []
    unmet: list[Unmet] = []
    covered = 0
    bound = 0
    served: set[tuple[str, str]] = set()
    for i, n in enumerate(problem.needs):
        if n.is_plain:
            value = int(_one_value(compiler, i) * compiler.scale)
            bound += value
            if i in state.ones:
                v, slots = state.ones[i]
                covered += value
                served.add((vols[v].id, n.place))
                at = sorted(slots, key=order.__getitem__)
                assignments.append(PostAssignment(need=n.id, volunteers=[vols[v].id], slots=at))
            else:
                unmet.append(Unmet(need=n.id, reasons=unmet1.get(n.id) or [reasons.CAPACITY_TAKEN]))
            continue
        pn = state.need(i)
        if len(pn.eligible) >= pn.low:
            bound += pn.unit_value * min(pn.high, len(pn.eligible))
        if i not in state.posts:
            unmet.append(Unmet(need=n.id, reasons=unmet_reasons(inst, pn)))
            continue
        team, slots = state.posts[i]
        covered += pn.unit_value * len(team)
        served.update((vols[v].id, n.place) for v in team)
        open_places = pn.high - len(team)
        assignments.append(
            PostAssignment(
                need=n.id,
                volunteers=[vols[v].id for v in sorted(team)],
                slots=sorted(slots, key=order.__getitem__),
                places_open=open_places if open_places else None,
            )
        )
    previous = {(p.volunteer, p.beneficiary) for p in problem.previous}
    plan = Plan2(
        format=2,
        status="optimal" if covered == bound else "feasible",
        assignments=assignments,
        unmet=unmet,
        objective=Objective2(
            coverage=number(Fraction(covered, compiler.scale)),
            coverage_bound=number(Fraction(bound, compiler.scale)),
            continuity=len(previous & served),
        ),
        solve_seconds=round(seconds, 3),
    )
    return plan, covered, bound


__all__ = ["CityResult", "solve_city"]
