"""A rich progress bar for ``linli simulate`` (on stderr)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
    """Shows one bar per phase (runs, then the advice's runs); use as a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self.task: TaskID | None = None
        self.started = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.started:
            self.progress.stop()

    def start(self, description: str, total: int) -> None:
        """Add a bar for a phase of ``total`` solves (the display starts with the first bar)."""
        if not self.started:
            self.progress.start()
            self.started = True
        self.task = self.progress.add_task(description, total=total)

    def advance(self) -> None:
        """One solve of the current phase finished."""
        if self.task is not None:
            self.progress.advance(self.task)
