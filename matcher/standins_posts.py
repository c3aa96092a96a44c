"""Stand-ins (备选志愿者) and the swap in a format-2 week (group posts, 多人岗位), without a solve.

The format-1 stand-ins (:mod:`matcher.standins`) know one volunteer per need.  A format-2 plan
lists each need's volunteers; when one of them cancels, the coordinator wants the same help:

* a **one-to-one need** (a beneficiary's, for one volunteer, without a lead: format 1 says the
  same) gets format 1's lists: per session, and for the whole assignment;
* a **post member** (a need at a site, for several volunteers, or with a lead) gets one list:
  volunteers who could take *that member's place* on the post, for all the post's slots together
  (a post's volunteers serve every one of its sessions, rule 10).

A stand-in keeps every hard rule of format 2 if they take the place, counted on the plan as it
stands: the pair rules (skill, certificates valid for the week, reach from the place's district,
minors only where ``minor_ok``, a beneficiary's gender wish and exclusions; rules 2, 7, 8, 9),
free at every slot taken and serving no other session then (3, 4), ``max_hours`` with the
sessions' hours added (5), ``max_beneficiaries`` counting the place (a site as one) only if new
to them (6), not already on the post (10); if the leaving member was the post's only lead holder,
the stand-in holds the whole lead (11); and a minor only if an adult stays on the post, an adult
when none would (12).

They are ranked as format 1 ranks them (:func:`matcher.standins.rank_key`, then the volunteer's
position in the problem): a kept pair first (``previous`` with the beneficiary, or serving the
same place elsewhere in the plan), travel in whole km (great-circle between ``location``s, else
0 km in the place's district and :data:`matcher.model.objectives.travel.NEIGHBOUR_KM` from a
neighbouring one), reliability, hours already planned that week.

:func:`swap2` puts a stand-in in: the change set (the leaving volunteer withdrawn from the slots
they leave; one session of a one-to-one need of several split as format 1 splits it) and the plan
for the changed problem, unvalidated (:func:`matcher.format.validate2.validate_plan2` re-checks it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from matcher.format.errors import InputError
from matcher.format.evaluate import continuity2_of, hours_fraction
from matcher.format.schema import (
    ChangeSet,
    MemberStandins,
    Need,
    Need2,
    Objective2,
    Plan2,
    PostAssignment,
    Problem2,
    Withdrawal,
)
from matcher.model.objectives.travel import EARTH_RADIUS_KM, NEIGHBOUR_KM
from matcher.model.posts.instance import NeedCompiler
from matcher.resolve_posts import apply_changes2
from matcher.standins import DEFAULT_K, AssignmentStandins, Reliability, Standin, rank_key, split_session

__all__ = ["standins2", "swap2", "with_standins2"]


@dataclass(frozen=True)
class _Need:
    """What the stand-ins read of one need (without the solver's eligibility tables)."""

    need: Need2
    place: str
    """Beneficiary or site id (rule 6 counts a site as one place)."""
    district: str
    unit_hours: int
    """``hours x sessions`` in scaled units (rule 5)."""

    @property
    def group(self) -> bool:
        """More than one volunteer may serve it (rule 12 applies)."""
        return self.need.volunteers.max > 1


class _Ranker:
    """The plan's state, the pairs' rules and the ranking figures, computed once for all its members."""

    def __init__(self, problem: Problem2, plan: Plan2, records: Mapping[str, Reliability]) -> None:
        self.volunteers = list(problem.volunteers)
        self.records = records
        self.position = {v.id: i for i, v in enumerate(self.volunteers)}
        # Reach, valid certificates and free slots as the posts model compiles them.  Hours are
        # scaled here from the decimals as written (hours_fraction), as the validator's rule 5
        # adds them, not from the model's reading of long decimals (matcher.format.hours.exact).
        compiler = NeedCompiler(problem)
        self.scale = math.lcm(1, *(hours_fraction(n.hours).denominator for n in problem.needs))
        self.location = {b.id: (b.location, b.district) for b in problem.beneficiaries}
        self.location.update({s.id: (s.location, s.district) for s in problem.sites})
        district = compiler.district_of
        units = {n.id: int(hours_fraction(n.hours) * self.scale) * n.sessions for n in problem.needs}
        self.needs = {n.id: _Need(n, n.place, district[n.place], units[n.id]) for n in problem.needs}
        self.free = compiler.free
        self.max_hours = [math.floor(hours_fraction(v.max_hours) * self.scale) for v in self.volunteers]
        # What the plan already gives each volunteer: slots, scaled hours, places.
        self.busy: list[set[str]] = [set() for _ in self.volunteers]
        self.hours = [0] * len(self.volunteers)
        self.places: list[set[str]] = [set() for _ in self.volunteers]
        for a in plan.assignments:
            pn = self.needs.get(a.need)
            for vid in a.volunteers:
                v = self.position.get(vid)
                if pn is not None and v is not None:
                    self.busy[v].update(a.slots)
                    self.hours[v] += pn.unit_hours
                    self.places[v].add(pn.place)
        self.previous = {(self.position[p.volunteer], p.beneficiary) for p in problem.previous}
        self.near = compiler.near
        self.valid = compiler.valid
        self.beneficiaries = {b.id: b for b in problem.beneficiaries}
        # Volunteers by skill: a need's candidates are read among those with its service only.
        self.skilled: dict[str, list[int]] = {}
        for i, person in enumerate(self.volunteers):
            for skill in dict.fromkeys(person.skills):
                self.skilled.setdefault(skill, []).append(i)

    def holds_lead(self, pn: _Need, v: int) -> bool:
        """Rule 11: ``v`` holds all of the need's lead (true of everyone without one)."""
        lead = pn.need.lead
        return lead is None or (
            set(lead.skills) <= set(self.volunteers[v].skills) and set(lead.certifications) <= self.valid[v]
        )

    def pair_ok(self, pn: _Need, v: int) -> bool:
        """Rules 2, 7, 8, 9 on the pair alone (availability and hours are checked per slot set)."""
        n, vol = pn.need, self.volunteers[v]
        if n.service not in vol.skills or vol.district not in self.near[pn.district]:
            return False
        if not set(n.requires) <= self.valid[v] or (vol.minor and not n.minor_ok):
            return False
        ben = self.beneficiaries.get(str(n.beneficiary))
        if ben is None:
            return True
        gender_ok = ben.volunteer_gender is None or vol.gender == ben.volunteer_gender
        return gender_ok and vol.id not in ben.excluded_volunteers

    def room(self, pn: _Need, v: int, slots: Sequence[str]) -> bool:
        """Free at ``slots`` and serving nothing then, with hours and places left (rules 3-6)."""
        if not set(slots) <= self.free[v] or self.busy[v] & set(slots):
            return False
        added = pn.unit_hours // pn.need.sessions * len(slots)  # hours x scale is whole per session
        if self.hours[v] + added > self.max_hours[v]:
            return False
        places = self.places[v]
        return pn.place in places or len(places) + 1 <= self.volunteers[v].max_beneficiaries

    def km(self, pn: _Need, v: int) -> float:
        """One trip's distance as the objective measures it (nominal without both locations)."""
        vol = self.volunteers[v]
        where, district = self.location[pn.place]
        if vol.location is None or where is None:
            return 0.0 if vol.district == district else NEIGHBOUR_KM
        lat1, lon1, lat2, lon2 = map(math.radians, (*vol.location, *where))
        h = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, h))))

    def standin(self, pn: _Need, v: int) -> Standin:
        vol = self.volunteers[v]
        record = self.records.get(vol.id, Reliability())
        previous = pn.need.beneficiary is not None and (v, pn.need.beneficiary) in self.previous
        return Standin(
            volunteer=vol.id,
            kept_pair=previous or pn.place in self.places[v],
            previous=previous,
            km=round(self.km(pn, v), 1),
            hours=float(Fraction(self.hours[v], self.scale)),
            no_shows=record.no_shows,
            late_cancellations=record.late_cancellations,
            rate=record.rate,
        )

    def ranked(self, pn: _Need, candidates: list[int], slots: Sequence[str], k: int) -> list[Standin]:
        """The ``k`` best of ``candidates`` with room for ``slots``, in format 1's order."""
        fit = [self.standin(pn, v) for v in candidates if self.room(pn, v, slots)]
        fit.sort(key=lambda s: (*rank_key(s), self.position[s.volunteer]))
        return fit[:k]

    def member(self, pn: _Need, a: PostAssignment, leaving: str, k: int) -> AssignmentStandins:
        """The stand-ins of volunteer ``leaving`` on assignment ``a`` of need ``pn``."""
        whole_only = not pn.need.is_plain
        found = AssignmentStandins(
            need=a.need,
            volunteer=leaving,
            sessions={} if whole_only else {s: [] for s in a.slots},
            whole_only=whole_only,
        )
        if k <= 0:
            return found
        on = {self.position[x] for x in a.volunteers if x in self.position}
        rest = [self.position[x] for x in a.volunteers if x != leaving and x in self.position]
        lead_needed = pn.need.lead is not None and not any(self.holds_lead(pn, x) for x in rest)
        adult_needed = pn.group and all(self.volunteers[x].minor for x in rest)
        candidates = [
            v
            for v in self.skilled.get(pn.need.service, [])
            if v not in on
            and not (adult_needed and self.volunteers[v].minor)
            and (not lead_needed or self.holds_lead(pn, v))
            and self.pair_ok(pn, v)
        ]
        for s in found.sessions:
            found.sessions[s] = self.ranked(pn, candidates, [s], k)
        if len(a.slots) == 1 and not whole_only:
            found.whole = found.sessions[a.slots[0]]
        else:
            found.whole = self.ranked(pn, candidates, a.slots, k)
        return found


