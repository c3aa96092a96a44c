"""Group posts (format 2) at station size: proved optimal? how fast? how far below the LP bound?

Run ``python -m benchmarks.posts`` (part of ``make bench``).  For each seed it generates the
station-size city of :func:`matcher.synth.generate.generate_city_with_posts` (300 volunteers, 225
beneficiaries, a tenth of the needs posts of 2-8 volunteers at squares, crossroads, schools,
rivers and construction sites) and solves it twice: on the compact posts model alone (the
"compact" columns: a start from the posts placed greedily and the one-to-one needs solved by
today's pipeline on what they leave, then HiGHS on the whole model: the posts path before
column generation), and with :func:`matcher.solve.solve_any` (column generation first,
:mod:`matcher.search.posts_colgen`, the compact model as its fallback); beside them, in the same run, the
same seed's city without posts (:func:`~matcher.synth.generate.generate_city`, format 1) on
today's one-to-one pipeline, the baseline.  Every plan is checked by the solver-free validators.

For the posts city it also computes, independently of the engine's model, the optimum of the LP
relaxation of the natural model with posts, with HiGHS (``scipy.optimize.linprog``): a variable
per eligible volunteer on a need (``x``), per need and window chosen (``y``) and per volunteer at
a window of a need (``z``), with a need's run variable ``r``: ``sum_w y = sessions r``,
``z <= y``, ``sum_w z = sessions x``, ``min r <= sum_v x <= max r``, ``min y <= sum_v z <= max y``
per window, one session per volunteer and slot, hours, places (a site counts as one), the lead and
a minor beside an adult; objective ``sum priority x hours x sessions x x``.  (Eligibility, the
rules about one volunteer and one need alone, is the engine's :class:`PostInstance`'s.)  The
table gives the plan's coverage over that LP bound: posts loosen it, so a proved optimum sits a
few per cent below it.

Prints the table and writes ``benchmarks/results/posts-<date>.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from benchmarks.results import Table, add_seeds, command_line, seed_list, write_result
from matcher.format.schema import Plan, Plan2, Problem2
from matcher.format.validate import validate_plan
from matcher.format.validate2 import validate_plan2
from matcher.model.posts.instance import PostInstance
from matcher.search.posts import PostsResult, solve_posts
from matcher.solve import ONE_TO_ONE_SHARE, _posts_then_one_to_one, solve, solve_any
from matcher.synth.generate import generate_city, generate_city_with_posts

COLUMNS = [
    "seed",
    "needs",
    "posts",
    "compact s",
    "compact status",
    "compact coverage",
    "compact bound",
    "posts s",
    "posts status",
    "posts coverage",
    "bound",
    "LP bound",
    "coverage / LP",
    "posts run",
    "baseline s",
    "baseline status",
]


def lp_bound(problem: Problem2) -> Fraction:  # noqa: C901, PLR0912, PLR0915 (the LP, row by row, in one place)
    """The LP relaxation's optimum of the natural model with posts (see the module docstring)."""
    inst = PostInstance.of(problem)
    cols: list[float] = []  # objective (to minimise: negated)
    rows: list[int] = []
    idx: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def col(cost: float) -> int:
        cols.append(-cost)
        return len(cols) - 1

    def row(terms: list[tuple[int, float]], low: float, high: float) -> None:
        r = len(lo)
        for j, a in terms:
            rows.append(r)
            idx.append(j)
            vals.append(a)
        lo.append(low)
        hi.append(high)

    slot_use: dict[tuple[int, str], list[int]] = {}
    hours: dict[int, list[tuple[int, float]]] = {}
    places: dict[tuple[int, str], list[int]] = {}
    for pn in inst.needs:
        if len(pn.eligible) < pn.low:
            continue
        n = pn.need
        r = col(0.0)
        ys = {w: col(0.0) for w in n.windows}
        row([(y, 1.0) for y in ys.values()] + [(r, -float(n.sessions))], 0.0, 0.0)
        xs = {v: col(pn.unit_value / inst.scale) for v in pn.eligible}
        row([(x, 1.0) for x in xs.values()] + [(r, -float(pn.low))], 0.0, np.inf)
        row([(x, 1.0) for x in xs.values()] + [(r, -float(pn.high))], -np.inf, 0.0)
        at_window: dict[str, list[int]] = {w: [] for w in n.windows}
        for v, x in xs.items():
            zs = []
            for w in n.windows:
                if w in inst.free[v]:
                    z = col(0.0)
                    row([(z, 1.0), (ys[w], -1.0)], -np.inf, 0.0)
                    zs.append(z)
                    at_window[w].append(z)
                    slot_use.setdefault((v, w), []).append(z)
            row([(z, 1.0) for z in zs] + [(x, -float(n.sessions))], 0.0, 0.0)
            hours.setdefault(v, []).append((x, pn.unit_hours / inst.scale))
            places.setdefault((v, pn.place), []).append(x)
        for w, zs in at_window.items():
            row([(z, 1.0) for z in zs] + [(ys[w], -float(pn.low))], 0.0, np.inf)
            row([(z, 1.0) for z in zs] + [(ys[w], -float(pn.high))], -np.inf, 0.0)
        if n.lead is not None:
            row([(xs[v], 1.0) for v in pn.leads] + [(r, -1.0)], 0.0, np.inf)
        if pn.group:
            adults = [xs[v] for v in pn.eligible if not inst.volunteers[v].minor]
            for v in pn.eligible:
                if inst.volunteers[v].minor:
                    row([(a, 1.0) for a in adults] + [(xs[v], -1.0)], 0.0, np.inf)
    for zs in slot_use.values():
        if len(zs) > 1:
            row([(z, 1.0) for z in zs], -np.inf, 1.0)
    for v, terms in hours.items():
        row(terms, -np.inf, float(inst.max_hours[v]) / inst.scale)
    by_volunteer: dict[int, list[int]] = {}
    for (v, _), xs_at in places.items():
        u = col(0.0)
        for x in xs_at:
            row([(u, 1.0), (x, -1.0)], 0.0, np.inf)
        by_volunteer.setdefault(v, []).append(u)
    for v, us in by_volunteer.items():
        row([(u, 1.0) for u in us], -np.inf, float(inst.volunteers[v].max_beneficiaries))
    a = sp.csr_matrix((vals, (rows, idx)), shape=(len(lo), len(cols)))
    lo_a, hi_a = np.array(lo), np.array(hi)
    ub_rows = np.isfinite(hi_a)
    lb_rows = np.isfinite(lo_a)
    eq = ub_rows & lb_rows & (lo_a == hi_a)
    a_ub = sp.vstack([a[ub_rows & ~eq], -a[lb_rows & ~eq]])
    b_ub = np.concatenate([hi_a[ub_rows & ~eq], -lo_a[lb_rows & ~eq]])
    result = linprog(
        np.array(cols), A_ub=a_ub, b_ub=b_ub, A_eq=a[eq], b_eq=hi_a[eq], bounds=(0, 1), method="highs"
    )
    assert result.status == 0, result.message
    return Fraction(-result.fun).limit_denominator(1000)


