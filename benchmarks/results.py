"""Dated result files of the benchmarks, from which ``python -m benchmarks.report`` builds docs/benchmarks.md.

Every benchmark ends with :func:`write_result`: one JSON file per benchmark and day,
``benchmarks/results/<name>-<YYYY-MM-DD>.json`` (a second run on the same day replaces the
first), holding what is needed to read the figures later:

* ``benchmark``, ``date`` and ``time`` (UTC);
* ``command``: the command line as run (``python -m benchmarks.<name> …``);
* ``machine``: cores, CPU model (``/proc/cpuinfo``), load average at the end, Python;
* ``commit``: ``git rev-parse --short HEAD``, with ``+dirty`` if tracked files differ;
* ``tables``: each with ``columns`` and ``rows`` (cells as the benchmark prints them) and
  an optional ``title`` and ``command`` (for a file carrying several runs);
* ``notes``: lines printed with the table (what the rows alone do not say);
* ``carried_over`` (optional): where figures measured before these files existed came from.

The directory is ``benchmarks/results`` unless ``LINLI_BENCH_RESULTS`` names another (the
tests, and trial runs of tiny configurations, write elsewhere).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "benchmarks" / "results"
ENV = "LINLI_BENCH_RESULTS"

Cell = str | int | float | None
"""A table cell: ``None`` reads ``-``."""


@dataclass
class Table:
    """One table of a result."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    title: str = ""
    command: str = ""
    """The command that printed it, when it differs from the result's."""


@dataclass
class Result:
    """One benchmark run (or, carried over, several runs of one benchmark)."""

    benchmark: str
    date: str
    time: str
    command: str
    machine: str
    commit: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    carried_over: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        """Read a result file's contents."""
        tables = [Table(**t) for t in data.get("tables", [])]
        return cls(**{**data, "tables": tables})


def results_dir() -> Path:
    """Where result files go: ``$LINLI_BENCH_RESULTS``, else ``benchmarks/results``."""
    given = os.environ.get(ENV)
    return Path(given) if given else DEFAULT_DIR


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what :mod:`platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """Cores, CPU model, load average and Python version, in one line."""
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{os.cpu_count()} cores, {cpu_model()}{load}, Python {platform.python_version()}"


def commit() -> str:
    """The checked-out commit (short), ``+dirty`` if tracked files differ; ``unknown`` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """``python -m MODULE ARGS``, ARGS being this process's (or ``argv``)."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", "-m", module, *(shlex.quote(a) for a in args)])


def write_result(
    name: str,
    command: str,
    tables: Sequence[Table],
    notes: Sequence[str] = (),
    directory: Path | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write a benchmark's result as ``<directory>/<name>-<date>.json``; returns the path.

    Parameters
    ----------
    name
        The benchmark (``engine``, ``city`` …): the module's name in ``benchmarks``.
    command
        The command line that ran it (:func:`command_line`).
    tables
        Its tables, cells as printed.
    notes
        Lines that go with the tables.
    directory
        Default :func:`results_dir`.
    now
        Default the current UTC time.
    """
    when = now or dt.datetime.now(dt.UTC)
    result = Result(
        benchmark=name,
        date=when.strftime("%Y-%m-%d"),
        time=when.strftime("%H:%M UTC"),
        command=command,
        machine=machine(),
        commit=commit(),
        tables=list(tables),
        notes=list(notes),
    )
    out = directory or results_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{result.date}.json"
    path.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"(result written to {path})", file=sys.stderr)
    return path


def cell_text(cell: Cell) -> str:
    """A cell as text: ``-`` for ``None``, numbers as Python writes them."""
    return "-" if cell is None else str(cell)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """An aligned plain-text table (first column left-aligned, the others right-aligned)."""
    cells = [list(columns), *([cell_text(c) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells if i < len(r)) for i in range(len(columns))]
    lines = []
    for row in cells:
        parts = [text.ljust(widths[i]) if i == 0 else text.rjust(widths[i]) for i, text in enumerate(row)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def add_seeds(parser: argparse.ArgumentParser, default: str) -> None:
    """The ``--seeds`` option of the benchmarks that generate cities (read it with :func:`seed_list`)."""
    parser.add_argument("--seeds", default=default, help="comma-separated city seeds")


def seed_list(text: str) -> list[int]:
    """The seeds of a ``--seeds`` value (``"1,2,3"``; blanks ignored)."""
    return [int(s) for s in text.split(",") if s.strip()]
