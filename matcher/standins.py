"""Ranked stand-ins (备选志愿者) for a finished plan, and the swap that puts one in, without a solve.

When a volunteer cancels a session, the coordinator phones the next-best volunteer.  For
every assignment of a plan, :func:`standins` lists up to ``k`` volunteers who could take
it over **as the plan stands**, ranked:

* **per session** (the usual case: "Wang cancelled Saturday morning"): for each slot of the
  assignment, volunteers who could serve that one session;
* **whole assignment**: volunteers who could serve every session of it at the same slots
  (for a one-session need it is the same list as its one session's).

A stand-in for a session of need ``n`` at slot ``s`` keeps every hard rule if they take it:

* the pair rules, exactly the solver's filters (:mod:`matcher.model.rules`): skill and
  reach (rules 2, 7), certificates valid for the week (rule 2), minors (rule 8), gender and
  exclusions (rule 9);
* the slot rules: available at ``s`` (rule 3) and serving no other session at ``s`` in the
  plan (rule 4);
* the volunteer limits of :mod:`matcher.model.rules`, counted on what the plan already
  gives them: ``max_hours`` with this session's hours added (``hours x sessions`` for the
  whole assignment, rule 5), ``max_beneficiaries`` with the beneficiary counted only if new
  to them (rule 6).

The ranking key, lowest first (:func:`rank_key`):

1. **kept pair**: the volunteer served this beneficiary last week (``previous``) or serves
   them elsewhere in this plan (continuity, the objective's second level);
2. **travel**: the trip's great-circle distance as the objective's travel term measures it
   (:func:`matcher.model.objectives.travel.trip_km`), in whole kilometres: a coordinator
   does not tell 1.2 km from 1.4 km, and a tie then falls to the next keys;
3. **reliability**: no-shows plus late cancellations over the recent weeks (fewer first),
   then the served rate (higher first; a volunteer without history counts as 100%);
4. **load**: hours the plan already gives them this week (fewer first, the objective's
   load spread);
5. the volunteer's position in the problem (a stable tie-break).

:func:`swap` makes the plan with a stand-in in place, as a change set (the cancelled
volunteer withdrawn from the slots they leave) and the plan for the changed problem;
:func:`matcher.format.validate.validate_plan` re-checks it.  A one-session swap of a need
of several sessions splits the need (format-1 gives a need one volunteer): the change
set cancels it and adds its moved session and the rest as two needs, with the same
beneficiary, service, hours, requirements and coverage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from matcher.format.changes import apply_changes
from matcher.format.errors import InputError
from matcher.format.evaluate import continuity_of, coverage_of
from matcher.format.schema import Assignment, ChangeSet, Need, Objective, Plan, Problem, Standins, Withdrawal
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.objectives.travel import trip_km
from matcher.model.rules import RULES, Additive, Distinct, Scope, availability, limits
from matcher.model.rules.skill_in_reach import Candidates

__all__ = [
    "DEFAULT_K",
    "AssignmentStandins",
    "Reliability",
    "Standin",
    "rank_key",
    "standins",
    "swap",
    "with_standins",
]

DEFAULT_K = 3
"""Stand-ins listed per session and per assignment unless asked otherwise."""

#: The pair rules a stand-in must pass besides skill-in-reach (whose candidates they filter)
#: and availability (checked at the session's own slot, not over the need's windows).
PAIR_FILTERS = tuple(
    rule.keep
    for rule in RULES
    if rule.scope is Scope.PAIR and rule.keep is not None and rule.name != availability.RULE.name
)


@dataclass(frozen=True)
class Reliability:
    """A volunteer's record over the recent weeks (the service reads it from its service records)."""

    no_shows: int = 0
    late_cancellations: int = 0
    rate: float | None = None
    """served / (served + no-shows + late cancellations); None without such sessions."""


