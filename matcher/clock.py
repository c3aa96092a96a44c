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


@dataclass(frozen=True)
class Budget:
    """The time of one solve: when it started and when it must end (``perf_counter`` time).

    It hands out deadlines as shares of the time left, so a stage never computes one by hand.
    """

    start: float
    end: float

    @classmethod
    def starting_now(cls, seconds: float) -> Budget:
        """A budget of ``seconds`` from now."""
        now = time.perf_counter()
        return cls(now, now + seconds)

    @property
    def limit(self) -> float:
        """Seconds from start to end."""
        return self.end - self.start

    @property
    def deadline(self) -> Deadline:
        """The end as a :class:`Deadline`."""
        return Deadline(self.end)

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left (negative once past the end)."""
        return self.end - time.perf_counter()

    def seconds(self, fraction: float, cap: float = float("inf")) -> float:
        """``fraction`` of the time left, at most ``cap`` seconds."""
        return min(cap, fraction * self.remaining())

    def share(self, fraction: float, cap: float = float("inf")) -> Deadline:
        """The deadline ``fraction`` of the time left from now, at most ``cap`` seconds away."""
        return Deadline.after(self.seconds(fraction, cap))

    def with_limit(self, seconds: float) -> Budget:
        """The same start, ending ``seconds`` after it (a limit known only once started)."""
        return Budget(self.start, self.start + seconds)

    def until(self, end: float) -> Budget:
        """The same start with an earlier end (e.g. the search's, before writing the plan)."""
        return Budget(self.start, end)
