"""Independent checker of format-2 plans: does a :class:`Plan2` keep every rule of ``docs/format.md``?

Like :mod:`matcher.format.validate` (format 1), this re-checks a plan from the written contract
alone and never imports the solver: only the standard library, :mod:`matcher.format.schema`,
:mod:`matcher.format.reasons`, the format's evaluator :mod:`matcher.format.evaluate` and the
per-volunteer checks of rules 1-9 it shares with format 1 (:mod:`matcher.format.volunteer_checks`).
Arithmetic on hours and coverage is exact (:func:`matcher.format.evaluate.hours_fraction`).

Format 2's rules (``docs/format.md``, "Format 2"): rules 1-9 of format 1 hold for every
volunteer on every assignment, with the need's place (beneficiary or site) in place of the
beneficiary, and

10. a need takes between ``volunteers.min`` and ``volunteers.max`` distinct volunteers, all of
    them at every one of its slots (rules 1, 3 and 4 apply to each);
11. with a ``lead``, at least one volunteer on it holds all of the lead's skills and
    certifications (valid for the week);
12. a minor on a group post (``volunteers.max`` > 1) serves beside at least one adult on it.

:func:`validate_plan2` returns human-readable violations, each starting with its location and
ending with the rule's number; an empty list means the plan is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matcher.format import volunteer_checks as vc
from matcher.format.evaluate import continuity2_of, coverage2_of, hours_fraction
from matcher.format.reasons import POST_REASON_CODES
from matcher.format.schema import Need2, Plan2, PostAssignment, Problem2, Volunteer
from matcher.format.validate import OBJECTIVE_TOLERANCE

__all__ = ["RULE_CHECKS2", "validate_plan2"]


@dataclass(frozen=True)
class _Index(vc.VolunteerIndex):
    """Look-up tables of one format-2 problem."""

    problem: Problem2
    needs: dict[str, Need2]
    district_of: dict[str, str]
    """Place (beneficiary or site) id -> its district."""

    @classmethod
    def build(cls, problem: Problem2) -> _Index:
        district_of = {b.id: b.district for b in problem.beneficiaries}
        district_of.update({s.id: s.district for s in problem.sites})
        return cls(
            **vc.volunteer_lookups(problem),
            problem=problem,
            needs={n.id: n for n in problem.needs},
            district_of=district_of,
        )


@dataclass(frozen=True)
class _Seat(vc.Seat):
    """One volunteer on one assignment, both known (and the need it is for)."""

    need: Need2


@dataclass(frozen=True)
class _Resolved:
    """A plan's assignments resolved against the problem once for every check."""

    rows: list[tuple[int, PostAssignment, str, Need2 | None]]
    seats: list[_Seat]
    index: _Index

    @property
    def served(self) -> list[_Seat]:
        """Each known volunteer on each known need: the seats (a seat's need is always known)."""
        return self.seats


def _where(i: int, a: PostAssignment) -> str:
    return f"assignments[{i}] (need {a.need!r})"


def _seat_where(i: int, a: PostAssignment, volunteer: str) -> str:
    return f"assignments[{i}] (need {a.need!r}, volunteer {volunteer!r})"


def _resolve(plan: Plan2, index: _Index, out: list[str]) -> _Resolved:
    rows: list[tuple[int, PostAssignment, str, Need2 | None]] = []
    seats: list[_Seat] = []
    for i, a in enumerate(plan.assignments):
        need = index.needs.get(a.need)
        if need is None:
            out.append(f"{_where(i, a)}: unknown need {a.need!r}")
        rows.append((i, a, _where(i, a), need))
        for volunteer_id in dict.fromkeys(a.volunteers):
            volunteer = index.volunteers.get(volunteer_id)
            if volunteer is None:
                out.append(f"{_where(i, a)}: unknown volunteer {volunteer_id!r}")
            elif need is not None:
                seats.append(_Seat(i, _seat_where(i, a, volunteer_id), a.need, a.slots, volunteer, need))
    return _Resolved(rows, seats, index)


def _rule1_sessions_in_windows(plan: _Resolved, out: list[str]) -> None:
    """Rule 1: known, distinct slots in the need's windows, ``sessions`` of them."""
    for _, a, where, need in plan.rows:
        vc.check_slots(where, a.slots, plan.index.slots, need, out)