@dataclass(frozen=True)
class Standin:
    """One ranked stand-in and why they rank where they do."""

    volunteer: str
    kept_pair: bool
    """Served this beneficiary last week, or serves them elsewhere in this plan."""
    previous: bool
    """Served this beneficiary last week (``previous``)."""
    km: float
    """One trip's distance (the objective's measure; 0 or 3 km nominal without locations)."""
    hours: float
    """Hours the plan already gives them this week."""
    no_shows: int
    late_cancellations: int
    rate: float | None


@dataclass
class AssignmentStandins:
    """The stand-ins of one assignment: per session (by slot, in the assignment's order) and whole."""

    need: str
    volunteer: str
    sessions: dict[str, list[Standin]] = field(default_factory=dict)
    whole: list[Standin] = field(default_factory=list)
    whole_only: bool = False
    """A group post's member (format 2, :mod:`matcher.standins_posts`): its volunteers serve all its
    sessions together, so only ``whole`` is listed (``sessions`` is empty)."""


def rank_key(s: Standin) -> tuple[int, int, int, float, float]:
    """The documented ranking of one stand-in (lower first), without the final position tie-break."""
    incidents = s.no_shows + s.late_cancellations
    rate = 1.0 if s.rate is None else s.rate
    return (0 if s.kept_pair else 1, int(s.km), incidents, -rate, s.hours)


class _Members:
    """Which volunteers belong to each group (a beneficiary, a key), tested against candidates at once.

    One boolean scratch row of the volunteers' length is marked, read at the candidates and
    cleared again: linear in the group and the candidates, where ``np.isin`` would sort.
    """

    def __init__(self, n_volunteers: int) -> None:
        self.members: dict[int, list[int]] = {}
        self._scratch = np.zeros(n_volunteers, dtype=bool)

    def add(self, group: int, volunteer: int) -> None:
        self.members.setdefault(group, []).append(volunteer)

    def of(self, group: int, cand: IntArray) -> BoolArray:
        """``out[i]``: ``cand[i]`` is a member of ``group``."""
        members = self.members.get(group)
        if not members:
            return np.zeros(len(cand), dtype=bool)
        self._scratch[members] = True
        out: BoolArray = self._scratch[cand]
        self._scratch[members] = False
        return out


class _Plan:
    """What the plan already gives each volunteer: busy slots, scaled load per limit, held keys."""

    def __init__(self, inst: Instance, plan: Plan) -> None:
        n_v, n_s = inst.n_volunteers, len(inst.slots)
        self.busy = np.zeros((n_v, n_s), dtype=bool)
        self.rows: list[tuple[int, int, IntArray]] = []  # (need, volunteer, slot indexes)
        self.additive = [(lim.amount(inst), lim.budget(inst)) for lim in limits(Additive)]
        self.used = [np.zeros(n_v, dtype=np.int64) for _ in self.additive]
        self.distinct = [(lim.key(inst), lim.most(inst)) for lim in limits(Distinct)]
        held: list[set[tuple[int, int]]] = [set() for _ in self.distinct]
        for a in plan.assignments:
            n, v = inst.need_index[a.need], inst.vol_index[a.volunteer]
            slots = np.array([inst.slot_index[s] for s in a.slots], dtype=np.int64)
            self.rows.append((n, v, slots))
            self.busy[v, slots] = True
            for (amount, _), used in zip(self.additive, self.used, strict=True):
                used[v] += amount[n]
            for (key, _), pairs in zip(self.distinct, held, strict=True):
                pairs.add((v, int(key[n])))
        self.held_count = [np.bincount([v for v, _ in pairs], minlength=n_v) for pairs in held]
        self.holders = [_Members(n_v) for _ in held]
        for members, pairs in zip(self.holders, held, strict=True):
            for v, k in sorted(pairs):
                members.add(k, v)

    def fits(self, inst: Instance, n: int, cand: IntArray, sessions: int) -> BoolArray:
        """Candidates whose limits hold with ``sessions`` of need ``n``'s sessions added."""
        ok = np.ones(len(cand), dtype=bool)
        per = int(inst.need_sessions[n])
        for (amount, budget), used in zip(self.additive, self.used, strict=True):
            # amount = hours x sessions x scale: a share of whole sessions is exact.
            ok &= used[cand] + int(amount[n]) * sessions // per <= budget[cand]
        for (key, most), count, holders in zip(self.distinct, self.held_count, self.holders, strict=True):
            # A key the volunteer holds already takes no further room.
            ok &= holders.of(int(key[n]), cand) | (count[cand] + 1 <= most[cand])
        return ok


