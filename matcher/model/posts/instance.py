"""A format-2 problem compiled for the exact model: integer values, eligible volunteers per need.

A volunteer is *eligible* for a need when every rule about the two alone holds: the skill and
certifications (rule 2), free in at least ``sessions`` of its windows (rules 1, 3), the need's
hours within ``max_hours`` (rule 5) and ``max_beneficiaries`` at least 1 (rule 6), reach from the
place's district (rule 7), minors only on ``minor_ok`` needs (rule 8), and a beneficiary's gender
wish and exclusions (rule 9).  The first rule that fails gives the candidate's reason code, in the
order of :data:`matcher.format.reasons.POST_REASON_CODES`, as format 1 does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from matcher.format import reasons
from matcher.format.hours import cap_units, exact, read_below
from matcher.format.schema import Beneficiary, Need2, Problem2, Volunteer


@dataclass
class PostNeed:
    """One need of the problem, compiled."""

    index: int
    need: Need2
    priority: int
    place: str
    """Beneficiary or site id: the key of rule 6's count."""
    district: str
    low: int
    high: int
    unit_value: int
    """``priority x hours x sessions`` in scaled units: the value of each volunteer on it."""
    unit_hours: int
    """``hours x sessions`` in scaled units (rule 5)."""
    eligible: list[int] = field(default_factory=list)
    """Volunteer indices eligible for it (rules 1-3, 5-9 on the pair alone)."""
    refused: dict[str, int] = field(default_factory=dict)
    """Reason code -> how many candidates it ruled out."""
    leads: set[int] = field(default_factory=set)
    """Eligible volunteers who hold the whole lead (all of them when there is none)."""

    @property
    def group(self) -> bool:
        """A group post: more than one volunteer may serve it (rule 12 applies)."""
        return self.high > 1


@dataclass
class PostInstance:
    """The compiled problem."""

    problem: Problem2
    scale: int
    """Units per hour: the least common denominator of every hours value."""
    needs: list[PostNeed]
    volunteers: list[Volunteer]
    free: list[frozenset[str]]
    """Volunteer index -> its available slots."""
    max_hours: list[int]
    """Volunteer index -> ``max_hours`` in scaled units (rounded down: never more than allowed)."""
    previous: list[tuple[int, str]]
    """Distinct previous pairs (volunteer index, beneficiary id)."""

    @classmethod
    def of(cls, problem: Problem2, compiler: NeedCompiler | None = None) -> PostInstance:
        """Compile ``problem`` (with ``compiler``, one of it already made, if given)."""
        if compiler is None:
            compiler = NeedCompiler(problem)
        elif compiler.problem is not problem:
            raise ValueError("compiler: made for another problem")
        needs = [compiler.compile(i) for i in range(len(problem.needs))]
        position = {v.id: i for i, v in enumerate(compiler.volunteers)}
        previous = sorted({(position[p.volunteer], p.beneficiary) for p in problem.previous})
        return cls(
            problem, compiler.scale, needs, compiler.volunteers, compiler.free, compiler.max_units, previous
        )

    def coverage(self, units: int) -> Fraction:
        """Priority-weighted volunteer-hours of ``units`` scaled units."""
        return Fraction(units, self.scale)

    @property
    def pairs(self) -> int:
        """Eligible (volunteer, need) pairs: the model's size."""
        return sum(len(n.eligible) for n in self.needs)