def _rule2_qualification(plan: _Resolved, out: list[str]) -> None:
    """Rule 2: every volunteer on a need has its skill and its certifications, valid for the week."""
    deadline = plan.index.problem.certification_deadline
    for s in plan.seats:
        vc.check_skill(s.where, s.need.service, s.volunteer, out)
        valid = vc.valid_kinds(s.volunteer, deadline)
        for kind in dict.fromkeys(s.need.requires):
            if kind not in valid:
                out.append(
                    f"{s.where}: the volunteer lacks certification {kind!r} valid for the week (rule 2)"
                )


def _rule6_max_places(plan: _Resolved, out: list[str]) -> None:
    """Rule 6: at most ``max_beneficiaries`` distinct places per volunteer (a site counts as one)."""
    places = vc.by_volunteer((x.volunteer, x.need.place) for x in plan.seats)
    vc.check_max_places(places, plan.index, "beneficiaries and sites", out)


def _rule7_reach(plan: _Resolved, out: list[str]) -> None:
    """Rule 7: the volunteer's district is the place's, or (reach 'adjacent') a neighbour of it."""
    index = plan.index
    for s in plan.seats:
        mine, theirs = s.volunteer.district, index.district_of[s.need.place]
        if mine == theirs:
            continue
        if index.problem.reach == "same" or mine not in index.neighbours.get(theirs, set()):
            out.append(
                f"{s.where}: volunteer district {mine!r} is out of reach of the need's district "
                f"{theirs!r} (rule 7)"
            )


def _rule9_gender_and_exclusions(plan: _Resolved, out: list[str]) -> None:
    """Rule 9: a beneficiary's ``volunteer_gender`` and ``excluded_volunteers`` (sites have neither)."""
    beneficiaries = {b.id: b for b in plan.index.problem.beneficiaries}
    for s in plan.seats:
        if s.need.beneficiary is None:
            continue
        beneficiary = beneficiaries[s.need.beneficiary]
        wanted = beneficiary.volunteer_gender
        if wanted is not None and s.volunteer.gender != wanted:
            out.append(
                f"{s.where}: beneficiary {beneficiary.id!r} asks for volunteer_gender {wanted!r} (rule 9)"
            )
        vc.check_not_excluded(s.where, beneficiary.id, beneficiary.excluded_volunteers, s.volunteer, out)


def _rule10_post_size(plan: _Resolved, out: list[str]) -> None:
    """Rule 10: between ``volunteers.min`` and ``volunteers.max`` distinct volunteers."""
    for _, a, where, need in plan.rows:
        if need is None:
            continue
        k = len(set(a.volunteers))
        if len(a.volunteers) != k:
            out.append(f"{where}: a volunteer is listed more than once (rule 10)")
        if not need.volunteers.min <= k <= need.volunteers.max:
            out.append(
                f"{where}: {k} volunteers, for {need.volunteers.min} to {need.volunteers.max} (rule 10)"
            )
        expected = need.volunteers.max - k if k < need.volunteers.max else None
        if a.places_open != expected and need.volunteers.min <= k <= need.volunteers.max:
            out.append(f"{where}: places_open is {a.places_open}, expected {expected} (max - volunteers)")


def _rule11_lead(plan: _Resolved, out: list[str]) -> None:
    """Rule 11: with a ``lead``, one volunteer on the need holds all of it."""
    deadline = plan.index.problem.certification_deadline
    on: dict[int, list[Volunteer]] = {}
    for s in plan.seats:
        on.setdefault(s.i, []).append(s.volunteer)
    for i, _, where, need in plan.rows:
        lead = None if need is None else need.lead
        if lead is None:
            continue

        def holds(
            v: Volunteer, lead_skills: list[str] = lead.skills, kinds: list[str] = lead.certifications
        ) -> bool:
            return set(lead_skills) <= set(v.skills) and set(kinds) <= vc.valid_kinds(v, deadline)

        if not any(holds(v) for v in on.get(i, [])):
            out.append(f"{where}: no volunteer on it holds the lead (rule 11)")


