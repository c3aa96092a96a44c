"""The simulation family: ``Simulation`` (a 情景模拟 job: a scenario run on a station's week),
``SimulationRequest``, ``SimulationProgress`` and ``SimulationPublic``.

A simulation is a job of the same durable queue as plan versions (:mod:`api.jobs`): its row
carries the queue's columns (:class:`~api.models.plan.QueuedJob`), a worker claims it and runs
it in its own process, which builds the station's week from the database, runs the scenario's
Monte Carlo solves on it and stores the report (:mod:`api.simulation_job`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field as TableField

from api.models.common import PLAIN_TEXT, utcnow
from api.models.plan import QueuedJob
from matcher.format.bounds import WeekStart

SIMULATION_STATES = ("queued", "solving", "done", "failed", "cancelled")
"""A simulation's states (those of a plan job, less ``reverted``)."""

MAX_RUNS = 10
"""Most Monte Carlo runs a station's simulation may ask for: a station's question is answered
in a couple of minutes, on the service's own solve processes."""

SCENARIO_TEXT_MAX = 20_000
"""Most characters of a scenario's YAML text (the shipped ones are under 1,500)."""


class Simulation(QueuedJob, table=True):
    """A 情景模拟 job: a scenario run ``runs`` times on a station's week, and its report."""

    id: int | None = TableField(default=None, primary_key=True)
    station_id: str = TableField(foreign_key="station.id", index=True)
    token_id: int | None = TableField(default=None, foreign_key="token.id", description="Who asked.")
    week_start: dt.date
    name: str = TableField(sa_type=PLAIN_TEXT, description="The scenario's name.")
    scenario: dict[str, Any] = TableField(
        sa_column=Column(JSON, nullable=False),
        description="The scenario as validated (JSON); its base is replaced by the station's week.",
    )
    scenario_text: str = TableField(
        sa_column=Column(Text, nullable=False), description="The scenario's YAML as the coordinator sent it."
    )
    runs: int = TableField(ge=1, description="Monte Carlo runs.")
    state: str = TableField(default="queued", index=True, description=" / ".join(SIMULATION_STATES))
    progress: dict[str, Any] | None = TableField(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="Where the runs stand (a SimulationProgress), kept once it ends.",
    )
    report: dict[str, Any] | None = TableField(
        default=None, sa_column=Column(JSON, nullable=True), description="The report (scenarios.simulate)."
    )
    error: str | None = TableField(default=None, sa_column=Column(Text, nullable=True))
    created_at: dt.datetime = TableField(default_factory=utcnow)
    finished_at: dt.datetime | None = None


class SimulationRequest(BaseModel):
    """Run a scenario on the station's week: a shipped one by name, or one's YAML text (exactly one)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(
        default=None, max_length=64, description="A shipped scenario's name (`GET /v1/scenarios`)."
    )
    yaml: str | None = Field(
        default=None,
        max_length=SCENARIO_TEXT_MAX,
        description="A scenario as YAML (the format of `linli simulate`); its `base` may be left out: "
        "the station's week replaces it.",
    )
    runs: int = Field(default=3, ge=1, le=MAX_RUNS, description=f"Monte Carlo runs (1 .. {MAX_RUNS}).")
    week_start: WeekStart = Field(description="The Monday of the station's week to start from.")


class SimulationProgress(BaseModel):
    """Where a simulation stands."""

    phase: str = Field(description="prepare (building the week), runs (the scenario's runs), advice, done.")
    done: int = Field(description="Solves of the phase finished.")
    total: int = Field(description="Solves of the phase.")
    elapsed_s: float = Field(description="Seconds since the job started.")


class SimulationPublic(BaseModel):
    """A simulation as clients see it."""

    id: int
    station_id: str
    week_start: dt.date
    name: str = Field(description="The scenario's name.")
    runs: int
    state: str = Field(description="queued, solving, done, failed or cancelled.")
    error: str | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: SimulationProgress | None = None
    report: dict[str, Any] | None = Field(
        default=None,
        description="Once done: coverage (mean, p5, p50, p95 and the base) in total, by category and by "
        "district, the most frequent unmet reasons and the recruit-first advice.",
    )


class ScenarioPublic(BaseModel):
    """A shipped scenario."""

    name: str
    description: str
    runs: int = Field(description="The scenario's own number of runs (a station's simulation runs fewer).")
    yaml: str = Field(description="Its YAML text.")