def standins2(
    problem: Problem2,
    plan: Plan2,
    k: int = DEFAULT_K,
    reliability: Mapping[str, Reliability] | None = None,
) -> list[AssignmentStandins]:
    """Up to ``k`` ranked stand-ins for every volunteer on every assignment of a format-2 plan.

    One :class:`~matcher.standins.AssignmentStandins` per (assignment, volunteer on it), in the
    plan's order and the assignment's volunteers' order.  A one-to-one need's has per-session
    lists and the whole assignment's; a post member's (``whole_only``) only the whole list: who
    could take that member's place at all the post's slots.  See the module docstring for the
    rules and the ranking.
    """
    ranker = _Ranker(problem, plan, reliability or {})
    return [
        ranker.member(ranker.needs[a.need], a, leaving, k)
        for a in plan.assignments
        if a.need in ranker.needs
        for leaving in a.volunteers
    ]


def with_standins2(plan: Plan2, found: list[AssignmentStandins]) -> Plan2:
    """The plan with its stand-ins in the format's optional ``standins`` field: a one-to-one need's
    per session, a group post's per member (all its sessions)."""
    by_need: dict[str, list[AssignmentStandins]] = {}
    for f in found:
        by_need.setdefault(f.need, []).append(f)
    assignments = []
    for a in plan.assignments:
        lists = []
        for f in by_need.get(a.need, []):
            if f.whole_only:
                lists.append(MemberStandins(volunteer=f.volunteer, volunteers=[x.volunteer for x in f.whole]))
            else:
                lists += [
                    MemberStandins(
                        volunteer=f.volunteer, slot=s, volunteers=[x.volunteer for x in f.sessions.get(s, [])]
                    )
                    for s in a.slots
                ]
        assignments.append(a.model_copy(update={"standins": lists}))
    return plan.model_copy(update={"assignments": assignments})


