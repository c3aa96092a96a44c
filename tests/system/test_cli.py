"""The ``linli`` command line: solve, validate, generate, and one-line errors for bad input.

Exit codes (``linli/cli.py``): 0 success, 1 an invalid plan, 2 bad input with exactly one
``error:`` line on stderr that names the field, and never a traceback.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import SPEC_DIR, Doc, load_example_doc, make_problem, need, to_problem, volunteer

from linli.cli import main
from matcher.format.io import load_plan, parse
from matcher.format.schema import Plan, Plan2, Problem2
from matcher.format.validate import validate_plan
from matcher.format.validate2 import validate_plan2

CLI_TIMEOUT = 120


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``linli`` in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, doc: Doc | str) -> Path:
    """Write a document (dict as JSON, or raw text) and return the path."""
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def assert_one_error(code: int, out: str, err: str, *fragments: str) -> None:
    """Exit 2, nothing on stdout, one stderr line ``error: ...`` containing every fragment."""
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ---------------------------------------------------------------------------------- solve


def test_solve_writes_a_valid_plan_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`linli solve` prints a format-1 plan that validates, with the example's coverage 43."""
    doc = load_example_doc()
    problem_file = write(tmp_path / "problem.json", doc)
    code, out, err = run(["solve", str(problem_file), "--time-limit", "5"], capsys)
    assert code == 0, err
    plan = parse(Plan, out, "stdout")
    assert plan.objective.coverage == 43
    assert plan.status == "optimal"
    assert validate_plan(to_problem(doc), plan) == []


def test_solve_writes_a_valid_plan_to_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`linli solve --out` writes the plan to the file (creating folders) and not to stdout."""
    doc = load_example_doc()
    problem_file = write(tmp_path / "problem.json", doc)
    out_file = tmp_path / "deep" / "plan.json"
    code, out, err = run(["solve", str(problem_file), "--out", str(out_file), "--time-limit", "5"], capsys)
    assert code == 0, err
    assert out == ""
    plan = load_plan(out_file)
    assert plan.objective.coverage == 43
    assert validate_plan(to_problem(doc), plan) == []


def test_solve_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--summary` with `--out` prints a report on stdout and still writes a valid plan."""
    doc = load_example_doc()
    problem_file = write(tmp_path / "problem.json", doc)
    out_file = tmp_path / "plan.json"
    code, out, err = run(
        ["solve", str(problem_file), "--out", str(out_file), "--summary", "--time-limit", "5"], capsys
    )
    assert code == 0, err
    assert "coverage" in out and "43" in out
    assert validate_plan(to_problem(doc), load_plan(out_file)) == []


