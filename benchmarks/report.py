"""Rebuild docs/benchmarks.md from the newest result file of each benchmark.

Run ``python -m benchmarks.report`` (``make bench`` runs it after the benchmarks).  It reads
``benchmarks/results/<name>-<date>.json`` (:mod:`benchmarks.results`; ``--results-dir`` or
``LINLI_BENCH_RESULTS`` for another directory), takes the newest date of each benchmark,
and writes one section per benchmark: what it measures and how to read it, when, where and
from which commit it was measured, the command, its tables and notes.  Older result files
are listed, not shown.  The page is generated: edit the texts here, not the page.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

from benchmarks.results import ROOT, Result, Table, cell_text, results_dir

WIDTH = 96
"""Prose is wrapped at this width."""

NAME = re.compile(r"^(?P<name>[a-z_]+)-(?P<date>\d{4}-\d{2}-\d{2})\.json$")

ABOUT: dict[str, tuple[str, str]] = {
    "engine": (
        "Engine: Linli against a greedy baseline, and the time to prove a station plan",
        "Generated cities (`linli generate`, beneficiaries three quarters of the volunteers) "
        "solved by Linli and by a first-fit greedy baseline (`benchmarks/greedy_baseline.py`) in "
        "the same run. `build s` covers compiling, eligible pairs, the greedy plan and (station "
        "size) the model; `solve s` the rest; `proved s` when coverage was proved optimal, from "
        "the start of the call (`-`: not proved). The proof tables time the proof on several "
        "cities per station size for Linli as shipped, HiGHS on the full model alone "
        "(`full-model`) and CP-SAT proving (`cp-sat`). Seconds depend on the machine and its "
        "load: compare the ratios to Linli in the same run, and coverage/bound, across dates.",
    ),
    "posts": (
        "Group posts (format 2) at station size",
        "Generated 300-volunteer cities with a tenth of the needs posts of 2-8 volunteers "
        "(`generate_city_with_posts`), solved within `--time-limit` twice: on the compact posts "
        "model alone (`compact`: the start, posts placed greedily, then the one-to-one needs by "
        "today's pipeline on what they leave; then HiGHS on the whole model: its LP relaxation, "
        "then branch-and-cut) and by `solve_any` (`posts`: the same start, then column generation, "
        "`matcher/search/posts_colgen.py`, with the compact model as its fallback); beside "
        "them, in the same run, the same seeds without posts on today's one-to-one pipeline "
        "(`baseline`). `bound` is the engine's own proved bound (column generation's Lagrangian "
        "bound, or the compact model's: the lower); `LP bound` the benchmark's independent LP "
        "relaxation of the natural model with posts, and `coverage / LP` the plan's coverage over "
        "it (posts loosen that LP: a proved optimum sits a few per cent below). Coverage counts "
        "every volunteer on a post.",
    ),
    "before_after": (
        "One-to-one cities before and after format 2, interleaved",
        "Issue 20 asks that pure one-to-one cities get no slower and no worse for group posts. "
        "Each generated city (beneficiaries three quarters of the volunteers) is solved by "
        "`solve()` on the code before format 2 (a worktree of that commit) and on this one, each "
        "in a fresh process, alternating which goes first so that other load on the machine falls "
        "on both alike. `proved s`: seconds to the proof of optimality (`-`: not proved within "
        "the limit, counted as the limit in the medians).",
    ),
    "posts_city": (
        "Group posts (format 2) at city size",
        "Generated cities of 4,000 and 20,000 volunteers with a tenth of the needs posts "
        "(`generate_city_with_posts`), solved by `solve_any` at the size's time limit (the city "
        "route, `matcher/search/posts_city.py`: posts as one-to-one seats at a fixed window set, "
        "today's pipeline, then a repair), every plan checked by `validate_plan2`; beside them, in "
        "the same run, the same cities without posts by `solve` (`baseline`). `natural LP bound "
        "(Lagrangian)`: an upper bound on the LP relaxation of the natural model with posts (a "
        "variable per volunteer on a need, per post and window chosen, per volunteer at a window), "
        "computed in the benchmark independently of the engine's solvers: the least Lagrangian "
        "dual value (coupling rows dualised, each need's subproblem solved in closed form) of a "
        "subgradient run of `bound s` seconds, every value of which is a valid bound (weak "
        "duality; `benchmarks/posts_lagrange.py`), so `coverage / bound` understates coverage over "
        "that LP. At station size `exact LP` is that LP solved by HiGHS (`benchmarks.posts`) and "
        "`bound / exact LP` how far above it the run stopped. `demand bound` is Linli's own bound "
        "on this route.",
    ),
    "city": (
        "City scale: against the natural model's LP bound",
        "One city per size, each method in a fresh process: Linli with the size's time limit, "
        "the greedy baseline, and the LP relaxation of the natural model (a variable per "
        "eligible pair and usable slot, solved by HiGHS; valid from its duals whatever the "
        "tolerance). `wall s` includes reading the problem; `peak MB` is the solving process's "
        "`ru_maxrss` plus its largest helper's. `cov/LP` and `cov/Linli` are coverage over the "
        "LP bound and over Linli's own bound: the figures to compare across runs.",
    ),
    "resolve": (
        "Re-solve after cancellations",
        "A generated city is solved (the plan in force), 5% of its volunteers withdraw for the "
        "week, and in the same run it is re-solved keeping what still holds (`resolve`), "
        "re-solved with `--allow-moves 5`, and the changed problem solved from scratch "
        "(`fresh`). `changed` counts the needs whose volunteer or slots differ from the plan in "
        "force. Read the ratios against the fresh solve: time, churn (changed needs) and "
        "coverage.",
    ),
    "polish": (
        "Levels 2-3: continuity, travel and load after the proof",
        "Coverage is proved, then continuity and travel-and-load are improved from the same "
        "plan two ways, each with the budget `solve` gives them: neighbourhoods (`lns.polish`, "
        "what `solve` runs above 500 pairs) and the full model's CP-SAT phases (what it runs up "
        "to 500 pairs). `ratio` is the polished plan's travel-and-load over the proved plan's "
        "(lower is better); every plan is validated and keeps the proved coverage.",
    ),
    "scenarios": (
        "Coverage scenarios: Monte Carlo throughput",
        "A winter-attrition scenario (20% attrition, a third of evening slots lost) simulated "
        "with one worker and with two worker processes. Wall time includes the pool start-up "
        "and the base solve; `settled` counts runs proved optimal with every phase done; "
        "`same` says whether the 2-worker report equals the 1-worker one (it must). The second "
        "table runs shipped scenarios at station size, one worker, advice off: two one-to-one "
        "ones beside the post-heavy 文明劝导周末 (`civility-weekend`) and 植树节 (`tree-planting`), "
        "with coverage over the runs, posts run of posts held (means) and solver seconds per run.",
    ),
    "api_latency": (
        "Service: read latency while a city solve runs",
        "`linli serve` on a seeded 300-volunteer SQLite database; sequential reads with no "
        "solve running (`baseline`), while a 4,000-volunteer problem is uploaded to "
        "`POST /v1/solve` (`submit`), and while it solves in its job process (`solving`). "
        "`p50 x` and `p99 x` are ratios to the baseline of the same run.",
    ),
    "web_pages": (
        "Web app: page server time, and 生成排班 to the grid",
        "`linli serve` on a seeded SQLite database: one station of 300 volunteers, and a centre "
        "of 4,000 volunteers in 20 stations. Pages are read with a session cookie after logging "
        "in through the login page; `p50 x` is the page's median over the API's cheapest read "
        "(`GET /v1/stations`) in the same run. 生成排班 to the grid is the time from posting the "
        "generate form to the grid page, polling the progress panel every second as the page "
        "does, idle and while an integrator's 4,000-volunteer city solve runs on the service.",
    ),
    "fairness": (
        "Service: job fairness and durability",
        "On a real `linli serve` with the default settings: how long a station plan takes from "
        "POST to done alone and while an integrator's long job solves (one slot is kept for "
        "station plans), how long a DELETE of a queued job takes, and what a `kill -9` of the "
        "server with jobs in flight leaves: whether its processes end and the jobs run again.",
    ),
    "ledger": (
        "Service: year ledger (年度台账) generation",
        "An SQLite database seeded with a year of service: 52 weekly plan versions a station (every "
        "fourth week re-solved once) and a record for every session of each week's current version. "
        "`ledger figures` is what `GET /v1/stations/{id}/ledger` computes, `workbook` writes the "
        ".xlsx from them, `ledger.xlsx` is both (`linli ledger`); `x` is the time over reading the "
        "year's record rows alone in the same run.",
    ),
    "certificate": (
        "Service: 志愿服务证明 (service-hour certificate) generation",
        "An SQLite database with the demo city and a year of one volunteer's served sessions "
        "(52 weekly plan versions). `gather` is what the certificate route computes (sessions, "
        "programmes, star level, the verification code's row), `pdf` the PDF from it, "
        "`certificate` both; `x records` is the time over listing the same records as "
        "`GET /v1/records` does, in the same run.",
    ),
    "delivery": (
        "Service: webhook delivery throughput",
        "Messages per second delivered to a local receiver (its own process, answering 200) from "
        "2,000 outbox messages of one publication to one endpoint, SQLite. `dispatcher` is "
        "`api.delivery.Dispatcher` from the messages' commit until all are recorded delivered "
        "(fan-out, claims, signed POSTs, each outcome and its log line); `plain POSTs` the same "
        "signed bodies POSTed with httpx, as many at once, without the database, in the same run. "
        "`x plain` is the dispatcher's rate over the plain one.",
    ),
    "delivery_postgresql": (
        "Service: webhook delivery throughput on PostgreSQL",
        "As the SQLite table above, on the local PostgreSQL server "
        "(`python -m benchmarks.delivery --database postgresql+psycopg://…`).",
    ),
    "audit": (
        "Service: the audit log's cost",
        "The same requests with the audit capture on and off, alternately, in one process: a CSV "
        "import of 300 volunteers (600 entries), a PATCH of one volunteer (one entry), and a GET "
        "(none: the noise floor); `ratio` is audited over not audited.",
    ),
    "calendar": (
        "Service: a volunteer's calendar feed",
        "An SQLite database with the demo city and the 13 weeks a feed shows, each with a published "
        "version and a newer draft holding the station's whole week problem; one volunteer has 3 "
        "sessions a week. `sessions` reads the published sessions, `render` writes the iCalendar "
        "document, `feed` is what `GET /cal/<secret>.ics` does (the link's digest looked up, then "
        "both; the feed is built at each request); `x volunteer` is the time over reading one "
        "volunteer as `GET /v1/stations/{id}/volunteers/{vid}` does, in the same run.",
    ),
    "contacts": (
        "Service: masking contact details in lists",
        "One station of a 4,000-volunteer demo city: its volunteers and beneficiaries built and "
        "serialised to JSON as the list routes answer them (contact details masked, "
        "`VolunteerListItem`) and as a person's own record (`VolunteerPublic`, in full), alternately "
        "in one process; `ratio` is masked over not masked. The GET row is the whole list route.",
    ),
    "standins": (
        "Stand-ins (备选志愿者) and the one-click swap",
        "Generated cities (300 and 4,000 volunteers, as `benchmarks.city`) solved once; then every "
        "assignment's ranked stand-ins (`matcher.standins.standins`, 3 per session and per "
        "assignment, compiling included) timed against that solve in the same run: at station size "
        "within 10% of the solve, at 4,000 volunteers within 2 s. Then random single-session "
        "cancellations of each plan: covered when the session has a first-ranked stand-in and the "
        "plan with the swap passes the independent validator. Last, the work of `GET /v1/plans/{id}` "
        "on the demo station before stand-ins (`versions.describe`) and with them, reliability "
        "read from the records, and a swap's (`swap_version`: the next version validated and stored).",
    ),
}
"""Benchmark -> (section title, what it measures and how to read it), in the page's order."""

