"""The scenario file: a base week, perturbations, and how many Monte Carlo runs.

A scenario is YAML (see ``scenarios/*.yaml``)::

    name: winter-attrition
    description: A fifth of the volunteers drop out in January ...
    base:
      generate: {volunteers: 300, beneficiaries: 225, districts: 3, seed: 11, week_start: 2027-01-11}
      # or: problem: station.json   (a format-1 problem file, relative to the scenario file)
    runs: 20
    seed: 2027
    time_limit: 5
    perturbations:
      - kind: attrition
        rate: 0.2
    advice: {recruits: 10, candidates: 4, runs: 3}

A bad file raises :class:`matcher.format.errors.InputError` with one line naming the field, e.g.
``perturbations[2].rate: Input should be less than or equal to 1``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from matcher.format.errors import InputError, format_error_details, format_location
from matcher.format.schema import AnyProblem
from scenarios.perturbations import KINDS, AddPosts, Perturbation, district_refs
from scenarios.perturbations.common import STRICT


class Generated(BaseModel):
    """Parameters of ``linli generate``: a synthetic city week."""

    model_config = STRICT

    volunteers: Annotated[int, Field(ge=0, le=100_000)] = Field(description="Number of volunteers.")
    beneficiaries: Annotated[int, Field(ge=0, le=100_000)] = Field(description="Number of beneficiaries.")
    districts: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None, description="Number of districts (default about one per 500 volunteers)."
    )
    seed: int = Field(default=0, description="Seed of the generator.")
    week_start: dt.date = Field(
        default=dt.date(2026, 12, 7), description="The Monday of the week (certificates are checked then)."
    )

    @field_validator("week_start")
    @classmethod
    def _monday(cls, value: dt.date) -> dt.date:
        if value.weekday() != 0:
            raise ValueError(f"{value.isoformat()} is not a Monday")
        return value


class Base(BaseModel):
    """The unperturbed week: a problem file or generator parameters (exactly one)."""

    model_config = STRICT

    problem: str | None = Field(
        default=None,
        description="Path of a problem file (format 1 or 2), relative to the scenario file.",
    )
    generate: Generated | None = Field(default=None, description="Parameters of a generated city.")

    @model_validator(mode="after")
    def _one(self) -> Base:
        if (self.problem is None) == (self.generate is None):
            raise ValueError("give exactly one of 'problem' and 'generate'")
        return self


class Advice(BaseModel):
    """How the "recruit first" advice is computed: for the (skill, district) pairs that leave the
    most priority-weighted hours unmet, ``recruits`` volunteers are added in ``runs`` runs each and
    the mean coverage gain is measured."""

    model_config = STRICT

    recruits: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=10, description="Volunteers per candidate."
    )
    candidates: Annotated[int, Field(ge=0, le=20)] = Field(
        default=4, description="Candidate (skill, district) recruitments tried; 0 skips the advice."
    )
    runs: Annotated[int, Field(ge=1, le=100)] = Field(
        default=3, description="Runs per candidate: the scenario's first runs, paired (at most runs)."
    )


class Scenario(BaseModel):
    """A what-if question: a base week, perturbations applied in order, and Monte Carlo runs."""

    model_config = STRICT

    name: str = Field(min_length=1, description="Short name, used in reports.")
    description: str = Field(default="", description="What the scenario asks, for the coordinator.")
    base: Base = Field(description="The unperturbed week.")
    perturbations: list[Perturbation] = Field(
        default_factory=list, description="Perturbations applied in order to the base in every run."
    )
    runs: Annotated[int, Field(ge=1, le=100_000)] = Field(default=20, description="Monte Carlo runs.")
    seed: int = Field(default=0, description="Seed; the same seed gives the same numbers.")
    time_limit: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=5.0,
        description="Solver seconds per run; keep runs provably optimal for reproducible numbers.",
    )
    advice: Advice = Field(default_factory=Advice, description="The 'recruit first' advice.")


def _error_line(exc: ValidationError, document: str) -> str:
    """One line for the first error, with the union tag (``attrition`` ...) left out of the path."""
    first: dict[str, Any] = dict(exc.errors(include_url=False)[0])
    loc = list(first["loc"])
    loc = [p for k, p in enumerate(loc) if not (p in KINDS and k > 0 and isinstance(loc[k - 1], int))]
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append("kind")
        ctx = first.get("ctx") or {}
        first["msg"] = (
            f"unknown kind {ctx.get('tag')!r} (expected one of: {', '.join(KINDS)})"
            if first["type"] == "union_tag_invalid"
            else "required field is missing"
        )
    if first["type"] == "reference":  # a path inside a perturbation (add_posts): put it below its own
        ctx = dict(first.get("ctx") or {})
        ctx["path"] = f"{format_location(loc)}.{ctx['path']}" if loc else ctx["path"]
        first["ctx"] = ctx
    if first["type"] == "value_error":
        first["msg"] = str(first["msg"]).removeprefix("Value error, ")
    first["loc"] = tuple(loc)
    return format_error_details(first, document)


def parse_scenario(data: Any, document: str = "scenario") -> Scenario:
    """Validate decoded YAML as a scenario.

    Parameters
    ----------
    data
        The decoded document.
    document
        Its name, for errors about the whole document.

    Returns
    -------
    Scenario
        The validated scenario (district references are checked by :func:`check_references`).

    Raises
    ------
    InputError
        With one line naming the field.
    """
    if not isinstance(data, dict):
        raise InputError(f"{document}: expected a mapping (name, base, perturbations, runs, seed)")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(_error_line(exc, document)) from None


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        The YAML file.

    Returns
    -------
    tuple[Scenario, Path]
        The scenario and the directory relative paths in it start from.

    Raises
    ------
    InputError
        If the file cannot be read, is not YAML, or breaks the schema.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    return read_scenario(text, str(path)), path.parent


def read_scenario(text: str, document: str = "scenario", base: dict[str, Any] | None = None) -> Scenario:
    """Validate a scenario's YAML text.

    Parameters
    ----------
    text
        The YAML.
    document
        Its name, for errors (a file's path, or the field it came in).
    base
        A ``base`` for a document that has none (the caller replaces the base anyway).

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    InputError
        If the text is not YAML (the line and column named) or breaks the schema.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{document}: invalid YAML ({where}{problem})") from None
    if base is not None and isinstance(data, dict) and "base" not in data:
        data["base"] = base
    return parse_scenario(data, document)


SHIPPED_DIR = Path(__file__).parent
"""Where the shipped scenarios (``*.yaml``, package data of :mod:`scenarios`) are."""


def shipped_scenarios() -> dict[str, str]:
    """The scenarios shipped with Linli: file stem -> YAML text, by name."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(SHIPPED_DIR.glob("*.yaml"))}


def base_problem(scenario: Scenario, root: Path) -> AnyProblem:
    """Build or read the unperturbed problem, with its district references checked.

    Parameters
    ----------
    scenario
        A validated scenario.
    root
        Directory that ``base.problem`` is relative to.

    Returns
    -------
    AnyProblem
        The base week (format 1 or 2).

    Raises
    ------
    InputError
        If the problem file is bad or a perturbation names a district the base does not have.
    """
    from matcher.format.io import load_any_problem
    from matcher.synth.generate import generate_city

    if scenario.base.problem is not None:
        file = root / scenario.base.problem
        if not file.is_file():
            raise InputError(f"base.problem: no such file {str(file)!r}")
        problem: AnyProblem = load_any_problem(file)
    else:
        g = scenario.base.generate
        assert g is not None
        try:
            problem = generate_city(
                g.volunteers, g.beneficiaries, g.districts, seed=g.seed, week_start=g.week_start
            )
        except ValueError as exc:
            raise InputError(f"base.generate.{exc}") from None
    check_references(scenario, problem)
    return problem


def check_references(scenario: Scenario, problem: AnyProblem) -> None:
    """Raise :class:`InputError` for the first district a perturbation names that the base lacks
    (or the first slot of an added post that is not one of the base's week).

    Parameters
    ----------
    scenario
        The scenario.
    problem
        Its base problem.
    """
    check_districts(scenario, [d.id for d in problem.districts])
    slots = set(problem.slot_ids)
    for j, p in enumerate(scenario.perturbations):
        if isinstance(p, AddPosts):
            for path, slot in p.slot_refs(f"perturbations[{j}]"):
                if slot not in slots:
                    raise InputError(f"{path}: unknown slot {slot!r} (not a slot of the base week)")


def check_districts(scenario: Scenario, districts: Iterable[str]) -> None:
    """Raise :class:`InputError` for the first district a perturbation names that is not one of
    ``districts`` (see :func:`check_references`)."""
    known = set(districts)
    for j, p in enumerate(scenario.perturbations):
        for path, district in district_refs(p, f"perturbations[{j}]"):
            if district not in known:
                raise InputError(
                    f"{path}: unknown district {district!r} (the base has: {', '.join(sorted(known))})"
                )
