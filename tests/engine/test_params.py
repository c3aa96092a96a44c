"""SolveParams (one object for every option and tuning constant) and Budget (the clock)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from oracles import small_problem

from matcher.clock import Budget
from matcher.params import DEFAULTS, SolveParams
from matcher.solve import solve


def test_defaults_are_the_engine_values() -> None:
    """A few of the values the engine has always used."""
    assert SolveParams() == DEFAULTS
    assert (DEFAULTS.full_model_max_pairs, DEFAULTS.colgen_share, DEFAULTS.branch_first_s) == (
        20_000,
        0.5,
        2.0,
    )
    assert (DEFAULTS.prover, DEFAULTS.seed, DEFAULTS.refine, DEFAULTS.deterministic) == (
        "highs",
        0,
        True,
        False,
    )


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_from_file_reads_a_subset_of_the_fields(tmp_path: Path, suffix: str) -> None:
    """A TOML or JSON file sets the fields it names; the others keep their defaults."""
    path = tmp_path / f"linli{suffix}"
    if suffix == ".toml":
        path.write_text('seed = 3\nprover = "cpsat"\ncolgen_share = 0.4\n', encoding="utf-8")
    else:
        path.write_text(json.dumps({"seed": 3, "prover": "cpsat", "colgen_share": 0.4}), encoding="utf-8")
    params = SolveParams.from_file(path)
    assert params == dataclasses.replace(DEFAULTS, seed=3, prover="cpsat", colgen_share=0.4)


def test_unknown_names_and_provers_are_refused(tmp_path: Path) -> None:
    """A misspelt field or an unknown prover is an error, not silently ignored."""
    path = tmp_path / "bad.toml"
    path.write_text("colgen_shares = 0.4\n", encoding="utf-8")
    with pytest.raises(ValueError, match="colgen_shares"):
        SolveParams.from_file(path)
    with pytest.raises(ValueError, match="prover"):
        SolveParams(prover="gurobi")  # type: ignore[arg-type]


def test_keyword_arguments_override_the_object() -> None:
    """solve()'s keyword arguments replace the fields they name; None leaves them."""
    params = SolveParams(seed=5, refine=False)
    assert params.with_options(seed=None, refine=None) is params
    assert params.with_options(seed=7).seed == 7


def test_solve_with_params_equals_solve_with_keywords() -> None:
    """The same options through params= or keywords give the same deterministic plan."""
    problem = small_problem(0)
    by_params = solve(problem, 20, params=SolveParams(deterministic=True, refine=False))
    by_keywords = solve(problem, 20, deterministic=True, refine=False)
    assert by_params.plan.assignments == by_keywords.plan.assignments
    assert (by_params.coverage, by_params.coverage_bound) == (
        by_keywords.coverage,
        by_keywords.coverage_bound,
    )


def test_budget_hands_out_shares_of_the_time_left() -> None:
    """Shares are of the time left, capped; the work budget keeps the start."""
    budget = Budget.starting_now(10.0)
    assert 0 <= budget.elapsed() < 1 and 9 < budget.remaining() <= 10
    assert budget.seconds(0.5) == pytest.approx(5.0, abs=0.5)
    assert budget.seconds(0.5, cap=1.0) == 1.0
    assert budget.share(0.1).at <= time.perf_counter() + 1.0
    work = budget.until(budget.end - 2.0)
    assert work.start == budget.start and work.limit == pytest.approx(8.0)
    assert budget.with_limit(3.0).end == budget.start + 3.0
    assert Budget.starting_now(0.0).remaining() <= 0
