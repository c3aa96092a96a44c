"""The audit log's capture: every write to an audited table records who, when, what and the change.

Writes are captured in one place, the ORM session, so a route, page or command added later
cannot forget them:

* ``after_flush`` turns each inserted, changed and deleted object of an audited table into an
  :class:`~api.models.AuditEntry` (changed fields only, ``[before, after]``);
* ``do_orm_execute`` does the same for bulk ``UPDATE``/``DELETE`` statements run through a
  session (a plan's revert, a job's claim or cancel, a CSV import's certificates), reading
  the rows they will touch first.

The entries are inserted on the session's own connection, so they commit or roll back with
the write.  Who wrote is the session's actor (``session.info``, set where the caller is
authenticated) or else the context's (:data:`current_actor`: the CLI, a job); a write with
neither is the ``system``'s.  Machine columns (a job's progress, lease and claim, a token's
last use) and secrets (a token's digest) are never recorded; contact details (a volunteer's phone
and WeChat id, a beneficiary's address, contact person and phone) are recorded masked
(``138****1234``, :mod:`api.contacts`): the entry says they changed and roughly to what, and the
log holds no full number.  A write through a bare
``Connection`` bypasses this: ``tests/service/test_audit.py`` fails when one touches an
audited table.
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import BindParameter

from api.contacts import mask
from api.models import AuditEntry, utcnow


@dataclass(frozen=True)
class Actor:
    """Who is writing: a token (API or web), the command line, a job, or the process itself."""

    kind: str
    token_id: int | None = None
    label: str = ""


SYSTEM = Actor("system")
ACTOR_KEY = "linli.audit.actor"
"""``session.info`` key of the session's actor."""
LOGGED_KEY = "linli.audit.logged"
"""``Connection.info`` key: the tables this transaction has audit entries for (read by the tests' guard)."""

current_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "linli_audit_actor", default=None
)
"""The actor of writes whose session carries none (the CLI's, a job's, a request's own sessions)."""


def cli_actor() -> Actor:
    """The command line's actor: ``cli:<system user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        user = "?"
    return Actor("cli", None, f"cli:{user}")


JOB = Actor("job", None, "job")


def set_session_actor(session: Session, actor: Actor) -> None:
    """Attribute the session's writes to ``actor``."""
    session.info[ACTOR_KEY] = actor


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Attribute the writes of this context (every session without its own actor) to ``actor``."""
    token = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(token)


def actor_of(session: Session) -> Actor:
    """The actor of ``session``'s writes."""
    actor = session.info.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        return actor
    return current_actor.get() or SYSTEM


@dataclass(frozen=True)
class Spec:
    """How one table is audited: columns left out, and where its station is."""

    ignored: frozenset[str] = frozenset()
    station_column: str = "station_id"
    via: tuple[str, str] | None = None
    """(this table's column, the table it names): the station is that row's ``station_id``."""
    or_via: tuple[str, str] | None = None
    """Another such pair, used when ``via``'s column is empty (a need at a site has no beneficiary)."""
    machine_rows: bool = False
    """Rows the machine creates (a delivery, fanned out from the outbox): their creation is not
    recorded, only a person's write of a column not ``ignored`` (a delivery's retry)."""
    masked: frozenset[str] = frozenset()
    """Columns of personal contact data, recorded masked (:func:`api.contacts.mask`)."""

    def value(self, column: str, value: Any) -> Any:
        """``value`` of ``column`` as the entry records it (JSON; masked if a contact column)."""
        return _jsonable(mask(column, value) if column in self.masked else value)


_JOB_MACHINERY = frozenset(
    {"progress", "claimed_by", "lease_until", "attempts", "started_at", "finished_at", "error"}
)
"""A job's own bookkeeping: machine writes, many a second, not who-did-what."""

_DELIVERY_MACHINERY = frozenset(
    {
        "message_id",
        "endpoint_id",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "lease_until",
        "last_status",
        "last_error",
        "delivered_at",
        "created_at",
    }
)
"""A delivery's columns the dispatcher writes (all but ``retry_requested_at``, a person's)."""

