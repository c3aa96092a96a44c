"""Re-solve a format-2 plan after a change set: keep what still holds, refill or release posts.

A change set (format 1's: withdrawals, cancellations, added needs and volunteers) is applied to
the format-2 problem.  Each assignment in force then keeps its need, its slots and those of its
volunteers still free at all of them; a post still at or above its ``min`` (with its lead and,
beside any minor, an adult) stays, with room to be **refilled** up to ``max``; one that fell
below is **released** whole, like every need the change freed or added, to be staffed again
from scratch.  The exact posts model then solves the week with the kept assignments fixed
(:func:`matcher.search.posts.solve_posts`), and ``changed`` lists every need whose volunteers or
slots differ from the plan in force (released, refilled, newly met or newly unmet).

Every kept member is re-checked against the changed problem, not only against the change set: a
service re-solves on its people as they are now, so a volunteer's lowered ``max_hours`` or
``max_beneficiaries``, a lost certificate or an availability removed since the plan was made
releases them where they no longer fit (:func:`kept_teams`), and the plan stays valid.

Kept assignments never move, so a re-solve touches only what the change set touched.
"""

from __future__ import annotations

import time

from matcher.format.errors import InputError
from matcher.format.schema import ChangeSet, Need2, Plan2, PostAssignment, Problem2, Volunteer
from matcher.format.validate2 import validate_plan2
from matcher.model.posts.greedy import Team
from matcher.model.posts.instance import PostInstance, PostNeed
from matcher.progress import ProgressCallback
from matcher.search import posts_progress
from matcher.search.posts import solve_posts


def apply_changes2(problem: Problem2, changes: ChangeSet) -> Problem2:
    """The problem with the change set applied (validated again, so every reference still holds)."""
    withdrawn = {w.volunteer: w.slots for w in changes.volunteers_withdrawn}
    volunteers: list[Volunteer] = []
    for v in problem.volunteers:
        if v.id not in withdrawn:
            volunteers.append(v)
        elif withdrawn[v.id] is not None:
            gone = set(withdrawn[v.id] or ())
            volunteers.append(
                v.model_copy(update={"availability": [s for s in v.availability if s not in gone]})
            )
    volunteers += changes.volunteers_added
    kept = {v.id for v in volunteers}
    cancelled = set(changes.needs_cancelled)
    needs = [n for n in problem.needs if n.id not in cancelled]
    needs += [Need2(**n.model_dump()) for n in changes.needs_added]
    doc = problem.model_dump(mode="json", exclude_none=True)
    doc["volunteers"] = [v.model_dump(mode="json", exclude_none=True) for v in volunteers]
    doc["needs"] = [n.model_dump(mode="json", exclude_none=True) for n in needs]
    doc["previous"] = [p for p in doc.get("previous", []) if p["volunteer"] in kept]
    for b in doc.get("beneficiaries", []):
        if "excluded_volunteers" in b:
            b["excluded_volunteers"] = [v for v in b["excluded_volunteers"] if v in kept]
    return Problem2.model_validate(doc)


def check_plan_in_force2(problem: Problem2, plan: Plan2) -> None:
    """Refuse a format-2 plan in force that is not valid for its problem (it is never repaired).

    Raises
    ------
    InputError
        ``plan: not valid for the problem: <the first violation> (and N more)``, as format 1's
        :func:`matcher.resolve.check_plan_in_force`.
    """
    violations = validate_plan2(problem, plan)
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise InputError(f"plan: not valid for the problem: {violations[0]}{more}")


