"""Benchmark result files (benchmarks/results.py) and the page built from them (benchmarks/report.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

# `benchmarks` is not an installed package: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import report
from benchmarks.results import DEFAULT_DIR, ROOT, Result, Table, text_table, write_result


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, 5, 30, tzinfo=dt.UTC)


def test_write_result_records_the_run(tmp_path: Path) -> None:
    table = Table(["size", "wall s", "proved s"], [["station", "0.80", None]], title="seed 1")
    path = write_result(
        "engine", "python -m benchmarks.engine --sizes 300", [table], ["a note"], tmp_path, at(6)
    )
    assert path == tmp_path / "engine-2026-12-06.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["benchmark"] == "engine" and data["date"] == "2026-12-06" and data["time"] == "05:30 UTC"
    assert data["command"] == "python -m benchmarks.engine --sizes 300"
    assert "cores" in data["machine"] and data["commit"]
    assert data["tables"] == [
        {
            "columns": ["size", "wall s", "proved s"],
            "rows": [["station", "0.80", None]],
            "title": "seed 1",
            "command": "",
        }
    ]
    assert data["notes"] == ["a note"] and data["carried_over"] == ""
    assert Result.from_json(data).tables[0].rows == [["station", "0.80", None]]


def test_results_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_BENCH_RESULTS", str(tmp_path / "elsewhere"))
    path = write_result("polish", "python -m benchmarks.polish", [Table(["a"], [[1]])], now=at(6))
    assert path == tmp_path / "elsewhere" / "polish-2026-12-06.json"


def test_the_page_shows_the_newest_result_of_each_benchmark(tmp_path: Path) -> None:
    old = Table(["method", "coverage"], [["linli", "2447.5"]])
    new = Table(["method", "coverage"], [["linli", "2450.0"], ["greedy", None]])
    write_result("engine", "python -m benchmarks.engine", [old], directory=tmp_path, now=at(1))
    write_result("engine", "python -m benchmarks.engine --seed 2", [new], ["x | y"], tmp_path, at(6))
    write_result("resolve", "python -m benchmarks.resolve", [old], directory=tmp_path, now=at(3))
    (tmp_path / "notes.json").write_text("{}")  # not a result file: ignored
    page = report.render(tmp_path, tmp_path / "benchmarks.md")
    engine, resolve = page.index("## Engine"), page.index("## Re-solve")
    assert engine < resolve  # the page's order, not the files'
    assert "| linli | 2450.0 |" in page and "| greedy | - |" in page and "2447.5 |" in page[resolve:]
    assert "2447.5" not in page[engine:resolve]
    assert "python -m benchmarks.engine --seed 2" in page and "Measured 2026-12-06 05:30 UTC" in page
    assert "Older results: `engine-2026-12-01.json`" in page
    assert "x | y" in page  # notes are prose, not table cells


def test_carried_over_results_say_so(tmp_path: Path) -> None:
    data = {
        "benchmark": "city",
        "date": "2026-11-30",
        "time": "",
        "command": "python -m benchmarks.city",
        "machine": "2 cores",
        "commit": "not recorded",
        "tables": [{"columns": ["size"], "rows": [["4000"]], "command": "python -m benchmarks.city --no-lp"}],
        "notes": [],
        "carried_over": "the README",
    }
    (tmp_path / "city-2026-11-30.json").write_text(json.dumps(data))
    page = report.render(tmp_path, tmp_path / "benchmarks.md")
    assert "*Carried over* from the README" in page
    assert "python -m benchmarks.city --no-lp" in page and "\npython -m benchmarks.city\n" not in page


def test_text_table_aligns_columns() -> None:
    assert text_table(["size", "wall s"], [["station", 0.8], ["city", None]]).splitlines() == [
        "size     wall s",
        "station     0.8",
        "city          -",
    ]


def test_docs_benchmarks_md_is_generated_from_the_result_files() -> None:
    page = ROOT / "docs" / "benchmarks.md"
    assert page.read_text(encoding="utf-8") == report.render(DEFAULT_DIR, page), (
        "docs/benchmarks.md is out of date: run python -m benchmarks.report"
    )
    assert "../shared" not in page.read_text(encoding="utf-8")
