"""The exact model of a format-2 problem with posts (built for CP-SAT, solved by HiGHS) and its plan.

Objective, lexicographic as in format 1: coverage (``priority x hours x sessions x k`` over the
needs that run, ``k`` volunteers on each), then continuity (previous pairs kept), weighted into
one exact objective ``(K + 1) x coverage + continuity`` (``K`` the previous pairs that can be kept
at all), so a bound ``B`` on it bounds coverage by ``floor(B / (K + 1))``.

This is the station-size path: the model has a variable per eligible volunteer-need pair and
per pair and window; :mod:`matcher.search.posts` solves it and refuses a problem above
:data:`MAX_PAIRS` eligible pairs with :class:`PostsTooLargeError` rather than solving it badly
(city-scale posts are future work).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction

from ortools.sat.python import cp_model

from matcher.format import reasons
from matcher.format.schema import Objective2, Plan2, PostAssignment, Unmet
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
            keep = pv.keep[v, beneficiary] = model.new_bool_var(f"keep[{v},{beneficiary}]")
            model.add(keep <= sum(joins))
            kept.append(keep)
    continuity = sum(kept)
    model.maximize((len(kept) + 1) * coverage + continuity)
    return pv, coverage, continuity, len(kept)  # type: ignore[return-value]


def plan_of(
    inst: PostInstance,
    pv: PostVars,
    value: Callable[[cp_model.IntVar], bool] | None,
    covered: int,
    bound: int,
    seconds: float,
) -> Plan2:
    """The format-2 plan of a solution (``value(var)`` of each Boolean; None: nothing runs).

    ``covered`` and ``bound`` are in scaled units; the status is ``optimal`` when they meet.
    """
    assignments: list[PostAssignment] = []
    unmet: list[Unmet] = []
    for pn in inst.needs:
        n = pn.index
        runs = value is not None and n in pv.run and value(pv.run[n])
        if not runs:
            unmet.append(Unmet(need=pn.need.id, reasons=unmet_reasons(inst, pn)))
            continue
        assert value is not None
        volunteers = [inst.volunteers[v].id for v in pn.eligible if value(pv.join[v, n])]
        slots = [w for w in inst.problem.slot_ids if (n, w) in pv.chosen and value(pv.chosen[n, w])]
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
