"""Wall-clock deadlines shared by model building and search."""

from __future__ import annotations

import time
from dataclasses import dataclass


class OutOfTimeError(Exception):
    """Raised by :meth:`Deadline.check` once the deadline has passed."""


@dataclass(frozen=True)
class Deadline:
    """A point in ``time.perf_counter()`` time."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.perf_counter() + seconds)

    @classmethod
    def never(cls) -> Deadline:
        """A deadline that never passes (for tools and tests that build models directly)."""
        return cls(float("inf"))

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.perf_counter()

    def check(self) -> None:
        """Raise :class:`OutOfTimeError` if the deadline has passed."""
        if time.perf_counter() > self.at:
            raise OutOfTimeError
