"""Progress while the engine solves: the incumbent's coverage and the proved bound over time.

:func:`matcher.solve.solve` and :func:`matcher.resolve.resolve` take
``on_progress: Callable[[Progress], None]``; a :class:`Reporter` calls it:

* in the calling process only (never from a forked helper; a helper's better plan is
  reported once the calling process has it in hand);
* once at the start (after the greedy plan), whenever the incumbent's coverage, the bound or
  ``proved`` changes, otherwise at most every ``interval_s`` (0.2 s) where the search checks
  in, and once at the end with the returned figures.  The search checks in after every
  stage and inside the long ones (:data:`CheckIn`): each step of the city's neighbourhood
  search and each bound its process sends, each round of column generation, each node of
  branch-and-price, the proof's callback;
* monotone: the coverage reported never decreases and the bound never increases (a bound of
  None, "not known yet", may become a number);
* never raising into the solve: the first exception a callback raises is logged (logger
  ``matcher.progress``) and the callback is not called again, so a failing display or
  store cannot change or lose the plan.  ``KeyboardInterrupt`` and other
  ``BaseException``\\ s are not caught.

With ``on_progress=None`` nothing is computed or called: plans and figures are those of a
solve without it.

This module imports nothing from the engine: the stages hand it coverage units, and the
instance's own conversion (:meth:`matcher.model.instance.Instance.coverage`) turns them into
priority-weighted hours, so the figures are the ones the plan reports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

LOG = logging.getLogger("matcher.progress")

INTERVAL_S = 0.2
"""Least time between two calls that report nothing new."""


@dataclass(frozen=True)
class Progress:
    """Where a solve stands: the best plan so far and what is proved about the optimum.

    ``coverage`` and ``bound`` are in the plan's own unit (priority-weighted hours, as
    ``plan.objective.coverage`` and ``coverage_bound``); ``coverage_share`` and
    ``bound_share`` divide them by ``demand``, the value of every need of the problem.
    """

    elapsed_s: float
    """Seconds since the call started."""
    stage: str
    """The stage that has just run or is running (one of :data:`STAGES`: ``start``,
    ``columns``, ``branch``, ``prove`` ...; ``done`` for the last call)."""
    coverage: Fraction
    """Coverage of the incumbent (the plan the call would return now)."""
    bound: Fraction | None
    """Proved upper bound on coverage, None while there is none (a re-solve's first pass
    with ``allow_moves`` answers a narrower question, so it reports none)."""
    proved: bool
    """Coverage is proved optimal (``coverage == bound``)."""
    demand: Fraction
    """Coverage if every need were met."""

    @property
    def coverage_share(self) -> float:
        """``coverage / demand`` (1.0 for a problem without needs)."""
        return float(self.coverage / self.demand) if self.demand else 1.0

    @property
    def bound_share(self) -> float | None:
        """``bound / demand``, or None without a bound."""
        if self.bound is None:
            return None
        return float(self.bound / self.demand) if self.demand else 1.0

    @property
    def gap(self) -> float | None:
        """``(bound - coverage) / bound``: how much better a plan could still be (0 when
        proved), or None without a bound."""
        if self.bound is None:
            return None
        return float((self.bound - self.coverage) / self.bound) if self.bound else 0.0


STAGES: dict[str, str] = {
    "start": "the eligible pairs and the greedy plan are ready (the first report)",
    "city_search": "city size: neighbourhood search, the coverage bound computed beside it",
    "columns": "column generation: each pricing round's bound; its plan is taken when it ends",
    "branch": "branch-and-price on the columns: its plan as found, its bound node by node",
    "pool": "the best sets per pair, priced then solved as a MIP (a heartbeat)",
    "full_model": "the full model built",
    "settle": "coverage proved: continuity, travel and load",
    "prove": "the full model proved (HiGHS or CP-SAT), with the searches beside it",
    "collect_search": "the plan of the search beside the proof taken in",
    "top_up": "a greedy pass adds what it can",
    "done": "the figures returned (the last report)",
}
"""Every :attr:`Progress.stage` a solve or re-solve reports, in pipeline order, with what it
means.  The web app names each (``web.labels.STAGES``, translated); a new stage goes in both."""

ProgressCallback = Callable[[Progress], None]
"""What ``solve(..., on_progress=...)`` and ``resolve(..., on_progress=...)`` take."""


CheckIn = Callable[[str, int | None, int | None], None]
"""How a long loop of the search checks in: ``check_in(stage, covered, bound)``, called in
the calling thread (:meth:`matcher.search.stages.SearchState.checker` makes one).

