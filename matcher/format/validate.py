"""Independent plan checker: does a plan keep every rule of ``docs/format.md``?

This module re-checks a :class:`~matcher.format.schema.Plan` against its
:class:`~matcher.format.schema.Problem` from the written contract alone.  It deliberately
shares no code with the solver: it imports only the standard library, pydantic (through
:mod:`matcher.format.schema`), :mod:`matcher.format.reasons`, the format's own evaluator
:mod:`matcher.format.evaluate` (coverage and continuity from the written contract) and the
per-volunteer checks it shares with the format-2 checker (:mod:`matcher.format.volunteer_checks`),
never ortools, numpy or another matcher module, so that a bug in the engine cannot hide itself here.

All arithmetic on hours and coverage is exact: every JSON number is read as the
:class:`fractions.Fraction` of its shortest decimal representation (``1.5`` is ``3/2``,
``0.1`` is ``1/10``), so ``0.1 x 3`` is exactly ``0.3``.  Reported objective values,
which are floats, are compared with an absolute tolerance of ``1e-6``.

:func:`validate_plan` returns human-readable violations, each starting with its location,
e.g. ``assignments[2] (need 'n1', volunteer 'v3'): slot 'tue-am' is not in the
volunteer's availability (rule 3)``; an empty list means the plan is valid.  Each hard
rule has one check function, listed in :data:`RULE_CHECKS` by the rule's number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from matcher.format import volunteer_checks as vc
from matcher.format.evaluate import continuity_of, coverage_of, hours_fraction
from matcher.format.reasons import REASON_CODES
from matcher.format.schema import (
    Assignment,
    Beneficiary,
    Certification,
    Need,
    Plan,
    Problem,
    Volunteer,
)

__all__ = [
    "OBJECTIVE_TOLERANCE",
    "RULE_CHECKS",
    "certification_valid",
    "continuity_of",
    "coverage_of",
    "hours_fraction",
    "validate_plan",
]

#: Absolute tolerance when comparing reported (float) objective values with exact ones.
OBJECTIVE_TOLERANCE: Fraction = Fraction(1, 10**6)

_STATUSES: tuple[str, ...] = ("optimal", "feasible")


def certification_valid(cert: Certification, problem: Problem) -> bool:
    """Tell whether a certification counts for the problem's week.

    Parameters
    ----------
    cert
        A volunteer's certification.
    problem
        The problem, whose ``week_start`` fixes the week.

    Returns
    -------
    bool
        ``True`` if ``cert.expires`` is on or after ``week_start`` + 6 days.
    """
    return cert.expires >= problem.certification_deadline


def validate_plan(problem: Problem, plan: Plan) -> list[str]:
    """Re-check a plan against its problem.

    Checks the format and status, that every assignment names an existing need and
    volunteer, that every need of the problem appears exactly once across
    ``assignments`` and ``unmet``, hard rules 1-9, the reason codes of unmet needs and
    the objective values (coverage, continuity, coverage bound).  ``plan.changed``
    belongs to re-solve and is not checked here.

    Parameters
    ----------
    problem
        The (validated) problem the plan is for.
    plan
        The plan to check.

    Returns
    -------
    list of str
        Human-readable violations, each starting with its location and ending, for a
        hard rule, with ``(rule N)``; empty when the plan is valid.
    """
    index = _Index.build(problem)
    out: list[str] = []
    _check_header(plan, out)
    resolved = _rows(plan, index, out)
    for check in RULE_CHECKS.values():
        check(resolved, out)
    _check_each_need_once(plan, index, out)
    for i, unmet in enumerate(plan.unmet):
        _check_reasons(i, unmet.need, unmet.reasons, out)
    _check_objective(plan, index, out)
    return out


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Index(vc.VolunteerIndex):
    """Look-up tables of one problem."""

    problem: Problem
    needs: dict[str, Need]
    need_position: dict[str, int]
    beneficiaries: dict[str, Beneficiary]

    @classmethod
    def build(cls, problem: Problem) -> _Index:
        return cls(
            **vc.volunteer_lookups(problem),
            problem=problem,
            needs={n.id: n for n in problem.needs},
            need_position={n.id: i for i, n in enumerate(problem.needs)},
            beneficiaries={b.id: b for b in problem.beneficiaries},
        )


def _where(i: int, assignment: Assignment) -> str:
    return f"assignments[{i}] (need {assignment.need!r}, volunteer {assignment.volunteer!r})"


def _check_header(plan: Plan, out: list[str]) -> None:
    # pydantic already enforces both; kept for plans built with model_construct/model_copy.
    if plan.format != 1:
        out.append(f"format: expected 1, got {plan.format!r}")
    if plan.status not in _STATUSES:
        out.append(f"status: expected 'optimal' or 'feasible', got {plan.status!r}")


@dataclass(frozen=True)
class _Row:
    """One assignment with what it names (None where the id is unknown)."""

    i: int
    a: Assignment
    where: str
    need: Need | None
    volunteer: Volunteer | None


@dataclass(frozen=True)
class _Pair:
    """One assignment whose need and volunteer both exist."""

    i: int
    a: Assignment
    where: str
    need: Need
    volunteer: Volunteer
    beneficiary: Beneficiary


@dataclass(frozen=True)
class _Plan:
    """A plan's assignments, resolved against the problem once for every rule check."""

    rows: list[_Row]
    pairs: list[_Pair]
    seats: list[vc.Seat]
    """The assignments whose volunteer exists (their need may not)."""
    index: _Index

    @property
    def served(self) -> list[_Pair]:
        """The assignments whose volunteer and need exist (the shared checks' name of ``pairs``)."""
        return self.pairs


