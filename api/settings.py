"""Service settings, read from environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_STARS: tuple[float, ...] = (100, 300, 600, 1000, 1500)
"""Cumulative hours for 1 to 5 stars, the service plan's default."""

PUBLIC_URL_PATTERN = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"
"""A base URL: http(s), a host, perhaps a path; no query, fragment or space."""


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///linli.sqlite",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL: the embedded SQLite file, or postgresql+psycopg://… in production.",
    )
    star_hours: Annotated[tuple[float, ...], NoDecode] = Field(
        default=DEFAULT_STARS,
        validation_alias="LINLI_STAR_HOURS",
        description="Cumulative hours for 1★ … 5★, ascending (comma-separated in the environment).",
    )
    solve_processes: int = Field(
        default=2,
        ge=1,
        validation_alias="LINLI_SOLVE_PROCESSES",
        description=(
            "Solves a worker process runs at once, each in its own process (others wait, queued); "
            "with two or more, one is kept for station plans."
        ),
    )
    solve_time_limit: float = Field(
        default=20.0,
        gt=0,
        validation_alias="LINLI_SOLVE_TIME_LIMIT",
        description="Time limit of the solves the service builds from its own data (seconds).",
    )

    max_body_bytes: int = Field(
        default=16 * 2**20,
        ge=1024,
        validation_alias="LINLI_MAX_BODY_BYTES",
        description="Largest request body (bytes); a larger one is answered 413 before it is read.",
    )
    max_time_limit: float = Field(
        default=300.0,
        gt=0,
        validation_alias="LINLI_MAX_TIME_LIMIT",
        description="Longest time_limit_s a /v1/solve problem may ask for (seconds); longer is refused, 422.",
    )
    workers: int = Field(
        default=1,
        ge=0,
        le=1,
        validation_alias="LINLI_WORKERS",
        description="1: `linli serve` runs jobs too (a worker loop in its process); 0: the API only.",
    )
    job_lease: float = Field(
        default=15.0,
        gt=0,
        validation_alias="LINLI_JOB_LEASE",
        description=(
            "Seconds a worker's claim on a running job lasts without renewal (renewed every quarter of it); "
            "a job whose worker died is claimed again once its lease ran out."
        ),
    )
    job_attempts: int = Field(
        default=3,
        ge=1,
        validation_alias="LINLI_JOB_ATTEMPTS",
        description="Runs of a job whose workers died before it is failed.",
    )

    delivery_backoff: float = Field(
        default=5.0,
        gt=0,
        validation_alias="LINLI_DELIVERY_BACKOFF",
        description=(
            "Seconds before a webhook delivery's first retry; each next waits twice as long "
            "(with jitter), up to LINLI_DELIVERY_BACKOFF_MAX."
        ),
    )
    delivery_backoff_max: float = Field(
        default=3600.0,
        gt=0,
        validation_alias="LINLI_DELIVERY_BACKOFF_MAX",
        description="Longest wait between two attempts of a webhook delivery (seconds).",
    )
    delivery_attempts: int = Field(
        default=10,
        ge=1,
        le=100,
        validation_alias="LINLI_DELIVERY_ATTEMPTS",
        description="Attempts of a webhook delivery before it is failed (a coordinator may retry it).",
    )
    delivery_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        validation_alias="LINLI_DELIVERY_TIMEOUT",
        description="Seconds a receiver has to answer a webhook POST; longer is a failed attempt.",
    )
    delivery_poll: float = Field(
        default=1.0,
        gt=0,
        validation_alias="LINLI_DELIVERY_POLL",
        description="How often an idle dispatcher looks for new messages and due retries (seconds).",
    )
    delivery_paused: bool = Field(
        default=False,
        validation_alias="LINLI_DELIVERY_PAUSED",
        description="Workers send no webhooks: messages wait (`linli deliver --once` sends them).",
    )
    public_url: str | None = Field(
        default=None,
        validation_alias="LINLI_PUBLIC_URL",
        pattern=PUBLIC_URL_PATTERN,
        description=(
            "Where volunteers' phones reach the service, e.g. https://linli.example.org: the base of the "
            "calendar links (default: the host a coordinator's request came to)."
        ),
    )

    @field_validator("star_hours", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(x) for x in value.split(",") if x.strip())
        return value

    @field_validator("star_hours")
    @classmethod
    def _ascending(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or len(value) > 5 or any(b <= a for a, b in itertools.pairwise(value)) or value[0] <= 0:
            raise ValueError("star thresholds: one to five, positive and strictly ascending")
        return value

    @model_validator(mode="after")
    def _station_limit_within_max(self) -> Settings:
        # The service's own solves must obey the limit it holds integrators to.
        if self.solve_time_limit > self.max_time_limit:
            raise ValueError(
                f"LINLI_SOLVE_TIME_LIMIT ({self.solve_time_limit:g} s) exceeds "
                f"LINLI_MAX_TIME_LIMIT ({self.max_time_limit:g} s)"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings (read once)."""
    return Settings()