def compact(problem: Problem2, time_limit: float) -> PostsResult:
    """The posts path before column generation: the start, then HiGHS on the compact model."""
    started = time.monotonic()
    start = _posts_then_one_to_one(problem, ONE_TO_ONE_SHARE * time_limit, None)
    return solve_posts(problem, time_limit - (time.monotonic() - started), start=start)


def measure(seed: int, volunteers: int, beneficiaries: int, time_limit: float) -> list[object]:
    """One seed: the posts city on the compact model alone (before), on the posts path (column
    generation first), the same city without posts on today's pipeline."""
    problem = generate_city_with_posts(volunteers, beneficiaries, seed=seed, time_limit_s=time_limit)
    started = time.perf_counter()
    before = compact(problem, time_limit)
    before_s = time.perf_counter() - started
    assert validate_plan2(problem, before.plan) == [], "compact plan invalid"
    started = time.perf_counter()
    result = solve_any(problem, time_limit)
    posts_s = time.perf_counter() - started
    assert isinstance(result.plan, Plan2)
    assert validate_plan2(problem, result.plan) == [], "posts plan invalid"
    lp = lp_bound(problem)
    posts_needs = {n.id for n in problem.needs if n.is_post}
    run = [a for a in result.plan.assignments if a.need in posts_needs]
    baseline = generate_city(volunteers, beneficiaries, seed=seed, time_limit_s=time_limit)
    started = time.perf_counter()
    base = solve(baseline, time_limit)
    base_s = time.perf_counter() - started
    assert isinstance(base.plan, Plan)
    assert validate_plan(baseline, base.plan) == [], "baseline plan invalid"
    return [
        seed,
        len(problem.needs),
        len(posts_needs),
        round(before_s, 2),
        before.plan.status,
        float(before.coverage),
        float(before.coverage_bound),
        round(posts_s, 2),
        result.plan.status,
        float(result.coverage),
        float(result.coverage_bound),
        round(float(lp), 1),
        round(float(result.coverage / lp), 4) if lp else None,
        f"{len(run)} ({sum(len(a.volunteers) for a in run)} vol.)",
        round(base_s, 2),
        base.plan.status,
    ]