HEAD = """\
# Benchmarks

<!-- Generated by `python -m benchmarks.report` from benchmarks/results/: do not edit by hand. -->

`make bench` runs the benchmarks (never part of `make test`; several take minutes), each of
which writes its result as a dated file under `benchmarks/results/` (the command, the machine,
the git commit and the table rows), and then rebuilds this page from the newest file of each
benchmark. Run one benchmark alone with `python -m benchmarks.<name>`, then
`python -m benchmarks.report`.

Absolute seconds depend on the machine and on what else runs on it: most benchmarks therefore
compare methods within one run (Linli against a baseline, a re-solve against a fresh solve,
loaded against idle), and it is those ratios that can be compared between dates. Results marked
*carried over* were measured before result files existed and copied from the README of that
time, with the dates given there.
"""


def newest(directory: Path) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    """The newest result file of each benchmark, and the older ones (newest first)."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for path in directory.glob("*.json"):
        match = NAME.match(path.name)
        if match:
            found.setdefault(match["name"], []).append((match["date"], path))
    latest, older = {}, {}
    for name, dated in found.items():
        dated.sort(reverse=True)
        latest[name] = dated[0][1]
        older[name] = [p for _, p in dated[1:]]
    return latest, older


def escape(text: str) -> str:
    """A cell's text for a Markdown table."""
    return text.replace("|", "\\|") or " "


