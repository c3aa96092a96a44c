"""What ``linli simulate`` writes: ``report.json``, PNG charts and a Markdown summary; and
``linli compare``'s side-by-side table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matcher.format.errors import InputError
from matcher.format.report import CATEGORY_NAMES

REASON_TEXT: dict[str, str] = {
    "no_volunteer_with_skill_in_reach": "no volunteer with the skill in reach",
    "no_certified_volunteer": "no volunteer with a valid certificate",
    "minor_not_allowed": "only little volunteers (minors) could take it",
    "gender_mismatch": "no volunteer of the requested gender",
    "volunteer_excluded": "the beneficiary excluded the candidates",
    "no_available_slot": "no candidate free in its time windows",
    "exceeds_max_hours": "too long for the candidates' weekly hours",
    "no_beneficiary_capacity": "candidates take no more beneficiaries",
    "too_few_volunteers_together": "too few eligible volunteers free together for the post",
    "no_lead_volunteer": "no eligible volunteer holds the post's lead",
    "no_adult_alongside": "only minors free together for the post, no adult beside them",
    "capacity_taken": "candidates' time went to more urgent needs",
}


def _num(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def write_report(report: dict[str, Any], out: Path) -> list[Path]:
    """Write ``report.json``, ``coverage.png``, ``districts.png``, ``categories.png`` and ``summary.md``.

    Parameters
    ----------
    report
        A report from :func:`scenarios.simulate.simulate`.
    out
        The output directory (created if needed).

    Returns
    -------
    list[Path]
        The files written.

    Raises
    ------
    InputError
        If the directory cannot be written (``--out: ...``).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        files = [out / "report.json", out / "coverage.png", out / "districts.png", out / "categories.png"]
        files[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        coverage_chart(report, files[1])
        bars_chart(report, "by_district", "Coverage by district", files[2])
        bars_chart(report, "by_category", "Coverage by category", files[3])
        summary = out / "summary.md"
        summary.write_text(markdown(report), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out: cannot write {out} ({exc.strerror})") from None
    return [*files, summary]


def coverage_chart(report: dict[str, Any], path: Path) -> None:
    """Histogram of the runs' coverage share, with the base and the mean marked.

    Parameters
    ----------
    report
        The report.
    path
        The PNG to write.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    values = [r["coverage_pct"] for r in report["per_run"] if r["coverage_pct"] is not None]
    total = report["total"]["coverage_pct"]
    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.hist(values, bins=min(20, max(5, len(values) // 2)), color="#4c78a8", edgecolor="white")
    if total["base"] is not None:
        ax.axvline(total["base"], color="#444444", linestyle="--", label=f"base {total['base']:.1f}%")
    if total["mean"] is not None:
        ax.axvline(total["mean"], color="#e45756", label=f"mean {total['mean']:.1f}%")
        ax.axvspan(total["p5"], total["p95"], color="#e45756", alpha=0.12, label="p5-p95")
    ax.set_xlabel("coverage of priority-weighted hours (%)")
    ax.set_ylabel("runs")
    ax.set_title(f"{report['scenario']['name']}: coverage over {report['runs']['count']} runs")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)


def bars_chart(report: dict[str, Any], axis: str, title: str, path: Path) -> None:
    """Bars of the base's and the runs' mean coverage share per district or category (p5-p95 whiskers).

    Parameters
    ----------
    report
        The report.
    axis
        ``by_district`` or ``by_category``.
    title
        Chart title.
    path
        The PNG to write.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cells = report[axis]
    keys = list(cells)
    base = [cells[k]["coverage_pct"]["base"] or 0.0 for k in keys]
    mean = [cells[k]["coverage_pct"]["mean"] or 0.0 for k in keys]
    low = [max(0.0, m - (cells[k]["coverage_pct"]["p5"] or 0.0)) for k, m in zip(keys, mean, strict=True)]
    high = [max(0.0, (cells[k]["coverage_pct"]["p95"] or 0.0) - m) for k, m in zip(keys, mean, strict=True)]
    fig = Figure(figsize=(max(6.0, 0.9 * len(keys) + 2), 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(keys)))
    ax.bar([i - 0.2 for i in x], base, width=0.4, color="#bab0ac", label="base")
    ax.bar(
        [i + 0.2 for i in x],
        mean,
        width=0.4,
        color="#4c78a8",
        yerr=[low, high],
        capsize=3,
        label="scenario mean",
    )
    ax.set_xticks(x, keys, rotation=30 if len(keys) > 5 else 0, ha="right" if len(keys) > 5 else "center")
    ax.set_ylim(0, 105)
    ax.set_ylabel("coverage (%)")
    ax.set_title(f"{report['scenario']['name']}: {title.lower()} (p5-p95 whiskers)")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)


def _row(name: str, cell: dict[str, Any]) -> str:
    pct, unmet = cell["coverage_pct"], cell["unmet_hours"]
    change = None if pct["mean"] is None or pct["base"] is None else pct["mean"] - pct["base"]
    sign = "" if change is None or change < 0 else "+"
    return (
        f"| {name} | {_num(pct['base'])}% | {_num(pct['mean'])}% | {_num(pct['p5'])}-{_num(pct['p95'])}% "
        f"| {sign}{_num(change)} | {_num(unmet['base'])} | {_num(unmet['mean'])} |"
    )


def _posts_lines(posts: dict[str, Any] | None) -> list[str]:
    """The group posts paragraph of a scenario with posts (none for a one-to-one scenario)."""
    if not posts:
        return []
    run = posts["run"]
    lines = [
        "",
        "## Group posts",
        "",
        f"**{_num(run['mean'])}** of {_num(posts['posts']['mean'])} posts run on average (5-95% of runs: "
        f"{_num(run['p5'])}-{_num(run['p95'])}), with {_num(posts['volunteers']['mean'])} volunteers on them "
        f"and {_num(posts['places_open']['mean'])} places still open; {_num(posts['not_run']['mean'])} "
        "cannot run.",
    ]
    if posts.get("unmet_reasons"):
        lines.append("")
        lines += [
            f"- {REASON_TEXT.get(r['reason'], r['reason'])} (`{r['reason']}`): "
            f"{r['posts_mean']:.1f} posts a week"
            for r in posts["unmet_reasons"]
        ]
    return lines


def markdown(report: dict[str, Any]) -> str:
    """A short summary a coordinator can read.

    Parameters
    ----------
    report
        The report.

    Returns
    -------
    str
        Markdown text.
    """
    sc, total, runs = report["scenario"], report["total"], report["runs"]
    pct, unmet = total["coverage_pct"], total["unmet_hours"]
    lines = [f"# Scenario: {sc['name']}", ""]
    if sc["description"]:
        lines += [sc["description"], ""]
    b = report["base"]
    lines += [
        f"Base week: {b['volunteers']} volunteers, {b['beneficiaries']} beneficiaries, {b['needs']} needs "
        f"in {b['districts']} districts. {runs['count']} runs (seed {sc['seed']}, "
        f"{sc['time_limit']:g} s per solve).",
        "",
        f"**Coverage** of priority-weighted hours: **{_num(pct['mean'])}%** on average "
        f"(5-95% of runs: {_num(pct['p5'])}-{_num(pct['p95'])}%), against {_num(pct['base'])}% "
        f"in the unperturbed week. Unmet hours: {_num(unmet['mean'])} a week on average "
        f"(base {_num(unmet['base'])}).",
        "",
        "| category | base | mean | p5-p95 | change (points) | unmet h base | unmet h mean |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [_row(CATEGORY_NAMES.get(k, k), c) for k, c in report["by_category"].items()]
    lines += [
        "",
        "| district | base | mean | p5-p95 | change (points) | unmet h base | unmet h mean |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [_row(k, c) for k, c in report["by_district"].items()]
    lines += _posts_lines(report.get("posts"))
    lines += ["", "## Why needs stay unmet", ""]
    if report["unmet_reasons"]:
        for r in report["unmet_reasons"]:
            lines.append(
                f"- {REASON_TEXT.get(r['reason'], r['reason'])} (`{r['reason']}`): "
                f"{r['needs_mean']:.1f} needs a week (base {r['needs_base']})"
            )
    else:
        lines.append("- Every need is met in every run.")
    lines += ["", "## Recruit first", ""]
    if report["recruit_first"]:
        for k, r in enumerate(report["recruit_first"], 1):
            certs = f", certified {', '.join(r['certifications'])}" if r["certifications"] else ""
            lines.append(
                f"{k}. {r['recruits']} `{r['skill']}` volunteers in {r['district']} "
                f"({r['availability']} availability{certs}): +{r['coverage_gain']:.1f} priority-weighted "
                f"hours (+{r['coverage_gain_pct_points']:.1f} points), mean of {r['runs']} paired runs"
            )
    else:
        lines.append("- No advice computed (`advice.candidates: 0`, or nothing left unmet).")
    lines += ["", "## Caveats", ""]
    lines.append(
        f"- {runs['settled']} of {runs['count']} runs finished their solve within the time limit "
        f"({runs['optimal']} proved optimal); those numbers are reproducible with the same seed on any "
        "number of workers."
    )
    if runs["unsettled"]:
        shown = ", ".join(map(str, runs["unsettled"][:10])) + (" ..." if len(runs["unsettled"]) > 10 else "")
        lines.append(
            f"- Cut short by the time limit: run(s) {shown}. Their numbers may move slightly on a busier "
            "machine: raise `time_limit` or use a smaller base."
        )
    lines.append("- Charts: `coverage.png`, `districts.png`, `categories.png`; all figures: `report.json`.")
    return "\n".join(lines) + "\n"


def _pct_cell(cell: dict[str, Any] | None, full: bool = False) -> str:
    if cell is None:
        return "-"
    s = cell["coverage_pct"]
    if full:
        return f"{_num(s['mean'])}% ({_num(s['p5'])}-{_num(s['p95'])}; base {_num(s['base'])})"
    return f"{_num(s['mean'])} ({_num(s['base'])})"


def _first_recruit(report: dict[str, Any]) -> str:
    if not report["recruit_first"]:
        return "-"
    r = report["recruit_first"][0]
    return f"{r['skill']} in {r['district']} (+{r['coverage_gain']:.1f})"


def compare_table(reports: Sequence[dict[str, Any]]) -> str:
    """Put scenarios side by side: coverage and unmet hours, total, by category and by district.

    Parameters
    ----------
    reports
        Two (or more) reports.

    Returns
    -------
    str
        A Markdown document.
    """
    head = "| | " + " | ".join(r["scenario"]["name"] for r in reports) + " |"
    rule = "|---|" + "---|" * len(reports)

    def row(label: str, values: Sequence[str]) -> str:
        return f"| {label} | " + " | ".join(values) + " |"

    lines = ["# Scenarios side by side", "", head, rule]
    lines.append(row("runs", [str(r["runs"]["count"]) for r in reports]))
    lines.append(row("coverage (mean, p5-p95, base)", [_pct_cell(r["total"], full=True) for r in reports]))
    lines.append(row("unmet hours (mean)", [_num(r["total"]["unmet_hours"]["mean"]) for r in reports]))
    lines.append(row("volunteers serving (mean)", [_num(r["total"]["volunteers"]["mean"]) for r in reports]))
    lines.append(
        row(
            "top unmet reason",
            [r["unmet_reasons"][0]["reason"] if r["unmet_reasons"] else "-" for r in reports],
        )
    )
    lines.append(row("recruit first", [_first_recruit(r) for r in reports]))
    for axis, title in (("by_category", "category"), ("by_district", "district")):
        keys: list[str] = []
        for r in reports:
            keys += [k for k in r[axis] if k not in keys]
        lines += ["", f"Coverage by {title} (mean %, base in brackets):", "", head, rule]
        for k in keys:
            lines.append(row(CATEGORY_NAMES.get(k, k), [_pct_cell(r[axis].get(k)) for r in reports]))
    return "\n".join(lines) + "\n"


def load_report(path: Path) -> dict[str, Any]:
    """Read a ``report.json`` (or the directory holding one).

    Parameters
    ----------
    path
        The file or directory.

    Returns
    -------
    dict
        The report.

    Raises
    ------
    InputError
        If it cannot be read or is not a report.
    """
    file = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{file}: cannot read file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{file}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != 1 or "total" not in data:
        raise InputError(f"{file}: not a linli simulate report")
    return data
