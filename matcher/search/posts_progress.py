"""Progress of a format-2 solve with posts (:func:`matcher.solve.solve_any`'s posts route).

The posts route runs three passes; each reports through one :class:`matcher.progress.Reporter`
counting the posts instance's coverage units (:class:`matcher.model.posts.instance.PostInstance`:
``priority x hours x sessions x k``, scaled), so the figures are the plan's own:

* ``start``: while the start's one-to-one part is solved by :func:`matcher.solve.solve` (its
  reports carried over: the posts placed greedily plus the one-to-one incumbent; no bound, the
  one-to-one part's bound proves nothing about plans that staff the posts differently), then the
  whole start;
* ``columns``: column generation's plan and its proved bound;
* ``prove``: the exact posts model's (HiGHS) plan and the tighter bound;

and ``done`` with the returned figures.  Reports are monotone and never raise into the solve
(the :class:`~matcher.progress.Reporter`'s rules).
"""

from __future__ import annotations

from fractions import Fraction

from matcher.model.posts.instance import PostInstance
from matcher.progress import Progress, ProgressCallback, Reporter, reporter_of

__all__ = ["one_to_one_progress", "posts_reporter", "report", "units"]


def posts_reporter(inst: PostInstance, callback: ProgressCallback | None, started: float) -> Reporter | None:
    """A reporter over ``inst``'s coverage units (demand: every need at its ``max``), or None
    without a callback.  ``started``: ``time.perf_counter()`` when the solve began."""
    demand = sum(pn.unit_value * pn.high for pn in inst.needs)
    return reporter_of(callback, inst.coverage, demand, started)


def units(inst: PostInstance, hours: Fraction) -> int:
    """Priority-weighted hours in ``inst``'s coverage units (its scale divides every need's hours,
    so the product is whole)."""
    scaled = hours * inst.scale
    assert scaled.denominator == 1, "coverage in the instance's units is whole"
    return int(scaled)


def one_to_one_progress(
    inst: PostInstance, reporter: Reporter | None, posts_units: int
) -> ProgressCallback | None:
    """The ``on_progress`` of the start's one-to-one solve: its incumbent with the posts' ``posts_units``
    added, reported as the ``start`` stage without a bound; None without a reporter."""
    if reporter is None:
        return None
    target = reporter

    def forward(report: Progress) -> None:
        target.report("start", posts_units + units(inst, report.coverage), None)

    return forward


def report(
    reporter: Reporter | None, stage: str, inst: PostInstance, covered: Fraction, bound: Fraction
) -> None:
    """One pass's figures (exact coverage and proved bound, priority-weighted hours), forced out."""
    if reporter is not None:
        reporter.report(stage, units(inst, covered), units(inst, bound), force=True)
