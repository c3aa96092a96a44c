"""``linli solve --progress`` / ``linli resolve --progress``: the engine's progress on stderr.

On a terminal, one live line (rich), redrawn at each report; elsewhere (a pipe, a log file,
a test) one plain line per report.  The engine reports after its greedy start, whenever the
incumbent or the bound improves (otherwise at most every 0.2 s) and once at the end (see
:mod:`matcher.progress`).  Nothing goes to stdout, so the plan written there is the same with
and without ``--progress``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from matcher.progress import Progress, ProgressCallback


def line(progress: Progress) -> str:
    """One report as a line: elapsed, stage, coverage (and its share of demand), bound, gap."""
    text = (
        f"{progress.elapsed_s:7.2f} s  {progress.stage:<14} coverage {_amount(progress.coverage)} "
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


@contextmanager
def shown(enabled: bool, console: Console | None = None) -> Iterator[ProgressCallback | None]:
    """The ``on_progress`` to pass to the engine (None when ``enabled`` is false), showing each
    report on ``console`` (default stderr) until the block ends.

    The live line is redrawn by the callback itself, on the engine's thread, never by a
    refresh thread of rich's: the engine forks its helper processes from that thread, and a
    fork while another thread holds stderr's lock would leave the child unable to flush it.
    Nor does it redirect stdout and stderr (the plan is written after the block).
    """
    if not enabled:
        yield None
        return
    console = console or Console(stderr=True, highlight=False)
    if not console.is_terminal:

        def plain(progress: Progress) -> None:
            console.print(Text("progress: " + line(progress)), soft_wrap=True)

        yield plain
        return
    with Live(
        Text("solving …"),
        console=console,
        auto_refresh=False,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as live:

        def update(progress: Progress) -> None:
            # one line however narrow the terminal: cut at its width rather than wrapped
            live.update(Text(line(progress), no_wrap=True, overflow="ellipsis"), refresh=True)

        yield update
