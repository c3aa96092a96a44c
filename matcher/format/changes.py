"""Applying a change set (FORMAT.md, "Change set") to a problem.

The changed problem is what a re-solve plans for: cancelled needs are gone, added needs
and volunteers are in, withdrawn slots leave the volunteers' availability.  A whole-week
withdrawal keeps the volunteer, with no availability, so ``previous`` pairs and
exclusions that name them stay valid.

A change set is validated against the problem like a problem is: every error names the
change-set field, e.g. ``volunteers_withdrawn[0].slots[1]: unknown slot 'mon-noon'``.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from matcher.format.errors import InputError
from matcher.format.schema import (
    ChangeSet,
    Problem,
    check_members,
    check_need_references,
    check_volunteer_references,
)


def check_changes(problem: Problem, changes: ChangeSet) -> None:
    """Check every reference of a change set against the problem it changes.

    Parameters
    ----------
    problem
        The problem the change set applies to.
    changes
        A schema-valid change set.

    Raises
    ------
    InputError
        On the first unknown volunteer, need, slot, beneficiary or district, or an added
        id that already exists; the message names the change-set field.
    """
    try:
        _check(problem, changes)
    except PydanticCustomError as exc:
        ctx = exc.context or {}
        raise InputError(f"{ctx['path']}: {ctx['detail']}") from None


def _check(problem: Problem, changes: ChangeSet) -> None:
    slots = set(problem.slot_ids)
    districts = {d.id for d in problem.districts}
    beneficiaries = {b.id for b in problem.beneficiaries}
    volunteers = {v.id for v in problem.volunteers}
    needs = {n.id for n in problem.needs}
    for i, v in enumerate(changes.volunteers_added):
        path = f"volunteers_added[{i}]"
        if v.id in volunteers:
            raise InputError(f"{path}.id: volunteer '{v.id}' already exists in the problem")
        check_volunteer_references(v, path, districts, slots)
    added_volunteers = {v.id for v in changes.volunteers_added}
    for i, w in enumerate(changes.volunteers_withdrawn):
        path = f"volunteers_withdrawn[{i}]"
        if w.volunteer not in volunteers and w.volunteer not in added_volunteers:
            raise InputError(f"{path}.volunteer: unknown volunteer '{w.volunteer}'")
        if w.slots is not None:
            check_members(w.slots, slots, path + ".slots", "slot")
    for i, need_id in enumerate(changes.needs_cancelled):
        if need_id not in needs:
            raise InputError(f"needs_cancelled[{i}]: unknown need '{need_id}'")
    for i, n in enumerate(changes.needs_added):
        path = f"needs_added[{i}]"
        if n.id in needs:
            raise InputError(f"{path}.id: need '{n.id}' already exists in the problem")
        check_need_references(n, path, beneficiaries, slots)


def apply_changes(problem: Problem, changes: ChangeSet) -> Problem:
    """The changed problem.

    Parameters
    ----------
    problem
        The problem the plan in force was made for.
    changes
        The change set.

    Returns
    -------
    Problem
        Needs in problem order without the cancelled ones, then the added needs;
        volunteers in problem order (withdrawn slots removed from their availability),
        then the added volunteers.  Everything else is unchanged.

    Raises
    ------
    InputError
        When the change set names something the problem does not have (see
        :func:`check_changes`).
    """
    check_changes(problem, changes)
    withdrawn: dict[str, set[str] | None] = {}
    for w in changes.volunteers_withdrawn:
        before = withdrawn.get(w.volunteer, set())
        # A whole-week withdrawal (None) absorbs any slot withdrawals of the same volunteer.
        withdrawn[w.volunteer] = None if w.slots is None or before is None else before | set(w.slots)

    def availability(volunteer_id: str, slots: list[str]) -> list[str]:
        if volunteer_id not in withdrawn:
            return slots
        gone = withdrawn[volunteer_id]
        return [] if gone is None else [s for s in slots if s not in gone]

    volunteers = [
        v.model_copy(update={"availability": availability(v.id, v.availability)}) if v.id in withdrawn else v
        for v in (*problem.volunteers, *changes.volunteers_added)
    ]
    cancelled = set(changes.needs_cancelled)
    needs = [n for n in problem.needs if n.id not in cancelled] + list(changes.needs_added)
    # No second validation pass: the problem and the change set are each valid and every
    # cross-reference was checked above (the tests re-validate changed problems).
    return problem.model_copy(update={"volunteers": volunteers, "needs": needs})


def still_applicable(problem: Problem, changes: ChangeSet) -> ChangeSet:
    """The part of an earlier change set that still names what ``problem`` has.

    A station's week is re-planned on its people as they are now; the change sets of the
    versions before are carried onto them (a volunteer who withdrew stays withdrawn, a
    cancelled need stays cancelled, an urgent need stays added).  What no longer exists is
    dropped: a withdrawal of a volunteer who left, a cancellation of a need that ended, an
    added need whose beneficiary left or whose id is now a registered need's.  Volunteers
    added by a change set are dropped too (a station's plan uses its registered volunteers).
    """
    volunteers = {v.id for v in problem.volunteers}
    needs = {n.id for n in problem.needs}
    beneficiaries = {b.id for b in problem.beneficiaries}
    return changes.model_copy(
        update={
            "volunteers_added": [],
            "volunteers_withdrawn": [w for w in changes.volunteers_withdrawn if w.volunteer in volunteers],
            "needs_cancelled": [n for n in changes.needs_cancelled if n in needs],
            "needs_added": [
                n for n in changes.needs_added if n.beneficiary in beneficiaries and n.id not in needs
            ],
        }
    )
