"""Rule 5 with hours the engine reads as fractions (``0.8333333333333334`` as 5/6): the engine's cap
keeps the decimals as written within ``max_hours``, as the validator adds them.

Before :func:`matcher.format.hours.cap_units`, a volunteer with ``max_hours`` 5 got six 50-minute
sessions written ``0.8333333333333334``: 5 hours to the engine, 5.0000000000000004 to the
validator, which refused the engine's own plan (rule 5)."""

from __future__ import annotations

from fractions import Fraction

from helpers import Doc, make_problem, need, solve_and_check, to_problem, volunteer
from posts_support import post, problem2, solve_checked, teams, unmet, vol

from matcher.format import reasons as codes
from matcher.format.hours import cap_units, exact, read_below, written
from matcher.format.validate import validate_plan
from matcher.solve import solve

FIFTY_MINUTES = 50 / 60  # 0.8333333333333334: its decimal is above 5/6
TWENTY_MINUTES = 20 / 60  # 0.3333333333333333: its decimal is below 1/3
DAYS = ["mon-am", "tue-am", "wed-am", "thu-am", "fri-am", "sat-am"]


def test_the_two_readings_of_a_long_decimal() -> None:
    assert exact(FIFTY_MINUTES) == Fraction(5, 6) < written(FIFTY_MINUTES)
    assert exact(TWENTY_MINUTES) == Fraction(1, 3) > written(TWENTY_MINUTES)
    assert read_below([1, 0.5, FIFTY_MINUTES]) and not read_below([1, 0.5, TWENTY_MINUTES])


def test_the_cap_loses_a_unit_only_where_the_readings_differ() -> None:
    assert cap_units(5, 6, needs_read_below=False) == 30
    assert cap_units(5, 6, needs_read_below=True) == 29
    # A cap read above its decimal (1/3 for 0.333...): the written cap is below any 1/3 sum.
    assert cap_units(TWENTY_MINUTES, 3, needs_read_below=False) == 0
    assert cap_units(0, 6, needs_read_below=True) == 0


def _week(hours: float, max_hours: float) -> Doc:
    return make_problem(
        volunteers=[volunteer(availability=DAYS, max_hours=max_hours)],
        needs=[need(hours=hours, sessions=6, windows=DAYS)],
    )


def test_format1_keeps_the_written_hours_within_max_hours() -> None:
    """Six sessions of 0.8333333333333334 h add up to more than 5 as written: not assigned."""
    result = solve_and_check(_week(FIFTY_MINUTES, 5))  # validates the plan
    assert [a.need for a in result.plan.assignments] == []
    assert result.plan.unmet[0].reasons == [codes.EXCEEDS_MAX_HOURS]


def test_format1_assigns_where_the_written_hours_fit() -> None:
    for hours, cap in ((FIFTY_MINUTES, 5.1), (0.5, 3), (TWENTY_MINUTES, 2)):
        problem = to_problem(_week(hours, cap))
        plan = solve(problem, 5).plan
        assert validate_plan(problem, plan) == []
        assert [a.need for a in plan.assignments] == ["n1"], (hours, cap)


def test_a_post_keeps_the_written_hours_within_max_hours() -> None:
    """A post of two, three 50-minute sessions: 2.5 h exactly, 2.5000000000000002 h as written."""
    windows = ["sat-am", "sat-pm", "sun-am"]

    def week(max_hours: float) -> dict[str, list[str]]:
        problem = problem2(
            [vol("v1", max_hours=max_hours), vol("v2", max_hours=max_hours)],
            [post("n1", low=2, high=2, hours=FIFTY_MINUTES, sessions=3, windows=windows)],
        )
        plan = solve_checked(problem)  # validates the plan
        return {**{n: v for n, (v, _) in teams(plan).items()}, **unmet(plan)}

    assert week(2.5) == {"n1": [codes.EXCEEDS_MAX_HOURS]}
    assert week(2.6) == {"n1": ["v1", "v2"]}
