"""When a session happens on the clock: a slot's period (上午, 下午, 晚上) starts at a fixed local
time in Asia/Shanghai, and a session lasts its need's hours.

Declared once so the messages to volunteers and families and the calendar feeds tell the same
times.  The exchange format knows slots only (``mon-am``); these times are the service's.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

from api.services.planning import slot_day

TIMEZONE = ZoneInfo("Asia/Shanghai")
"""Every station's clock (China has one time zone, without daylight saving)."""

PERIOD_START: dict[str, dt.time] = {"am": dt.time(9, 0), "pm": dt.time(14, 30), "eve": dt.time(19, 0)}
"""When a session of each period starts, local time: the hours community service stations keep."""

PERIOD_NAMES: dict[str, str] = {"am": "上午", "pm": "下午", "eve": "晚上"}
WEEKDAY_NAMES: tuple[str, ...] = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class SessionTime(NamedTuple):
    """A session's local start and end (timezone-aware, Asia/Shanghai)."""

    start: dt.datetime
    end: dt.datetime


def session_time(week_start: dt.date, slot: str, hours: float) -> SessionTime | None:
    """The session at ``slot`` of the week starting ``week_start``, lasting ``hours``.

    None for a slot without a weekday and period (a custom slot name of an integrator's problem).
    """
    day = slot_day(slot)
    period = slot.partition("-")[2]
    if day is None or period not in PERIOD_START:
        return None
    start = dt.datetime.combine(week_start + dt.timedelta(days=day), PERIOD_START[period], TIMEZONE)
    return SessionTime(start, start + dt.timedelta(minutes=round(hours * 60)))


def describe_session(week_start: dt.date, slot: str, hours: float) -> str:
    """A session as a coordinator writes it: ``12月8日（周二）上午 9:00-11:00``."""
    when = session_time(week_start, slot, hours)
    if when is None:
        return slot
    start, end = when
    period = PERIOD_NAMES[slot.partition("-")[2]]
    return (
        f"{start.month}月{start.day}日（{WEEKDAY_NAMES[start.weekday()]}）{period} "
        f"{start.hour}:{start.minute:02d}-{end.hour}:{end.minute:02d}"
    )
