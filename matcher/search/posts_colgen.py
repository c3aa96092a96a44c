"""Group posts (format 2) proved by column generation: a Lagrangian bound over per-volunteer plans.

The format-1 method (:mod:`matcher.search.colgen`) carried over to posts.  A volunteer's *column*
is a set of items he can serve together: one-to-one needs (``volunteers.max`` = 1, each with the
slots it may take) and *memberships* of group posts, a membership naming the post's window set
``S`` (``sessions`` of its windows) and occupying exactly those slots.  Per group post ``p`` and
window set ``S`` (an *option*) a variable ``w[p, S]`` says the post runs at ``S``; the master's
rows are

* ``sum x <= 1`` per one-to-one need (rule 1);
* per option: ``sum_v member(v, p, S) <= max x w[p, S]`` and ``>= min x w[p, S]`` (rule 10, and
  with it rules 1 and 3: everyone on the post serves at ``S``), ``sum_{lead holders} member >=
  w[p, S]`` for a post with a ``lead`` (rule 11), ``sum_{adults} member >= w[p, S]`` where a
  minor is eligible (rule 12: a running group post always has an adult on it);
* ``sum_S w[p, S] <= 1`` per post, ``sum x <= 1`` per volunteer (one column each).

Per option rather than per window: a volunteer's membership names its whole window set, so the
size rows hold per set, which is much tighter than the natural model's per-window rows (the LP
of the master is the natural model's convexified per volunteer *and* per post).

Every other rule (hours, places, one session per slot, and the per-pair filters of
:class:`~matcher.model.posts.instance.PostInstance`) is one volunteer's: his pricing problem, an
exact depth-first search.  Relaxing the coupling rows with multipliers ``pi >= 0`` splits the
problem, and for any such ``pi``

    L(pi) = sum_{one-to-one n} pi_n + sum_v max(0, max_{v's sets} red_v) + sum_p max(0, max_S g(p, S))

bounds the primary objective ``(K + 1) x coverage + continuity`` (``g`` being the multipliers'
value of ``w[p, S]``: ``max x pi_up - min x pi_low - pi_lead - pi_adult``).  As in colgen,
``pi`` is rounded to multiples of ``1 / LAMBDA_GRID`` so every sum is exact, and the bound
holds at every round whatever the LP did.  A plan comes from a MIP over the generated columns
and every ``w`` (the problem restricted to those columns, so every plan keeps every rule),
started from the caller's plan; it is ``optimal`` when its coverage meets ``floor(L) // (K + 1)``.
When it does not, :func:`branch` splits on posts running (``sum_S w[p, S]``), then on their
window sets, with column generation at each node.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import highspy
import numpy as np

from matcher.clock import Deadline, OutOfTimeError
from matcher.format.schema import Objective2, Plan2, PostAssignment, Problem2, Unmet
from matcher.model.posts import model as posts_model
from matcher.model.posts.greedy import Team, greedy, value_of
from matcher.model.posts.instance import PostInstance
from matcher.model.posts.model import number, unmet_reasons
from matcher.model.slotting import match_slots
from matcher.search.colgen import multipliers
from matcher.search.mip import limit_time, quiet_highs, run_highs
from matcher.search.posts import PostsResult

MAX_OPTIONS = 64
"""Most window sets per group post: beyond it the method does not apply (the compact model takes it)."""
MAX_PAIRS = 20_000
"""Most eligible volunteer-need pairs the method takes (a 300-volunteer station has a few thousand)."""
MAX_ROUNDS = 200
"""Most pricing rounds per column generation."""
MAX_NODES = 200
"""Most branch-and-price nodes."""
SETTLE_S = 1.0
"""Most seconds of a node's MIP over its columns once its posts are integral (the tree goes on)."""
DIVE_FIX = 0.9
"""A dive forces a post to run at a window set whose LP value is at least this."""
DIVE_PICKS = 1
"""Besides those, each dive step forces this many more posts (the largest LP values below ``DIVE_FIX``)."""
DIVE_GAP = 1e-3
"""Relative gap of a dive's MIP: it looks for a plan, the bound is proved elsewhere."""
DIVE_MIP_SHARE = 0.4
"""Least share of the time left at a dive's start kept for its last MIP."""

Column = tuple[int, tuple[int, ...]]
"""(pricer slot, sorted item indices): one volunteer's set."""


@dataclass(frozen=True)
class Option:
    """A group post run at one window set, with its rows in the master."""

    need: int
    windows: tuple[str, ...]
    up: int
    """Row ``sum member - max x w <= 0``."""
    low: int
    """Row ``min x w - sum member <= 0``."""
    lead: int | None
    """Row ``w - sum lead-holding members <= 0`` (posts with a lead)."""
    adult: int | None
    """Row ``w - sum adult members <= 0`` (group posts a minor may join)."""
    high: int
    least: int
    links: dict[int, int] = field(default_factory=dict)
    """Volunteer -> his row ``member(v, p, S) - w <= 0`` (see :func:`_options`)."""


@dataclass
class Item:
    """One thing a volunteer may take: a one-to-one need, or a membership of a post at an option."""

    need: int
    option: int
    """Option index, or -1 for a one-to-one need."""
    coverage: int
    hours: int
    place: str
    sessions: int
    slots: tuple[int, ...]
    """Slot indices it may use (a membership: exactly these)."""
    coef: tuple[tuple[int, float], ...]
    """(coupling row, coefficient) in the master."""