``covered``: coverage units of a plan the loop holds that the call is sure to return (or
better): one the stage takes in however it ends.  A plan adopted only if the stage ends
well is not one; then the loop passes None.  ``bound``: coverage units that no plan of
the problem exceeds, proved, and carried (or a lower one) into the stage's result, so
that the reports stay monotone up to the figures the call returns.  None on either side:
nothing new there; both None: a heartbeat, reported at most every ``interval_s``.
"""


class Reporter:
    """Turns the search's figures (coverage units) into :class:`Progress` calls: throttled,
    monotone, and never raising into the solve (see the module's docstring).

    Parameters
    ----------
    callback
        The caller's ``on_progress``.
    to_hours
        Coverage units to the plan's unit (the instance's ``coverage``).
    demand_units
        Coverage units of every need.
    started
        ``time.perf_counter()`` when the call started.
    interval_s
        Least time between calls that report nothing new.

    ``offset_units`` (added to every coverage and bound reported) and ``bounded`` (whether
    the bound answers the call's question) are set by the caller between passes: a
    re-solve's search sees only what its fixed assignments leave, and its first pass with
    ``allow_moves`` proves nothing about the plans with moves.
    """

    def __init__(
        self,
        callback: ProgressCallback,
        to_hours: Callable[[int], Fraction],
        demand_units: int,
        started: float,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self._callback: ProgressCallback | None = callback
        self._to_hours = to_hours
        self._demand = to_hours(demand_units)
        self._started = started
        self._interval_s = interval_s
        self.offset_units = 0
        self.bounded = True
        self._last: tuple[int, int | None, bool] | None = None
        self._last_at = float("-inf")
        self.calls = 0
        """How many times the callback was called."""

    @property
    def active(self) -> bool:
        """Whether the callback is still called (False once it raised)."""
        return self._callback is not None

    def due(self) -> bool:
        """Whether a report of unchanged figures would be called back now (a heartbeat checks
        this first, and so computes nothing between its calls)."""
        return self._callback is not None and time.perf_counter() - self._last_at >= self._interval_s

    def update(self, stage: str, covered: int, bound: int | None, *, force: bool = False) -> None:
        """The search's incumbent covers ``covered`` units and ``bound`` units are proved the
        most any plan covers (both before ``offset_units``); call back if something changed,
        if ``force``, or if ``interval_s`` has passed since the last call."""
        if self._callback is None:
            return
        covered += self.offset_units
        bound = bound + self.offset_units if bound is not None and self.bounded else None
        self.report(stage, covered, bound, force=force)

    def report(self, stage: str, covered: int, bound: int | None, *, force: bool = False) -> None:
        """As :meth:`update`, with the call's own figures (the offset already in)."""
        if self._callback is None:
            return
        if self._last is not None:
            # Monotone, whatever a pass reports (a bound is never below its plan).
            covered = max(covered, self._last[0])
            if self._last[1] is not None:
                bound = self._last[1] if bound is None else min(bound, self._last[1])
        if bound is not None:
            bound = max(bound, covered)
        proved = bound is not None and covered >= bound
        now = time.perf_counter()
        figures = (covered, bound, proved)
        if not force and figures == self._last and now - self._last_at < self._interval_s:
            return
        self._last, self._last_at = figures, now
        progress = Progress(
            elapsed_s=now - self._started,
            stage=stage,
            coverage=self._to_hours(covered),
            bound=None if bound is None else self._to_hours(bound),
            proved=proved,
            demand=self._demand,
        )
        try:
            self.calls += 1
            self._callback(progress)
        except Exception:
            LOG.warning("on_progress raised: progress is no longer reported for this solve", exc_info=True)
            self._callback = None


def reporter_of(
    callback: ProgressCallback | None, to_hours: Callable[[int], Fraction], demand_units: int, started: float
) -> Reporter | None:
    """A :class:`Reporter` for ``callback``, or None without one (then nothing is computed)."""
    if callback is None:
        return None
    return Reporter(callback, to_hours, demand_units, started)