class NeedCompiler:
    """Compiles the needs of one problem one at a time (:meth:`compile`): the city route compiles only
    the needs it looks at, where compiling them all (every volunteer of every need) takes seconds."""

    def __init__(self, problem: Problem2) -> None:
        self.problem = problem
        self.hours = [exact(n.hours) for n in problem.needs]
        self.scale = math.lcm(1, *(h.denominator for h in self.hours))
        self.volunteers = list(problem.volunteers)
        self.ben = {b.id: b for b in problem.beneficiaries}
        self.district_of = {b.id: b.district for b in problem.beneficiaries}
        self.district_of.update({s.id: s.district for s in problem.sites})
        self.near: dict[str, set[str]] = {d.id: {d.id} for d in problem.districts}
        if problem.reach == "adjacent":
            for d in problem.districts:
                for other in d.neighbors:
                    self.near[d.id].add(other)
                    self.near[other].add(d.id)
        deadline = problem.certification_deadline
        self.valid = [{c.kind for c in v.certifications if c.expires >= deadline} for v in self.volunteers]
        self.free = [frozenset(v.availability) for v in self.volunteers]
        # Rule 5 as the validator adds the written decimals (matcher.format.hours.cap_units).
        below = read_below(n.hours for n in problem.needs)
        self.max_units = [cap_units(v.max_hours, self.scale, below) for v in self.volunteers]
        # Rule 2's skill and rule 7's reach rule out most volunteers of a city: look up who passes
        # both (by skill and district) instead of asking every volunteer of every need.
        self.by_skill_district: dict[tuple[str, str], list[int]] = {}
        for v_index, v in enumerate(self.volunteers):
            for skill in v.skills:
                self.by_skill_district.setdefault((skill, v.district), []).append(v_index)

    def candidates(self, i: int) -> int:
        """How many volunteers have need ``i``'s skill within reach: at least its eligible ones."""
        n = self.problem.needs[i]
        near = self.near[self.district_of[n.place]]
        return sum(len(self.by_skill_district.get((n.service, d), ())) for d in near)

    def shell(self, i: int) -> PostNeed:
        """Need ``i`` without its eligible volunteers (what a plan's bookkeeping needs of it)."""
        n = self.problem.needs[i]
        priority = n.priority if n.priority is not None else self.ben[str(n.beneficiary)].priority
        units = self.hours[i] * self.scale * n.sessions
        return PostNeed(
            index=i,
            need=n,
            priority=priority,
            place=n.place,
            district=self.district_of[n.place],
            low=n.volunteers.min,
            high=n.volunteers.max,
            unit_value=int(priority * units),
            unit_hours=int(units),
        )

    def candidate_list(self, i: int) -> list[int]:
        """The volunteers with need ``i``'s skill within its reach, in index order."""
        n = self.problem.needs[i]
        near = self.near[self.district_of[n.place]]
        return sorted(v for d in near for v in self.by_skill_district.get((n.service, d), ()))

    def refusal(self, i: int, v: int) -> str | None:
        """The first rule that rules volunteer ``v`` out of need ``i`` alone (None: eligible)."""
        n = self.problem.needs[i]
        return _refusal(
            n,
            self.volunteers[v],
            self.valid[v],
            self.free[v],
            self.near[self.district_of[n.place]],
            self.ben.get(str(n.beneficiary)),
            self.hours[i] * self.scale * n.sessions,
            self.max_units[v],
        )

    def compile(self, i: int) -> PostNeed:
        """Need ``i`` of the problem, its eligible volunteers and refusals counted."""
        pn = self.shell(i)
        candidates = self.candidate_list(i)
        if len(candidates) < len(self.volunteers):  # what _refusal's first rule says of the others
            pn.refused[reasons.NO_VOLUNTEER_WITH_SKILL_IN_REACH] = len(self.volunteers) - len(candidates)
        for v_index in candidates:
            code = self.refusal(i, v_index)
            if code is None:
                pn.eligible.append(v_index)
            else:
                pn.refused[code] = pn.refused.get(code, 0) + 1
        lead = pn.need.lead
        pn.leads = {
            v
            for v in pn.eligible
            if lead is None
            or (
                set(lead.skills) <= set(self.volunteers[v].skills)
                and set(lead.certifications) <= self.valid[v]
            )
        }
        return pn


def _refusal(  # noqa: PLR0911 (one return per rule, in the reason codes' order)
    n: Need2,
    v: Volunteer,
    valid: set[str],
    free: frozenset[str],
    near: set[str],
    beneficiary: Beneficiary | None,
    units: Fraction,
    max_units: int,
) -> str | None:
    """The first rule that rules volunteer ``v`` out of need ``n`` alone (None: eligible)."""
    if n.service not in v.skills or v.district not in near:
        return reasons.NO_VOLUNTEER_WITH_SKILL_IN_REACH
    if not set(n.requires) <= valid:
        return reasons.NO_CERTIFIED_VOLUNTEER
    if v.minor and not n.minor_ok:
        return reasons.MINOR_NOT_ALLOWED
    if beneficiary is not None:
        if beneficiary.volunteer_gender is not None and v.gender != beneficiary.volunteer_gender:
            return reasons.GENDER_MISMATCH
        if v.id in beneficiary.excluded_volunteers:
            return reasons.VOLUNTEER_EXCLUDED
    if len(free.intersection(n.windows)) < n.sessions:
        return reasons.NO_AVAILABLE_SLOT
    if units > max_units:
        return reasons.EXCEEDS_MAX_HOURS
    if v.max_beneficiaries < 1:
        return reasons.NO_BENEFICIARY_CAPACITY
    return None