def _as_need1(need: Need2) -> Need:
    """A one-to-one need as format 1's (a change set adds format 1's needs): same beneficiary,
    service, hours, sessions, windows and requirements."""
    return Need(
        id=need.id,
        beneficiary=str(need.beneficiary),
        service=need.service,
        hours=need.hours,
        sessions=need.sessions,
        windows=list(need.windows),
        requires=list(need.requires),
        minor_ok=need.minor_ok,
    )


def _most(problem: Problem2) -> Fraction:
    """Every need at its ``max`` volunteers: an upper bound on any plan's coverage."""
    return sum(
        (
            problem.priority_of(n) * hours_fraction(n.hours) * n.sessions * n.volunteers.max
            for n in problem.needs
        ),
        Fraction(0),
    )


def _check(problem: Problem2, a: PostAssignment | None, need: str, leaving: str, volunteer: str) -> None:
    if a is None:
        raise InputError(f"need: '{need}' is not assigned in the plan")
    if leaving not in a.volunteers:
        raise InputError(f"volunteer: '{leaving}' is not on need '{need}'")
    if volunteer not in {v.id for v in problem.volunteers}:
        raise InputError(f"volunteer: '{volunteer}' is not one of this week's volunteers")
    if volunteer in a.volunteers:
        raise InputError(f"volunteer: '{volunteer}' is already on need '{need}'")


