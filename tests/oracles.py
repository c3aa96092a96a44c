"""Exact oracles, independent of the engine's model: brute force on tiny problems and a MIP on small ones.

* a brute-force search over every plan of tiny problems (<= 4 volunteers, <= 6 needs), which
  also gives the lexicographic second level (most ``previous`` pairs kept among the
  coverage-optimal plans);
* a MIP written from the format document and solved with ``scipy.optimize.milp`` (HiGHS) for
  small problems (<= 15 volunteers, <= 25 needs), in two stages: coverage, then continuity.

Both share only the schema and the rule helpers of ``helpers.py`` (written from the spec)
with the engine. Used by the system tests (``tests/system/test_oracle.py``) and by engine
tests that need an exact answer.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from helpers import (
    exact,
    random_problem,
    statically_eligible,
    usable_slots,
    value_of,
)
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from matcher.format.schema import (
    Assignment,
    Need2,
    Objective,
    Plan,
    PostAssignment,
    Problem,
    Problem2,
    Unmet,
    Volunteer,
)


@dataclass
class Optimum:
    """The lexicographic optimum (coverage, fewest moves, continuity) and a plan reaching it."""

    coverage: Fraction
    continuity: int
    assignments: list[Assignment] = field(default_factory=list)
    moves: int = 0
    """Needs of ``homes`` (see :func:`brute_force`) not at their home volunteer and slots."""


def witness_plan(problem: Problem, opt: Optimum) -> Plan:
    """The oracle's plan in exchange format (unmet needs get a placeholder reason)."""
    taken = {a.need for a in opt.assignments}
    return Plan(
        format=1,
        status="optimal",
        assignments=opt.assignments,
        unmet=[Unmet(need=n.id, reasons=["capacity_taken"]) for n in problem.needs if n.id not in taken],
        objective=Objective(
            coverage=float(opt.coverage),
            coverage_bound=float(opt.coverage),
            continuity=opt.continuity,
        ),
        solve_seconds=0.0,
    )


def brute_force(
    problem: Problem,
    fixed: Sequence[Assignment] = (),
    homes: Mapping[str, Assignment] | None = None,
    max_moves: int | None = None,
) -> Optimum:
    """Enumerate every plan (each need unassigned, or any eligible volunteer in any slot set).

    Rules 2, 3, 7, 8, 9 filter the pairs; rule 1 is the choice of exactly ``sessions`` distinct
    usable slots; rules 4, 5 and 6 are checked incrementally.  Branches that cannot beat the best
    (coverage, -moves, continuity) found are cut.

    For a re-solve: ``fixed`` assignments are part of every plan; a need of ``homes`` that is
    not at exactly its home volunteer and slots is a move, and at most ``max_moves`` are allowed.
    """
    homes = homes or {}
    vols = problem.volunteers
    ben_of = {n.id: n.beneficiary for n in problem.needs}
    previous = {(p.volunteer, p.beneficiary) for p in problem.previous}
    pinned = {a.need for a in fixed}
    order = sorted((n for n in problem.needs if n.id not in pinned), key=lambda n: -value_of(problem, n))
    options: list[list[tuple[int, list[tuple[str, ...]]]]] = []
    for n in order:
        opts = []
        for vi, v in enumerate(vols):
            if statically_eligible(problem, v, n):
                opts.append((vi, list(itertools.combinations(usable_slots(problem, v, n), n.sessions))))
        options.append(opts)
    values = [value_of(problem, n) if options[i] else Fraction(0) for i, n in enumerate(order)]
    rest = [sum(values[i:], Fraction(0)) for i in range(len(order) + 1)]
    cap = [exact(v.max_hours) for v in vols]

    busy: list[set[str]] = [set() for _ in vols]
    hours = [Fraction(0)] * len(vols)
    served: list[dict[str, int]] = [{} for _ in vols]
    chosen: list[Assignment] = list(fixed)
    position = {v.id: vi for vi, v in enumerate(vols)}
    needs = {n.id: n for n in problem.needs}
    for a in fixed:
        vi, n = position[a.volunteer], needs[a.need]
        busy[vi].update(a.slots)
        hours[vi] += exact(n.hours) * n.sessions
        served[vi][n.beneficiary] = served[vi].get(n.beneficiary, 0) + 1
    base = sum((value_of(problem, needs[a.need]) for a in fixed), Fraction(0))
    best = Optimum(Fraction(-1), -1, moves=0)
    budget = len(homes) if max_moves is None else max_moves

    def continuity() -> int:
        return sum(1 for vi, v in enumerate(vols) for b in served[vi] if (v.id, b) in previous)

    def is_move(need_id: str, vol: str | None, combo: tuple[str, ...]) -> int:
        home = homes.get(need_id)
        return int(home is not None and (home.volunteer != vol or set(home.slots) != set(combo)))

    def dfs(i: int, cov: Fraction, moves: int) -> None:
        nonlocal best
        if moves > budget:
            return
        if (cov + rest[i], -moves, len(previous)) <= (best.coverage, -best.moves, best.continuity):
            return
        if i == len(order):
            cont = continuity()
            if (cov, -moves, cont) > (best.coverage, -best.moves, best.continuity):
                best = Optimum(cov, cont, list(chosen), moves)
            return
        n = order[i]
        load = exact(n.hours) * n.sessions
        ben = ben_of[n.id]
        for vi, combos in options[i]:
            v = vols[vi]
            if hours[vi] + load > cap[vi]:
                continue
            if ben not in served[vi] and len(served[vi]) >= v.max_beneficiaries:
                continue
            for combo in combos:
                if busy[vi].intersection(combo):
                    continue
                busy[vi].update(combo)
                hours[vi] += load
                served[vi][ben] = served[vi].get(ben, 0) + 1
                chosen.append(Assignment(need=n.id, volunteer=v.id, slots=list(combo)))
                dfs(i + 1, cov + values[i], moves + is_move(n.id, v.id, combo))
                chosen.pop()
                served[vi][ben] -= 1
                if not served[vi][ben]:
                    del served[vi][ben]
                hours[vi] -= load
                busy[vi].difference_update(combo)
        dfs(i + 1, cov, moves + is_move(n.id, None, ()))

    dfs(0, base, 0)
    return best