def test_solve_standins_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--standins K` adds each session's ranked stand-ins; without it the plan has no such field."""
    doc = load_example_doc()
    wang = next(v for v in doc["volunteers"] if v["id"] == "v-wang")
    doc["volunteers"].append({**wang, "id": "v-wang-2", "max_hours": 2})  # free, with room for one session
    problem_file = write(tmp_path / "problem.json", doc)
    code, plain, err = run(["solve", str(problem_file), "--time-limit", "5"], capsys)
    assert code == 0, err
    assert "standins" not in plain
    code, out, err = run(["solve", str(problem_file), "--time-limit", "5", "--standins", "2"], capsys)
    assert code == 0, err
    plan = parse(Plan, out, "stdout")
    assert validate_plan(to_problem(doc), plan) == []
    for a in plan.assignments:
        assert a.standins is not None and [s.slot for s in a.standins] == a.slots
        assert all(len(s.volunteers) <= 2 and a.volunteer not in s.volunteers for s in a.standins)
    assert any(s.volunteers for a in plan.assignments for s in a.standins or [])
    # the same plan otherwise
    without = parse(Plan, plain, "stdout")
    assert [(a.need, a.volunteer, a.slots) for a in plan.assignments] == [
        (a.need, a.volunteer, a.slots) for a in without.assignments
    ]


def test_solve_standins_of_a_week_with_posts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Format 2: a one-to-one need's stand-ins per session, a group post's per member (all its
    sessions: no slot); never someone already on the assignment; the plan otherwise the same."""
    doc = json.loads((SPEC_DIR / "example-problem-format2.json").read_text(encoding="utf-8"))
    for v in list(doc["volunteers"]):
        doc["volunteers"].append({**v, "id": f"{v['id']}-2"})  # a twin of everyone: room to stand in
    problem_file = write(tmp_path / "problem.json", doc)
    code, plain, err = run(["solve", str(problem_file), "--time-limit", "10"], capsys)
    assert code == 0, err
    assert "standins" not in plain
    code, out, err = run(["solve", str(problem_file), "--time-limit", "10", "--standins", "3"], capsys)
    assert code == 0, err
    problem, plan = parse(Problem2, doc, "problem"), parse(Plan2, out, "stdout")
    assert validate_plan2(problem, plan) == []
    group = {n.id for n in problem.needs if n.volunteers.max > 1}
    assert group & {a.need for a in plan.assignments}, "the example staffs a group post"
    for a in plan.assignments:
        assert a.standins is not None
        if a.need in group:
            assert [(s.volunteer, s.slot) for s in a.standins] == [(v, None) for v in a.volunteers]
        else:
            assert [(s.volunteer, s.slot) for s in a.standins] == [(a.volunteers[0], x) for x in a.slots]
        assert all(len(s.volunteers) <= 3 and not set(s.volunteers) & set(a.volunteers) for s in a.standins)
    assert any(s.volunteers for a in plan.assignments for s in a.standins or [])
    assert plan.objective == parse(Plan2, plain, "stdout").objective


@pytest.mark.parametrize("k", ["0", "21", "x"])
def test_bad_standins(k: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    code, out, err = run(["solve", str(problem_file), "--standins", k], capsys)
    assert_one_error(code, out, err, "--standins")


def test_solve_in_a_real_process(tmp_path: Path) -> None:
    """`python -m linli.cli solve` in a subprocess exits 0 with a valid plan on stdout."""
    doc = load_example_doc()
    problem_file = write(tmp_path / "problem.json", doc)
    proc = subprocess.run(
        [sys.executable, "-m", "linli.cli", "solve", str(problem_file), "--time-limit", "5"],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    plan = parse(Plan, proc.stdout, "stdout")
    assert validate_plan(to_problem(doc), plan) == []


def test_console_script_bad_input_in_a_real_process(tmp_path: Path) -> None:
    """The installed `linli` script prints one error line and no traceback for a bad problem."""
    script = Path(sys.executable).parent / "linli"
    if not script.exists():
        pytest.skip("console script not installed next to the interpreter")
    doc = load_example_doc()
    doc["needs"][3]["windows"][1] = "mon-noon"
    problem_file = write(tmp_path / "problem.json", doc)
    proc = subprocess.run(
        [str(script), "solve", str(problem_file)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert_one_error(proc.returncode, proc.stdout, proc.stderr, "needs[3].windows[1]", "mon-noon")


def test_one_third_hour_sessions_solve_or_name_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 20-minute session (hours 1/3 as JSON writes it) is solved, or refused naming the field."""
    doc = make_problem(needs=[need(hours=1 / 3)])
    problem_file = write(tmp_path / "problem.json", doc)
    code, out, err = run(["solve", str(problem_file), "--time-limit", "5"], capsys)
    if code == 0:
        assert validate_plan(to_problem(doc), parse(Plan, out, "stdout")) == []
    else:
        assert_one_error(code, out, err, "needs[0].hours")


# ------------------------------------------------------------------------------- validate


def _solved_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Doc]:
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    code, out, err = run(["solve", str(problem_file), "--time-limit", "5"], capsys)
    assert code == 0, err
    plan: Doc = json.loads(out)
    return problem_file, plan


def test_validate_good_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`linli validate` accepts the solver's own plan with exit 0 and a `valid:` line."""
    problem_file, plan = _solved_plan(tmp_path, capsys)
    plan_file = write(tmp_path / "plan.json", plan)
    code, out, err = run(["validate", str(problem_file), str(plan_file)], capsys)
    assert code == 0, (out, err)
    assert out.startswith("valid:")
    assert validate_plan(to_problem(load_example_doc()), parse(Plan, plan, "plan")) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("slot_not_in_window", "(rule 1)"),
        ("two_needs_one_slot", "(rule 4)"),
        ("gender", "(rule 9)"),
        ("coverage", "objective.coverage"),
        ("missing_need", "appears neither"),
    ],
)
def test_validate_broken_plan_exits_1(
    breakage: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`linli validate` exits 1 and prints each violation for a plan that breaks the rules."""
    problem_file, plan = _solved_plan(tmp_path, capsys)
    broken = copy.deepcopy(plan)
    by_need = {a["need"]: a for a in broken["assignments"]}
    if breakage == "slot_not_in_window":
        by_need["n-chen-care"]["slots"] = ["mon-am", "fri-pm"]
    elif breakage == "two_needs_one_slot":
        by_need["n-chen-talk"]["slots"] = list(by_need["n-chen-care"]["slots"][:1])
    elif breakage == "gender":
        by_need["n-chen-talk"]["volunteer"] = "v-li"
        by_need["n-chen-talk"]["slots"] = ["sat-am"]
    elif breakage == "coverage":
        broken["objective"]["coverage"] = 44
        broken["objective"]["coverage_bound"] = 44
    else:
        broken["unmet"] = []
    plan_file = write(tmp_path / "broken.json", broken)
    code, out, err = run(["validate", str(problem_file), str(plan_file)], capsys)
    assert code == 1, (out, err)
    assert expected in out, out
    assert "invalid:" in err
    assert "Traceback" not in out + err
    assert validate_plan(to_problem(load_example_doc()), parse(Plan, plan, "plan")) == []


def test_validate_malformed_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plan file that breaks the schema is bad input (exit 2, one error line naming the field)."""
    problem_file, plan = _solved_plan(tmp_path, capsys)
    plan["objective"]["coverage_bund"] = 1
    plan_file = write(tmp_path / "plan.json", plan)
    code, out, err = run(["validate", str(problem_file), str(plan_file)], capsys)
    assert_one_error(code, out, err, "objective.coverage_bund", "unknown field")


# ------------------------------------------------------------------------------ bad input

Mutation = Callable[[Doc], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Mutation:
    def mutate(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


BAD_PROBLEMS: list[tuple[str, Mutation, tuple[str, ...]]] = [
    (
        "unknown slot in windows",
        _set(["needs", 3, "windows", 1], "mon-noon"),
        ("needs[3].windows[1]:", "unknown slot 'mon-noon'"),
    ),
    (
        "unknown slot in availability",
        _set(["volunteers", 1, "availability", 2], "mon-noon"),
        ("volunteers[1].availability[2]:", "mon-noon"),
    ),
    (
        "unknown district of volunteer",
        _set(["volunteers", 1, "district"], "nowhere"),
        ("volunteers[1].district:", "unknown district 'nowhere'"),
    ),
    (
        "unknown district of beneficiary",
        _set(["beneficiaries", 1, "district"], "nowhere"),
        ("beneficiaries[1].district:", "unknown district 'nowhere'"),
    ),
    (
        "unknown neighbour",
        _set(["districts", 1, "neighbors", 0], "nowhere"),
        ("districts[1].neighbors[0]:", "nowhere"),
    ),
    (
        "unknown excluded volunteer",
        _set(["beneficiaries", 2, "excluded_volunteers", 0], "v-ghost"),
        ("beneficiaries[2].excluded_volunteers[0]:", "unknown volunteer 'v-ghost'"),
    ),
    (
        "unknown previous volunteer",
        _set(["previous", 0, "volunteer"], "v-ghost"),
        ("previous[0].volunteer:", "unknown volunteer 'v-ghost'"),
    ),
    (
        "unknown previous beneficiary",
        _set(["previous", 0, "beneficiary"], "b-ghost"),
        ("previous[0].beneficiary:", "b-ghost"),
    ),
    (
        "unknown beneficiary of need",
        _set(["needs", 2, "beneficiary"], "b-ghost"),
        ("needs[2].beneficiary:", "unknown beneficiary 'b-ghost'"),
    ),
    ("unknown service code", _set(["needs", 2, "service"], "karaoke"), ("needs[2].service:", "karaoke")),
    (
        "unknown skill code",
        _set(["volunteers", 0, "skills", 1], "karaoke"),
        ("volunteers[0].skills[1]:", "karaoke"),
    ),
    (
        "unknown certification in requires",
        _set(["needs", 2, "requires", 0], "diving"),
        ("needs[2].requires[0]:", "diving"),
    ),
    (
        "unknown certification held",
        _set(["volunteers", 0, "certifications", 0, "kind"], "diving"),
        ("volunteers[0].certifications[0].kind:", "diving"),
    ),
    (
        "duplicate volunteer id",
        _set(["volunteers", 1, "id"], "v-wang"),
        ("volunteers[1].id:", "duplicate", "v-wang"),
    ),
    (
        "duplicate need id",
        _set(["needs", 4, "id"], "n-chen-care"),
        ("needs[4].id:", "duplicate", "n-chen-care"),
    ),
    ("duplicate slot in windows", _set(["needs", 0, "windows", 2], "mon-am"), ("needs[0].windows", "mon-am")),
    ("missing required field", _delete(["needs", 1, "hours"]), ("needs[1].hours:", "missing")),
    ("missing top-level field", _delete(["districts"]), ("districts:", "missing")),
    ("unknown field (typo)", _set(["needs", 1, "hourz"], 2), ("needs[1].hourz:", "unknown field")),
    ("unknown top-level field", _set(["reachh"], "same"), ("reachh:", "unknown field")),
    ("string for hours", _set(["needs", 1, "hours"], "2"), ("needs[1].hours:",)),
    ("2.0 for sessions", _set(["needs", 1, "sessions"], 2.0), ("needs[1].sessions:",)),
    ("string for minor", _set(["volunteers", 3, "minor"], "true"), ("volunteers[3].minor:",)),
    ("true for priority", _set(["beneficiaries", 0, "priority"], True), ("beneficiaries[0].priority:",)),
    ("priority 6", _set(["beneficiaries", 0, "priority"], 6), ("beneficiaries[0].priority:",)),
    ("priority 0", _set(["beneficiaries", 0, "priority"], 0), ("beneficiaries[0].priority:",)),
    ("hours 0", _set(["needs", 0, "hours"], 0), ("needs[0].hours:",)),
    ("sessions 8", _set(["needs", 0, "sessions"], 8), ("needs[0].sessions:",)),
    ("sessions 0", _set(["needs", 0, "sessions"], 0), ("needs[0].sessions:",)),
    ("negative max_hours", _set(["volunteers", 0, "max_hours"], -1), ("volunteers[0].max_hours:",)),
    ("format 3", _set(["format"], 3), ("format:",)),  # 1 and 2 are formats (docs/format.md)
    ("week_start not a Monday", _set(["week_start"], "2026-12-08"), ("week_start:", "Monday")),
    ("week_start not a date", _set(["week_start"], "2026-13-01"), ("week_start:",)),
    ("unknown reach", _set(["reach"], "far"), ("reach:",)),
    ("unknown gender", _set(["volunteers", 0, "gender"], "x"), ("volunteers[0].gender:",)),
    (
        "unknown category",
        _set(["beneficiaries", 0, "category"], "pets"),
        ("beneficiaries[0].category:", "pets"),
    ),
    ("empty id", _set(["volunteers", 0, "id"], ""), ("volunteers[0].id:",)),
    ("non-positive time_limit_s", _set(["time_limit_s"], 0), ("time_limit_s:",)),
]


@pytest.mark.parametrize(
    ("mutate", "fragments"), [(m, f) for _, m, f in BAD_PROBLEMS], ids=[n for n, _, _ in BAD_PROBLEMS]
)
def test_bad_problem_one_error_line(
    mutate: Mutation, fragments: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed problem exits 2 with one `error:` line naming the field, and no traceback."""
    doc = load_example_doc()
    mutate(doc)
    problem_file = write(tmp_path / "problem.json", doc)
    code, out, err = run(["solve", str(problem_file), "--time-limit", "2"], capsys)
    assert_one_error(code, out, err, *fragments)


@pytest.mark.parametrize(
    "text",
    ["{", "", '{"format": 1', "not json", "[]", "null"],
    ids=["brace", "empty", "cut", "word", "list", "null"],
)
def test_invalid_json_one_error_line(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not a JSON object exits 2 with one error line naming the file."""
    problem_file = write(tmp_path / "problem.json", text)
    code, out, err = run(["solve", str(problem_file)], capsys)
    assert_one_error(code, out, err, "problem.json")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A problem file that does not exist exits 2 with one error line naming it."""
    code, out, err = run(["solve", str(tmp_path / "nope.json")], capsys)
    assert_one_error(code, out, err, "nope.json")


def test_missing_plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`validate` with a missing plan file exits 2 with one error line naming it."""
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    code, out, err = run(["validate", str(problem_file), str(tmp_path / "gone.json")], capsys)
    assert_one_error(code, out, err, "gone.json")


@pytest.mark.parametrize("limit", ["0", "-1", "-0.5", "nan", "soon"])
def test_bad_time_limit(limit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A non-positive or non-numeric --time-limit exits 2 with one error line naming the option."""
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    code, out, err = run(["solve", str(problem_file), f"--time-limit={limit}"], capsys)
    assert_one_error(code, out, err, "--time-limit")


def test_bad_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--workers 0 exits 2 with one error line naming the option."""
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    code, out, err = run(["solve", str(problem_file), "--workers", "0"], capsys)
    assert_one_error(code, out, err, "--workers")


def test_tiny_bad_problem_from_builder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Errors name the field in builder-made problems too (exclusion of an unknown volunteer)."""
    doc = make_problem(volunteers=[volunteer()])
    doc["beneficiaries"][0]["excluded_volunteers"] = ["v1", "v2"]
    problem_file = write(tmp_path / "problem.json", doc)
    code, out, err = run(["solve", str(problem_file)], capsys)
    assert_one_error(code, out, err, "beneficiaries[0].excluded_volunteers[1]:", "'v2'")


# ------------------------------------------------------------------------ bounds (matcher/format/bounds.py)


def _literal(doc: Doc, path: list[Any], literal: str) -> str:
    """JSON text of ``doc`` with the value at ``path`` written as ``literal`` (``NaN``, ``1e400``)."""
    _set(path, "@@literal@@")(doc)
    return json.dumps(doc).replace('"@@literal@@"', literal)


def _problem_with(path: list[Any], value: Any) -> Doc:
    doc = make_problem(volunteers=[volunteer(location=[39.8, 98.2])])
    _set(path, value)(doc)
    return doc


OUT_OF_BOUNDS: list[tuple[str, Doc | str, tuple[str, ...]]] = [
    (
        "max_hours 1e308",
        _problem_with(["volunteers", 0, "max_hours"], 1e308),
        ("volunteers[0].max_hours:", "at most 168"),
    ),
    (
        "max_hours 1e400",
        _literal(make_problem(), ["volunteers", 0, "max_hours"], "1e400"),
        ("volunteers[0].max_hours:", "at most 168"),
    ),
    (
        "max_hours NaN",
        _literal(make_problem(), ["volunteers", 0, "max_hours"], "NaN"),
        ("volunteers[0].max_hours:", "not NaN"),
    ),
    (
        "max_hours 10^20",
        _problem_with(["volunteers", 0, "max_hours"], 10**20),
        ("volunteers[0].max_hours:", "at most 168"),
    ),
    (
        "max_beneficiaries 10^20",
        _problem_with(["volunteers", 0, "max_beneficiaries"], 10**20),
        ("volunteers[0].max_beneficiaries:", "at most 50"),
    ),
    ("need hours 1e300", _problem_with(["needs", 0, "hours"], 1e300), ("needs[0].hours:", "at most 12")),
    (
        "need hours -Infinity",
        _literal(make_problem(), ["needs", 0, "hours"], "-Infinity"),
        ("needs[0].hours:", "greater than 0"),
    ),
    (
        "week_start 0001-01-01",
        _problem_with(["week_start"], "0001-01-01"),
        ("week_start:", "on or after 2000-01-03"),
    ),
    (
        "week_start 9999-12-27",
        _problem_with(["week_start"], "9999-12-27"),
        ("week_start:", "at most 2099-12-28"),
    ),
    (
        "certificate expires 0001-01-01",
        _problem_with(["volunteers", 0, "certifications"], [{"kind": "first_aid", "expires": "0001-01-01"}]),
        ("volunteers[0].certifications[0].expires:", "1900-01-01"),
    ),
    ("time_limit_s 1e308", _problem_with(["time_limit_s"], 1e308), ("time_limit_s:", "at most 86400")),
    (
        "latitude 1e308",
        _problem_with(["volunteers", 0, "location", 0], 1e308),
        ("volunteers[0].location[0]:", "at most 90"),
    ),
    ("volunteer id =cmd", _problem_with(["volunteers", 0, "id"], "=cmd"), ("volunteers[0].id:", "'='")),
    ("district id with ESC", _problem_with(["districts", 0, "id"], "d\x1b1"), ("districts[0].id:", "U+001B")),
    ("need id of 65 characters", _problem_with(["needs", 0, "id"], "n" * 65), ("needs[0].id:", "at most 64")),
    (
        "200 slots",
        _problem_with(["slots"], [f"s{i}" for i in range(200)]),
        ("slots:", "at most 168 items"),
    ),
]


@pytest.mark.parametrize(
    ("problem", "fragments"), [(p, f) for _, p, f in OUT_OF_BOUNDS], ids=[n for n, _, _ in OUT_OF_BOUNDS]
)
def test_out_of_bounds_problem_one_error_line(
    problem: Doc | str, fragments: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """solve, validate and resolve refuse a problem outside the bounds: exit 2, one line, no traceback."""
    problem_file = write(tmp_path / "problem.json", problem)
    plan = write(tmp_path / "plan.json", "{}")
    changes = write(tmp_path / "changes.json", {"format": 1})
    for argv in (
        ["solve", str(problem_file), "--time-limit", "2"],
        ["validate", str(problem_file), str(plan)],
        ["resolve", str(problem_file), "--plan", str(plan), "--changes", str(changes)],
    ):
        code, out, err = run(argv, capsys)
        assert_one_error(code, out, err, *fragments)


def _small_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A tiny problem (not the shared example) and its plan, as files."""
    problem = write(tmp_path / "problem.json", make_problem())
    code, _, err = run(["solve", str(problem), "--out", str(tmp_path / "plan.json")], capsys)
    assert code == 0, err
    return problem, tmp_path / "plan.json"


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (_set(["objective", "coverage"], 10**400), "objective.coverage: must be at most 42000000"),
        (_set(["objective", "continuity"], 10**20), "objective.continuity: must be at most 100000"),
        (_set(["solve_seconds"], 1e308), "solve_seconds: must be at most 604800"),
        (_set(["assignments", 0, "volunteer"], "=cmd"), "assignments[0].volunteer: character 1 '='"),
    ],
    ids=["coverage 10^400", "continuity 10^20", "solve_seconds 1e308", "volunteer =cmd"],
)
def test_validate_out_of_bounds_plan(
    mutate: Mutation, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan outside the bounds is bad input (exit 2, one line), not an OverflowError."""
    problem, plan = _small_inputs(tmp_path, capsys)
    doc = json.loads(plan.read_text(encoding="utf-8"))
    mutate(doc)
    write(plan, doc)
    code, out, err = run(["validate", str(problem), str(plan)], capsys)
    assert_one_error(code, out, err, fragment)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (
            {"format": 1, "needs_added": [need("n2", hours=1e300)]},
            "needs_added[0].hours: must be at most 12",
        ),
        (
            {"format": 1, "volunteers_added": [volunteer("v2", max_hours=1e308)]},
            "volunteers_added[0].max_hours: must be at most 168",
        ),
        (
            {"format": 1, "volunteers_added": [volunteer("v2", max_beneficiaries=10**20)]},
            "volunteers_added[0].max_beneficiaries: must be at most 50",
        ),
        ({"format": 1, "needs_cancelled": ["@x"]}, "needs_cancelled[0]: character 1 '@'"),
    ],
    ids=["needs_added hours 1e300", "volunteers_added max_hours 1e308", "max_beneficiaries 10^20", "id @x"],
)
def test_resolve_out_of_bounds_change_set(
    changes: Doc, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A change set outside the bounds: resolve and apply exit 2 with one line naming the field."""
    problem, plan = _small_inputs(tmp_path, capsys)
    path = write(tmp_path / "changes.json", changes)
    code, out, err = run(["resolve", str(problem), "--plan", str(plan), "--changes", str(path)], capsys)
    assert_one_error(code, out, err, fragment)
    code, out, err = run(["apply", str(problem), str(path)], capsys)
    assert_one_error(code, out, err, fragment)


# ------------------------------------------------------------------------------- generate


def test_generate_writes_a_problem_that_solves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`linli generate` writes a problem that parses, solves and validates through the CLI."""
    pytest.importorskip("matcher.synth.generate")
    city = tmp_path / "city.json"
    argv = ["generate", "--volunteers", "40", "--beneficiaries", "30", "--districts", "2", "--seed", "5"]
    code, out, err = run([*argv, "--out", str(city)], capsys)
    assert code == 0, err
    problem = to_problem(json.loads(city.read_text(encoding="utf-8")))
    assert len(problem.volunteers) == 40 and len(problem.beneficiaries) == 30
    assert len(problem.districts) == 2
    plan_file = tmp_path / "plan.json"
    code, out, err = run(["solve", str(city), "--out", str(plan_file), "--time-limit", "5"], capsys)
    assert code == 0, err
    plan = load_plan(plan_file)
    assert validate_plan(problem, plan) == []
    assert plan.assignments, "a generated city should have some needs met"
    code, out, err = run(["validate", str(city), str(plan_file)], capsys)
    assert code == 0, (out, err)


def test_generate_to_stdout_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """The same seed gives the same problem on stdout; it parses."""
    pytest.importorskip("matcher.synth.generate")
    argv = ["generate", "--volunteers", "12", "--beneficiaries", "9", "--seed", "3"]
    code1, out1, _ = run(argv, capsys)
    code2, out2, _ = run(argv, capsys)
    assert code1 == code2 == 0
    assert out1 == out2
    to_problem(json.loads(out1))


def test_generate_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    """`generate --districts 0` exits 2 with one error line naming the option."""
    code, out, err = run(
        ["generate", "--volunteers", "5", "--beneficiaries", "5", "--districts", "0"], capsys
    )
    assert_one_error(code, out, err, "--districts")


# ------------------------------------------------------------------------ resolve, apply

EXAMPLE_CHANGES = Path(__file__).resolve().parents[2] / "examples" / "example-changes.json"


def _resolve_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    problem = write(tmp_path / "problem.json", load_example_doc())
    code, _, _ = run(["solve", str(problem), "--out", str(tmp_path / "plan.json")], capsys)
    assert code == 0
    return problem, tmp_path / "plan.json"


def test_resolve_writes_a_plan_with_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`linli resolve` prints a plan for the changed problem that validates and lists `changed`."""
    problem, plan = _resolve_inputs(tmp_path, capsys)
    code, out, err = run(
        ["resolve", str(problem), "--plan", str(plan), "--changes", str(EXAMPLE_CHANGES)], capsys
    )
    assert code == 0, err
    new = parse(Plan, out, "stdout")
    assert new.changed is not None and "n-xiaohua-play" in new.changed
    code, out, err = run(
        ["apply", str(problem), str(EXAMPLE_CHANGES), "--out", str(tmp_path / "changed.json")], capsys
    )
    assert code == 0, err
    changed = to_problem(json.loads((tmp_path / "changed.json").read_text(encoding="utf-8")))
    assert validate_plan(changed, new) == []
    assert "n-sun-clean" not in {n.id for n in changed.needs}


def test_resolve_summary_and_moves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--allow-moves` and `--summary` are accepted; the summary counts kept, freed and changed needs."""
    problem, plan = _resolve_inputs(tmp_path, capsys)
    out_path = tmp_path / "new.json"
    argv = ["resolve", str(problem), "--plan", str(plan), "--changes", str(EXAMPLE_CHANGES)]
    code, out, err = run([*argv, "--allow-moves", "2", "--summary", "--out", str(out_path)], capsys)
    assert code == 0, err
    assert "kept 2, freed 1" in out
    assert load_plan(out_path).changed is not None


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"format": 1, "needs_cancelled": ["n-x"]}, "needs_cancelled[0]: unknown need 'n-x'"),
        (
            {"format": 1, "volunteers_withdrawn": [{"volunteer": "v-wang", "slots": ["mon-noon"]}]},
            "volunteers_withdrawn[0].slots[0]: unknown slot 'mon-noon'",
        ),
        (
            {"format": 1, "needs_added": [need("n-chen-care", beneficiary="b-xiaohua")]},
            "needs_added[0].id: need 'n-chen-care' already exists",
        ),
        ({"format": 1, "volunteers_withdrawn": [{"volunteer": "v-zz"}]}, "volunteers_withdrawn[0].volunteer"),
        ({"format": 1, "needs_cancelled": "n-1"}, "needs_cancelled"),
        ("{not json", "invalid JSON"),
    ],
)
def test_resolve_bad_change_set(
    changes: Doc | str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad change set exits 2 with one error line naming the field, for resolve and apply alike."""
    problem, plan = _resolve_inputs(tmp_path, capsys)
    path = write(tmp_path / "changes.json", changes)
    code, out, err = run(["resolve", str(problem), "--plan", str(plan), "--changes", str(path)], capsys)
    assert_one_error(code, out, err, fragment)
    code, out, err = run(["apply", str(problem), str(path)], capsys)
    assert_one_error(code, out, err, fragment)