class Pricer:
    """One volunteer's pricing problem: his items, limits and previous places."""

    def __init__(
        self, vol: int, items: list[Item], cap: int, most: int, previous: set[str], weight: int
    ) -> None:
        self.vol = vol
        self.items = items
        self.cap = cap
        self.most = most
        self.previous = previous
        self.weight = weight
        self.value = [weight * it.coverage for it in items]
        self.mask = [sum(1 << s for s in it.slots) for it in items]
        self._fits: dict[int, bool] = {}
        self._priced: dict[bytes, tuple[float, list[int]]] = {}
        self._rows = sorted({r for it in items for r, _ in it.coef})
        self._key_rows = np.asarray(self._rows, dtype=np.int64)
        self.rigid = [len(it.slots) == it.sessions for it in items]
        """Items with no choice of slots (memberships, and needs with just enough windows)."""
        self._value = np.asarray(self.value, dtype=float)
        self._coef_item = np.asarray([i for i, it in enumerate(items) for _ in it.coef], dtype=np.int64)
        self._coef_row = np.asarray([r for it in items for r, _ in it.coef], dtype=np.int64)
        self._coef_val = np.asarray([a for it in items for _, a in it.coef], dtype=float)

    def worth(self, chosen: Iterable[int]) -> int:
        """Primary value of a set of items: weighted coverage plus previous places kept."""
        chosen = list(chosen)
        return sum(self.value[i] for i in chosen) + len({self.items[i].place for i in chosen} & self.previous)

    def reduced(self, pi: np.ndarray, i: int) -> float:
        """Item ``i``'s value less the multipliers of its rows."""
        return self.value[i] - sum(a * float(pi[r]) for r, a in self.items[i].coef)

    def reduced_all(self, pi: np.ndarray) -> list[float]:
        """Every item's reduced value (exact: each term a multiple of ``1 / LAMBDA_GRID``)."""
        cut = np.bincount(
            self._coef_item, weights=self._coef_val * pi[self._coef_row], minlength=len(self.items)
        )
        return (self._value - cut).tolist()  # type: ignore[no-any-return]

    def fits(self, chosen: list[int]) -> bool:
        """Whether the items fit the volunteer's slots (one session per slot)."""
        if all(self.rigid[i] for i in chosen):
            # no choice of slots: they fit when no two share one
            union = 0
            for i in chosen:
                if union & self.mask[i]:
                    return False
                union |= self.mask[i]
            return True
        key = 0
        for i in chosen:
            key |= 1 << i
        ok = self._fits.get(key)
        if ok is None:
            ok = match_slots([(self.items[i].sessions, self.items[i].slots) for i in chosen]) is not None
            self._fits[key] = ok
        return ok

    def feasible(self, chosen: list[int]) -> bool:
        """Whether a set of items keeps every rule of this volunteer (hours, places, slots, one per need)."""
        its = [self.items[i] for i in chosen]
        return (
            sum(it.hours for it in its) <= self.cap
            and len({it.place for it in its}) <= self.most
            and len({it.need for it in its}) == len(its)
            and self.fits(chosen)
        )

    def price(
        self, pi: np.ndarray, deadline: Deadline, banned: frozenset[int] = frozenset()
    ) -> tuple[float, list[int]]:
        """Exact ``max(0, max over feasible sets of reduced value + places kept)`` and a best set.

        ``banned`` items are kept out (a branch's).  Only items that can add value are searched:
        one whose gain (reduced value, plus 1 for a previous place) is <= 0 is never needed, as
        dropping an item keeps a set feasible.
        """
        key = pi[self._key_rows].tobytes() + repr(sorted(banned)).encode()
        known = self._priced.get(key)
        if known is not None:
            return known[0], list(known[1])
        if len(self._priced) >= 64:
            self._priced.clear()
        out = self._search(pi, deadline, banned)
        self._priced[key] = (out[0], list(out[1]))
        return out

    def _search(self, pi: np.ndarray, deadline: Deadline, banned: frozenset[int]) -> tuple[float, list[int]]:
        items_all = self.items
        red = self.reduced_all(pi)
        previous = self.previous
        gain = [red[i] + (1 if items_all[i].place in previous else 0) for i in range(len(red))]
        order = [i for i in range(len(red)) if gain[i] > 0 and i not in banned]
        order.sort(key=lambda i: -gain[i] / items_all[i].hours if items_all[i].hours else -math.inf)
        n_items = len(order)
        hours = [items_all[i].hours for i in order]
        gains = [gain[i] for i in order]
        best_val = 0.0
        best_set: list[int] = []
        chosen: list[int] = []
        cap, most = self.cap, self.most
        steps = 0

        def bound(k: int, room: int) -> float:
            # fractional knapsack on the hours left over items k.. (densest first)
            total = 0.0
            for j in range(k, n_items):
                if hours[j] <= room:
                    total += gains[j]
                    room -= hours[j]
                else:
                    return total + gains[j] * room / hours[j]
            return total

        def dfs(
            k: int,
            cur: float,
            load: int,
            places: frozenset[str],
            needs: frozenset[int],
            union: int,
            sess: int,
        ) -> None:
            nonlocal best_val, best_set, steps
            if cur > best_val:
                best_val, best_set = cur, list(chosen)
            if k >= n_items or cur + bound(k, cap - load) <= best_val:
                return
            steps += 1
            if steps % 4096 == 0:
                deadline.check()
            i = order[k]
            it = items_all[i]
            load2 = load + it.hours
            new_place = it.place not in places
            if (
                load2 <= cap
                and it.need not in needs
                and (not new_place or len(places) < most)
                and sess + it.sessions <= (union | self.mask[i]).bit_count()
            ):
                chosen.append(i)
                if self.fits(chosen):
                    bonus = 1 if new_place and it.place in previous else 0
                    dfs(
                        k + 1,
                        cur + red[i] + bonus,
                        load2,
                        places | {it.place} if new_place else places,
                        needs | {it.need},
                        union | self.mask[i],
                        sess + it.sessions,
                    )
                chosen.pop()
            dfs(k + 1, cur, load, places, needs, union, sess)

        if order:
            dfs(0, 0.0, 0, frozenset(), frozenset(), 0, 0)
        return best_val, sorted(best_set)