def tiny_problem(seed: int) -> Problem:
    """A random problem small enough to enumerate: 2-4 volunteers, 3-6 needs, 4-6 slots."""
    rng = random.Random(seed)
    return random_problem(
        rng,
        volunteers=rng.randint(2, 4),
        needs=rng.randint(3, 6),
        n_slots=rng.choice((None, 4, 5)),
        max_sessions=3,
    )


@dataclass
class _Rows:
    """A sparse constraint matrix built row by row."""

    n_vars: int
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    data: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def add(self, terms: list[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(self.lower)
        for c, a in terms:
            self.rows.append(r)
            self.cols.append(c)
            self.data.append(a)
        self.lower.append(lower)
        self.upper.append(upper)

    def constraint(self) -> LinearConstraint:
        matrix = coo_matrix((self.data, (self.rows, self.cols)), shape=(len(self.lower), self.n_vars))
        return LinearConstraint(matrix.tocsr(), self.lower, self.upper)


def mip_optimum(problem: Problem) -> Optimum:
    """Maximise coverage, then continuity at that coverage, with two HiGHS MIPs.

    Variables: ``x[v,n]`` (volunteer v takes need n) for pairs passing rules 2, 3, 7, 8, 9 and
    the single-need parts of 5 and 6; ``y[v,n,s]`` (a session of n by v in slot s) for usable
    slots (rules 1, 3); ``z[v,b]`` (v serves b, rule 6); ``w[v,b]`` for previous pairs.
    """
    vols = problem.volunteers
    pairs = [
        (vi, ni)
        for ni, n in enumerate(problem.needs)
        for vi, v in enumerate(vols)
        if statically_eligible(problem, v, n)
    ]
    n_x = len(pairs)
    y_index: dict[tuple[int, str], int] = {}
    y_of_pair: list[list[int]] = []
    for p, (vi, ni) in enumerate(pairs):
        ids = []
        for s in usable_slots(problem, vols[vi], problem.needs[ni]):
            y_index[(p, s)] = n_x + len(y_index)
            ids.append(y_index[(p, s)])
        y_of_pair.append(ids)
    col = n_x + len(y_index)
    z_index: dict[tuple[int, str], int] = {}
    for vi, ni in pairs:
        key = (vi, problem.needs[ni].beneficiary)
        if key not in z_index:
            z_index[key] = col
            col += 1
    vol_ids = {v.id: i for i, v in enumerate(vols)}
    w_index: dict[tuple[int, str], int] = {}
    for prev in problem.previous:
        key = (vol_ids[prev.volunteer], prev.beneficiary)
        if key in z_index and key not in w_index:
            w_index[key] = col
            col += 1
    n_vars = col
    if n_x == 0:
        return Optimum(Fraction(0), 0)

    scale = 1
    for n in problem.needs:
        scale = math.lcm(scale, exact(n.hours).denominator)
    for v in vols:
        scale = math.lcm(scale, exact(v.max_hours).denominator)
    value = [int(value_of(problem, problem.needs[ni]) * scale) for _, ni in pairs]
    load = [int(exact(problem.needs[ni].hours) * problem.needs[ni].sessions * scale) for _, ni in pairs]

    by_need: dict[int, list[int]] = {}
    by_vol: dict[int, list[int]] = {}
    by_vol_ben: dict[tuple[int, str], list[int]] = {}
    y_by_vol_slot: dict[tuple[int, str], list[int]] = {}
    for p, (vi, ni) in enumerate(pairs):
        by_need.setdefault(ni, []).append(p)
        by_vol.setdefault(vi, []).append(p)
        by_vol_ben.setdefault((vi, problem.needs[ni].beneficiary), []).append(p)
    for (p, s), y in y_index.items():
        y_by_vol_slot.setdefault((pairs[p][0], s), []).append(y)

    rows = _Rows(n_vars)
    for ps in by_need.values():  # rule 1: at most one volunteer
        rows.add([(p, 1.0) for p in ps], -np.inf, 1)
    for p, (_, ni) in enumerate(pairs):  # rule 1: exactly `sessions` slots when taken
        sessions = problem.needs[ni].sessions
        rows.add([(y, 1.0) for y in y_of_pair[p]] + [(p, -float(sessions))], 0, 0)
    for ys in y_by_vol_slot.values():  # rule 4: one session per slot
        if len(ys) > 1:
            rows.add([(y, 1.0) for y in ys], -np.inf, 1)
    for vi, mine in by_vol.items():  # rule 5: hours
        rows.add([(p, float(load[p])) for p in mine], -np.inf, float(exact(vols[vi].max_hours) * scale))
    for vi in by_vol:  # rule 6: distinct beneficiaries
        zs = [z for (u, _), z in z_index.items() if u == vi]
        rows.add([(z, 1.0) for z in zs], -np.inf, vols[vi].max_beneficiaries)
    for (vi, b), ps in by_vol_ben.items():  # x <= z
        for p in ps:
            rows.add([(p, 1.0), (z_index[(vi, b)], -1.0)], -np.inf, 0)
    for key, w in w_index.items():  # w <= sum of x of that volunteer with b's needs
        rows.add([(w, 1.0), *[(p, -1.0) for p in by_vol_ben[key]]], -np.inf, 0)

    integrality = np.ones(n_vars)
    bounds = Bounds(np.zeros(n_vars), np.ones(n_vars))
    options = {"mip_rel_gap": 0.0, "time_limit": 60.0}
    c1 = np.zeros(n_vars)
    c1[:n_x] = -np.array(value, dtype=float)
    first = milp(c1, constraints=[rows.constraint()], integrality=integrality, bounds=bounds, options=options)
    assert first.status == 0, first.message
    best_units = round(-first.fun)

    rows.add([(p, float(value[p])) for p in range(n_x)], best_units - 0.5, np.inf)
    c2 = np.zeros(n_vars)
    for w in w_index.values():
        c2[w] = -1.0
    second = milp(
        c2, constraints=[rows.constraint()], integrality=integrality, bounds=bounds, options=options
    )
    assert second.status == 0, second.message
    sol = np.round(second.x).astype(int)

    assignments = []
    for p, (vi, ni) in enumerate(pairs):
        if sol[p]:
            slots = [s for (q, s), y in y_index.items() if q == p and sol[y]]
            assignments.append(Assignment(need=problem.needs[ni].id, volunteer=vols[vi].id, slots=slots))
    coverage = Fraction(sum(value[p] for p in range(n_x) if sol[p]), scale)
    assert coverage * scale == best_units
    continuity = sum(int(sol[w]) for w in w_index.values())
    return Optimum(coverage, continuity, assignments)


def small_problem(seed: int) -> Problem:
    """A random problem of up to 15 volunteers and 25 needs with capacity that binds."""
    rng = random.Random(1000 + seed)
    return random_problem(
        rng,
        volunteers=rng.randint(6, 15),
        needs=rng.randint(12, 25),
        beneficiaries=rng.randint(5, 12),
        n_slots=rng.choice((None, 6, 8)),
        max_sessions=3,
    )


# --------------------------------------------------------------------------- format 2 (posts)


@dataclass
class PostOptimum:
    """The optimum coverage of a format-2 problem and the assignments of a plan reaching it."""

    coverage: Fraction
    assignments: list[PostAssignment] = field(default_factory=list)


def _post_pair_ok(problem: Problem2, v: Volunteer, n: Need2) -> bool:
    """The rules about one volunteer and one need alone, from the format document (rules 2, 7, 8, 9)."""
    if n.service not in v.skills:
        return False
    if any(
        not any(c.kind == k and c.expires >= problem.certification_deadline for c in v.certifications)
        for k in n.requires
    ):
        return False
    if v.minor and not n.minor_ok:
        return False
    place_district = next(
        (b.district for b in problem.beneficiaries if b.id == n.beneficiary),
        next((s.district for s in problem.sites if s.id == n.site), None),
    )
    if v.district != place_district:
        neighbours = {o for d in problem.districts if d.id == place_district for o in d.neighbors}
        neighbours |= {d.id for d in problem.districts if place_district in d.neighbors}
        if problem.reach == "same" or v.district not in neighbours:
            return False
    if n.beneficiary is not None:
        ben = next(b for b in problem.beneficiaries if b.id == n.beneficiary)
        if ben.volunteer_gender is not None and v.gender != ben.volunteer_gender:
            return False
        if v.id in ben.excluded_volunteers:
            return False
    return True


def brute_force_posts(problem: Problem2) -> PostOptimum:
    """Enumerate every format-2 plan of a tiny problem and return the best coverage.

    Each need either does not run, or runs at one set of ``sessions`` of its windows with one
    set of ``min``..``max`` volunteers, each qualified (rules 2, 7, 8, 9) and free at all of
    them (rule 3), with a lead holder (rule 11) and, on a group post, an adult beside any minor
    (rule 12).  Rules 4, 5 and 6 are checked across needs as the search goes; a branch that
    cannot beat the best found is cut.  Written from ``docs/format.md`` alone.
    """
    deadline = problem.certification_deadline
    priority = {b.id: b.priority for b in problem.beneficiaries}
    options: list[list[tuple[Fraction, tuple[str, ...], tuple[Volunteer, ...]]]] = []
    for n in problem.needs:
        unit = (
            (n.priority if n.priority is not None else priority[str(n.beneficiary)])
            * exact(n.hours)
            * n.sessions
        )
        qualified = [v for v in problem.volunteers if _post_pair_ok(problem, v, n)]
        mine: list[tuple[Fraction, tuple[str, ...], tuple[Volunteer, ...]]] = []
        for slots in itertools.combinations(n.windows, n.sessions):
            free = [v for v in qualified if set(slots) <= set(v.availability)]
            for k in range(n.volunteers.min, min(n.volunteers.max, len(free)) + 1):
                for team in itertools.combinations(free, k):
                    if n.lead is not None and not any(
                        set(n.lead.skills) <= set(v.skills)
                        and set(n.lead.certifications)
                        <= {c.kind for c in v.certifications if c.expires >= deadline}
                        for v in team
                    ):
                        continue
                    if n.volunteers.max > 1 and all(v.minor for v in team):
                        continue
                    mine.append((unit * k, slots, team))
        mine.sort(key=lambda o: -o[0])
        options.append(mine)
    best_rest = [Fraction(0)] * (len(options) + 1)
    for i in range(len(options) - 1, -1, -1):
        best_rest[i] = best_rest[i + 1] + (options[i][0][0] if options[i] else 0)
    best = PostOptimum(Fraction(0))
    hours: dict[str, Fraction] = {v.id: Fraction(0) for v in problem.volunteers}
    busy: set[tuple[str, str]] = set()
    places: dict[str, set[str]] = {v.id: set() for v in problem.volunteers}
    chosen: list[PostAssignment] = []

    def search(i: int, value: Fraction) -> None:
        if value + best_rest[i] <= best.coverage and (i > 0 or best.coverage > 0):
            return
        if i == len(options):
            if value > best.coverage:
                best.coverage = value
                best.assignments = list(chosen)
            return
        n = problem.needs[i]
        place = n.beneficiary if n.beneficiary is not None else str(n.site)
        for worth, slots, team in options[i]:
            if any((v.id, s) in busy for v in team for s in slots):
                continue
            if any(hours[v.id] + exact(n.hours) * n.sessions > exact(v.max_hours) for v in team):
                continue
            if any(place not in places[v.id] and len(places[v.id]) >= v.max_beneficiaries for v in team):
                continue
            added = [v.id for v in team if place not in places[v.id]]
            for v in team:
                hours[v.id] += exact(n.hours) * n.sessions
                busy.update((v.id, s) for s in slots)
            for vid in added:
                places[vid].add(place)
            chosen.append(PostAssignment(need=n.id, volunteers=[v.id for v in team], slots=list(slots)))
            search(i + 1, value + worth)
            chosen.pop()
            for vid in added:
                places[vid].discard(place)
            for v in team:
                hours[v.id] -= exact(n.hours) * n.sessions
                busy.difference_update((v.id, s) for s in slots)
        search(i + 1, value)

    search(0, Fraction(0))
    return best
