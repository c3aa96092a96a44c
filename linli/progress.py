"""``linli solve --progress`` / ``linli resolve --progress``: the engine's progress on stderr.

On a terminal, one live line (rich) that keeps its elapsed time running between reports;
elsewhere (a pipe, a log file, a test) one plain line per report.  The engine reports after
its greedy start, whenever the incumbent or the bound improves (otherwise at most every
0.2 s) and once at the end (see :mod:`matcher.progress`).  Nothing goes to stdout, so the
plan written there is the same with and without ``--progress``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from matcher.progress import Progress, ProgressCallback


def line(progress: Progress, elapsed_s: float | None = None) -> str:
    """One report as a line: elapsed, stage, coverage (and its share of demand), bound, gap.

    ``elapsed_s`` replaces the report's own (a live line keeps counting between reports).
    """
    seconds = progress.elapsed_s if elapsed_s is None else elapsed_s
    text = (
        f"{seconds:7.2f} s  {progress.stage:<14} coverage {_amount(progress.coverage)} "
        f"({progress.coverage_share:.1%})"
    )
    if progress.bound is None or progress.bound_share is None or progress.gap is None:
        return text + "  bound -"
    text += f"  bound {_amount(progress.bound)} ({progress.bound_share:.1%})  gap {progress.gap:.2%}"
    return text + ("  proved" if progress.proved else "")


def _amount(value: object) -> str:
    """Coverage as the plan writes it: an integer where it is one, else two decimals."""
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number.is_integer() else f"{number:.2f}"


class _LiveLine:
    """The live line's content, re-rendered by rich a few times a second."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.at = time.perf_counter()

    def update(self, progress: Progress) -> None:
        self.progress = progress
        self.at = time.perf_counter()

    def __rich__(self) -> Text:
        if self.progress is None:
            return Text("solving …")
        # The report's elapsed time, plus the time since it came, while the search goes on.
        running = 0.0 if self.progress.stage == "done" else time.perf_counter() - self.at
        return Text(line(self.progress, self.progress.elapsed_s + running))


@contextmanager
def shown(enabled: bool, console: Console | None = None) -> Iterator[ProgressCallback | None]:
    """The ``on_progress`` to pass to the engine (None when ``enabled`` is false), showing each
    report on ``console`` (default stderr) until the block ends."""
    if not enabled:
        yield None
        return
    console = console or Console(stderr=True, highlight=False)
    if not console.is_terminal:

        def plain(progress: Progress) -> None:
            console.print(Text("progress: " + line(progress)), soft_wrap=True)

        yield plain
        return
    content = _LiveLine()
    with Live(content, console=console, refresh_per_second=5, transient=False):
        yield content.update