@dataclass
class PostsMaster:
    """The compiled master: rows, options, pricing problems (see the module docstring)."""

    inst: PostInstance
    weight: int
    one_rows: dict[int, int]
    """One-to-one need -> its row."""
    options: list[Option]
    by_post: dict[int, list[int]]
    """Group post -> its options."""
    n_coupling: int
    """Rows ``0 .. n_coupling - 1`` are relaxed by the Lagrangian bound."""
    pricers: list[Pricer]
    rhs: np.ndarray
    """Right-hand sides of the coupling rows (1 for a one-to-one need, 0 for an option's)."""
    slot_index: dict[str, int]
    big: float = 0.0
    """Cost of a branch's artificial column: more than any plan's primary value."""
    lookup: list[dict[tuple[int, int], int]] = field(default_factory=list)
    """Per pricer, (need, option) -> item."""
    _holders: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    @property
    def post_row0(self) -> int:
        """First of the rows ``sum_S w <= 1`` (one per post, in ``by_post``'s order)."""
        return self.n_coupling

    @property
    def vol_row0(self) -> int:
        """First of the volunteers' rows (one per pricer)."""
        return self.n_coupling + len(self.by_post)

    @property
    def n_rows(self) -> int:
        """Rows of the master."""
        return self.vol_row0 + len(self.pricers)

    def holders(self, need: int) -> list[tuple[int, int]]:
        """(pricer slot, item) of every volunteer's item of one-to-one ``need``."""
        if not self._holders:
            for k, pricer in enumerate(self.pricers):
                for i, it in enumerate(pricer.items):
                    if it.option < 0:
                        self._holders.setdefault(it.need, []).append((k, i))
        return self._holders.get(need, [])

    def w_gain(self, pi: np.ndarray, o: int) -> float:
        """The multipliers' value of ``w`` at option ``o``."""
        opt = self.options[o]
        g = opt.high * float(pi[opt.up]) - opt.least * float(pi[opt.low])
        if opt.lead is not None:
            g -= float(pi[opt.lead])
        if opt.adult is not None:
            g -= float(pi[opt.adult])
        for r in opt.links.values():
            g += float(pi[r])
        return g

    def posts_part(
        self,
        pi: np.ndarray,
        allowed: dict[int, list[int]] | None = None,
        forced: frozenset[int] = frozenset(),
    ) -> float:
        """``sum_p max(0, max_S g(p, S))`` over each post's (allowed) options; a ``forced`` post
        runs, so its term is ``max_S g(p, S)`` alone."""
        total = 0.0
        for p, opts in self.by_post.items():
            use = opts if allowed is None else allowed.get(p, opts)
            gains = [self.w_gain(pi, o) for o in use]
            if p in forced:
                total += max(gains) if gains else -math.inf
            else:
                total += max([0.0, *gains])
        return total

    def columns_of(self, plan: dict[int, Team]) -> list[Column]:
        """A plan as one column per volunteer on it."""
        slot = {p.vol: k for k, p in enumerate(self.pricers)}
        option_of = {(self.options[o].need, self.options[o].windows): o for o in range(len(self.options))}
        taken: dict[int, list[int]] = {}
        for n, (team, slots) in plan.items():
            o = -1
            if n not in self.one_rows:
                o = option_of[n, tuple(sorted(slots, key=self.slot_index.__getitem__))]
            for v in team:
                k = slot[v]
                taken.setdefault(k, []).append(self.lookup[k][n, o])
        return [(k, tuple(sorted(items))) for k, items in taken.items()]

    def plan_of(self, picked: list[Column]) -> dict[int, Team]:
        """The plan (need -> (volunteers, slots)) of one column per volunteer."""
        slot_ids = self.inst.problem.slot_ids
        plan: dict[int, Team] = {}
        for k, items in picked:
            pricer = self.pricers[k]
            its = [pricer.items[i] for i in items]
            slots = match_slots([(it.sessions, it.slots) for it in its])
            if slots is None:  # pragma: no cover - every column was checked
                raise RuntimeError("column does not fit its volunteer's slots")
            for it, sl in zip(its, slots, strict=True):
                if it.option < 0:
                    plan[it.need] = ([pricer.vol], tuple(slot_ids[s] for s in sl))
                else:
                    team, _ = plan.setdefault(it.need, ([], self.options[it.option].windows))
                    team.append(pricer.vol)
        for team, _ in plan.values():
            team.sort()
        return plan


def compile_master(inst: PostInstance) -> PostsMaster | None:
    """The master of ``inst``, or None when a post has more than :data:`MAX_OPTIONS` window sets."""
    slot_index = {s: i for i, s in enumerate(inst.problem.slot_ids)}
    one_rows: dict[int, int] = {}
    for pn in inst.needs:
        if not pn.group and pn.eligible:
            one_rows[pn.index] = len(one_rows)
    found = _options(inst, slot_index, len(one_rows))
    if found is None:
        return None
    options, by_post, n_coupling = found
    rhs = np.zeros(n_coupling)
    rhs[list(one_rows.values())] = 1.0
    per_vol = _items(inst, slot_index, one_rows, options)
    places_of = {v: {it.place for it in items} for v, items in per_vol.items()}
    previous: dict[int, set[str]] = {}
    for v, b in inst.previous:
        if b in places_of.get(v, set()):
            previous.setdefault(v, set()).add(b)
    weight = sum(len(s) for s in previous.values()) + 1
    vols = inst.volunteers
    pricers = [
        Pricer(v, per_vol[v], inst.max_hours[v], vols[v].max_beneficiaries, previous.get(v, set()), weight)
        for v in sorted(per_vol)
    ]
    master = PostsMaster(inst, weight, one_rows, options, by_post, n_coupling, pricers, rhs, slot_index)
    master.big = float(weight * sum(pn.unit_value * pn.high for pn in inst.needs) + weight + 1)
    master.lookup = [{(it.need, it.option): i for i, it in enumerate(p.items)} for p in pricers]
    return master


def _options(
    inst: PostInstance, slot_index: dict[str, int], row: int
) -> tuple[list[Option], dict[int, list[int]], int] | None:
    """Every group post's options (window sets some team can run at), their rows from ``row`` on.

    Returns the options, post -> its options, and the number of coupling rows; None when a post
    has more than :data:`MAX_OPTIONS` window sets.
    """
    vols = inst.volunteers
    options: list[Option] = []
    by_post: dict[int, list[int]] = {}
    for pn in inst.needs:
        if not pn.group or len(pn.eligible) < pn.low:
            continue
        windows = sorted(pn.need.windows, key=slot_index.__getitem__)
        if math.comb(len(windows), pn.need.sessions) > MAX_OPTIONS:
            return None
        minors = any(vols[v].minor for v in pn.eligible)
        for ws in itertools.combinations(windows, pn.need.sessions):
            free = [v for v in pn.eligible if inst.free[v].issuperset(ws)]
            if len(free) < pn.low or all(vols[v].minor for v in free):
                continue  # no team can run it there (a group post always has an adult on it)
            if pn.need.lead is not None and not any(v in pn.leads for v in free):
                continue
            up, low = row, row + 1
            row += 2
            lead = adult = None
            if pn.need.lead is not None:
                lead, row = row, row + 1
            if minors:
                adult, row = row, row + 1
            links = {v: row + j for j, v in enumerate(free)}
            row += len(links)
            by_post.setdefault(pn.index, []).append(len(options))
            options.append(Option(pn.index, ws, up, low, lead, adult, pn.high, pn.low, links))
    return options, by_post, row