def test_resolve_refuses_an_invalid_plan_in_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plan in force that breaks a rule of the original problem is refused with exit 2."""
    problem, plan = _resolve_inputs(tmp_path, capsys)
    doc = json.loads(plan.read_text(encoding="utf-8"))
    doc["assignments"][0]["volunteer"] = "v-xiaoming"
    write(plan, doc)
    code, out, err = run(
        ["resolve", str(problem), "--plan", str(plan), "--changes", str(EXAMPLE_CHANGES)], capsys
    )
    assert_one_error(code, out, err, "plan: not valid for the problem: assignments[0]")


def test_resolve_bad_move_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--allow-moves must be a non-negative integer."""
    problem, plan = _resolve_inputs(tmp_path, capsys)
    argv = ["resolve", str(problem), "--plan", str(plan), "--changes", str(EXAMPLE_CHANGES)]
    code, out, err = run([*argv, "--allow-moves", "-1"], capsys)
    assert_one_error(code, out, err, "--allow-moves")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start time from /proc (Linux)")
def test_script_time_limit_counts_from_the_process_start() -> None:
    """Run as a script, the limit's clock starts with the process, before the imports."""
    code = "import time; time.sleep(0.3); import linli.cli as c; print(c._IMPORTED - c._process_started())"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=CLI_TIMEOUT, check=True
    )
    # the sleep came before the import, so the process began at least that much earlier
    assert 0.3 <= float(proc.stdout) < 5.0


