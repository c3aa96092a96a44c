"""HiGHS's one thread scheduler per process: a run asking for another pool size still solves.

HiGHS sizes its scheduler at a process's first run; a later run whose ``threads`` option
differs used to fail at once (no solution, no duals), so an engine call after a benchmark's or a
branch-and-cut's run in the same process silently lost its LP (found when
``tests/tooling/test_lp_bound.py`` ran before ``tests/engine/posts/test_post_bounds.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import highspy
from matcher.search.mip import run_highs

def tiny(threads):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    h.addVar(0, 1)
    h.changeColCost(0, -1)
    return h

first = tiny(2)
assert first.run() == highspy.HighsStatus.kOk
plain = tiny(1)
print("plain", plain.run() == highspy.HighsStatus.kOk)
again = tiny(1)
print("run_highs", run_highs(again) == highspy.HighsStatus.kOk, again.getInfo().objective_function_value)
"""


def test_a_run_after_another_pool_size_still_solves() -> None:
    """With a 2-thread scheduler, a ``threads`` 1 run fails alone and solves through ``run_highs``."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    # The first line shows the failure is real (so the test can fail if run_highs did nothing).
    assert "plain False" in out
    assert "run_highs True -1.0" in out


def test_every_highs_run_goes_through_run_highs() -> None:
    """No ``<highs>.run()`` is left in the engine or the benchmarks but inside ``run_highs``."""
    found = []
    for folder in ("matcher", "benchmarks", "scenarios", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\b(h|highs|self\.h|self\.highs|lp|mip|model)\.run\(\)", line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == [f"matcher/search/mip.py:{n}" for n in _inside_run_highs()]


def _inside_run_highs() -> list[int]:
    """The line numbers of the ``h.run()`` calls in ``run_highs``'s own body (its first try and its retry)."""
    lines = (ROOT / "matcher/search/mip.py").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def run_highs("))
    end = next(i for i, line in enumerate(lines[start + 1 :], start + 1) if line.startswith("def "))
    return [i + 1 for i in range(start, end) if "h.run()" in lines[i]]