def standins(
    problem: Problem,
    plan: Plan,
    k: int = DEFAULT_K,
    reliability: Mapping[str, Reliability] | None = None,
) -> list[AssignmentStandins]:
    """Up to ``k`` ranked stand-ins for every session and every assignment of a plan.

    Parameters
    ----------
    problem
        The plan's problem.
    plan
        A valid plan of it (a plan that breaks a rule gives stand-ins for that plan as it is).
    k
        Most stand-ins listed per session and per assignment (0 lists none).
    reliability
        Volunteer id to their recent record; absent volunteers have none (rate counted 100%).

    Returns
    -------
    list[AssignmentStandins]
        One per assignment, in the plan's order; see the module docstring for the rules
        and the ranking.
    """
    inst = Instance.from_problem(problem)
    ranker = _Ranker(inst, plan, reliability or {})
    return [
        ranker.assignment(n, own, slots, a, k)
        for (n, own, slots), a in zip(ranker.state.rows, plan.assignments, strict=True)
    ]


class _Ranker:
    """The plan's state and the ranking figures, computed once for all its assignments."""

    def __init__(self, inst: Instance, plan: Plan, records: Mapping[str, Reliability]) -> None:
        self.inst = inst
        self.state = _Plan(inst, plan)
        self.records = records
        vols = inst.problem.volunteers
        self.no_shows = np.array([records.get(v.id, Reliability()).no_shows for v in vols], dtype=np.int64)
        self.late = np.array(
            [records.get(v.id, Reliability()).late_cancellations for v in vols], dtype=np.int64
        )
        self.rate = np.array([_rate(records.get(v.id)) for v in vols], dtype=np.float64)
        self.incidents = self.no_shows + self.late
        self.load = self.state.used[0] if self.state.used else np.zeros(len(vols), dtype=np.int64)
        # Free: available at the slot and not serving another session there (rules 3 and 4).
        self.open = inst.vol_avail & ~self.state.busy
        # Kept pairs: last week's, and this plan's (volunteer, beneficiary), by beneficiary.
        self.previous, self.kept = _Members(len(vols)), _Members(len(vols))
        for v, b in inst.previous:
            self.previous.add(b, v)
        for v, b in sorted({*inst.previous, *((v, int(inst.need_ben[n])) for n, v, _ in self.state.rows)}):
            self.kept.add(b, v)
        self.candidates = Candidates(inst)

    def assignment(self, n: int, own: int, slots: IntArray, a: Assignment, k: int) -> AssignmentStandins:
        """The stand-ins of one assignment: need ``n`` of volunteer ``own`` at ``slots``."""
        found = AssignmentStandins(need=a.need, volunteer=a.volunteer, sessions={s: [] for s in a.slots})
        if k <= 0:
            return found
        inst = self.inst
        cand = self.candidates(n)
        free = self.open[cand[:, None], slots]
        # Free at one of the sessions at least, and someone else: the cheap test first.
        some = free.any(axis=1) & (cand != own)
        cand, free = cand[some], free[some]
        for keep in PAIR_FILTERS:
            if len(cand) == 0:
                return found
            ok = keep(inst, n, cand)
            if not ok.all():
                cand, free = cand[ok], free[ok]
        # Room for one session at least (whole-assignment room implies it).
        ok = self.state.fits(inst, n, cand, 1)
        cand, free = cand[ok], free[ok]
        if len(cand) == 0:
            return found
        ben = int(inst.need_ben[n])
        kept = self.kept.of(ben, cand)
        prev = self.previous.of(ben, cand)
        km = trip_km(inst, cand, np.full(len(cand), n, dtype=np.int64))
        # np.lexsort sorts by the last key first: the documented key read backwards.
        order = np.lexsort(
            (cand, self.load[cand], -self.rate[cand], self.incidents[cand], np.floor(km), ~kept)
        )
        made: dict[int, Standin] = {}

        def ranked(mask: BoolArray) -> list[Standin]:
            out = []
            for i in order[mask[order]][:k].tolist():
                if i not in made:
                    made[i] = self._standin(int(cand[i]), bool(kept[i]), bool(prev[i]), float(km[i]))
                out.append(made[i])
            return out

        for j, s in enumerate(a.slots):
            found.sessions[s] = ranked(free[:, j])
        if len(slots) == 1:
            found.whole = found.sessions[a.slots[0]]
        else:
            found.whole = ranked(free.all(axis=1) & self.state.fits(inst, n, cand, len(slots)))
        return found

    def _standin(self, v: int, kept: bool, previous: bool, km: float) -> Standin:
        ident = self.inst.problem.volunteers[v].id
        return Standin(
            volunteer=ident,
            kept_pair=kept,
            previous=previous,
            km=round(km, 1),
            hours=float(self.load[v]) / self.inst.scale,
            no_shows=int(self.no_shows[v]),
            late_cancellations=int(self.late[v]),
            rate=self.records.get(ident, Reliability()).rate,
        )