def main(argv: list[str] | None = None) -> None:
    """Measure each seed, print the table and write the result file."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_seeds(args, "1,2,3,4,5,6,7,8,9,10")
    args.add_argument("--volunteers", type=int, default=300)
    args.add_argument("--beneficiaries", type=int, default=225)
    args.add_argument("--time-limit", type=float, default=20.0, help="seconds per solve")
    opts = args.parse_args(argv)
    rows = []
    for seed in seed_list(opts.seeds):
        row = measure(seed, opts.volunteers, opts.beneficiaries, opts.time_limit)
        print(*row, sep="\t", flush=True)
        rows.append(row)

    def col(name: str) -> list[float]:
        return [float(str(r[COLUMNS.index(name)])) for r in rows]

    def status(name: str) -> int:
        return sum(1 for r in rows if r[COLUMNS.index(name)] == "optimal")

    lp = col("LP bound")
    ratios = col("coverage / LP")
    before_ratio = [c / x for c, x in zip(col("compact coverage"), lp, strict=True)]
    bound_ratio = [c / x for c, x in zip(col("bound"), lp, strict=True)]
    before_bound = [c / x for c, x in zip(col("compact bound"), lp, strict=True)]
    med = statistics.median
    notes = [
        f"posts path (column generation first): {status('posts status')}/{len(rows)} proved optimal; median "
        f"solve {med(col('posts s')):.2f} s (limit {opts.time_limit:g} s); coverage / LP bound median "
        f"{med(ratios):.4f}, min {min(ratios):.4f}, max {max(ratios):.4f}; bound / LP median "
        f"{med(bound_ratio):.4f}.",
        f"compact model alone (before, same seeds): {status('compact status')}/{len(rows)} proved; median "
        f"{med(col('compact s')):.2f} s; coverage / LP median {med(before_ratio):.4f}; bound / LP median "
        f"{med(before_bound):.4f}.",
        f"baseline (same seeds, no posts, today's pipeline): {status('baseline status')}/{len(rows)} proved, "
        f"median {med(col('baseline s')):.2f} s.",
        "Coverage counts each volunteer on a post (priority x hours x sessions x volunteers); 'bound' is the "
        "engine's proved bound (column generation's Lagrangian bound, or the compact model's: the lower), "
        "'LP bound' the benchmark's own LP of the natural model with posts.",
    ]
    for line in notes:
        print(line)
    write_result("posts", command_line("benchmarks.posts"), [Table(COLUMNS, rows)], notes)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
