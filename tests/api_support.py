"""Shared support for the service tests: databases (SQLite and PostgreSQL), a seeded city, clients."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import create_token
from api.db import make_engine
from api.main import create_app
from api.migrate import upgrade
from api.seed import seed_demo

POSTGRES_URL = os.environ.get("LINLI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server of this machine (trust auth, database ``test``)."""

BACKENDS = ("sqlite", "postgresql")


def postgres_available() -> bool:
    """Whether the test PostgreSQL server answers."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


@functools.cache
def _sqlite_template() -> str:
    """An SQLite file migrated to head, made once per test process: each test's database is a copy.

    Twelve migrations take about 1.4 s on SQLite (its ALTER TABLEs copy tables); a copy takes
    milliseconds, and is the same database, as the migrations are the same code.
    """
    folder = tempfile.mkdtemp(prefix="linli-template-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, "template.sqlite")
    upgrade(f"sqlite:///{path}")
    return path


def fresh_sqlite(path: Any) -> str:
    """A migrated SQLite database at ``path`` (a copy of the template), as a URL."""
    # The backup API copies a consistent database whatever its journal mode (WAL pages included).
    with sqlite3.connect(_sqlite_template()) as source, sqlite3.connect(str(path)) as target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{path}"


def database_url(backend: str, tmp_path: Any) -> Iterator[str]:
    """A fresh, migrated database of the backend: an SQLite file, or a private PostgreSQL schema."""
    if backend == "sqlite":
        yield fresh_sqlite(tmp_path / "linli.sqlite")
        return
    if not postgres_available():
        # In CI a missing server is a failure, not a quiet half-run suite.
        if os.environ.get("LINLI_REQUIRE_POSTGRES") or os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"linli_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class City:
    """A seeded service: its client, engine, stations and a token per station and for the centre."""

    client: TestClient
    engine: Engine
    stations: list[str]
    tokens: dict[str | None, str] = field(default_factory=dict)

    def headers(self, station: str | None = None) -> dict[str, str]:
        """Authorization for a station's token (None: the centre's)."""
        return {"Authorization": f"Bearer {self.tokens[station]}"}

    def wait(self, plan_id: int, station: str | None = None, timeout: float = 120) -> dict[str, Any]:
        """Poll a plan version until it leaves queued/solving; returns its JSON."""
        end = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.client.get(
                f"/v1/plans/{plan_id}", headers=self.headers(station)
            ).json()
            if body["state"] not in ("queued", "solving") or time.monotonic() > end:
                return body
            time.sleep(0.1)


def seeded_city(
    url: str, volunteers: int = 60, beneficiaries: int = 45, districts: int = 2
) -> Iterator[City]:
    """A demo city in the database at ``url``, served by a TestClient."""
    engine = make_engine(url)
    with Session(engine) as session:
        stations = seed_demo(session, volunteers, beneficiaries, districts, seed=3)
        tokens: dict[str | None, str] = {None: create_token(session, None, "centre")}
        for station in stations:
            tokens[station] = create_token(session, station, station)
    with TestClient(create_app(engine)) as client:
        yield City(client, engine, stations, tokens)
    engine.dispose()