def _rule12_minor_with_adult(plan: _Resolved, out: list[str]) -> None:
    """Rule 12: a minor on a group post (``volunteers.max`` > 1) serves beside an adult."""
    on: dict[int, list[_Seat]] = {}
    for s in plan.seats:
        on.setdefault(s.i, []).append(s)
    for seats in on.values():
        need = seats[0].need
        if need.volunteers.max > 1 and all(s.volunteer.minor for s in seats):
            out.append(f"assignments[{seats[0].i}] (need {need.id!r}): minors with no adult on it (rule 12)")


RuleCheck = Callable[[_Resolved, list[str]], None]

RULE_CHECKS2: dict[int, RuleCheck] = {
    1: _rule1_sessions_in_windows,
    2: _rule2_qualification,
    3: vc.rule3_availability,
    4: vc.rule4_one_session_per_slot,
    5: vc.rule5_max_hours,
    6: _rule6_max_places,
    7: _rule7_reach,
    8: vc.rule8_minors,
    9: _rule9_gender_and_exclusions,
    10: _rule10_post_size,
    11: _rule11_lead,
    12: _rule12_minor_with_adult,
}
"""One check per hard rule of format 2, by its number; each appends its violations."""


def validate_plan2(problem: Problem2, plan: Plan2) -> list[str]:
    """Re-check a format-2 plan against its problem.

    Checks the format and status, that every assignment names an existing need and volunteers,
    that every need appears exactly once across ``assignments`` and ``unmet``, rules 1-12, the
    reason codes and the objective values.  ``plan.changed`` belongs to re-solve and is not
    checked here.

    Returns
    -------
    list of str
        Human-readable violations; empty when the plan is valid.
    """
    index = _Index.build(problem)
    out: list[str] = []
    if plan.format != 2:
        out.append(f"format: expected 2, got {plan.format!r}")
    resolved = _resolve(plan, index, out)
    for check in RULE_CHECKS2.values():
        check(resolved, out)
    _check_each_need_once(plan, index, out)
    for i, unmet in enumerate(plan.unmet):
        where = f"unmet[{i}] (need {unmet.need!r})"
        for j, code in enumerate(unmet.reasons):
            if code not in POST_REASON_CODES:
                out.append(f"{where}: reasons[{j}] {code!r} is not a known reason code")
        if len(set(unmet.reasons)) != len(unmet.reasons):
            out.append(f"{where}: a reason is listed more than once")
    _check_objective(plan, index, out)
    return out


def _check_each_need_once(plan: Plan2, index: _Index, out: list[str]) -> None:
    first: dict[str, str] = {}
    entries = [(f"assignments[{i}]", a.need) for i, a in enumerate(plan.assignments)]
    entries += [(f"unmet[{i}]", u.need) for i, u in enumerate(plan.unmet)]
    for label, need_id in entries:
        if need_id not in index.needs:
            if label.startswith("unmet"):
                out.append(f"{label}: unknown need {need_id!r}")
            continue
        if need_id in first:
            out.append(f"{label} (need {need_id!r}): already appears at {first[need_id]} (rule 1)")
        else:
            first[need_id] = label
    for position, need in enumerate(index.problem.needs):
        if need.id not in first:
            out.append(f"needs[{position}] ({need.id!r}): appears neither in assignments nor in unmet")


def _check_objective(plan: Plan2, index: _Index, out: list[str]) -> None:
    objective = plan.objective
    exact = coverage2_of(index.problem, plan.assignments)
    reported = hours_fraction(objective.coverage)
    bound = hours_fraction(objective.coverage_bound)
    if abs(reported - exact) > OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage: reported {objective.coverage!r}, but the assignments cover "
            f"{vc.show(exact)} (sum of priority x hours x sessions x volunteers)"
        )
    continuity = continuity2_of(index.problem, plan.assignments)
    if objective.continuity != continuity:
        out.append(
            f"objective.continuity: reported {objective.continuity}, but {continuity} previous pairs "
            "serve a need together again"
        )
    if max(reported, exact) > bound + OBJECTIVE_TOLERANCE:
        out.append(f"objective.coverage_bound: {objective.coverage_bound!r} is below the coverage")
    if plan.status == "optimal" and abs(bound - reported) > OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage_bound: status is 'optimal' but coverage_bound {objective.coverage_bound!r} "
            f"differs from coverage {objective.coverage!r}"
        )