def markdown_table(table: Table) -> list[str]:
    """A table as Markdown lines (first column left-aligned, the rest right-aligned)."""
    align = [":---"] + ["---:"] * (len(table.columns) - 1)
    lines = [
        "| " + " | ".join(escape(c) for c in table.columns) + " |",
        "| " + " | ".join(align) + " |",
    ]
    lines += ["| " + " | ".join(escape(cell_text(c)) for c in row) + " |" for row in table.rows]
    return lines


def link(path: Path, page: Path) -> str:
    """A relative link from the page to a file in the repository."""
    try:
        target = path.resolve().relative_to(ROOT)
        base = page.resolve().parent.relative_to(ROOT)
    except ValueError:
        return f"`{path.name}`"
    up = "/".join([".."] * len(base.parts))
    return f"[`{path.name}`]({up + '/' if up else ''}{target.as_posix()})"


def section(name: str, result: Result, path: Path, older: Sequence[Path], page: Path) -> list[str]:
    """One benchmark's section."""
    title, about = ABOUT.get(name, (name, ""))
    lines = [f"## {title}", ""]
    if about:
        lines += [textwrap.fill(about, WIDTH), ""]
    when = f"{result.date} {result.time}".strip()
    if result.carried_over:
        said = (
            f"*Carried over* from {result.carried_over}: newest figures {when}, {result.machine}, "
            f"commit {result.commit} ({link(path, page)})."
        )
    else:
        said = f"Measured {when} on {result.machine}, commit `{result.commit}` ({link(path, page)}):"
    lines += [textwrap.fill(said, WIDTH, break_on_hyphens=False), ""]
    if not all(t.command for t in result.tables):
        lines += ["```", result.command, "```", ""]
    for table in result.tables:
        if table.title:
            lines += [f"**{table.title}**", ""]
        if table.command and table.command != result.command:
            lines += ["```", table.command, "```", ""]
        lines += [*markdown_table(table), ""]
    for note in result.notes:
        lines += [textwrap.fill(note, WIDTH, break_on_hyphens=False), ""]
    if older:
        lines += ["Older results: " + ", ".join(link(p, page) for p in older) + ".", ""]
    return lines


def render(directory: Path, page: Path) -> str:
    """The page's Markdown, from the result files in ``directory``."""
    latest, older = newest(directory)
    lines = [HEAD]
    order = [n for n in ABOUT if n in latest] + sorted(n for n in latest if n not in ABOUT)
    if not order:
        lines.append(f"No result files in `{directory.name}/` yet: run `make bench`.\n")
    for name in order:
        result = Result.from_json(json.loads(latest[name].read_text(encoding="utf-8")))
        lines += section(name, result, latest[name], older[name], page)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the page."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results-dir", type=Path, default=None, help="default: benchmarks/results")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the page to write")
    args = ap.parse_args(argv)
    directory = args.results_dir or results_dir()
    args.out.write_text(render(directory, args.out), encoding="utf-8")
    print(f"{args.out}: {len(newest(directory)[0])} benchmarks")


if __name__ == "__main__":
    main()
