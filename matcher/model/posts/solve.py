"""Solve a format-2 problem with posts exactly (CP-SAT) and write its format-2 plan.

Objective, lexicographic as in format 1: coverage (``priority x hours x sessions x k`` over the
needs that run, ``k`` volunteers on each), then continuity (previous pairs kept), weighted into
one exact objective ``(K + 1) x coverage + continuity`` (``K`` the previous pairs that can be kept
at all), so a bound ``B`` on it bounds coverage by ``floor(B / (K + 1))``.

This is the station-size path: the model has a variable per eligible volunteer-need pair and
per pair and window, and a problem above :data:`MAX_PAIRS` eligible pairs is refused with
:class:`PostsTooLargeError` rather than solved badly (city-scale posts are future work).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from fractions import Fraction

from ortools.sat.python import cp_model

from matcher.format import reasons
from matcher.format.schema import Objective2, Plan2, PostAssignment, Problem2, Unmet
from matcher.model.posts.instance import PostInstance, PostNeed
from matcher.model.posts.rules import POST_RULES
from matcher.model.posts.variables import PostVars

MAX_PAIRS = 60_000
"""Most eligible volunteer-need pairs the exact posts model takes (a 300-volunteer station has
a few thousand; a 4,000-volunteer city some hundred thousand)."""

#: Most window sets enumerated per need to tell ``too_few_volunteers_together``.
_MAX_WINDOW_SETS = 5_000


def number(q: Fraction) -> int | float:
    """A JSON number for an exact value: an integer when it is one."""
    return int(q) if q.denominator == 1 else float(q)


class PostsTooLargeError(ValueError):
    """A format-2 problem with posts too large for the exact model (its message says why)."""


@dataclass
class PostsResult:
    """The plan and the figures behind it."""

    plan: Plan2
    coverage_units: int
    bound_units: int
    scale: int
    pairs: int
    proved: bool


def build(inst: PostInstance) -> tuple[PostVars, cp_model.LinearExpr, cp_model.LinearExpr, int]:
    """Build the model: variables, every rule of :data:`POST_RULES`, the objective.

    Returns the variables, the coverage and continuity expressions and ``K``.
    """
    model = cp_model.CpModel()
    pv = PostVars.declare(model, inst)
    for _, add in POST_RULES:
        add(pv)
    coverage = sum(inst.needs[n].unit_value * join for (_, n), join in pv.join.items())
    kept = []
    for v, beneficiary in inst.previous:
        joins = [
            pv.join[v, pn.index] for pn in inst.needs if pn.place == beneficiary and (v, pn.index) in pv.join
        ]
        if joins:
            keep = model.new_bool_var(f"keep[{v},{beneficiary}]")
            model.add(keep <= sum(joins))
            kept.append(keep)
    continuity = sum(kept)
    model.maximize((len(kept) + 1) * coverage + continuity)
    return pv, coverage, continuity, len(kept)  # type: ignore[return-value]


def solve_posts(
    problem: Problem2, time_limit: float, *, workers: int | None = None, seed: int = 0, log: bool = False
) -> PostsResult:
    """Solve ``problem`` (format 2) on the exact posts model within ``time_limit`` seconds.

    Raises
    ------
    PostsTooLargeError
        When the problem has more than :data:`MAX_PAIRS` eligible volunteer-need pairs.
    """
    started = time.monotonic()
    inst = PostInstance.of(problem)
    if inst.pairs > MAX_PAIRS:
        raise PostsTooLargeError(
            f"problem: {inst.pairs} eligible volunteer-need pairs, more than the {MAX_PAIRS} the exact "
            "model of group posts (format 2) takes; solve it by district, or as format 1 without posts"
        )
    pv, coverage, _, k = build(inst)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit - (time.monotonic() - started))
    solver.parameters.num_workers = workers or 8
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log
    status = solver.solve(pv.model)
    solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    covered = round(solver.value(coverage)) if solved else 0
    if status == cp_model.OPTIMAL:
        bound = covered
    elif status == cp_model.INFEASIBLE:  # cannot happen (all off is a plan); kept honest
        bound = 0
    else:
        bound = math.floor(solver.best_objective_bound + 1e-6) // (k + 1)
        bound = max(bound, covered)
    bound = min(bound, sum(pn.unit_value * pn.high for pn in inst.needs if len(pn.eligible) >= pn.low))
    bound = max(bound, covered)
    plan = _plan(inst, pv, solver if solved else None, covered, bound, time.monotonic() - started)
    return PostsResult(plan, covered, bound, inst.scale, inst.pairs, covered == bound)


def _plan(
    inst: PostInstance,
    pv: PostVars,
    solver: cp_model.CpSolver | None,
    covered: int,
    bound: int,
    seconds: float,
) -> Plan2:
    assignments: list[PostAssignment] = []
    unmet: list[Unmet] = []
    for pn in inst.needs:
        n = pn.index
        runs = solver is not None and n in pv.run and solver.boolean_value(pv.run[n])
        if not runs:
            unmet.append(Unmet(need=pn.need.id, reasons=unmet_reasons(inst, pn)))
            continue
        assert solver is not None
        volunteers = [inst.volunteers[v].id for v in pn.eligible if solver.boolean_value(pv.join[v, n])]
        slots = [
            w for w in inst.problem.slot_ids if (n, w) in pv.chosen and solver.boolean_value(pv.chosen[n, w])
        ]
        open_places = pn.high - len(volunteers)
        assignments.append(
            PostAssignment(
                need=pn.need.id,
                volunteers=volunteers,
                slots=slots,
                places_open=open_places if open_places else None,
            )
        )
    on = {(a.need, v) for a in assignments for v in a.volunteers}
    need_place = {pn.need.id: pn.place for pn in inst.needs}
    served = {(v, need_place[need]) for need, v in on}
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


def unmet_reasons(inst: PostInstance, pn: PostNeed) -> list[str]:
    """Why need ``pn`` is unmet: its candidates' codes, then the post's own, else ``capacity_taken``.

    A post's own codes: ``too_few_volunteers_together`` when fewer than ``volunteers.min``
    eligible volunteers are free together at any ``sessions`` of its windows,
    ``no_lead_volunteer`` when none of them holds the lead, ``no_adult_alongside`` when those
    free together are all minors.
    """
    codes = [code for code in reasons.POST_REASON_CODES if pn.refused.get(code)]
    own = _post_codes(inst, pn)
    codes += own
    if not own and pn.eligible:
        codes.append(reasons.CAPACITY_TAKEN)
    if not codes:  # no candidate at all
        codes.append(reasons.NO_VOLUNTEER_WITH_SKILL_IN_REACH)
    return [c for c in reasons.POST_REASON_CODES if c in codes]


def _post_codes(inst: PostInstance, pn: PostNeed) -> list[str]:
    if not pn.eligible:
        return []
    if pn.need.lead is not None and not pn.leads:
        return [reasons.NO_LEAD_VOLUNTEER]
    windows = pn.need.windows
    sessions = pn.need.sessions
    if math.comb(len(windows), sessions) > _MAX_WINDOW_SETS:
        return []  # too many window sets to tell: capacity_taken stands
    together = False
    adult = False
    for chosen in itertools.combinations(windows, sessions):
        free = [v for v in pn.eligible if inst.free[v].issuperset(chosen)]
        if len(free) >= pn.low:
            together = True
            if not pn.group or any(not inst.volunteers[v].minor for v in free):
                adult = True
                break
    if not together:
        return [reasons.TOO_FEW_VOLUNTEERS_TOGETHER]
    if not adult:
        return [reasons.NO_ADULT_ALONGSIDE]
    return []
