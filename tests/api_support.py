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
from collections.abc import Callable, Iterator
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


@functools.cache
def postgres_available() -> bool:
    """Whether the test PostgreSQL server answers (asked once per test process)."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


@dataclass(frozen=True)
class Seed:
    """The parameters of a demo city (``seed_demo(session, volunteers, beneficiaries, districts,
    seed=3)``) and its tokens: one per station and the centre's."""

    volunteers: int = 60
    beneficiaries: int = 45
    districts: int = 2


DEMO = Seed()
"""The city of the ``city`` fixture."""


@dataclass(frozen=True)
class Template:
    """A database made once per test process and copied for each test: migrated to head, and
    with ``seed``, holding that demo city (whose ``stations`` and ``tokens`` every copy shares)."""

    location: str
    """The SQLite file, or the PostgreSQL database's name."""
    seed: Seed | None = None
    stations: tuple[str, ...] = ()
    tokens: dict[str | None, str] = field(default_factory=dict)


def _seed_into(url: str, seed: Seed) -> tuple[tuple[str, ...], dict[str | None, str]]:
    """Seed the migrated, empty database at ``url`` with ``seed``'s city; returns its stations and
    tokens (each test of :func:`seeded_city` did this itself before the templates)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            stations = seed_demo(session, seed.volunteers, seed.beneficiaries, seed.districts, seed=3)
            tokens: dict[str | None, str] = {None: create_token(session, None, "centre")}
            for station in stations:
                tokens[station] = create_token(session, station, station)
    finally:
        engine.dispose()
    return tuple(stations), tokens


def _sqlite_copy(source: str, target: str) -> None:
    """Copy the SQLite database ``source`` to the file ``target``."""
    # The backup API copies a consistent database whatever its journal mode (WAL pages included).
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@functools.cache
def _sqlite_template(seed: Seed | None = None) -> Template:
    """An SQLite file migrated to head (and seeded with ``seed``), made once per test process:
    each test's database is a copy.

    Twelve migrations take about 1.4 s on SQLite (its ALTER TABLEs copy tables) and the demo city
    about 0.5 s; a copy takes milliseconds, and is the same database, as the migrations and the
    seed are the same code (``seed_demo`` is deterministic).
    """
    folder = tempfile.mkdtemp(prefix="linli-template-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, "template.sqlite")
    if seed is None:
        upgrade(f"sqlite:///{path}")
        return Template(path)
    _sqlite_copy(_sqlite_template().location, path)
    return Template(path, seed, *_seed_into(f"sqlite:///{path}", seed))


def fresh_sqlite(path: Any, seed: Seed | None = None) -> str:
    """A migrated SQLite database at ``path`` (a copy of the template), as a URL."""
    template = _sqlite_template(seed)
    _sqlite_copy(template.location, str(path))
    url = f"sqlite:///{path}"
    if seed is not None:
        _SEEDED[url] = template
    return url


@functools.cache
def _postgres_admin() -> Engine:
    """A connection to the server's ``test`` database that runs CREATE and DROP DATABASE (outside
    any transaction, as PostgreSQL requires)."""
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def _postgres_url(database: str) -> str:
    """The URL of ``database`` on the test server."""
    return sa.make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


def _create_database(name: str, template: str | None = None) -> None:
    """CREATE DATABASE ``name`` (a copy of ``template``: its tables, rows, sequences, triggers)."""
    copy = f' TEMPLATE "{template}"' if template else ""
    with _postgres_admin().connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))


def _drop_database(name: str) -> None:
    """DROP DATABASE ``name``, closing whatever connections a test left open to it."""
    with _postgres_admin().connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@functools.cache
def _postgres_template(seed: Seed | None = None) -> Template:
    """A PostgreSQL database migrated to head (and seeded with ``seed``), made once per test
    process: each test's database is ``CREATE DATABASE … TEMPLATE`` of it.

    Twelve migrations took 2-5 s per test on a loaded machine and the demo city 1-3 s; a copy takes
    about 0.15 s (PostgreSQL 15 copies a small database through the WAL), and is the same
    database: the same tables, rows, sequences' positions and triggers.  A template must have no
    connection open while it is copied, so each is disposed of once made.
    """
    name = f"linli_template_{uuid.uuid4().hex[:12]}"
    if seed is None:
        _create_database(name)
        atexit.register(_drop_database, name)
        upgrade(_postgres_url(name))
        return Template(name)
    _create_database(name, _postgres_template().location)
    atexit.register(_drop_database, name)
    return Template(name, seed, *_seed_into(_postgres_url(name), seed))


_SEEDED: dict[str, Template] = {}
"""The seeded template each database handed out by :func:`database_url` with a ``seed`` is a
copy of (its URL as the key): :func:`seeded_city` takes its stations and tokens from there."""


def database_url(backend: str, tmp_path: Any, seed: Seed | None = None) -> Iterator[str]:
    """A fresh, migrated database of the backend (with ``seed``, holding that demo city): an
    SQLite file, or a PostgreSQL database of its own; a copy of the process's template of it."""
    if backend == "sqlite":
        url = fresh_sqlite(tmp_path / "linli.sqlite", seed)
        try:
            yield url
        finally:
            _SEEDED.pop(url, None)
        return
    if not postgres_available():
        # In CI a missing server is a failure, not a quiet half-run suite.
        if os.environ.get("LINLI_REQUIRE_POSTGRES") or os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    template = _postgres_template(seed)
    name = f"linli_test_{uuid.uuid4().hex[:12]}"
    _create_database(name, template.location)
    url = _postgres_url(name)
    if seed is not None:
        _SEEDED[url] = template
    try:
        yield url
    finally:
        _SEEDED.pop(url, None)
        _drop_database(name)


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
    """A demo city in the database at ``url``, served by a TestClient.

    A database :func:`database_url` copied from a template seeded with the same parameters holds
    the city already (its stations and tokens are the template's); any other is seeded here.
    """
    template = _SEEDED.get(url)
    if template is not None and template.seed == Seed(volunteers, beneficiaries, districts):
        stations, tokens = template.stations, dict(template.tokens)
    else:
        stations, tokens = _seed_into(url, Seed(volunteers, beneficiaries, districts))
    engine = make_engine(url)
    with TestClient(create_app(engine)) as client:
        yield City(client, engine, list(stations), tokens)
    engine.dispose()


