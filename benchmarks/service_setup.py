"""What the service benchmarks share: a migrated database of the demo city, the timing of one step, and
the table of steps against a baseline.

The benchmarks that measure the service's own code (:mod:`benchmarks.calendar`,
:mod:`benchmarks.certificate`, :mod:`benchmarks.audit`, :mod:`benchmarks.contacts`,
:mod:`benchmarks.standins`) each set up the same way: an SQLite database in a temporary directory,
migrated as ``linli migrate`` does, seeded with the demo city as ``linli seed`` does.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from api.db import make_engine
from api.migrate import upgrade
from api.seed import seed_demo

DISTRICTS = 4
"""The demo city's districts (``linli seed``'s default)."""
SEED = 7
"""The demo city's random seed (``linli seed``'s default)."""


@contextmanager
def demo_database() -> Iterator[Engine]:
    """An engine on a new, migrated SQLite database in a temporary directory; disposed (and the
    directory removed) on leaving."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def seed_city(session: Session, volunteers: int = 250, beneficiaries: int = 190) -> list[str]:
    """Seed the demo city into ``session`` (not committed, as :func:`api.seed.seed_demo`); the station
    ids."""
    return seed_demo(session, volunteers, beneficiaries, DISTRICTS, SEED)


def repeat_option(doc: str | None, argv: list[str] | None, default: int) -> int:
    """The ``--repeat`` of a benchmark's command line (how many timed runs of each step); its help is
    the first paragraph of the benchmark's ``doc``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=default)
    return int(parser.parse_args(argv).repeat)


def freeze_collector() -> None:
    """As ``linli serve`` does once started: the setup's long-lived objects out of the collector's way
    (a full collection walking them would land in one of the timings)."""
    gc.collect()
    gc.freeze()


def time_calls(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds of ``repeat`` calls of ``fn``, after one call to warm up (imports, caches, SQLite's
    page cache)."""
    fn()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def step_table(
    timings: dict[str, list[float]], baseline: str, *, width: int, digits: int
) -> tuple[list[str], list[list[str | float]]]:
    """Print each step's median and max (ms) and its median as a multiple of ``baseline``'s; the
    result table's columns and rows.

    ``width`` is the step column's width and ``digits`` the milliseconds' decimals.
    """
    base = statistics.median(timings[baseline])
    ratio = f"x {baseline}"
    print(f"{'step':<{width}} {'median ms':>10} {'max ms':>8} {ratio:>{len(ratio) + 1}}")
    rows: list[list[str | float]] = []
    for name, ts in timings.items():
        median = statistics.median(ts)
        print(
            f"{name:<{width}} {median * 1000:>10.{digits}f} {max(ts) * 1000:>8.{digits}f} "
            f"{median / base:>{len(ratio) + 1}.1f}"
        )
        rows.append(
            [name, round(median * 1000, digits), round(max(ts) * 1000, digits), round(median / base, 1)]
        )
    return ["step", "median ms", "max ms", ratio], rows