def swap2(
    problem: Problem2, plan: Plan2, need: str, leaving: str, volunteer: str, slot: str | None = None
) -> tuple[ChangeSet, Plan2]:
    """Put ``volunteer`` in the place of ``leaving`` on need ``need``: one session (``slot``) or all.

    A post's volunteers serve all its sessions together, so a post member (a need that is not
    plain, :attr:`~matcher.format.schema.Need2.is_plain`) is swapped for every session; one session
    of a one-to-one need of several is split as format 1 splits it (``<need>+<slot>`` and
    ``<need>+rest``, :func:`matcher.standins.swap`).

    Returns
    -------
    tuple[ChangeSet, Plan2]
        The change set (``leaving`` withdrawn from the slots they leave, and for a split the need
        cancelled and its two parts added) and the plan for the changed problem
        (:func:`matcher.resolve_posts.apply_changes2`), unvalidated.

    Raises
    ------
    InputError
        When the need is not assigned, ``leaving`` is not on it, the stand-in is not in the
        problem or already on it, or the slot is not one of its sessions or is asked of a post
        (the message names the field).
    """
    index = next((i for i, a in enumerate(plan.assignments) if a.need == need), None)
    old = None if index is None else plan.assignments[index]
    _check(problem, old, need, leaving, volunteer)
    assert index is not None and old is not None
    original = next(n for n in problem.needs if n.id == need)
    if slot is not None and slot not in old.slots:
        raise InputError(f"slot: '{slot}' is not one of the assignment's sessions ({', '.join(old.slots)})")
    if slot is not None and not original.is_plain and len(old.slots) > 1:
        raise InputError(
            f"slot: need '{need}' is a group post (多人岗位): its volunteers serve all its sessions "
            "together; swap without a slot"
        )
    split = slot is not None and len(old.slots) > 1
    moved = [slot] if slot is not None and split else list(old.slots)
    withdrawn = [Withdrawal(volunteer=leaving, slots=moved)]
    assignments = list(plan.assignments)
    if not split:
        changes = ChangeSet(format=1, volunteers_withdrawn=withdrawn)
        members = [volunteer if v == leaving else v for v in old.volunteers]
        assignments[index] = old.model_copy(update={"volunteers": members})
        changed_ids = [need]
    else:
        assert slot is not None
        part = split_session(_as_need1(original), slot, old.slots, {n.id for n in problem.needs}, withdrawn)
        changes = part.changes
        # The changed problem lists its needs without the cancelled one, then the added ones.
        del assignments[index]
        assignments.append(PostAssignment(need=part.moved_id, volunteers=[volunteer], slots=[slot]))
        assignments.append(PostAssignment(need=part.rest_id, volunteers=[leaving], slots=part.rest_slots))
        changed_ids = [part.moved_id, part.rest_id]
    changed = apply_changes2(problem, changes)
    bound = _most(changed) if split else hours_fraction(plan.objective.coverage_bound)
    objective = Objective2(
        coverage=plan.objective.coverage,
        # A split need can go to two volunteers: the problem is relaxed and the old bound no longer
        # proved; a whole swap only takes availability away, so the old bound still holds.
        coverage_bound=int(bound) if bound.denominator == 1 else float(bound),
        continuity=continuity2_of(changed, assignments),
    )
    new = plan.model_copy(
        update={
            "assignments": assignments,
            "status": "feasible" if split else plan.status,
            "objective": objective,
            "solve_seconds": 0.0,
            "changed": changed_ids,
        }
    )
    return changes, new
