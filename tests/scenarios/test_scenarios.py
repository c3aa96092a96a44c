"""Tests of the coverage scenarios (``scenarios/``, ``linli simulate`` and ``linli compare``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from linli.cli import main
from matcher.format.errors import InputError
from matcher.format.schema import Problem
from matcher.format.validate import certification_valid, validate_plan
from matcher.solve import solve
from matcher.synth.generate import generate_city
from scenarios.model import Scenario, base_problem, load_scenario, parse_scenario
from scenarios.perturbations import (
    Attrition,
    AvailabilityShrink,
    CertificateExpiry,
    Closure,
    DemandGrowth,
    Perturbation,
    Recruitment,
    apply,
    neighbours,
)
from scenarios.simulate import Simulation, simulate

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
SMALL: dict[str, Any] = {"volunteers": 40, "beneficiaries": 30, "districts": 2, "seed": 3}
"""A tiny city whose runs prove optimal (every phase) in a fraction of a second."""


def small_scenario(perturbations: list[dict[str, Any]] | None = None, **fields: Any) -> Scenario:
    """A scenario on the tiny city, with no advice unless asked."""
    doc: dict[str, Any] = {
        "name": "test",
        "base": {"generate": SMALL},
        "runs": 3,
        "seed": 7,
        "time_limit": 10,
        "advice": {"candidates": 0},
        "perturbations": perturbations or [],
    }
    doc.update(fields)
    return parse_scenario(doc)


@pytest.fixture(scope="module")
def city() -> Problem:
    """A three-district city small enough to solve often."""
    return generate_city(60, 45, 3, seed=5)


def _perturb(p: dict[str, Any], problem: Problem, run: int = 0) -> Problem:
    """Apply one perturbation given as a dict, with the generator of run ``run``."""
    model = small_scenario([p]).perturbations[0]
    out = apply(model, problem, np.random.default_rng([1, run, 0]), 0)
    assert isinstance(out, Problem)  # only add_posts changes the format
    return out


# ----------------------------------------------------------------------------- files and errors


def test_ships_the_six_scenarios_of_the_issue() -> None:
    """The shipped scenario files load, and their bases build with every district reference known."""
    files = sorted(SCENARIO_DIR.glob("*.yaml"))
    names = {p.stem for p in files}
    assert {
        "winter-attrition",
        "march-recruitment",
        "summer-left-behind-children",
        "elderly-surge",
        "no-first-aid",
        "station-closure",
    } <= names
    for file in files:
        scenario, root = load_scenario(file)
        assert scenario.name == file.stem
        base_problem(scenario, root)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "perturbations:\n  - {kind: attrition, rate: 0.1}\n  - {kind: attrition, rate: 0.2}\n"
            "  - {kind: attrition, rate: 1.5}\n",
            "perturbations[2].rate: Input should be less than or equal to 1",
        ),
        ("perturbations:\n  - {kind: bogus}\n", "perturbations[0].kind: unknown kind 'bogus'"),
        ("perturbations:\n  - {rate: 0.5}\n", "perturbations[0].kind: required field is missing"),
        (
            "perturbations:\n  - {kind: recruitment, count: 5, skills: [tutorin], district: xiongguan}\n",
            "perturbations[0].skills[0]: unknown service code 'tutorin'",
        ),
        (
            "perturbations:\n  - {kind: closure, district: nowhere}\n",
            "perturbations[0].district: unknown district 'nowhere'",
        ),
        (
            "perturbations:\n  - {kind: demand_growth, category: elders, rate: 0.1}\n",
            "perturbations[0].category: unknown category 'elders'",
        ),
        ("runz: 3\n", "runz: unknown field"),
        ("runs: {a: 1\n  b: [\n", "invalid YAML (line "),
    ],
)
def test_bad_files_give_one_error_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    """A bad scenario file exits 2 with exactly one ``error:`` line that names the field."""
    file = tmp_path / "bad.yaml"
    file.write_text(f"name: bad\nbase:\n  generate: {json.dumps(SMALL)}\n{text}", encoding="utf-8")
    assert main(["simulate", str(file), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert not (tmp_path / "out").exists()


def test_base_needs_exactly_one_source() -> None:
    """A base names a problem file or generator parameters, not both and not neither."""
    with pytest.raises(InputError, match=r"^base: give exactly one"):
        parse_scenario({"name": "x", "base": {}})


# ----------------------------------------------------------------------------- perturbations


@pytest.mark.parametrize(
    "p",
    [
        {"kind": "attrition", "rate": 0.5, "group": {"programmes": ["elderly"], "minor": False}},
        {"kind": "recruitment", "count": 7, "skills": ["tutoring"], "district": "jingtie"},
        {"kind": "demand_growth", "category": "elderly", "rate": 0.5, "min_priority": 3},
        {"kind": "certificate_expiry", "certification": "first_aid"},
        {"kind": "closure", "district": "xiongguan", "relocate": 0.5},
        {"kind": "availability_shrink", "rate": 0.5, "periods": ["eve"]},
    ],
    ids=lambda p: str(p["kind"]),
)
def test_perturbed_problems_stay_valid(city: Problem, p: dict[str, Any]) -> None:
    """Every perturbation gives a problem that passes the exchange-format checks."""
    out = _perturb(p, city)
    Problem.model_validate_json(out.model_dump_json())
    assert city.model_dump_json() == generate_city(60, 45, 3, seed=5).model_dump_json()  # input untouched


def test_full_attrition_covers_nothing() -> None:
    """With every volunteer gone every run covers nothing."""
    sim = simulate(small_scenario([{"kind": "attrition", "rate": 1.0}]), Path("."))
    assert [r["coverage"] for r in sim.report["per_run"]] == [0, 0, 0]
    assert sim.report["total"]["coverage"]["mean"] == 0
    assert sim.report["total"]["coverage"]["base"] > 0
    assert sim.report["unmet_reasons"][0]["reason"] == "no_available_slot"  # dropped out: no slots


def test_recruitment_never_lowers_coverage() -> None:
    """Adding a recruitment after the other perturbations never lowers any run's coverage."""
    noise = [{"kind": "attrition", "rate": 0.3}, {"kind": "availability_shrink", "rate": 0.2}]
    recruit = {
        "kind": "recruitment",
        "count": 8,
        "skills": ["life_care", "tutoring"],
        "district": "xiongguan",
    }
    without = simulate(small_scenario(noise), Path("."))
    with_recruits = simulate(small_scenario([*noise, recruit]), Path("."))
    a = [r.coverage for r in without.runs]
    b = [r.coverage for r in with_recruits.runs]
    assert all(y >= x for x, y in zip(a, b, strict=True)), (a, b)
    assert with_recruits.report["total"]["coverage"]["mean"] >= without.report["total"]["coverage"]["mean"]
    assert with_recruits.report["total"]["volunteers"]["mean"] > without.report["total"]["volunteers"]["mean"]