AUDITED: dict[str, Spec] = {
    "station": Spec(station_column="id"),
    "volunteer": Spec(masked=frozenset({"phone", "wechat"})),
    "certificate": Spec(via=("volunteer_id", "volunteer")),
    "beneficiary": Spec(masked=frozenset({"address", "contact_name", "contact_phone"})),
    "site": Spec(),
    "need": Spec(via=("beneficiary_id", "beneficiary"), or_via=("site_id", "site")),
    # A plan's inputs and outputs are derived (the problem built from the people, the solver's
    # plan): its state, who asked and the change set are what a person did.
    "planversion": Spec(ignored=_JOB_MACHINERY | {"problem", "plan", "base"}),
    "servicerecord": Spec(via=("volunteer_id", "volunteer")),
    "servicecertificate": Spec(),
    # Never the digest (it would let an offline guess be checked); last use is a read's side effect.
    "token": Spec(ignored=frozenset({"digest", "last_used_at"})),
    "simulation": Spec(ignored=_JOB_MACHINERY | {"report", "scenario"}),
    # A receiver's secret is never recorded (an entry would hand out the key that signs messages).
    "webhookendpoint": Spec(ignored=frozenset({"secret"})),
    # The dispatcher's own bookkeeping, many rows a second: only a person's retry is recorded.
    "delivery": Spec(ignored=_DELIVERY_MACHINERY, machine_rows=True),
    # A calendar link: made and revoked by a coordinator; never the digest, as for tokens.
    "calendarfeed": Spec(ignored=frozenset({"digest"})),
    # A publication's messages: who was told, under which key; the text and its facts (phones,
    # addresses) stay in the outbox, not copied into the log.
    "outboxmessage": Spec(ignored=frozenset({"body", "payload"})),
}
"""The audited tables (their ``__tablename__``), each with its :class:`Spec`."""


def _jsonable(value: Any) -> Any:
    return to_jsonable_python(value, fallback=str)


class _Stations:
    """Stations of parent rows (a need's beneficiary, a record's volunteer), looked up once per flush."""

    def __init__(self, conn: Connection, tables: Mapping[str, Table]) -> None:
        self._conn, self._tables, self._seen = conn, tables, {}  # type: ignore[var-annotated]

    def of(self, spec: Spec, values: Mapping[str, Any]) -> str | None:
        if spec.via is None:
            station = values.get(spec.station_column)
            return None if station is None else str(station)
        column, parent = spec.via
        if values.get(column) is None and spec.or_via is not None:
            column, parent = spec.or_via
        key = (parent, values.get(column))
        if key[1] is None:
            return None
        if key not in self._seen:
            table = self._tables[parent]
            self._seen[key] = self._conn.execute(
                select(table.c.station_id).where(table.c.id == key[1])
            ).scalar_one_or_none()
        found: str | None = self._seen[key]
        return found


def _entry(
    actor: Actor, station: str | None, entity: str, ident: Any, action: str, changes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_token_id": actor.token_id,
        "actor_label": actor.label,
        "actor_kind": actor.kind,
        "station_id": station,
        "entity": entity,
        "entity_id": str(ident),
        "action": action,
        "changes": changes,
    }


