"""Rules 1 and 3 (sessions in windows the volunteer is free in): matcher.model.rules.availability.

The rule alone (its filter, its model constraint, its greedy and pricing limit where it has
one), then whole solves of tiny problems (:func:`helpers.solve_and_check` validates each plan).
"""

from __future__ import annotations

import numpy as np
from engine_support import kept
from helpers import (
    assigned,
    make_problem,
    need,
    reasons,
    slots_of,
    solve_and_check,
    to_problem,
    volunteer,
)

from matcher.format import reasons as codes
from matcher.model.instance import Instance
from matcher.model.rules.availability import RULE, usable


def test_rule1_exactly_sessions_distinct_slots_in_windows() -> None:
    """A 2-session need gets exactly its two windows that the volunteer is free in."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm", "tue-am", "tue-pm"])],
        needs=[need(sessions=2, windows=["mon-pm", "tue-pm", "wed-am"])],
    )
    result = solve_and_check(doc)
    assert slots_of(result) == {"n1": ["mon-pm", "tue-pm"]}


def test_rule1_need_in_free_windows_assigned_other_windows_refused() -> None:
    """A need whose window the volunteer is free in is taken; one outside it is no_available_slot."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"])],
        needs=[need("n1", windows=["mon-am"]), need("n2", windows=["mon-pm", "wed-eve"])],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n1": "v1"}
    assert reasons(result) == {"n2": [codes.NO_AVAILABLE_SLOT]}


def test_rule1_more_sessions_than_windows_is_unmet_not_an_error() -> None:
    """sessions > number of windows leaves the need unmet with no_available_slot."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "mon-pm", "tue-am"])],
        needs=[need("n1", sessions=3, windows=["mon-am", "mon-pm"]), need("n2", windows=["tue-am"])],
    )
    result = solve_and_check(doc)
    assert assigned(result) == {"n2": "v1"}
    assert reasons(result) == {"n1": [codes.NO_AVAILABLE_SLOT]}


def test_rule3_slot_must_be_in_availability() -> None:
    """Of a need's windows only those in the volunteer's availability are used."""
    doc = make_problem(
        volunteers=[volunteer(availability=["wed-eve", "sun-am"])],
        needs=[need(windows=["mon-am", "wed-eve", "sat-pm"])],
    )
    assert slots_of(solve_and_check(doc)) == {"n1": ["wed-eve"]}


def test_rule3_free_in_too_few_windows_is_refused() -> None:
    """A 2-session need is refused to a volunteer free in only one of its windows."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "sun-eve"])],
        needs=[need(sessions=2, windows=["mon-am", "mon-pm"])],
    )
    assert reasons(solve_and_check(doc)) == {"n1": [codes.NO_AVAILABLE_SLOT]}


# ------------------------------------------------------------------------ the rule alone


def test_filter_needs_sessions_many_free_windows() -> None:
    """A 2-session need keeps the candidate free in two of its windows, not the one free in one."""
    doc = make_problem(
        volunteers=[
            volunteer("v1", availability=["mon-am"]),
            volunteer("v2", availability=["mon-am", "wed-am"]),
        ],
        needs=[need(sessions=2, windows=["mon-am", "tue-am", "wed-am"])],
    )
    assert kept(RULE, doc) == {"v1": False, "v2": True}


def test_usable_slots_are_windows_and_availability() -> None:
    """A pair's usable slots are the need's windows the volunteer is free in."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am", "wed-am"])],
        needs=[need(windows=["tue-am", "wed-am", "thu-am"])],
    )
    inst = Instance.from_problem(to_problem(doc))
    (row,) = usable(inst, 0, np.array([0], dtype=np.int64))
    assert [inst.slots[s] for s in np.flatnonzero(row)] == ["tue-am", "wed-am"]