def test_time_left_keeps_a_margin_for_writing_and_exit() -> None:
    """Of a limit begun 1 s ago the solver gets the rest less the exit margin; never below 0.05 s."""
    from linli.cli import EXIT_MARGIN_S, EXIT_MARGIN_SHARE, _remaining

    for limit, option, default in ((10.0, 10.0, 99.0), (99.0, None, 99.0), (60.0, 60.0, 1.0)):
        margin = min(EXIT_MARGIN_S, EXIT_MARGIN_SHARE * limit)
        left = _remaining(time.perf_counter() - 1.0, option, default)
        assert limit - 1.0 - margin - 0.1 < left <= limit - 1.0 - margin
    # 60 s: the whole margin; 10 s: its share of the limit
    assert min(EXIT_MARGIN_S, EXIT_MARGIN_SHARE * 60) == EXIT_MARGIN_S > EXIT_MARGIN_SHARE * 10
    assert _remaining(time.perf_counter() - 5.0, 1.0, 99.0) == 0.05


# ------------------------------------------------------------------------------ --progress


def _without_seconds(text: str) -> Doc:
    """A plan written by the CLI, without its wall-clock seconds (the only field that varies)."""
    doc: Doc = json.loads(text)
    doc.pop("solve_seconds")
    return doc


def _progress_lines(err: str) -> list[str]:
    """The ``progress:`` lines of stderr, checked: start first, done last, coverage and bound."""
    lines = [line for line in err.splitlines() if line.startswith("progress:")]
    assert len(lines) >= 2, err
    assert " start " in lines[0] and " done " in lines[-1], lines
    for line in lines:
        assert "coverage " in line and "%" in line, line
    return lines