def _rows(plan: Plan, index: _Index, out: list[str]) -> _Plan:
    """Resolve every assignment's need and volunteer, reporting unknown ones."""
    rows: list[_Row] = []
    pairs: list[_Pair] = []
    seats: list[vc.Seat] = []
    for i, a in enumerate(plan.assignments):
        where = _where(i, a)
        need = index.needs.get(a.need)
        volunteer = index.volunteers.get(a.volunteer)
        if need is None:
            out.append(f"{where}: unknown need {a.need!r}")
        if volunteer is None:
            out.append(f"{where}: unknown volunteer {a.volunteer!r}")
        rows.append(_Row(i, a, where, need, volunteer))
        if volunteer is not None:
            seats.append(vc.Seat(i, where, a.need, a.slots, volunteer))
        if need is not None and volunteer is not None:
            pairs.append(_Pair(i, a, where, need, volunteer, index.beneficiaries[need.beneficiary]))
    return _Plan(rows, pairs, seats, index)


def _rule1_sessions_in_windows(plan: _Plan, out: list[str]) -> None:
    """Rule 1 (per assignment): known slots, distinct, in the need's windows, ``sessions`` of them.

    Its first half, a need at most once, is checked with the plan's structure
    (:func:`_check_each_need_once`).
    """
    for row in plan.rows:
        vc.check_slots(row.where, row.a.slots, plan.index.slots, row.need, out)


def _rule2_qualification(plan: _Plan, out: list[str]) -> None:
    """Rule 2: skill and certifications valid for the week."""
    problem = plan.index.problem
    deadline = problem.certification_deadline
    for p in plan.pairs:
        vc.check_skill(p.where, p.need.service, p.volunteer, out)
        for kind in dict.fromkeys(p.need.requires):
            held = [c for c in p.volunteer.certifications if c.kind == kind]
            if not held:
                out.append(f"{p.where}: the volunteer lacks required certification {kind!r} (rule 2)")
            elif not any(certification_valid(c, problem) for c in held):
                latest = max(c.expires for c in held)
                out.append(
                    f"{p.where}: certification {kind!r} expires {latest.isoformat()}, before "
                    f"{deadline.isoformat()} (week_start + 6 days) (rule 2)"
                )


def _rule6_max_beneficiaries(plan: _Plan, out: list[str]) -> None:
    """Rule 6: at most ``max_beneficiaries`` distinct beneficiaries per volunteer."""
    places = vc.by_volunteer((x.volunteer, x.need.beneficiary) for x in plan.pairs)
    vc.check_max_places(places, plan.index, "beneficiaries", out)


def _rule7_reach(plan: _Plan, out: list[str]) -> None:
    """Rule 7: same district, or a neighbour with reach 'adjacent'."""
    index = plan.index
    for p in plan.pairs:
        mine, theirs = p.volunteer.district, p.beneficiary.district
        if mine == theirs:
            continue
        if index.problem.reach == "same":
            out.append(
                f"{p.where}: volunteer district {mine!r} is not the beneficiary's district {theirs!r} "
                "and reach is 'same' (rule 7)"
            )
        elif mine not in index.neighbours.get(theirs, set()):
            out.append(
                f"{p.where}: volunteer district {mine!r} is neither the beneficiary's district "
                f"{theirs!r} nor a neighbour of it (rule 7)"
            )


