"""Star levels (星级) from cumulative service hours.

A volunteer's cumulative hours are the hours served before Linli kept records
(``Volunteer.hours_before``) plus every current served :class:`~api.models.ServiceRecord` of
theirs (no-show and cancelled records hold 0 hours and are not counted; a record superseded by a
correction is not counted, its correction is).  The
star level is the number of thresholds reached (1★ … 5★; the service plan's default
thresholds are 100, 300, 600, 1000 and 1500 hours, and cities may configure their own with
``LINLI_STAR_HOURS``).

Hours are summed with :func:`math.fsum` in Python rather than by the database, so the total
is the correctly rounded sum of the stored values on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.models import ServiceRecord, Volunteer

MAX_STARS = 5
"""The highest star level."""

TOLERANCE = 1e-9
"""Hours within this of a threshold count as reaching it (sums of decimal fractions are inexact)."""

_CHUNK = 500  # volunteer ids per IN (...) query: well under SQLite's bound-parameter limit


class ServiceSummary(BaseModel):
    """A volunteer's cumulative hours and star level."""

    volunteer: str = Field(description="Volunteer id.")
    hours_before: float = Field(description="Hours served before Linli kept records.")
    hours_recorded: float = Field(description="Sum of the volunteer's service records.")
    hours_total: float = Field(description="hours_before + hours_recorded.")
    stars: int = Field(ge=0, le=MAX_STARS, description="Star level, 0 to 5.")
    next_star_at: float | None = Field(
        description="Cumulative hours of the next star, or null at the highest level."
    )


def _check(thresholds: Sequence[float]) -> None:
    if not thresholds or len(thresholds) > MAX_STARS:
        raise ValueError(f"star thresholds: expected 1 to {MAX_STARS}, got {len(thresholds)}")
    if thresholds[0] <= 0 or any(b <= a for a, b in itertools.pairwise(thresholds)):
        raise ValueError("star thresholds: must be positive and strictly ascending")


def star_level(hours: float, thresholds: Sequence[float]) -> int:
    """The star level of a volunteer with ``hours`` cumulative hours.

    Parameters
    ----------
    hours
        Cumulative hours served.
    thresholds
        Cumulative hours for 1★, 2★ …, positive and strictly ascending (at most five).

    Returns
    -------
    int
        How many thresholds ``hours`` reaches (a threshold is reached *at* its value),
        from 0 to ``len(thresholds)``.

    Raises
    ------
    ValueError
        If the thresholds are empty, more than five, not positive or not strictly ascending.
    """
    _check(thresholds)
    return sum(1 for t in thresholds if hours >= t - TOLERANCE)


def next_star_at(hours: float, thresholds: Sequence[float]) -> float | None:
    """The cumulative hours of the next star, or None once every threshold is reached.

    Parameters
    ----------
    hours
        Cumulative hours served.
    thresholds
        As for :func:`star_level`.

    Returns
    -------
    float or None
        The first threshold ``hours`` has not reached yet.
    """
    level = star_level(hours, thresholds)
    return float(thresholds[level]) if level < len(thresholds) else None


def recorded_hours(session: Session, volunteer_ids: Iterable[str]) -> dict[str, float]:
    """The sum of each volunteer's current served records (no-shows, cancellations, superseded rows: nothing).

    Parameters
    ----------
    session
        Database session.
    volunteer_ids
        The volunteers to sum for.

    Returns
    -------
    dict
        Volunteer id to recorded hours (0.0 for a volunteer without records).
    """
    ids = list(dict.fromkeys(volunteer_ids))
    hours: dict[str, list[float]] = {v: [] for v in ids}
    for start in range(0, len(ids), _CHUNK):
        rows = session.exec(
            select(ServiceRecord.volunteer_id, ServiceRecord.hours).where(
                col(ServiceRecord.volunteer_id).in_(ids[start : start + _CHUNK]),
                ServiceRecord.outcome == "served",
                col(ServiceRecord.superseded_by).is_(None),  # a corrected record counts once: its correction
            )
        )
        for volunteer_id, h in rows:
            hours[volunteer_id].append(float(h))
    return {v: math.fsum(hs) for v, hs in hours.items()}


def cumulative_hours(session: Session, volunteer: Volunteer) -> float:
    """A volunteer's cumulative hours: ``hours_before`` plus the sum of their service records.

    Parameters
    ----------
    session
        Database session.
    volunteer
        The volunteer.

    Returns
    -------
    float
        Cumulative hours served.
    """
    return float(volunteer.hours_before) + recorded_hours(session, [volunteer.id])[volunteer.id]


def summarize(volunteer: Volunteer, recorded: float, thresholds: Sequence[float]) -> ServiceSummary:
    """A volunteer's service summary.

    Parameters
    ----------
    volunteer
        The volunteer.
    recorded
        The sum of their service records (:func:`recorded_hours`).
    thresholds
        Star thresholds, as for :func:`star_level`.

    Returns
    -------
    ServiceSummary
        Hours before, recorded and in total, the star level and the next star's hours.
    """
    total = float(volunteer.hours_before) + recorded
    return ServiceSummary(
        volunteer=volunteer.id,
        hours_before=float(volunteer.hours_before),
        hours_recorded=recorded,
        hours_total=total,
        stars=star_level(total, thresholds),
        next_star_at=next_star_at(total, thresholds),
    )
