"""Hours as exact fractions: what a JSON number of hours was written as."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

#: Hours whose decimal needs a denominator above this are read to the nearest second.
MAX_DECIMAL_DENOMINATOR = 10**4


def exact(value: float) -> Fraction:
    """Exact value of a JSON number of hours.

    Parameters
    ----------
    value
        A float read from JSON.

    Returns
    -------
    Fraction
        The decimal it was written as (``0.1`` is 1/10, via Python's shortest round-trip
        repr); a decimal with more than four places, such as ``0.3333333333333333`` for a
        20-minute session, is read as the nearest fraction with a denominator of at most
        3600 (one second), i.e. 1/3: the hours meant, not the float's rounding noise.
    """
    q = Fraction(repr(float(value)))
    if q.denominator > MAX_DECIMAL_DENOMINATOR:
        q = q.limit_denominator(3600)
    return q


def written(value: float) -> Fraction:
    """The decimal a JSON number was written as, unrounded (``0.8333333333333334`` stays above 5/6):
    how the validator adds hours for rule 5."""
    return Fraction(repr(float(value)))


def read_below(hours: Iterable[float]) -> bool:
    """Whether :func:`exact` reads any of ``hours`` below its written decimal (``0.8333333333333334``
    as 5/6), so that a sum of exact readings can meet a cap that the written decimals pass."""
    return any(exact(h) < written(h) for h in hours)


def cap_units(max_hours: float, scale: int, needs_read_below: bool) -> int:
    """Rule 5's cap in units of ``1/scale`` hour, such that needs' exact readings within it keep the
    written decimals within the written ``max_hours`` too (what the validator checks).

    Parameters
    ----------
    max_hours
        The volunteer's ``max_hours`` as read from JSON.
    scale
        Units per hour: every need's exact reading is a whole number of units.
    needs_read_below
        :func:`read_below` of the problem's needs' hours.

    Returns
    -------
    int
        The whole units within ``exact(max_hours)``; when a need is read below its decimal or the
        cap above its own, the whole units strictly below it.  Exact sums are whole units, so they
        then stay at least ``1/(scale x 10**4)`` h below the cap (its denominator is at most 10**4;
        format 1 bounds ``scale`` by 10**6): room for what the written decimals add beyond the
        exact readings, a float's last digit per session, under 1e-13 h over a volunteer's week of
        at most 21 sessions of at most 12 hours.
    """
    cap = exact(max_hours) * scale
    if needs_read_below or exact(max_hours) > written(max_hours):
        return max(math.ceil(cap) - 1, 0)  # whole units strictly below the cap
    return math.floor(cap)