def _rule9_gender_and_exclusions(plan: _Plan, out: list[str]) -> None:
    """Rule 9: ``volunteer_gender`` and ``excluded_volunteers`` respected."""
    for p in plan.pairs:
        beneficiary, volunteer = p.beneficiary, p.volunteer
        wanted = beneficiary.volunteer_gender
        if wanted is not None and volunteer.gender != wanted:
            got = "no gender" if volunteer.gender is None else f"gender {volunteer.gender!r}"
            out.append(
                f"{p.where}: beneficiary {beneficiary.id!r} asks for volunteer_gender {wanted!r}, "
                f"the volunteer has {got} (rule 9)"
            )
        vc.check_not_excluded(p.where, beneficiary.id, beneficiary.excluded_volunteers, volunteer, out)


RuleCheck = Callable[[_Plan, list[str]], None]

RULE_CHECKS: dict[int, RuleCheck] = {
    1: _rule1_sessions_in_windows,
    2: _rule2_qualification,
    3: vc.rule3_availability,
    4: vc.rule4_one_session_per_slot,
    5: vc.rule5_max_hours,
    6: _rule6_max_beneficiaries,
    7: _rule7_reach,
    8: vc.rule8_minors,
    9: _rule9_gender_and_exclusions,
}
"""One check per hard rule of ``docs/format.md``, by its number; each appends its violations."""


def _check_each_need_once(plan: Plan, index: _Index, out: list[str]) -> None:
    """Every need of the problem exactly once across assignments and unmet."""
    first: dict[str, str] = {}
    entries = [(f"assignments[{i}]", _where(i, a), a.need) for i, a in enumerate(plan.assignments)]
    entries += [(f"unmet[{i}]", f"unmet[{i}] (need {u.need!r})", u.need) for i, u in enumerate(plan.unmet)]
    for label, where, need_id in entries:
        if need_id not in index.needs:
            if label.startswith("unmet"):
                out.append(f"{where}: unknown need {need_id!r}")
            continue  # unknown needs in assignments are reported with the assignment
        if need_id in first:
            both_assigned = first[need_id].startswith("assignments") and label.startswith("assignments")
            rule = " (rule 1)" if both_assigned else ""
            out.append(f"{where}: need {need_id!r} already appears at {first[need_id]}{rule}")
        else:
            first[need_id] = label
    for need in index.problem.needs:
        if need.id not in first:
            position = index.need_position[need.id]
            out.append(f"needs[{position}] ({need.id!r}): appears neither in assignments nor in unmet")


def _check_reasons(i: int, need_id: str, reasons: list[str], out: list[str]) -> None:
    where = f"unmet[{i}] (need {need_id!r})"
    if not reasons:
        out.append(f"{where}: reasons is empty; at least one reason code is required")
    seen: set[str] = set()
    for j, code in enumerate(reasons):
        if code not in REASON_CODES:
            out.append(f"{where}: reasons[{j}] {code!r} is not a known reason code")
        if code in seen:
            out.append(f"{where}: reasons[{j}] {code!r} is listed more than once")
        seen.add(code)


def _exact(value: float, path: str, out: list[str]) -> Fraction | None:
    try:
        return hours_fraction(value)
    except ValueError:
        out.append(f"{path}: {value!r} is not a finite number")
        return None


def _check_objective(plan: Plan, index: _Index, out: list[str]) -> None:
    """Coverage and continuity recomputed; the bound consistent with the status."""
    objective = plan.objective
    assigned = [a.need for a in plan.assignments if a.need in index.needs]
    exact = coverage_of(index.problem, assigned)
    reported = _exact(objective.coverage, "objective.coverage", out)
    bound = _exact(objective.coverage_bound, "objective.coverage_bound", out)
    if reported is not None and abs(reported - exact) > OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage: reported {objective.coverage!r}, but the assignments cover "
            f"{vc.show(exact)} (sum of priority x hours x sessions)"
        )
    continuity = continuity_of(index.problem, plan.assignments)
    if objective.continuity != continuity:
        out.append(
            f"objective.continuity: reported {objective.continuity}, but {continuity} previous pairs "
            "serve a need together again"
        )
    if bound is None:
        return
    if reported is not None and reported > bound + OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage_bound: {objective.coverage_bound!r} is below coverage {objective.coverage!r}"
        )
    elif exact > bound + OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage_bound: {objective.coverage_bound!r} is below the recomputed "
            f"coverage {vc.show(exact)}"
        )
    if plan.status == "optimal" and reported is not None and abs(bound - reported) > OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage_bound: status is 'optimal' but coverage_bound {objective.coverage_bound!r} "
            f"differs from coverage {objective.coverage!r}"
        )
