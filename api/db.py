"""The database engine and request sessions."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

import api.audit  # noqa: F401  (registers the audit log's session events)
from api.settings import get_settings

SQLITE_BUSY_MS = 30_000
"""How long a SQLite connection waits for another writer's lock before it gives up."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so a solve's writes never block reads.

    Parameters are hidden from SQL error messages: they can hold beneficiaries' personal data.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def write_transaction(session: Session) -> None:
    """Start the session's transaction as a writer, before its first read.

    On SQLite a read-then-write transaction only takes the write lock at its first
    write, so two requests can both read the same state and both write (a check such
    as an hours cap would pass twice); ``BEGIN IMMEDIATE`` serialises them.  PostgreSQL
    callers lock the rows they read instead (``SELECT … FOR UPDATE``).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache
def get_engine() -> Engine:
    """The process's engine, from ``DATABASE_URL``."""
    return make_engine(get_settings().database_url)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, on the app's engine."""
    with Session(request.app.state.engine) as session:
        yield session