def kept_teams(inst: PostInstance, plan: Plan2) -> dict[int, Team]:
    """What still holds of ``plan`` in ``inst``'s problem: need index -> (members kept, slots).

    Each member must still be eligible for the need (skill, certificates valid for the week, reach,
    minors, exclusions; :class:`~matcher.model.posts.instance.PostInstance`) and free at all its
    slots.  Then the limits that add up over the week are counted again on what is kept, since the
    volunteer's record may have changed since the plan was made (a lowered ``max_hours`` or
    ``max_beneficiaries``): the assignments are taken most valuable first (what releasing one
    member costs: a member's value, or a post's whole value when it is at its ``min``; then plan
    order), and a member is kept on one only while their hours, places (a site counting once) and
    slots still fit; a member who no longer fits is released from it.  A post left below
    its ``min``, without a lead holder, or with minors only on a group post is released whole.
    """
    need_index = {pn.need.id: pn.index for pn in inst.needs}
    position = {v.id: i for i, v in enumerate(inst.volunteers)}
    hours = [0] * len(inst.volunteers)
    places: list[set[str]] = [set() for _ in inst.volunteers]
    busy: list[set[str]] = [set() for _ in inst.volunteers]
    rows = [(need_index[a.need], i, a) for i, a in enumerate(plan.assignments) if a.need in need_index]
    rows.sort(key=lambda row: (-_at_stake(inst.needs[row[0]], row[2]), row[1]))
    fixed: dict[int, Team] = {}
    for n, _, a in rows:
        pn = inst.needs[n]
        slots = set(a.slots)

        def fits(v: int, pn: PostNeed = pn, slots: set[str] = slots) -> bool:
            room = pn.place in places[v] or len(places[v]) < inst.volunteers[v].max_beneficiaries
            return (
                v in pn.eligible
                and inst.free[v].issuperset(slots)
                and not busy[v] & slots
                and hours[v] + pn.unit_hours <= inst.max_hours[v]
                and room
            )

        team = [position[v] for v in a.volunteers if v in position and fits(position[v])]
        if len(team) < pn.low:
            continue  # released whole
        if pn.need.lead is not None and not any(v in pn.leads for v in team):
            continue
        if pn.group and all(inst.volunteers[v].minor for v in team):
            continue
        for v in team:
            hours[v] += pn.unit_hours
            places[v].add(pn.place)
            busy[v] |= slots
        fixed[n] = (team, tuple(a.slots))
    return fixed


def _at_stake(pn: PostNeed, a: PostAssignment) -> int:
    """What releasing one member from ``a`` can cost: a member's value, or the whole post's when it
    is at its ``min`` (one member fewer and it does not run)."""
    return pn.unit_value * (len(a.volunteers) if pn.group and len(a.volunteers) <= pn.low else 1)


def resolve_posts(
    problem: Problem2,
    plan: Plan2,
    changes: ChangeSet,
    time_limit: float,
    on_progress: ProgressCallback | None = None,
) -> Plan2:
    """Re-solve ``plan`` (in force for ``problem``) after ``changes``; the new plan with ``changed``.

    What is kept is :func:`kept_teams`' (every kept member re-checked against the changed problem,
    the limits that add up included), so the plan is valid for it whatever changed since.
    ``on_progress`` hears ``start`` (what is kept, no bound yet), ``prove`` (the exact posts
    model's plan and bound) and ``done``, in the posts instance's units
    (:mod:`matcher.search.posts_progress`).
    """
    started = time.perf_counter()
    changed_problem = apply_changes2(problem, changes)
    inst = PostInstance.of(changed_problem)
    fixed = kept_teams(inst, plan)
    progress = posts_progress.posts_reporter(inst, on_progress, started)
    if progress is not None:
        kept = sum(inst.needs[n].unit_value * len(team) for n, (team, _) in fixed.items())
        progress.report("start", kept, None, force=True)
    result = solve_posts(changed_problem, time_limit, fixed=fixed, inst=inst)
    for stage in ("prove", "done"):
        posts_progress.report(progress, stage, inst, result.coverage, result.coverage_bound)
    before = {a.need: (sorted(a.volunteers), sorted(a.slots)) for a in plan.assignments}
    after = {a.need: (sorted(a.volunteers), sorted(a.slots)) for a in result.plan.assignments}
    changed = [n.id for n in changed_problem.needs if before.get(n.id) != after.get(n.id)]
    return result.plan.model_copy(update={"changed": changed})
