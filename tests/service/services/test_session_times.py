"""A session's clock times: local Asia/Shanghai, the period's start, the need's hours."""

from __future__ import annotations

import datetime as dt

from api.session_times import TIMEZONE, describe_session, session_time

MONDAY = dt.date(2026, 12, 7)


def test_a_tuesday_morning_session_of_two_hours() -> None:
    when = session_time(MONDAY, "tue-am", 2)
    assert when is not None
    assert when.start == dt.datetime(2026, 12, 8, 9, 0, tzinfo=TIMEZONE)
    assert when.end - when.start == dt.timedelta(hours=2)
    # Shanghai is UTC+8 all year: 9:00 local is 1:00 UTC.
    assert when.start.astimezone(dt.UTC).hour == 1


def test_described_as_coordinators_write_it() -> None:
    assert describe_session(MONDAY, "sun-eve", 1.5) == "12月13日（周日）晚上 19:00-20:30"
    assert describe_session(MONDAY, "wed-pm", 2) == "12月9日（周三）下午 14:30-16:30"


def test_a_slot_without_a_day_has_no_time() -> None:
    assert session_time(MONDAY, "slot7", 1) is None
    assert describe_session(MONDAY, "slot7", 1) == "slot7"