def _items(
    inst: PostInstance, slot_index: dict[str, int], one_rows: dict[int, int], options: list[Option]
) -> dict[int, list[Item]]:
    """Per volunteer, his items: the one-to-one needs he may take, the options he is free at."""
    vols = inst.volunteers
    per_vol: dict[int, list[Item]] = {}
    for n, r in one_rows.items():
        pn = inst.needs[n]
        for v in pn.eligible:
            if pn.need.lead is not None and v not in pn.leads:
                continue  # a one-person need with a lead: its volunteer holds it
            slots = tuple(sorted(slot_index[w] for w in pn.need.windows if w in inst.free[v]))
            per_vol.setdefault(v, []).append(
                Item(n, -1, pn.unit_value, pn.unit_hours, pn.place, pn.need.sessions, slots, ((r, 1.0),))
            )
    for o, opt in enumerate(options):
        pn = inst.needs[opt.need]
        slots = tuple(slot_index[w] for w in opt.windows)
        for v in pn.eligible:
            if not inst.free[v].issuperset(opt.windows):
                continue
            coef = [(opt.up, 1.0), (opt.low, -1.0)]
            if opt.lead is not None and v in pn.leads:
                coef.append((opt.lead, -1.0))
            if opt.adult is not None and not vols[v].minor:
                coef.append((opt.adult, -1.0))
            if v in opt.links:
                coef.append((opt.links[v], 1.0))
            per_vol.setdefault(v, []).append(
                Item(opt.need, o, pn.unit_value, pn.unit_hours, pn.place, len(slots), slots, tuple(coef))
            )
    return per_vol


class MasterLP:
    """The master LP (maximised) over the columns generated so far, every ``w`` column first."""

    def __init__(self, master: PostsMaster) -> None:
        self.m = master
        inf = highspy.kHighsInf
        h = quiet_highs()
        h.setOptionValue("threads", 1)
        rows = master.n_rows
        empty = np.zeros(0, np.int32)
        upper = np.ones(rows)
        upper[: master.n_coupling] = master.rhs
        h.addRows(rows, np.full(rows, -inf), upper, 0, empty, empty, np.zeros(0))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        post_row = {p: master.post_row0 + j for j, p in enumerate(master.by_post)}
        for opt in master.options:
            starts.append(len(index))
            entries = [(opt.up, -float(opt.high)), (opt.low, float(opt.least)), (post_row[opt.need], 1.0)]
            if opt.lead is not None:
                entries.append((opt.lead, 1.0))
            if opt.adult is not None:
                entries.append((opt.adult, 1.0))
            entries.extend((r, -1.0) for r in opt.links.values())
            for r, a in entries:
                index.append(r)
                value.append(a)
        n_w = len(master.options)
        if n_w:
            h.addCols(
                n_w,
                np.zeros(n_w),
                np.zeros(n_w),
                np.ones(n_w),
                len(index),
                np.array(starts, np.int32),
                np.array(index, np.int32),
                np.array(value),
            )
        # Per post, an artificial column at a prohibitive cost on its row ``sum_S w <= 1``, held
        # at 0 except where a branch forces the post to run (the row then ``= 1``): it keeps
        # that node's LP feasible whatever columns it has.  (The Lagrangian bound leaves it
        # out: it is not part of any plan.)
        n_p = len(master.by_post)
        if n_p:
            rows_p = np.arange(master.post_row0, master.post_row0 + n_p, dtype=np.int32)
            h.addCols(
                n_p,
                np.full(n_p, -master.big),
                np.zeros(n_p),
                np.zeros(n_p),
                n_p,
                np.arange(n_p, dtype=np.int32),
                rows_p,
                np.ones(n_p),
            )
        self.h = h
        self.n_w = n_w
        self.n_fixed = n_w + n_p
        """Columns before the sets: every ``w``, then the artificial ones."""
        self.columns: list[Column] = []
        self._seen: set[Column] = set()

    def add(self, sets: Iterable[tuple[int, Iterable[int]]]) -> int:
        """Add the sets not in the master yet; returns how many it added."""
        keys: list[Column] = []
        for k, items in sets:
            key = (k, tuple(sorted(items)))
            if key not in self._seen:
                self._seen.add(key)
                keys.append(key)
        if not keys:
            return 0
        m = self.m
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        cost: list[float] = []
        for k, items in keys:
            pricer = m.pricers[k]
            starts.append(len(index))
            merged: dict[int, float] = {}
            for i in items:
                for r, a in pricer.items[i].coef:
                    merged[r] = merged.get(r, 0.0) + a
            for r, a in merged.items():
                index.append(r)
                value.append(a)
            index.append(m.vol_row0 + k)
            value.append(1.0)
            cost.append(float(pricer.worth(items)))
        n = len(keys)
        self.h.addCols(
            n,
            np.array(cost),
            np.zeros(n),
            np.full(n, highspy.kHighsInf),
            len(index),
            np.array(starts, np.int32),
            np.array(index, np.int32),
            np.array(value),
        )
        self.columns.extend(keys)
        return n


@dataclass
class ColgenOutcome:
    """What one column generation found."""

    bound: float
    """Best Lagrangian bound on the primary objective (inf if no round completed)."""
    lp_value: float
    x: np.ndarray | None
    """The last master LP's column values (w columns first)."""
    rounds: int
    complete: bool