def _write(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    conn.execute(insert(AuditEntry), rows)
    conn.info.setdefault(LOGGED_KEY, set()).update(row["entity"] for row in rows)


def _tables(session: Session) -> Mapping[str, Table]:
    return AuditEntry.metadata.tables  # every model shares SQLModel's metadata


def _identity(state: Any) -> str:
    # Not ``state.identity``: a new object gets it only after the flush's events.
    return ",".join(str(part) for part in state.mapper.primary_key_from_instance(state.obj()))


STORED_KEY = "linli.audit.stored"
"""``session.info`` key: stored values of fields changed (or rows deleted) without being loaded first."""


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Read the stored values the flush's history will not have: a field set while expired (after
    a commit, unread since) has no "before", nor has a deleted row's unloaded field."""
    stored: dict[int, dict[str, Any]] = {}
    for obj in [*session.dirty, *session.deleted]:
        state = inspect(obj)
        table = state.mapper.local_table
        spec = AUDITED.get(getattr(table, "name", ""))
        if spec is None or state.key is None:
            continue
        deleted = obj in session.deleted
        missing = [
            c.key
            for c in state.mapper.column_attrs
            if c.key not in spec.ignored
            and (
                c.key not in state.dict
                if deleted
                else state.attrs[c.key].history.added and not state.attrs[c.key].history.deleted
            )
        ]
        homes = [spec.via[0]] if spec.via is not None else [spec.station_column]
        if spec.or_via is not None:
            homes.append(spec.or_via[0])
        for home in homes:
            if missing and home not in state.dict and home not in missing:
                missing.append(home)  # the entry's station
        if not missing:
            continue
        where = [
            column == value for column, value in zip(state.mapper.primary_key, state.key[1], strict=True)
        ]
        columns = [state.mapper.get_property(key).columns[0] for key in missing]
        row = session.connection().execute(select(*columns).where(*where)).first()
        if row is not None:
            stored[id(state)] = dict(zip(missing, row, strict=True))
    session.info[STORED_KEY] = stored


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    """Entries for the flushed objects of audited tables (ids are assigned, history still there)."""
    actor: Actor | None = None
    rows: list[dict[str, Any]] = []
    conn = session.connection()
    stations = _Stations(conn, _tables(session))
    stored: dict[int, dict[str, Any]] = session.info.pop(STORED_KEY, {})
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            state = inspect(obj)
            spec = AUDITED.get(getattr(state.mapper.local_table, "name", ""))
            if spec is None or (action == "create" and spec.machine_rows):
                continue
            columns = [c.key for c in state.mapper.column_attrs if c.key not in spec.ignored]
            old = stored.get(id(state), {})
            values = {**old, **state.dict}
            changes: dict[str, Any] = {}
            if action == "update":
                for key in columns:
                    history = state.attrs[key].history
                    if not history.has_changes():
                        continue
                    before = history.deleted[0] if history.deleted else old.get(key)
                    after = history.added[0] if history.added else None
                    if before != after:
                        changes[key] = [spec.value(key, before), spec.value(key, after)]
                if not changes:
                    continue
            else:
                for key in columns:
                    value = values.get(key)
                    if value is not None and value != [] and value != {}:
                        shown = spec.value(key, value)
                        changes[key] = [None, shown] if action == "create" else [shown, None]
            actor = actor or actor_of(session)
            entity = state.mapper.local_table.name
            rows.append(_entry(actor, stations.of(spec, values), entity, _identity(state), action, changes))
    _write(conn, rows)


def _written_columns(statement: Any) -> dict[str, Any]:
    """``{column: value}`` of an UPDATE's SET clause (an SQL expression as its text)."""
    out: dict[str, Any] = {}
    for key, value in (getattr(statement, "_values", None) or {}).items():
        name = key if isinstance(key, str) else getattr(key, "key", str(key))
        out[name] = value.value if isinstance(value, BindParameter) else str(value)
    return out


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> Any:
    """Entries for a bulk UPDATE or DELETE of an audited table: read the rows it will touch, run it,
    and record them if it did (a conditional UPDATE that lost its race touches none)."""
    if not (state.is_update or state.is_delete):
        return None
    statement: Any = state.statement
    table = statement.table
    spec = AUDITED.get(getattr(table, "name", ""))
    if spec is None:
        return None
    written = {k: v for k, v in _written_columns(statement).items() if k not in spec.ignored}
    if state.is_update and not written:
        return None  # machine columns only (a lease renewed)
    keys = [c.name for c in table.primary_key.columns]
    wanted = (
        set(written) if state.is_update else {c.name for c in table.columns if c.name not in spec.ignored}
    )
    if spec.via is not None:
        wanted.add(spec.via[0])
    wanted.add(spec.station_column)
    query = select(*[table.c[name] for name in sorted(set(keys) | wanted) if name in table.c])
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    conn = state.session.connection()
    before = [dict(row._mapping) for row in conn.execute(query)]
    result = state.invoke_statement()
    if not before or getattr(result, "rowcount", 0) == 0:
        return result
    actor = actor_of(state.session)
    stations = _Stations(conn, _tables(state.session))
    rows = []
    for row in before:
        ident = ",".join(str(row[k]) for k in keys)
        if state.is_update:
            changes = {
                k: [spec.value(k, row.get(k)), spec.value(k, v)]
                for k, v in written.items()
                if row.get(k) != v
            }
            if not changes:
                continue
            action = "update"
        else:
            changes = {
                k: [spec.value(k, v), None] for k, v in row.items() if v is not None and k not in spec.ignored
            }
            action = "delete"
        rows.append(_entry(actor, stations.of(spec, row), table.name, ident, action, changes))
    _write(conn, rows)
    return result