def _rate(r: Reliability | None) -> float:
    """The served rate ranked on: a volunteer without history counts as fully reliable."""
    return 1.0 if r is None or r.rate is None else float(r.rate)


def with_standins(plan: Plan, found: list[AssignmentStandins]) -> Plan:
    """The plan with each assignment's per-session stand-ins in the format's optional ``standins`` field."""
    by_need = {f.need: f for f in found}
    assignments = []
    for a in plan.assignments:
        f = by_need.get(a.need)
        lists = (
            []
            if f is None
            else [Standins(slot=s, volunteers=[x.volunteer for x in f.sessions.get(s, [])]) for s in a.slots]
        )
        assignments.append(a.model_copy(update={"standins": lists}))
    return plan.model_copy(update={"assignments": assignments})


def _free_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base`` with a number added, not in ``taken`` (ids are at most 64 characters)."""
    stem = base[:60]
    if stem not in taken:
        return stem
    i = 2
    while f"{stem[:57]}+{i}" in taken:
        i += 1
    return f"{stem[:57]}+{i}"


def swap(
    problem: Problem, plan: Plan, need: str, volunteer: str, slot: str | None = None
) -> tuple[ChangeSet, Plan]:
    """Put ``volunteer`` in the place of need ``need``'s volunteer: for one session (``slot``) or all.

    Parameters
    ----------
    problem, plan
        The plan in force and its problem.
    need
        The assignment's need.
    volunteer
        The stand-in (any volunteer of the problem: the validator, not this function,
        says whether the swap keeps the rules).
    slot
        The one session swapped; None swaps every session of the assignment.

    Returns
    -------
    tuple[ChangeSet, Plan]
        The change set (the leaving volunteer withdrawn from the slots they leave; for one
        session of a need of several, the need cancelled and added again as two needs, the
        moved session ``<need>+<slot>`` and the rest ``<need>+rest``), and the plan for the
        changed problem (:func:`matcher.format.changes.apply_changes`), unvalidated.

    Raises
    ------
    InputError
        When the need is not assigned in the plan, the slot is not one of its sessions or
        the volunteer is not in the problem (the message names the field).
    """
    index = next((i for i, a in enumerate(plan.assignments) if a.need == need), None)
    if index is None:
        raise InputError(f"need: '{need}' is not assigned in the plan")
    old = plan.assignments[index]
    if volunteer not in {v.id for v in problem.volunteers}:
        raise InputError(f"volunteer: '{volunteer}' is not one of this week's volunteers")
    if slot is not None and slot not in old.slots:
        raise InputError(f"slot: '{slot}' is not one of the assignment's sessions ({', '.join(old.slots)})")
    moved = old.slots if slot is None else [slot]
    withdrawn = [Withdrawal(volunteer=old.volunteer, slots=list(moved))]
    assignments = list(plan.assignments)
    if slot is None or len(old.slots) == 1:
        changes = ChangeSet(format=1, volunteers_withdrawn=withdrawn)
        assignments[index] = Assignment(need=need, volunteer=volunteer, slots=list(old.slots))
    else:
        original = next(n for n in problem.needs if n.id == need)
        part = split_session(original, slot, old.slots, {n.id for n in problem.needs}, withdrawn)
        changes = part.changes
        # The changed problem lists needs in problem order without the cancelled one, then the
        # added ones: the plan follows, and the rest keeps its volunteer and other sessions.
        del assignments[index]
        assignments.append(Assignment(need=part.moved_id, volunteer=volunteer, slots=[slot]))
        assignments.append(Assignment(need=part.rest_id, volunteer=old.volunteer, slots=part.rest_slots))
    changed = apply_changes(problem, changes)
    assigned = [a.need for a in assignments]
    split = slot is not None and len(old.slots) > 1
    objective = Objective(
        coverage=plan.objective.coverage,
        # A split need can go to two volunteers: the problem is relaxed and the old bound no
        # longer proved; whole-need swaps only take availability away, so it still holds.
        coverage_bound=_number(coverage_of(changed, [n.id for n in changed.needs]))
        if split
        else plan.objective.coverage_bound,
        continuity=continuity_of(changed, assignments),
    )
    new = plan.model_copy(
        update={
            "assignments": [a.model_copy(update={"standins": None}) for a in assignments],
            "status": "feasible" if split else plan.status,
            "objective": objective,
            "solve_seconds": 0.0,
            "changed": assigned[-2:] if split else [need],
        }
    )
    return changes, new


@dataclass(frozen=True)
class SplitSession:
    """One session of a one-to-one need moved to another volunteer: the need is cancelled and
    added back as two parts, ``<need>+<slot>`` (the moved session) and ``<need>+rest``."""

    moved_id: str
    rest_id: str
    rest_slots: list[str]
    """The sessions the leaving volunteer keeps, in the assignment's order."""
    changes: ChangeSet
    """``withdrawn``, the need cancelled and its two parts added."""