def generate(
    lp: MasterLP,
    deadline: Deadline,
    node: Node | None = None,
    enough: float | None = None,
) -> ColgenOutcome:
    """Column generation on ``lp`` until no column prices in or the bound meets the LP.

    ``node`` is a branch's restriction (the LP's bounds must already say it: :func:`restrict`);
    pricing leaves out the memberships it rules out.  Stops early once the bound is at most
    ``enough``.
    """
    m = lp.m
    h = lp.h
    node = node or Node()
    banned = node.banned(m)
    free = np.zeros(m.n_coupling, dtype=bool)
    free[list(node.rows(m))] = True  # rows at equality: their multipliers may take either sign
    best = math.inf
    lp_value = math.inf
    x = None
    rounds = 0
    complete = True
    n_c = m.n_coupling
    try:
        while rounds < MAX_ROUNDS:
            rounds += 1
            limit_time(h, deadline.remaining())
            run_highs(h)
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                # held items the columns so far cannot all meet: nothing is proved here (the
                # node may have plans among columns not priced yet)
                return ColgenOutcome(math.inf, math.inf, None, rounds, False)
            if status == highspy.HighsModelStatus.kModelEmpty:  # nothing to take: every multiplier 0
                lp_value, x, duals = 0.0, np.zeros(0), np.zeros(m.n_rows)
            elif status != highspy.HighsModelStatus.kOptimal:
                complete = False
                break
            else:
                sol = h.getSolution()
                lp_value = h.getInfo().objective_function_value
                x = np.asarray(sol.col_value)
                duals = np.asarray(sol.row_dual)
            pi = multipliers(duals[:n_c], free)
            total = float(pi @ m.rhs) + m.posts_part(pi, node.allowed, node.forced)
            new: list[tuple[int, list[int]]] = []
            for k, pricer in enumerate(m.pricers):
                value, items = pricer.price(pi, deadline, banned.get(k, frozenset()))
                total += value
                if items and value > max(0.0, float(duals[m.vol_row0 + k])) + 1e-6:
                    new.append((k, items))
            best = min(best, total)
            added = lp.add(new)
            if added == 0 or math.floor(best) <= math.floor(lp_value + 1e-6):
                break
            if enough is not None and math.floor(best) <= enough:
                break
    except OutOfTimeError:
        complete = False
    return ColgenOutcome(best, lp_value, x, rounds, complete)


def mip_plan(
    lp: MasterLP, start: list[Column], target: int, deadline: Deadline, limit: float, gap: float = 0.0
) -> tuple[list[Column], int] | None:
    """The best plan over the master's columns by HiGHS's MIP, from ``start`` (its columns in the master).

    Stops at ``target`` (nothing can beat it).  Returns the picked columns and their primary
    value, or None when HiGHS found nothing (the start is then the caller's).  The LP's bounds
    (a branch's) hold in the MIP too.  ``gap``: HiGHS's relative gap, where a plan is all that is
    wanted (a dive's).
    """
    m = lp.m
    h = lp.h
    n = lp.n_fixed + len(lp.columns)
    if deadline.remaining() <= 0.02:
        return None
    everything = np.arange(n, dtype=np.int32)
    h.changeColsIntegrality(n, everything, np.full(n, highspy.HighsVarType.kInteger))
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("mip_abs_gap", 0.999)
    h.setOptionValue("objective_target", target - 0.5)
    position = {c: lp.n_fixed + j for j, c in enumerate(lp.columns)}
    given = np.zeros(n)
    for c in start:
        given[position[c]] = 1.0
        pricer = m.pricers[c[0]]
        for i in c[1]:
            o = pricer.items[i].option
            if o >= 0:
                given[o] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = given
    h.setSolution(sol)
    limit_time(h, min(limit, deadline.remaining()))
    run_highs(h)
    out = None
    if h.getInfo().primal_solution_status == 2:
        values = np.asarray(h.getSolution().col_value)
        if not np.any(values[lp.n_w : lp.n_fixed] > 0.5):  # no artificial: a plan
            picked = [lp.columns[j - lp.n_fixed] for j in np.flatnonzero(values > 0.5) if j >= lp.n_fixed]
            out = picked, sum(m.pricers[k].worth(items) for k, items in picked)
    h.changeColsIntegrality(n, everything, np.full(n, highspy.HighsVarType.kContinuous))
    h.setOptionValue("objective_target", -highspy.kHighsInf)
    return out


@dataclass(frozen=True)
class Node:
    """A branch: posts restricted to some of their options (none: not running), posts forced to
    run, and volunteers' items ruled out (``off``) or held (``on``).

    An item held ``on`` (pricer slot, item) says: for a one-to-one need, the need is served, and
    by that volunteer alone (its row ``sum x = 1``, every other volunteer's item of it banned);
    for a membership of a post at window set ``S``, the volunteer is on the post whenever it
    runs at ``S`` (its linking row ``member(v, p, S) = w[p, S]``).  With ``off`` (the item
    banned) the two children cover every plan.
    """

    allowed: dict[int, list[int]] = field(default_factory=dict)
    forced: frozenset[int] = frozenset()
    on: frozenset[tuple[int, int]] = frozenset()
    off: frozenset[tuple[int, int]] = frozenset()

    def admits(self, m: PostsMaster, col: Column, banned: dict[int, frozenset[int]] | None = None) -> bool:
        """Whether a column uses only items the node allows (``banned``: :meth:`banned`'s, if known)."""
        bad = (self.banned(m) if banned is None else banned).get(col[0])
        return not bad or bad.isdisjoint(col[1])

    def banned(self, m: PostsMaster) -> dict[int, frozenset[int]]:
        """Per pricer, the items the node rules out."""
        out: dict[int, set[int]] = {}
        if self.allowed:
            for k, pricer in enumerate(m.pricers):
                bad = {
                    i
                    for i, it in enumerate(pricer.items)
                    if it.option >= 0 and it.need in self.allowed and it.option not in self.allowed[it.need]
                }
                if bad:
                    out[k] = bad
        for k, i in self.off:
            out.setdefault(k, set()).add(i)
        for k, i in self.on:
            it = m.pricers[k].items[i]
            if it.option < 0:
                for k2, i2 in m.holders(it.need):
                    if k2 != k:
                        out.setdefault(k2, set()).add(i2)
        return {k: frozenset(b) for k, b in out.items()}

    def rows(self, m: PostsMaster) -> dict[int, float]:
        """Coupling rows the node holds at equality: row -> its value (``on`` items')."""
        out: dict[int, float] = {}
        for k, i in self.on:
            it = m.pricers[k].items[i]
            if it.option < 0:
                out[m.one_rows[it.need]] = 1.0
            else:
                out[m.options[it.option].links[m.pricers[k].vol]] = 0.0
        return out


