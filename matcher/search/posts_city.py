"""Format 2 with posts at city size: each post's window set fixed, its places as one-to-one "seats",
today's format-1 pipeline on the whole, then a repair that makes every post run or release it.

Column generation (:mod:`matcher.search.posts_colgen`) and the compact model
(:mod:`matcher.search.posts`) stop at station size.  Here (:func:`solve_city`):

1. each post gets a window set: the one the posts' greedy plan
   (:func:`matcher.model.posts.greedy.greedy`, the posts alone) chose, else the set where the most
   eligible volunteers are free; a post with fewer than ``min`` eligible volunteers free at any
   set stays unmet;
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
   running ones topped up to ``max``, then the unmet one-to-one needs are inserted.

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
    Need,
    Objective2,
    Plan,
    Plan2,
    PostAssignment,
    Problem,
    Problem2,
    Unmet,
)
from matcher.model.posts.greedy import WINDOW_SETS, Team, greedy
from matcher.model.posts.instance import NeedCompiler, PostInstance, PostNeed
from matcher.model.posts.model import number, unmet_reasons

OneToOne = Callable[[Problem, float], Plan]
"""Solves a format-1 problem within the seconds given (:func:`matcher.solve.solve`'s plan)."""

REPAIR_SHARE = 0.15
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


def solve_city(problem: Problem2, time_limit: float, one_to_one: OneToOne) -> CityResult:
    """Solve a format-2 problem with posts by seats, ``one_to_one`` and repair (module docstring).

    ``one_to_one`` gets the seats problem and the seconds left before the repair's share.
    """
    started = time.monotonic()
    compiler = NeedCompiler(problem)
    post_idx = [i for i, n in enumerate(problem.needs) if not n.is_plain]
    posts = [compiler.compile(i) for i in post_idx]
    inst = PostInstance(
        problem, compiler.scale, posts, compiler.volunteers, compiler.free, compiler.max_units, previous=[]
    )
    windows = _window_sets(inst)
    seats, seat_of = _seats_problem(problem, inst, windows)
    reserve = max(REPAIR_MIN_S, REPAIR_SHARE * time_limit)
    plan1 = one_to_one(seats, max(0.5, time_limit - (time.monotonic() - started) - reserve))

    n_vol = len(compiler.volunteers)
    state = _State(compiler, [{} for _ in range(n_vol)], [0] * n_vol, [{} for _ in range(n_vol)])
    for pn in posts:
        state.compiled[pn.index] = pn
    need_index = {n.id: i for i, n in enumerate(problem.needs)}
    position = {v.id: i for i, v in enumerate(compiler.volunteers)}
    teams: dict[int, list[int]] = {}
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
    for p in sorted(post_idx, key=lambda p: -state.need(p).unit_value):
        if time.monotonic() >= deadline:
            break
        if p in state.posts:
            _top_up(state, state.need(p))
        else:
            _staff(state, state.need(p), minor)
    unmet1 = {u.need: u.reasons for u in plan1.unmet if u.need not in seat_of}
    _insert_ones(state, [need_index[n] for n in unmet1], deadline)
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


def _window_sets(inst: PostInstance) -> dict[int, tuple[str, ...]]:
    """Post index -> its window set: the greedy plan's, else the set where most eligible are free."""
    chosen = {p: slots for p, (_, slots) in greedy(inst).items()}
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
    return chosen


def _seats_problem(
    problem: Problem2, inst: PostInstance, windows: dict[int, tuple[str, ...]]
) -> tuple[Problem, dict[str, int]]:
    """The format-1 problem of the one-to-one needs and each post's seats; seat id -> post index."""
    order = {s: i for i, s in enumerate(problem.slot_ids)}
    taken = {n.id for n in problem.needs} | {b.id for b in problem.beneficiaries}
    taken |= {s.id for s in problem.sites}
    sites = {s.id: s for s in problem.sites}
    extra: dict[tuple[str, int], Beneficiary] = {}
    needs: list[Need] = []
    seat_of: dict[str, int] = {}
    for n in problem.needs:
        if n.is_plain:
            needs.append(Need(**n.model_dump(exclude={"site", "priority", "volunteers", "lead"})))
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
        lead_seat = lead is not None and set(lead.skills) <= {n.service}
        for k in range(pn.high):
            requires = list(n.requires)
            if k == 0 and lead_seat and lead is not None:
                requires = sorted(set(requires) | set(lead.certifications))
            seat = _fresh(f"{n.id}+{k + 1}", taken)
            seat_of[seat] = pn.index
            needs.append(
                Need(
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
    seats = Problem.model_construct(
        format=1,
        week_start=problem.week_start,
        slots=problem.slots,
        districts=problem.districts,
        reach=problem.reach,
        volunteers=problem.volunteers,
        beneficiaries=[*problem.beneficiaries, *extra.values()],
        needs=needs,
        previous=problem.previous,
        time_limit_s=problem.time_limit_s,
    )
    return seats, seat_of


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