def split_session(
    original: Need, slot: str, slots: Sequence[str], taken: set[str], withdrawn: list[Withdrawal]
) -> SplitSession:
    """Splits ``original`` (assigned at ``slots``) at ``slot``; the parts' ids avoid ``taken``.

    Shared by format 1's :func:`swap` and format 2's (:func:`matcher.standins_posts.swap2`)."""
    moved_id = _free_id(f"{original.id}+{slot}", taken)
    rest_id = _free_id(f"{original.id}+rest", taken | {moved_id})
    rest_slots = [s for s in slots if s != slot]
    parts = [
        _part(original, moved_id, 1, [slot]),
        _part(original, rest_id, len(rest_slots), [w for w in original.windows if w != slot]),
    ]
    changes = ChangeSet(
        format=1, volunteers_withdrawn=withdrawn, needs_cancelled=[original.id], needs_added=parts
    )
    return SplitSession(moved_id, rest_id, rest_slots, changes)


def _part(need: Need, ident: str, sessions: int, windows: list[str]) -> Need:
    """A part of a split need: the same service for the same beneficiary, fewer sessions."""
    return need.model_copy(update={"id": ident, "sessions": sessions, "windows": windows})


def _number(q: Fraction) -> int | float:
    return int(q) if q.denominator == 1 else float(q)