def restrict(lp: MasterLP, node: Node) -> None:
    """Set the LP's bounds to ``node``'s: ``w`` of options not allowed and columns using banned
    items at 0; a forced post's row ``sum_S w = 1`` with its artificial column free; the rows of
    items held ``on`` at equality."""
    m = lp.m
    inf = highspy.kHighsInf
    upper_w = np.ones(lp.n_w)
    for p, opts in node.allowed.items():
        ok = set(opts)
        for o in m.by_post[p]:
            if o not in ok:
                upper_w[o] = 0.0
    posts = list(m.by_post)
    upper_a = np.array([1.0 if p in node.forced else 0.0 for p in posts])
    banned = node.banned(m)
    upper_c = np.array([inf if node.admits(m, c, banned) else 0.0 for c in lp.columns])
    n = lp.n_fixed + len(lp.columns)
    lp.h.changeColsBounds(n, np.arange(n, dtype=np.int32), np.zeros(n), np.r_[upper_w, upper_a, upper_c])
    if posts:
        lower = np.array([1.0 if p in node.forced else -inf for p in posts])
        rows = np.arange(m.post_row0, m.post_row0 + len(posts), dtype=np.int32)
        lp.h.changeRowsBounds(len(posts), rows, lower, np.ones(len(posts)))  # type: ignore[attr-defined]
    n_c = m.n_coupling
    lower_c = np.full(n_c, -inf)
    for r, value in node.rows(m).items():
        lower_c[r] = value
    lp.h.changeRowsBounds(n_c, np.arange(n_c, dtype=np.int32), lower_c, m.rhs.copy())  # type: ignore[attr-defined]


@dataclass
class PostsColgenResult:
    """The plan (need -> team), its coverage, the proved coverage bound, and how it went."""

    plan: dict[int, Team]
    covered: int
    """Coverage of ``plan`` in scaled units."""
    bound: int
    """Proved bound on coverage in scaled units (``covered`` when proved)."""
    seconds: float
    rounds: int
    nodes: int
    columns: int
    timings: dict[str, float] = field(default_factory=dict)
    lagrangian: float = math.inf
    """The root's best Lagrangian bound on the primary objective (``(K + 1) x coverage + continuity``)."""
    weight: int = 1
    """``K + 1``."""

    @property
    def optimal(self) -> bool:
        """Whether the plan's coverage meets the proved bound."""
        return self.covered == self.bound


def applies(inst: PostInstance) -> bool:
    """Whether the method takes ``inst``: station size (:data:`MAX_PAIRS`), few window sets per post."""
    # Never above the compact model's own limit: a problem it refuses is refused the same way.
    return inst.pairs <= min(MAX_PAIRS, posts_model.MAX_PAIRS) and all(
        not pn.group or math.comb(len(pn.need.windows), pn.need.sessions) <= MAX_OPTIONS for pn in inst.needs
    )


def solve_colgen(
    inst: PostInstance, start: dict[int, Team], seconds: float, *, branching: bool = True
) -> PostsColgenResult | None:
    """Prove ``inst`` by column generation (and branch-and-price) within ``seconds``, from ``start``.

    ``start`` is a valid plan (need index -> (volunteer indices, slots)); the result's plan is
    never worse.  None when the method does not apply (:func:`applies`).
    """
    t0 = time.perf_counter()
    deadline = Deadline.after(seconds)
    master = compile_master(inst)
    if master is None:
        return None
    timings: dict[str, float] = {"compile": time.perf_counter() - t0}
    lp = MasterLP(master)
    start_cols = master.columns_of(start)
    lp.add(start_cols)
    # every single item too, so the first duals mean something
    lp.add((k, (i,)) for k, p in enumerate(master.pricers) for i in range(len(p.items)))
    weight = master.weight
    best_cols = start_cols
    best_primary = sum(master.pricers[k].worth(items) for k, items in start_cols)
    t1 = time.perf_counter()
    root = generate(lp, deadline)
    timings["root colgen"] = time.perf_counter() - t1
    timings["root bound"] = root.bound / weight
    timings["root LP"] = root.lp_value / weight
    bound_primary = math.floor(root.bound) if math.isfinite(root.bound) else None
    nodes = 1
    target = bound_primary if bound_primary is not None else 10**15
    if best_primary < target:
        t1 = time.perf_counter()
        best_cols, best_primary = dive(lp, root, best_cols, best_primary, deadline, target)
        timings["dive"] = time.perf_counter() - t1
    upper = sum(pn.unit_value * pn.high for pn in inst.needs if len(pn.eligible) >= pn.low)
    bound_cov = upper if bound_primary is None else bound_primary // weight
    if bound_primary is not None and branching and _coverage(master, best_cols) < bound_cov:
        t1 = time.perf_counter()
        outcome = branch(lp, root, best_cols, best_primary, deadline)
        best_cols, best_primary = outcome.best, outcome.best_primary
        bound_cov = min(bound_cov, outcome.bound)
        nodes = outcome.nodes
        timings["branch"] = time.perf_counter() - t1
    if branching and _coverage(master, best_cols) < bound_cov and deadline.remaining() > 0.2:
        # the columns the dive and the nodes priced: a MIP over all of them, from the best plan
        t1 = time.perf_counter()
        found = mip_plan(lp, best_cols, bound_cov * weight, deadline, 0.5 * deadline.remaining())
        if found is not None and found[1] > best_primary:
            best_cols, best_primary = found
        timings["final MIP"] = time.perf_counter() - t1
    plan = master.plan_of(best_cols)
    covered = value_of(inst, plan)
    if value_of(inst, start) > covered:  # pragma: no cover - the start's columns are in every MIP
        plan, covered = start, value_of(inst, start)
    bound = max(covered, min(bound_cov, upper))
    return PostsColgenResult(
        plan,
        covered,
        bound,
        time.perf_counter() - t0,
        root.rounds,
        nodes,
        len(lp.columns),
        timings,
        root.bound,
        weight,
    )


def _coverage(master: PostsMaster, cols: list[Column]) -> int:
    return sum(master.pricers[k].items[i].coverage for k, items in cols for i in items)


