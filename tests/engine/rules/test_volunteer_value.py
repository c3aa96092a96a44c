"""The redundant cut per volunteer (value at most their own best): matcher.model.rules.volunteer_value.

It removes no plan that rules 3-5 allow; it only tightens the bound.
"""

from __future__ import annotations

from engine_support import model_allows
from helpers import make_problem, need, volunteer

from matcher.model.rules.volunteer_value import RULE


def test_cut_allows_what_the_hours_allow_and_no_more() -> None:
    """max_hours 3 and two 2-hour needs: either alone is allowed, both are cut."""
    doc = make_problem(
        volunteers=[volunteer(availability=["mon-am", "tue-am"], max_hours=3)],
        needs=[need("n1", hours=2), need("n2", hours=2, windows=["tue-am"])],
    )
    assert RULE.redundant
    assert model_allows(RULE, doc, [("v1", "n1")])
    assert model_allows(RULE, doc, [("v1", "n2")])
    assert not model_allows(RULE, doc, [("v1", "n1"), ("v1", "n2")])