@pytest.mark.parametrize("reach", ["adjacent", "same"])
def test_closed_district_is_served_from_neighbours_only(city: Problem, reach: str) -> None:
    """After a closure, the district's needs are unmet or served by volunteers of neighbouring districts."""
    problem = city.model_copy(update={"reach": reach})
    closed = "xiongguan"
    out = _perturb({"kind": "closure", "district": closed, "relocate": 0.5}, problem)
    plan = solve(out, 10, workers=1).plan
    assert validate_plan(out, plan) == []
    vols = {v.id: v for v in out.volunteers}
    original = {v.id: v.district for v in problem.volunteers}
    ben_district = {b.id: b.district for b in out.beneficiaries}
    need_ben = {n.id: n.beneficiary for n in out.needs}
    near = set(neighbours(out, closed))
    served_closed = 0
    for a in plan.assignments:
        v = vols[a.volunteer]
        assert v.district != closed
        if ben_district[need_ben[a.need]] == closed:
            served_closed += 1
            assert v.district in near
        if original[v.id] == closed:  # a relocated volunteer now serves from a neighbour
            assert v.district in near
    if reach == "same":
        assert served_closed == 0


def test_certificate_expiry_leaves_no_valid_certificate(city: Problem) -> None:
    """A certificate expiry at rate 1 leaves no valid certificate of that kind in the district."""
    before = [
        v
        for v in city.volunteers
        if any(c.kind == "first_aid" and certification_valid(c, city) for c in v.certifications)
    ]
    assert before
    out = _perturb(
        {"kind": "certificate_expiry", "certification": "first_aid", "districts": ["jingtie"]}, city
    )
    for v in out.volunteers:
        valid = any(c.kind == "first_aid" and certification_valid(c, out) for c in v.certifications)
        if v.district == "jingtie":
            assert not valid
    untouched = [v.id for v in before if v.district != "jingtie"]
    still = {
        v.id
        for v in out.volunteers
        if any(c.kind == "first_aid" and certification_valid(c, out) for c in v.certifications)
    }
    assert set(untouched) <= still