def dive(
    lp: MasterLP, root: ColgenOutcome, best: list[Column], best_primary: int, deadline: Deadline, target: int
) -> tuple[list[Column], int]:
    """A plan by price-and-dive: fix posts to run at the window sets the LP likes, re-price, repeat.

    Each step forces every post whose LP value at one window set is at least :data:`DIVE_FIX` to run there,
    and the most fractional-but-largest other one; column generation then re-prices around
    them.  Once no post is fractional, a MIP over the columns (posts fixed) gives the plan.
    A heuristic: the bound does not depend on it.  Returns the better of its plan and ``best``.
    """
    m = lp.m
    node = Node()
    outcome = root
    # the diving steps stop in time to leave the last MIP at least DIVE_MIP_SHARE of the time
    steps_until = Deadline.after((1 - DIVE_MIP_SHARE) * deadline.remaining())
    try:
        while outcome.x is not None and steps_until.remaining() > 0.1:
            x = outcome.x
            allowed = dict(node.allowed)
            forced = set(node.forced)
            picks: list[tuple[float, int, int]] = []
            for p, opts in m.by_post.items():
                if p in forced or allowed.get(p) == []:
                    continue
                top = max(opts, key=lambda o: x[o])
                if x[top] >= DIVE_FIX:
                    allowed[p], forced = [top], forced | {p}
                elif x[top] > 1e-6:
                    picks.append((float(x[top]), p, top))
            for _, p, top in sorted(picks, reverse=True)[:DIVE_PICKS]:
                allowed[p], forced = [top], forced | {p}
            if forced == set(node.forced):
                break
            child = Node(allowed, frozenset(forced))
            restrict(lp, child)
            step = generate(lp, steps_until, child)
            if not step.complete or step.x is None:
                break
            short = np.flatnonzero(step.x[lp.n_w : lp.n_fixed] > 1e-6)
            if len(short):
                # the posts whose artificial column is in use cannot be staffed beside the others
                # forced: they stay off instead, and the dive goes on from there
                posts = list(m.by_post)
                off = {posts[j] for j in short}
                node = Node({**allowed, **{p: [] for p in off}}, frozenset(forced) - off)
                restrict(lp, node)
                outcome = generate(lp, steps_until, node)
                continue
            node, outcome = child, step
        restrict(lp, node)
        starts = [c for c in best if node.admits(m, c)]
        found = mip_plan(lp, starts, target, deadline, max(0.1, 0.7 * deadline.remaining()), DIVE_GAP)
    except OutOfTimeError:
        found = None
    restrict(lp, Node())
    if found is not None and found[1] > best_primary:
        return found
    return best, best_primary


@dataclass
class BranchOutcome:
    """Branch-and-price's best plan, and its proved bound on coverage (scaled units)."""

    best: list[Column]
    best_primary: int
    bound: int
    nodes: int


