"""Hours as exact fractions: what a JSON number of hours was written as."""

from __future__ import annotations

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