def test_demand_growth_adds_the_stated_share(city: Problem) -> None:
    """Demand growth adds rate x n look-alike beneficiaries of the category, with their needs."""
    pool = [b for b in city.beneficiaries if b.category == "elderly" and b.priority >= 4]
    out = _perturb({"kind": "demand_growth", "category": "elderly", "rate": 1.0, "min_priority": 4}, city)
    added = out.beneficiaries[len(city.beneficiaries) :]
    assert len(added) == len(pool)
    assert all(b.category == "elderly" and b.priority >= 4 for b in added)
    assert len(out.needs) > len(city.needs)


def test_availability_shrink_touches_only_the_named_periods(city: Problem) -> None:
    """An evening shrink at rate 1 removes every evening slot and nothing else."""
    out = _perturb({"kind": "availability_shrink", "rate": 1.0, "periods": ["eve"]}, city)
    for before, after in zip(city.volunteers, out.volunteers, strict=True):
        assert after.availability == [s for s in before.availability if not s.endswith("-eve")]


def test_recruits_have_the_skills_district_and_certificates(city: Problem) -> None:
    """Recruits join the named district with every listed skill and valid certificates."""
    p = {
        "kind": "recruitment",
        "count": 5,
        "skills": ["emergency_aid", "life_care"],
        "district": "jingtie",
        "certifications": ["first_aid"],
        "availability": "retiree",
    }
    out = _perturb(p, city)
    new = out.volunteers[len(city.volunteers) :]
    assert len(new) == 5 and len({v.id for v in out.volunteers}) == len(out.volunteers)
    for v in new:
        assert v.district == "jingtie" and v.skills == ["emergency_aid", "life_care"]
        assert all(certification_valid(c, out) for c in v.certifications) and v.availability


def test_a_perturbations_draws_do_not_depend_on_the_others(city: Problem) -> None:
    """Perturbations added after an attrition leave its draws alone (one generator per position)."""
    from scenarios.run import perturbed

    attr: Perturbation = Attrition(kind="attrition", rate=0.4)
    other: list[Perturbation] = [
        DemandGrowth(kind="demand_growth", category="child", rate=0.3),
        CertificateExpiry(kind="certificate_expiry", certification="legal"),
        Closure(kind="closure", district="jingtie", relocate=0.5),
        AvailabilityShrink(kind="availability_shrink", rate=0.1, periods=["am"]),
        Recruitment(kind="recruitment", count=2, skills=["recreation"], district="jingtie"),
    ]
    a = perturbed(city, [attr], 9, 4)
    b = perturbed(city, [attr, *other], 9, 4)
    gone_a = {v.id for v in a.volunteers if not v.availability}
    gone_b = {v.id for v in b.volunteers[: len(city.volunteers)] if not v.availability}
    assert gone_a and gone_a <= gone_b


# ----------------------------------------------------------------------------- determinism


