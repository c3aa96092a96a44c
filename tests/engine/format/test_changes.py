"""``still_applicable``: an earlier change set carried onto a station's people as they are now."""

from __future__ import annotations

from helpers import beneficiary, make_problem, need, to_problem, volunteer

from matcher.format.changes import apply_changes, still_applicable
from matcher.format.io import parse
from matcher.format.schema import ChangeSet

EARLIER = {
    "format": 1,
    "volunteers_withdrawn": [{"volunteer": "v1"}, {"volunteer": "v-left", "slots": ["mon-am"]}],
    "needs_cancelled": ["n1", "n-ended"],
    "needs_added": [
        need("urgent-1", beneficiary="b1"),
        need("urgent-2", beneficiary="b-left"),
        need("n2"),  # since registered as a need of its own
    ],
    "volunteers_added": [volunteer("v-new")],
}


def test_what_still_exists_is_kept_and_the_rest_dropped() -> None:
    problem = to_problem(
        make_problem(
            volunteers=[volunteer("v1"), volunteer("v2")],
            beneficiaries=[beneficiary("b1")],
            needs=[need("n1"), need("n2")],
        )
    )
    kept = still_applicable(problem, parse(ChangeSet, EARLIER, "changes"))
    assert [w.volunteer for w in kept.volunteers_withdrawn] == ["v1"]
    assert kept.needs_cancelled == ["n1"]
    assert [n.id for n in kept.needs_added] == ["urgent-1"]
    assert kept.volunteers_added == []
    changed = apply_changes(problem, kept)  # applies without an unknown-id error
    assert next(v for v in changed.volunteers if v.id == "v1").availability == []
    assert [n.id for n in changed.needs] == ["n2", "urgent-1"]


def test_a_change_set_that_still_holds_whole_is_unchanged() -> None:
    problem = to_problem(make_problem(volunteers=[volunteer("v1")], needs=[need("n1"), need("n2")]))
    whole = parse(ChangeSet, {"format": 1, "needs_cancelled": ["n2"], "needs_added": [need("n3")]}, "changes")
    assert still_applicable(problem, whole) == whole
