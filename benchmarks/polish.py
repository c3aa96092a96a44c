"""Levels 2-3 after a proof: neighbourhoods against the full model, in the same run.

Run ``python -m benchmarks.polish`` (part of ``make bench``).  For each generated city it
proves coverage (``optimise(..., refine=False)``), then improves continuity and travel and
load from that same plan in two ways, each with the budget :func:`matcher.solve.solve`
gives them (half the proof's first phase, at least ``SolveParams.min_polish_s``):

* ``neighbourhoods``: :func:`matcher.search.lns.polish` with the solve's settings (what ``solve``
  runs above ``SolveParams.full_polish_max_pairs`` pairs);
* ``full model``: the CP-SAT continuity phase and travel-and-load phase on the whole
  model, building included (what ``solve`` runs up to that size; it skips the continuity
  phase when the proof settled continuity too, so this row can be up to one phase slower).

Each row gives the wall seconds, the continuity kept and the travel-and-load value (tenths
of a km plus weighted excess hours; lower is better), and its ratio to the proved plan's.
Every plan is validated.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.results import Table, command_line, write_result
from matcher.clock import Budget, Deadline
from matcher.explain import to_format
from matcher.format.validate import validate_plan
from matcher.model.evaluate import coverage_units
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.plan import Chosen, IndexedPlan
from matcher.params import SolveParams
from matcher.search import lns
from matcher.search.refine import keep_secondary, polish, polish_budget
from matcher.search.stages import Outcome, optimise
from matcher.search.trace import Search
from matcher.search.transfer import hint, hinted_objective
from matcher.synth.generate import generate_city


def lower_levels(inst: Instance, out: Outcome, chosen: Chosen) -> tuple[int, int]:
    """(secondary value, travel-and-load value) of a plan, read off the full model."""
    lm = build(inst, out.pairs)
    lm.model.minimize(lm.polish())
    hint(lm, chosen)
    return lm.secondary_of(chosen), round(hinted_objective(lm.model))


def check(inst: Instance, out: Outcome, chosen: Chosen) -> None:
    """Fail loudly unless the plan is valid and keeps the proved coverage."""
    plan = to_format(inst, IndexedPlan.from_chosen(inst, out.pairs, chosen), out.bound_units, 0.0)
    problems = validate_plan(inst.problem, plan)
    if problems:
        raise SystemExit(f"invalid plan: {problems[:3]}")
    if coverage_units(inst, chosen) != coverage_units(inst, out.plan):
        raise SystemExit("coverage changed")


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,200,300", help="comma-separated volunteer counts")
    parser.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated generator seeds")
    args = parser.parse_args()
    print(
        f"{'vols':>5} {'seed':>4} {'pairs':>6} {'method':<15} {'wall s':>7} {'cont':>5} "
        f"{'travel+load':>11} {'ratio':>6}"
    )
    ratios: dict[tuple[int, str], list[float]] = {}
    walls: dict[tuple[int, str], list[float]] = {}
    pairs: dict[int, list[int]] = {}
    skipped: list[str] = []
    for size in (int(s) for s in args.sizes.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            inst = Instance.from_problem(generate_city(size, size * 3 // 4, seed=seed))
            out = optimise(inst, Budget.starting_now(30), SolveParams(refine=False))
            if out.proved_seconds is None:
                print(f"{size:>5} {seed:>4} not proved in 30 s: skipped")
                skipped.append(f"{size} volunteers, seed {seed}: not proved in 30 s, skipped")
                continue
            pairs.setdefault(size, []).append(len(out.pairs))
            proved = lower_levels(inst, out, out.plan.to_chosen())
            rows = [("proved plan", 0.0, out.plan.to_chosen())]

            t = time.perf_counter()
            search = Search(t + 30, phases=list(out.phases[:1]))
            budget = polish_budget(search)
            found = lns.polish(inst, out.pairs, out.plan.to_chosen(), Deadline(t + budget))
            rows.append(("neighbourhoods", time.perf_counter() - t, found))

            t = time.perf_counter()
            lm = build(inst, out.pairs)
            full = out.plan.to_chosen()
            search = Search(t + 30, phases=list(out.phases[:1]))
            if lm.secondary_max:
                keep_secondary(lm, full, search)
            polish(lm, full, search)
            rows.append(("full model", time.perf_counter() - t, full))

            for method, seconds, chosen in rows:
                check(inst, out, chosen)
                cont, value = lower_levels(inst, out, chosen)
                ratio = value / proved[1] if proved[1] else 1.0
                if method != "proved plan":
                    ratios.setdefault((size, method), []).append(ratio)
                    walls.setdefault((size, method), []).append(seconds)
                print(
                    f"{size:>5} {seed:>4} {len(out.pairs):>6} {method:<15} {seconds:7.2f} {cont:>5} "
                    f"{value:>11} {ratio:6.3f}",
                    flush=True,
                )
    print()
    for (size, method), values in ratios.items():
        print(f"{size:>5} {method:<15} median travel+load ratio {statistics.median(values):.3f}")
    table: list[list[str | None]] = []
    for size, counts in pairs.items():
        row: list[str | None] = [str(size), f"{min(counts)}-{max(counts)}"]
        for method in ("neighbourhoods", "full model"):
            row += [
                f"{statistics.median(walls[(size, method)]):.2f}",
                f"{statistics.median(ratios[(size, method)]):.3f}",
            ]
        table.append(row)
    columns = ["vols", "pairs", "neighbourhoods: wall s", "ratio", "full model: wall s", "ratio"]
    title = f"medians over seeds {args.seeds}; ratio: travel and load after / before (lower is better)"
    write_result("polish", command_line("benchmarks.polish"), [Table(columns, table, title)], skipped)


if __name__ == "__main__":
    main()