DETERMINISM: dict[str, Any] = {
    "perturbations": [
        {"kind": "attrition", "rate": 0.2},
        {"kind": "demand_growth", "category": "elderly", "rate": 0.2},
        {"kind": "availability_shrink", "rate": 0.2},
    ],
    "runs": 4,
    "advice": {"recruits": 4, "candidates": 1, "runs": 2},
}


@pytest.fixture(scope="module")
def one_worker() -> Simulation:
    """The determinism scenario run in this process."""
    return simulate(small_scenario(**DETERMINISM), Path("."))


def test_same_seed_same_numbers_with_two_workers(one_worker: Simulation) -> None:
    """Two local worker processes give exactly the report one worker gives."""
    two = simulate(small_scenario(**DETERMINISM), Path("."), workers=2)
    assert one_worker.report["runs"]["settled"] == 4
    assert json.dumps(two.report, sort_keys=True) == json.dumps(one_worker.report, sort_keys=True)
    assert one_worker.report["recruit_first"] and one_worker.report["recruit_first"][0]["coverage_gain"] >= 0


def test_other_seed_other_numbers(one_worker: Simulation) -> None:
    """A different seed draws different perturbations."""
    other = simulate(small_scenario(**{**DETERMINISM, "seed": 8, "advice": {"candidates": 0}}), Path("."))
    assert other.report["per_run"] != one_worker.report["per_run"]


@pytest.fixture
def local_cluster() -> Iterator[str]:
    """A Dask LocalCluster with two single-threaded worker processes; yields its address."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_dask_local_cluster_gives_the_same_numbers(one_worker: Simulation, local_cluster: str) -> None:
    """Runs on a Dask LocalCluster give exactly the report of one local worker."""
    sim = simulate(small_scenario(**DETERMINISM), Path("."), cluster=local_cluster)
    assert json.dumps(sim.report, sort_keys=True) == json.dumps(one_worker.report, sort_keys=True)


def test_unreachable_cluster_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unreachable --cluster address gives one error line naming the option."""
    monkeypatch.setattr("scenarios.run.CONNECT_TIMEOUT_S", 1.0)
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump({"name": "s", "base": {"generate": SMALL}, "runs": 1}), encoding="utf-8")
    code = main(["simulate", str(file), "--cluster", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --cluster: cannot connect"), err


# ----------------------------------------------------------------------------- CLI outputs


def test_simulate_writes_report_charts_and_summary_then_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``linli simulate`` writes report.json, PNG charts and summary.md; ``linli compare`` lines them up."""
    docs: dict[str, dict[str, Any]] = {
        "quiet": {"perturbations": [{"kind": "attrition", "rate": 0.05}]},
        "closed": {"perturbations": [{"kind": "closure", "district": "xiongguan"}]},
    }
    outs = []
    for name, extra in docs.items():
        file = tmp_path / f"{name}.yaml"
        doc = {"name": name, "base": {"generate": SMALL}, "runs": 2, "seed": 1, "time_limit": 10, **extra}
        doc["advice"] = {"recruits": 3, "candidates": 1, "runs": 1}
        file.write_text(yaml.safe_dump(doc), encoding="utf-8")
        out = tmp_path / f"out-{name}"
        assert main(["simulate", str(file), "--out", str(out)]) == 0
        outs.append(out)
    report = json.loads((outs[1] / "report.json").read_text(encoding="utf-8"))
    for key in ("total", "by_category", "by_district", "unmet_reasons", "recruit_first", "per_run"):
        assert key in report
    assert set(report["total"]["coverage_pct"]) == {"mean", "p5", "p50", "p95", "base"}
    assert (
        report["by_district"]["xiongguan"]["coverage_pct"]["mean"]
        <= report["by_district"]["xiongguan"]["coverage_pct"]["base"]
    )
    for png in ("coverage.png", "districts.png", "categories.png"):
        assert (outs[1] / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (outs[1] / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Scenario: closed") and "## Recruit first" in summary
    capsys.readouterr()
    assert main(["compare", str(outs[0]), str(outs[1])]) == 0
    table = capsys.readouterr().out
    assert "| | quiet | closed |" in table and "xiongguan" in table