_PREPARED: dict[tuple[str, str], tuple[Template, Any]] = {}
"""The templates of :func:`prepared_database_url`, by backend and key, with what their
``prepare`` returned."""


def _prepared_template(backend: str, key: str, prepare: Callable[[City], Any]) -> tuple[Template, Any]:
    """A copy of the backend's seeded template (the demo city) on which ``prepare`` ran once per test
    process, through the service (a TestClient over it, closed and disposed of before any copy), and
    ``prepare``'s result: the ids it made, which every copy shares (the same rows and sequences)."""
    cached = _PREPARED.get((backend, key))
    if cached is not None:
        return cached
    if backend == "sqlite":
        seeded = _sqlite_template(DEMO)
        folder = tempfile.mkdtemp(prefix="linli-template-")
        atexit.register(shutil.rmtree, folder, True)
        location = os.path.join(folder, "template.sqlite")
        _sqlite_copy(seeded.location, location)
        url = f"sqlite:///{location}"
    else:
        seeded = _postgres_template(DEMO)
        location = f"linli_template_{uuid.uuid4().hex[:12]}"
        _create_database(location, seeded.location)
        atexit.register(_drop_database, location)
        url = _postgres_url(location)
    _SEEDED[url] = seeded
    try:
        for city in seeded_city(url):
            made = prepare(city)
    finally:
        _SEEDED.pop(url, None)
    _PREPARED[(backend, key)] = (Template(location, DEMO, seeded.stations, seeded.tokens), made)
    return _PREPARED[(backend, key)]


def prepared_database_url(
    backend: str, tmp_path: Any, key: str, prepare: Callable[[City], Any]
) -> Iterator[tuple[str, Any]]:
    """Like :func:`database_url` with the demo city, the database also holding what ``prepare``
    made through the service (solved plans, say), and ``prepare``'s result: a fresh copy for each
    test of a template prepared once per test process and ``key``.  :func:`seeded_city` serves it
    with the city's tokens."""
    if backend == "postgresql" and not postgres_available():
        if os.environ.get("LINLI_REQUIRE_POSTGRES") or os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    template, made = _prepared_template(backend, key, prepare)
    if backend == "sqlite":
        path = tmp_path / "linli.sqlite"
        _sqlite_copy(template.location, str(path))
        url = f"sqlite:///{path}"
        _SEEDED[url] = template
        try:
            yield url, made
        finally:
            _SEEDED.pop(url, None)
        return
    name = f"linli_test_{uuid.uuid4().hex[:12]}"
    _create_database(name, template.location)
    url = _postgres_url(name)
    _SEEDED[url] = template
    try:
        yield url, made
    finally:
        _SEEDED.pop(url, None)
        _drop_database(name)
