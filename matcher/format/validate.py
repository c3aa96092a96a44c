"""Independent plan checker: does a plan keep every rule of ``docs/format.md``?

This module re-checks a :class:`~matcher.format.schema.Plan` against its
:class:`~matcher.format.schema.Problem` from the written contract alone.  It deliberately
shares no code with the solver: it imports only the standard library, pydantic (through
:mod:`matcher.format.schema`), :mod:`matcher.format.reasons` and the format's own evaluator
:mod:`matcher.format.evaluate` (coverage and continuity from the written contract), never
ortools, numpy or another matcher module, so that a bug in the engine cannot hide itself here.

All arithmetic on hours and coverage is exact: every JSON number is read as the
:class:`fractions.Fraction` of its shortest decimal representation (``1.5`` is ``3/2``,
``0.1`` is ``1/10``), so ``0.1 x 3`` is exactly ``0.3``.  Reported objective values,
which are floats, are compared with an absolute tolerance of ``1e-6``.

:func:`validate_plan` returns human-readable violations, each starting with its location,
e.g. ``assignments[2] (need 'n1', volunteer 'v3'): slot 'tue-am' is not in the
volunteer's availability (rule 3)``; an empty list means the plan is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

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
    for i, assignment in enumerate(plan.assignments):
        _check_assignment(i, assignment, index, out)
    _check_each_need_once(plan, index, out)
    for i, unmet in enumerate(plan.unmet):
        _check_reasons(i, unmet.need, unmet.reasons, out)
    _check_volunteer_totals(plan, index, out)
    _check_objective(plan, index, out)
    return out


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Index:
    """Look-up tables of one problem."""

    problem: Problem
    needs: dict[str, Need]
    need_position: dict[str, int]
    volunteers: dict[str, Volunteer]
    volunteer_position: dict[str, int]
    beneficiaries: dict[str, Beneficiary]
    neighbours: dict[str, set[str]]
    slots: frozenset[str]

    @classmethod
    def build(cls, problem: Problem) -> _Index:
        neighbours: dict[str, set[str]] = {d.id: set() for d in problem.districts}
        for district in problem.districts:
            for other in district.neighbors:
                # Symmetric: one side listing the other is enough.
                neighbours.setdefault(district.id, set()).add(other)
                neighbours.setdefault(other, set()).add(district.id)
        return cls(
            problem=problem,
            needs={n.id: n for n in problem.needs},
            need_position={n.id: i for i, n in enumerate(problem.needs)},
            volunteers={v.id: v for v in problem.volunteers},
            volunteer_position={v.id: i for i, v in enumerate(problem.volunteers)},
            beneficiaries={b.id: b for b in problem.beneficiaries},
            neighbours=neighbours,
            slots=frozenset(problem.slot_ids),
        )


def _show(x: Fraction) -> str:
    """Render an exact number briefly: ``12``, ``1.5``."""
    if x.denominator == 1:
        return str(x.numerator)
    return repr(float(x))


def _where(i: int, assignment: Assignment) -> str:
    return f"assignments[{i}] (need {assignment.need!r}, volunteer {assignment.volunteer!r})"


def _check_header(plan: Plan, out: list[str]) -> None:
    # pydantic already enforces both; kept for plans built with model_construct/model_copy.
    if plan.format != 1:
        out.append(f"format: expected 1, got {plan.format!r}")
    if plan.status not in _STATUSES:
        out.append(f"status: expected 'optimal' or 'feasible', got {plan.status!r}")


def _check_assignment(i: int, a: Assignment, index: _Index, out: list[str]) -> None:
    """References and the per-assignment rules 1, 2, 3, 7, 8, 9."""
    where = _where(i, a)
    need = index.needs.get(a.need)
    volunteer = index.volunteers.get(a.volunteer)
    if need is None:
        out.append(f"{where}: unknown need {a.need!r}")
    if volunteer is None:
        out.append(f"{where}: unknown volunteer {a.volunteer!r}")

    # Rule 1: known slots, distinct, in the need's windows, exactly `sessions` of them.
    seen: set[str] = set()
    for slot in a.slots:
        if slot in seen:
            out.append(f"{where}: slot {slot!r} is listed more than once (rule 1)")
            continue
        seen.add(slot)
        if slot not in index.slots:
            out.append(f"{where}: unknown slot {slot!r} (rule 1)")
            continue
        if need is not None and slot not in need.windows:
            out.append(f"{where}: slot {slot!r} is not in the need's windows (rule 1)")
        if volunteer is not None and slot not in volunteer.availability:
            out.append(f"{where}: slot {slot!r} is not in the volunteer's availability (rule 3)")
    if need is not None and len(seen) != need.sessions:
        out.append(f"{where}: {len(seen)} distinct slots for a need of {need.sessions} sessions (rule 1)")

    if need is None or volunteer is None:
        return
    beneficiary = index.beneficiaries[need.beneficiary]
    _check_qualification(where, need, volunteer, index.problem, out)
    _check_reach(where, volunteer, beneficiary, index, out)
    if volunteer.minor and not need.minor_ok:
        out.append(f"{where}: the volunteer is a minor and the need is not minor_ok (rule 8)")
    wanted = beneficiary.volunteer_gender
    if wanted is not None and volunteer.gender != wanted:
        got = "no gender" if volunteer.gender is None else f"gender {volunteer.gender!r}"
        out.append(
            f"{where}: beneficiary {beneficiary.id!r} asks for volunteer_gender {wanted!r}, "
            f"the volunteer has {got} (rule 9)"
        )
    if volunteer.id in beneficiary.excluded_volunteers:
        out.append(f"{where}: beneficiary {beneficiary.id!r} excluded this volunteer (rule 9)")


def _check_qualification(
    where: str, need: Need, volunteer: Volunteer, problem: Problem, out: list[str]
) -> None:
    """Rule 2: skill and certifications valid for the week."""
    if need.service not in volunteer.skills:
        out.append(f"{where}: the volunteer lacks skill {need.service!r} (rule 2)")
    deadline = problem.certification_deadline
    for kind in dict.fromkeys(need.requires):
        held = [c for c in volunteer.certifications if c.kind == kind]
        if not held:
            out.append(f"{where}: the volunteer lacks required certification {kind!r} (rule 2)")
        elif not any(certification_valid(c, problem) for c in held):
            latest = max(c.expires for c in held)
            out.append(
                f"{where}: certification {kind!r} expires {latest.isoformat()}, before "
                f"{deadline.isoformat()} (week_start + 6 days) (rule 2)"
            )


def _check_reach(
    where: str, volunteer: Volunteer, beneficiary: Beneficiary, index: _Index, out: list[str]
) -> None:
    """Rule 7: same district, or a neighbour with reach 'adjacent'."""
    mine, theirs = volunteer.district, beneficiary.district
    if mine == theirs:
        return
    if index.problem.reach == "same":
        out.append(
            f"{where}: volunteer district {mine!r} is not the beneficiary's district {theirs!r} "
            "and reach is 'same' (rule 7)"
        )
    elif mine not in index.neighbours.get(theirs, set()):
        out.append(
            f"{where}: volunteer district {mine!r} is neither the beneficiary's district {theirs!r} "
            "nor a neighbour of it (rule 7)"
        )


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


def _check_volunteer_totals(plan: Plan, index: _Index, out: list[str]) -> None:
    """Rules 4, 5 and 6, which look at all of a volunteer's assignments together."""
    taken: dict[tuple[str, str], int] = {}  # (volunteer, slot) -> first assignment index
    hours: dict[str, Fraction] = {}
    served: dict[str, dict[str, None]] = {}
    for i, a in enumerate(plan.assignments):
        if a.volunteer not in index.volunteers:
            continue
        for slot in dict.fromkeys(a.slots):
            key = (a.volunteer, slot)
            if key in taken:
                other = plan.assignments[taken[key]]
                out.append(
                    f"{_where(i, a)}: slot {slot!r} is already taken by assignments[{taken[key]}] "
                    f"(need {other.need!r}) of the same volunteer (rule 4)"
                )
            else:
                taken[key] = i
        need = index.needs.get(a.need)
        if need is None:
            continue
        hours[a.volunteer] = hours.get(a.volunteer, Fraction(0)) + hours_fraction(need.hours) * need.sessions
        served.setdefault(a.volunteer, {})[need.beneficiary] = None
    for volunteer_id, total in hours.items():
        volunteer = index.volunteers[volunteer_id]
        where = f"volunteers[{index.volunteer_position[volunteer_id]}] ({volunteer_id!r})"
        limit = hours_fraction(volunteer.max_hours)
        if total > limit:
            out.append(f"{where}: {_show(total)} hours assigned, more than max_hours {_show(limit)} (rule 5)")
        beneficiaries = list(served[volunteer_id])
        if len(beneficiaries) > volunteer.max_beneficiaries:
            names = ", ".join(repr(b) for b in beneficiaries)
            out.append(
                f"{where}: serves {len(beneficiaries)} distinct beneficiaries ({names}), "
                f"more than max_beneficiaries {volunteer.max_beneficiaries} (rule 6)"
            )


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
            f"{_show(exact)} (sum of priority x hours x sessions)"
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
            f"coverage {_show(exact)}"
        )
    if plan.status == "optimal" and reported is not None and abs(bound - reported) > OBJECTIVE_TOLERANCE:
        out.append(
            f"objective.coverage_bound: status is 'optimal' but coverage_bound {objective.coverage_bound!r} "
            f"differs from coverage {objective.coverage!r}"
        )
