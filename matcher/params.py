"""``SolveParams``: every option and tuning constant of a solve, in one frozen object.

:func:`matcher.solve.solve` and :func:`matcher.resolve.resolve` take one (``params=``);
their older keyword arguments (``workers``, ``seed``, ``prover`` ...) still work and
override the object's fields.  The defaults are the values the engine has always used.
A file holds any subset of the fields (``SolveParams.from_file``, TOML or JSON)::

    # linli.toml
    seed = 3
    colgen_share = 0.4
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

Prover = Literal["highs", "cpsat"]


@dataclass(frozen=True)
class SolveParams:
    """How one solve runs: its options first, then the tuning of its stages."""

    # --- options (the keyword arguments of solve()) ---
    workers: int | None = None
    """CP-SAT search workers (None: :func:`matcher.search.trace.default_workers`)."""
    seed: int = 0
    """CP-SAT random seed (and the neighbourhood searches')."""
    log: bool = False
    """Print CP-SAT's search log."""
    prover: Prover = "highs"
    """Which solver proves levels 1-2 at station size: HiGHS's branch-and-cut on the exported
    model (two to three times faster at 300 volunteers) or CP-SAT."""
    columns: bool = True
    """With the HiGHS prover, first try to prove levels 1-2 by column generation."""
    refine: bool = True
    """Run level 3 (travel and load) once levels 1-2 are proved (measured time: ``False``
    makes a proved plan depend only on the problem)."""
    deterministic: bool = False
    """Bound the search by work, not by the clock (see :func:`matcher.solve.solve`)."""

    # --- sizes ---
    full_model_max_pairs: int = 20_000
    """Above this many eligible pairs the full model is not built (the city path)."""
    full_polish_max_pairs: int = 500
    """Up to this many pairs, levels 2-3 are polished on the full model, above it by
    neighbourhoods (``python -m benchmarks.polish``: up to 70 volunteers, about 330 pairs, the
    full model ends a little lower and sooner; at 100 volunteers, about 700 pairs, the
    neighbourhoods cut travel and load more, median 11% against 5%; at 200 and 300 the full
    model found nothing in its time)."""
    lns_size: int = 30
    """Volunteers freed per neighbourhood-search step."""
    lns_step_s: float = 0.5
    """CP-SAT time limit per neighbourhood-search step (doubled when a step times out)."""
    lns_max_growth: int = 4
    """Neighbourhoods grow (when the search stalls) to at most this many times their first size."""
    polish_size: int = 12
    """Volunteers freed per step of :func:`matcher.search.lns.polish` (steps of ~25 ms at 300
    volunteers; with 8, 16 or 24, half a second ended within 3% of it on four cities, no
    size ahead on all of them)."""
    polish_step_s: float = 0.1
    """CP-SAT time limit per step of :func:`matcher.search.lns.polish`."""
    city_price_steps: int = 20_000
    """Step limit of each volunteer's pricing search in the city bound's core (a few
    volunteers with many candidates of near-equal value can otherwise take seconds each,
    every round)."""
    city_max_core_pairs: int = 60_000
    """Above this many core pairs the city bound's core is split by district (one master LP
    over the 415,774 core pairs of a 20,000-volunteer city took 10-30 s a round after ten
    rounds and had not converged in 100 s; 30,713 core pairs at 4,000 volunteers converge
    in 3.7 s)."""

    # --- time ---
    finish_s_per_need: float = 40e-6
    """Time kept back per need for explaining unmet needs and writing the plan."""
    min_polish_s: float = 0.5
    """Least time given to the polishing phase when there is time left."""
    highs_time_share: float = 0.9
    """Share of the time left given to HiGHS as its limit (it can overrun its limit a little)."""
    colgen_share: float = 0.5
    """Share of the time left that column generation may use before the full model is solved."""
    colgen_s_per_pair: float = 2e-5
    """Column generation's set-up and first round, per eligible pair (measured: 0.4 s for
    19,433 pairs); it starts only with that much time."""
    coverage_share: float = 0.2
    """At most this share of the time left goes to the coverage-only bound (see
    :meth:`matcher.search.colgen.ColgenResult.coverage_master`)."""
    pool_share: float = 0.2
    pool_max_s: float = 1.5
    """At most this share of the time left, and this many seconds, go to the MIP over the
    forced columns (see :meth:`matcher.search.colgen.PairBounds.plan`).  Where the bound is above
    the optimum it cannot stop early: on a 30 s limit one 300-volunteer city spent 4.9 s in it,
    where branch-and-price or HiGHS find the plan anyway."""
    branch_first_s: float = 2.0
    branch_first_share: float = 0.3
    """Branch-and-price on the coverage-only master, before anything else, gets at most this
    long and this share of the time left (on thirty 300-volunteer cities it settled the 12
    the columns left open in 0.05-1.23 s; the pool and HiGHS follow where it does not)."""
    branch_s: float = 2.0
    """Branch-and-price beside HiGHS (again, when the pool found a better plan to start
    from) stops after this long; where it settles nothing HiGHS is faster alone."""
    branch_head_s: float = 0.6
    branch_head_share: float = 0.1
    """That search runs alone for at most ``branch_head_s`` seconds, and this share of the
    time left, before HiGHS starts beside it: most proofs it finds take less, and HiGHS
    checks for a stop only once its presolve is over."""
    city_bound_after: float = 0.3
    """City size: share of the search's time before the coverage bound starts beside it."""
    city_bound_margin_s: float = 0.2
    """The city bound's process stops this long before the search, so its answer is ready."""
    deterministic_mip_nodes: int = 2000
    """Node limit of the MIP over the columns in a deterministic solve."""
    colgen_max_rounds: int = 500
    """Pricing rounds of one column generation at most."""
    colgen_mip_share: float = 0.5
    colgen_min_mip_s: float = 0.5
    """The MIP over the columns gets this share of the time column generation took so far,
    at least this many seconds."""
    colgen_min_run_s: float = 0.1
    """A MIP over the columns is only started with this much of its time left (HiGHS cannot
    stop in its presolve: with almost no time left it overran by 0.66 s on a 300-volunteer
    city)."""
    branch_max_node_rounds: int = 200
    """Pricing rounds per node of branch-and-price at most (each adds columns; convergence
    usually takes a few)."""
    branch_cut_rounds: int = 5
    """Rounds of odd-cycle cuts at the root, each once its LP has converged (cutting at every
    node too made single nodes dearer and the search for a better plan slower)."""
    resolve_fixed_share: float = 0.3
    """Re-solve with ``allow_moves``: the share of the time limit for the re-solve without
    moves first."""

    def __post_init__(self) -> None:
        if self.prover not in get_args(Prover):
            raise ValueError(f"prover: must be one of {get_args(Prover)}, got {self.prover!r}")

    def with_options(self, **options: Any) -> SolveParams:
        """A copy with the options given (those that are not None) replacing the fields."""
        given = {k: v for k, v in options.items() if v is not None}
        return dataclasses.replace(self, **given) if given else self

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SolveParams:
        """Parameters from a mapping of field names to values (unknown names refused)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown solve parameters: {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> SolveParams:
        """Parameters from a TOML file (``.toml``) or a JSON object (any other suffix)."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        if not isinstance(values, dict):
            raise ValueError(f"{path}: solve parameters must be a table of names and values")
        return cls.from_dict(values)


DEFAULTS = SolveParams()
"""The parameters a solve uses when given none."""