def test_solve_progress_on_stderr_plan_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--progress` writes coverage lines on stderr; the plan on stdout is the one without it."""
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    argv = ["solve", str(problem_file), "--time-limit", "5"]
    code, plain, err = run(argv, capsys)
    assert code == 0, err
    assert "progress:" not in err
    code, out, err = run([*argv, "--progress"], capsys)
    assert code == 0, err
    lines = _progress_lines(err)
    # the example: 43 of 46 priority-weighted hours, proved
    assert "coverage 43 (93.5%)  bound 43 (93.5%)  gap 0.00%  proved" in lines[-1]
    assert _without_seconds(out) == _without_seconds(plain)
    assert "progress" not in out


def test_resolve_progress_on_stderr_plan_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`linli resolve --progress`: progress on stderr, the same plan in the --out file."""
    problem, plan = _resolve_inputs(tmp_path, capsys)
    argv = ["resolve", str(problem), "--plan", str(plan), "--changes", str(EXAMPLE_CHANGES)]
    code, out, err = run([*argv, "--out", str(tmp_path / "plain.json")], capsys)
    assert code == 0, err
    code, out, err = run([*argv, "--progress", "--out", str(tmp_path / "watched.json")], capsys)
    assert code == 0, err
    assert out == ""
    _progress_lines(err)
    plain = _without_seconds((tmp_path / "plain.json").read_text(encoding="utf-8"))
    assert _without_seconds((tmp_path / "watched.json").read_text(encoding="utf-8")) == plain


def test_progress_bad_input_still_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With `--progress`, bad input is still exit 2 and exactly one `error:` line."""
    code, out, err = run(["solve", str(tmp_path / "nope.json"), "--progress"], capsys)
    assert_one_error(code, out, err, "nope.json")


def test_progress_in_a_real_process(tmp_path: Path) -> None:
    """The console script with `--progress` and stderr a pipe: plain lines there, the plan on stdout."""
    problem_file = write(tmp_path / "problem.json", load_example_doc())
    proc = subprocess.run(
        [sys.executable, "-m", "linli.cli", "solve", str(problem_file), "--time-limit", "5", "--progress"],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    _progress_lines(proc.stderr)
    assert parse(Plan, proc.stdout, "stdout").objective.coverage == 43


def test_progress_line_shapes() -> None:
    """The line: elapsed, stage, coverage with its share, bound with its share and the gap;
    a bound not known yet reads `bound -`."""
    from fractions import Fraction

    from linli.progress import line
    from matcher.progress import Progress

    open_gap = Progress(1.5, "columns", Fraction(81, 2), Fraction(50), False, Fraction(100))
    assert line(open_gap) == (
        "   1.50 s  columns        coverage 40.50 (40.5%)  bound 50 (50.0%)  gap 19.00%"
    )
    unknown = Progress(0.25, "start", Fraction(10), None, False, Fraction(40))
    assert line(unknown) == "   0.25 s  start          coverage 10 (25.0%)  bound -"


def test_progress_live_line_on_a_terminal() -> None:
    """On a terminal the reports update one live line, left showing the last report; without
    `--progress` there is no callback at all."""
    import io
    from fractions import Fraction

    from rich.console import Console

    from linli.progress import shown
    from matcher.progress import Progress

    with shown(False) as none:
        assert none is None
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with shown(True, console) as on_progress:
        assert on_progress is not None
        on_progress(Progress(0.1, "start", Fraction(10), Fraction(20), False, Fraction(40)))
        on_progress(Progress(0.4, "done", Fraction(20), Fraction(20), True, Fraction(40)))
    assert "done           coverage 20 (50.0%)  bound 20 (50.0%)  gap 0.00%  proved" in screen.getvalue()


def test_serve_freezes_the_collector_before_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``linli serve`` hands the server a frozen heap: without it, full collections over the
    engine's imported objects stalled requests by ~100 ms every few seconds."""
    import gc

    import uvicorn

    from api.settings import get_settings

    seen: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_k: seen.append(gc.get_freeze_count()))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'linli.sqlite'}")
    get_settings.cache_clear()
    gc.unfreeze()
    try:
        assert main(["serve", "--no-worker"]) == 0
    finally:
        gc.unfreeze()
        get_settings.cache_clear()
    assert seen and seen[0] > 0
