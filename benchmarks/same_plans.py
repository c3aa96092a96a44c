"""Same plans before and after a refactoring: solve a fixed set of generated problems and
compare the figures (and the plans) of two runs.

``python -m benchmarks.same_plans run OUT.json`` solves the set with whatever ``matcher``
is importable (point ``PYTHONPATH`` at another worktree to run older code) and writes one
record per problem; ``python -m benchmarks.same_plans compare A.json B.json`` prints the
records side by side and exits 1 if coverage, bound, status or continuity differ anywhere
(plans are compared too, and reported, but differ legitimately where the search was cut
short by the clock, as level 3's polishing always is: the ``refine=False`` solves and the
deterministic ones are the plans to compare).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import itertools
import json
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import matcher
from matcher.resolve import resolve
from matcher.solve import solve

if TYPE_CHECKING:
    from matcher.format.schema import Plan


def _generator() -> ModuleType:
    """The city generator, where older code or this code keeps it (run against both).

    The old place first: an editable install may find the new one from another worktree.
    """
    try:
        return importlib.import_module("matcher.generate")  # the code before the sub-packages
    except ImportError:
        return importlib.import_module("matcher.synth.generate")


generate = _generator()

SIZES = ((60, tuple(range(1, 11))), (150, tuple(range(1, 11))), (300, (1, 2, 3, 4, 5)))
"""Volunteer counts and the generator seeds solved at each."""
LIMIT = 10.0
FIGURES = ("coverage", "coverage_bound", "status", "continuity")


def plan_digest(plan: Plan) -> str:
    """A short digest of a plan's assignments (order-independent)."""
    rows = sorted((a.need, a.volunteer, tuple(a.slots)) for a in plan.assignments)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:12]


def cases(limit: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each problem of the set solved once: its name and its figures."""
    for volunteers, seeds in SIZES:
        for seed, refine in itertools.product(seeds, (True, False)):
            problem = generate.generate_city(volunteers, volunteers * 3 // 4, seed=seed)
            t = time.perf_counter()
            # refine=False: a proved plan depends on the problem only, so plans compare too
            r = solve(problem, limit, refine=refine)
            yield (
                f"solve v{volunteers} s{seed}{'' if refine else ' refine=False'}",
                {
                    "coverage": str(r.coverage),
                    "coverage_bound": str(r.coverage_bound),
                    "status": r.status,
                    "continuity": r.continuity,
                    "plan": plan_digest(r.plan),
                    "seconds": round(time.perf_counter() - t, 2),
                    "proved_s": None if r.proved_seconds is None else round(r.proved_seconds, 2),
                },
            )
    for volunteers, seed in ((60, 1), (150, 2)):
        problem = generate.generate_city(volunteers, volunteers * 3 // 4, seed=seed)
        det = solve(problem, limit, deterministic=True)
        yield (
            f"deterministic v{volunteers} s{seed}",
            {
                "coverage": str(det.coverage),
                "coverage_bound": str(det.coverage_bound),
                "status": det.status,
                "continuity": det.continuity,
                "plan": plan_digest(det.plan),
                "seconds": round(det.solve_seconds, 2),
                "proved_s": None,
            },
        )
        changes = generate.generate_changes(problem, withdraw=0.05, seed=seed + 1)
        for moves in (0, 3):
            t = time.perf_counter()
            rr = resolve(problem, det.plan, changes, limit, allow_moves=moves)
            yield (
                f"resolve v{volunteers} s{seed} moves={moves}",
                {
                    "coverage": str(rr.coverage),
                    "coverage_bound": str(rr.coverage_bound),
                    "status": rr.status,
                    "continuity": rr.plan.objective.continuity,
                    "plan": plan_digest(rr.plan),
                    "seconds": round(time.perf_counter() - t, 2),
                    "proved_s": None,
                },
            )


def run(out: str, limit: float) -> None:
    """Solve the set and write the records to ``out``."""
    print(f"matcher from {matcher.__file__}", file=sys.stderr)
    records: dict[str, dict[str, Any]] = {}
    for name, record in cases(limit):
        print(name, record, file=sys.stderr, flush=True)
        records[name] = record
    with open(out, "w", encoding="utf-8") as f:
        json.dump(records, f, indent=1)


def compare(a_path: str, b_path: str) -> int:
    """Print both runs side by side; 1 if any figure differs."""
    with open(a_path, encoding="utf-8") as f:
        a = json.load(f)
    with open(b_path, encoding="utf-8") as f:
        b = json.load(f)
    bad = 0
    for name in a:
        ra, rb = a[name], b.get(name)
        if rb is None:
            print(f"{name:<32} missing in {b_path}")
            bad += 1
            continue
        same = all(ra[k] == rb[k] for k in FIGURES)
        bad += not same
        plan = "same" if ra["plan"] == rb["plan"] else "differs"
        figures = f"{ra['coverage']}/{ra['coverage_bound']} vs {rb['coverage']}/{rb['coverage_bound']}"
        print(
            f"{name:<32} {'same' if same else 'DIFFERENT':<9} plan {plan:<7} {ra['status']:<8} cov {figures}"
            f"  {ra['seconds']:6.2f}s vs {rb['seconds']:6.2f}s"
        )
    print(f"{bad} of {len(a)} differ in {', '.join(FIGURES)}")
    return 1 if bad else 0


def main() -> None:
    """Command line: ``run OUT`` or ``compare A B``."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("out")
    r.add_argument("--limit", type=float, default=LIMIT)
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = parser.parse_args()
    if args.cmd == "run":
        run(args.out, args.limit)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