def branch(
    lp: MasterLP, root: ColgenOutcome, best: list[Column], best_primary: int, deadline: Deadline
) -> BranchOutcome:
    """Branch-and-price from the root: on a post running (``sum_S w``), then on its window sets.

    A child either keeps a post from running or forces it to run (at one of the options it
    still has); a post that runs split between window sets has its options halved.  Each node
    prices only the memberships it allows, so its Lagrangian bound holds for its subproblem; a
    node whose LP has every ``w`` integral gets a MIP over the columns, closed when that reaches
    its bound.  The tree's coverage bound is the best plan's coverage or the largest coverage
    bound of a node left open, whichever is larger.  Best-bound first; the open nodes stand at
    the deadline or after :data:`MAX_NODES`.
    """
    m = lp.m
    weight = m.weight
    open_nodes: list[tuple[float, Node, ColgenOutcome | None]] = [(root.bound, Node(), root)]
    unresolved: list[float] = []
    nodes = 1

    def pruned(b: float) -> bool:
        # a node whose bound gives no more coverage than the best plan has nothing to add
        return not math.isfinite(b) or math.floor(b) // weight <= best_primary // weight

    try:
        while open_nodes:
            open_nodes.sort(key=lambda item: item[0])
            node_bound, node, outcome = open_nodes.pop()
            if pruned(node_bound):
                continue
            if nodes >= MAX_NODES or deadline.remaining() <= 0.05:
                open_nodes.append((node_bound, node, outcome))
                break
            restrict(lp, node)
            if outcome is None:
                nodes += 1
                outcome = generate(lp, deadline, node)
                if not outcome.complete:
                    # out of time, or held items the columns cannot meet yet: the node stays open
                    unresolved.append(node_bound)
                    continue
                outcome.bound = min(outcome.bound, node_bound)
            if outcome.x is None or pruned(outcome.bound):
                continue
            pick = _branching(m, lp, outcome.x, node)
            if pick is None:
                # every w integral: the node's own plan may settle it, else its volunteers' items
                best, best_primary, pick = _settle(lp, node, outcome, best, best_primary, deadline)
                if pick is None:
                    unresolved.append(outcome.bound)
            for child in pick or []:
                open_nodes.append((outcome.bound, child, None))
    except OutOfTimeError:
        pass
    restrict(lp, Node())
    left = [b for b, _, _ in open_nodes] + unresolved
    bound = max([best_primary // weight, *(math.floor(b) // weight for b in left if math.isfinite(b))])
    return BranchOutcome(best, best_primary, bound, nodes)


def _settle(
    lp: MasterLP,
    node: Node,
    outcome: ColgenOutcome,
    best: list[Column],
    best_primary: int,
    deadline: Deadline,
) -> tuple[list[Column], int, list[Node] | None]:
    """A node whose posts are integral: its plan (its LP's where that is integral; else, at the
    first such node, briefly a MIP over its columns), the better plan, and the node's children
    (:func:`_item_branching`'s; none when the plan reached the node's bound: closed)."""
    bound = math.floor(outcome.bound)
    x = outcome.x
    assert x is not None
    used = np.flatnonzero(x[lp.n_fixed :] > 1e-6)
    found: tuple[list[Column], int] | None = None
    if np.all(x[lp.n_fixed + used] > 1 - 1e-6) and not np.any(x[lp.n_w : lp.n_fixed] > 1e-6):
        picked = [lp.columns[j] for j in used]
        found = picked, sum(lp.m.pricers[k].worth(c) for k, c in picked)
    elif not (node.on or node.off) and SETTLE_S > 0:
        banned = node.banned(lp.m)
        starts = [c for c in best if node.admits(lp.m, c, banned)]
        found = mip_plan(lp, starts, bound, deadline, min(SETTLE_S, deadline.remaining()))
    if found is not None and found[1] > best_primary:
        best, best_primary = found
    if found is not None and found[1] >= bound:
        return best, best_primary, []
    return best, best_primary, _item_branching(lp.m, lp, x, node)


def _branching(m: PostsMaster, lp: MasterLP, x: np.ndarray, node: Node) -> list[Node] | None:
    """The children of ``node`` at LP solution ``x``, or None when every ``w`` is integral.

    First a post not forced that runs fractionally (``sum_S w`` nearest 1/2): "not running"
    and "running"; else a post split between window sets (the largest fraction): its options
    halved, best and worse alternately.
    """
    best_run: tuple[float, int] | None = None
    best_split: tuple[float, int] | None = None
    for p, opts in m.by_post.items():
        use = node.allowed.get(p, opts)
        if not use:
            continue
        run = float(sum(x[o] for o in use))
        frac = min(run, 1 - run)
        if p not in node.forced and frac > 1e-6:
            if best_run is None or frac > best_run[0]:
                best_run = (frac, p)
            continue
        if len(use) > 1:
            split = max(min(x[o], 1 - x[o]) for o in use)
            if split > 1e-6 and (best_split is None or split > best_split[0]):
                best_split = (split, p)
    if best_run is not None:
        p = best_run[1]
        use = node.allowed.get(p, m.by_post[p])
        off = Node({**node.allowed, p: []}, node.forced, node.on, node.off)
        on = Node({**node.allowed, p: list(use)}, node.forced | {p}, node.on, node.off)
        return [off, on]
    if best_split is not None:
        p = best_split[1]
        ranked = sorted(node.allowed.get(p, m.by_post[p]), key=lambda o: -x[o])
        half = ranked[0::2]
        other = ranked[1::2]
        return [
            Node({**node.allowed, p: half}, node.forced, node.on, node.off),
            Node({**node.allowed, p: other}, node.forced, node.on, node.off),
        ]
    return None


def _item_branching(m: PostsMaster, lp: MasterLP, x: np.ndarray, node: Node) -> list[Node] | None:
    """Children on one volunteer's item taken fractionally (nearest 1/2), or None when every
    item is integral: the item banned (``off``), and held (``on``, see :class:`Node`)."""
    taken: dict[tuple[int, int], float] = {}
    for j in np.flatnonzero(x[lp.n_fixed :] > 1e-6):
        k, items = lp.columns[j]
        for i in items:
            taken[k, i] = taken.get((k, i), 0.0) + float(x[lp.n_fixed + j])
    frac = [(abs(v - 0.5), key) for key, v in taken.items() if 1e-6 < v < 1 - 1e-6 and key not in node.on]
    if not frac:
        return None
    key = min(frac)[1]
    return [
        Node(node.allowed, node.forced, node.on, node.off | {key}),
        Node(node.allowed, node.forced, node.on | {key}, node.off),
    ]


def plan2(inst: PostInstance, plan: dict[int, Team], covered: int, bound: int, seconds: float) -> Plan2:
    """The format-2 plan of ``plan`` (need index -> (volunteer indices, slots)), as the posts model
    writes it."""
    order = {s: i for i, s in enumerate(inst.problem.slot_ids)}
    assignments: list[PostAssignment] = []
    unmet: list[Unmet] = []
    for pn in inst.needs:
        if pn.index not in plan:
            unmet.append(Unmet(need=pn.need.id, reasons=unmet_reasons(inst, pn)))
            continue
        team, slots = plan[pn.index]
        open_places = pn.high - len(team)
        assignments.append(
            PostAssignment(
                need=pn.need.id,
                volunteers=[inst.volunteers[v].id for v in sorted(team)],
                slots=sorted(slots, key=order.__getitem__),
                places_open=open_places if open_places else None,
            )
        )
    served = {(inst.volunteers[v].id, inst.needs[n].place) for n, (team, _) in plan.items() for v in team}
    continuity = len({(inst.volunteers[v].id, b) for v, b in inst.previous} & served)
    return Plan2(
        format=2,
        status="optimal" if covered == bound else "feasible",
        assignments=assignments,
        unmet=unmet,
        objective=Objective2(
            coverage=number(inst.coverage(covered)),
            coverage_bound=number(inst.coverage(bound)),
            continuity=continuity,
        ),
        solve_seconds=round(seconds, 3),
    )


def prove_posts(
    problem: Problem2,
    seconds: float,
    start: dict[int, Team] | None = None,
    elapsed: float = 0.0,
    inst: PostInstance | None = None,
) -> PostsResult | None:
    """Solve ``problem`` by column generation within ``seconds``, from ``start`` or the greedy plan
    (the better: the plan is never worse than either).  ``elapsed``: seconds the caller spent
    before (making ``start``), counted in the plan's ``solve_seconds``; ``inst``: ``problem``
    already compiled (:meth:`PostInstance.of`).

    None when the method does not apply (:func:`applies`: above station size, or a post with
    too many window sets); otherwise the plan, ``optimal`` when its coverage meets the proved
    bound.
    """
    started = time.perf_counter()
    if inst is None:
        inst = PostInstance.of(problem)
    if not applies(inst):
        return None
    first = greedy(inst)
    if start is None or value_of(inst, first) > value_of(inst, start):
        start = first
    built = time.perf_counter() - started
    result = solve_colgen(inst, start, max(0.05, seconds - built))
    if result is None:  # pragma: no cover - applies() said it would
        return None
    plan = plan2(inst, result.plan, result.covered, result.bound, elapsed + time.perf_counter() - started)
    return PostsResult(plan, inst.coverage(result.covered), inst.coverage(result.bound), inst.pairs, built)


def tighten(result: PostsResult, proved: PostsResult | None) -> PostsResult:
    """``result`` with the lower of its bound and ``proved``'s (both proved bounds on the same problem).

    Its plan becomes ``optimal`` when its coverage meets that bound.
    """
    if proved is None or proved.coverage_bound >= result.coverage_bound:
        return result
    bound = max(result.coverage, proved.coverage_bound)
    objective = result.plan.objective.model_copy(update={"coverage_bound": number(bound)})
    status = "optimal" if result.coverage == bound else result.plan.status
    plan = result.plan.model_copy(update={"objective": objective, "status": status})
    return dataclasses.replace(result, plan=plan, coverage_bound=bound)


def team_plan(inst: PostInstance, plan: Plan2) -> dict[int, Team]:
    """A format-2 plan of ``inst`` as need index -> (volunteer indices, slots): a start for the
    compact model."""
    need = {pn.need.id: pn.index for pn in inst.needs}
    vol = {v.id: i for i, v in enumerate(inst.volunteers)}
    return {need[a.need]: ([vol[v] for v in a.volunteers], tuple(a.slots)) for a in plan.assignments}


__all__ = ["PostsColgenResult", "applies", "plan2", "prove_posts", "solve_colgen", "team_plan", "tighten"]
