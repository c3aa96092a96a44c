"""The webhook dispatcher: delivers the outbox's messages to stations' signed webhook receivers.

Each round (:meth:`Dispatcher.run_once`):

1. **Fan out**: one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` makes the missing
   :class:`~api.models.Delivery` rows, one per (message, endpoint) for the active endpoints of
   the message's station created before the message (the unique pair makes a second
   dispatcher's insert a no-op).
2. **Claim** due pending rows in one conditional ``UPDATE … WHERE id IN (SELECT … LIMIT n)
   RETURNING``: on PostgreSQL the sub-select is ``FOR UPDATE SKIP LOCKED`` (two dispatchers
   take disjoint rows without waiting); on SQLite the statement is atomic, and its condition
   (pending, due, not leased) makes a row that another dispatcher took in between drop out.
   The claim sets ``claimed_by``, a lease (``lease_until``) and counts the attempt.  A row
   whose dispatcher died is claimed again once the lease ran out, or at once when that
   dispatcher ran on this host and its process is gone (:func:`api.jobs.claimer_is_dead`).
3. **Send** outside any transaction, a few at a time on threads: ``POST`` the JSON body
   (:func:`message_body`) signed with the endpoint's secret (:func:`sign`).
4. **Record** every outcome in one transaction, each only while the claim holds (same
   dispatcher and attempt): 2xx delivered; a 4xx other than 408/425/429 failed at once (the
   receiver refuses this message: retrying will not change its answer, a coordinator may after
   fixing the gateway); anything else (5xx, 408/425/429, a timeout, a refused connection) is
   retried after ``backoff × 2^(n-1)`` seconds (capped, times a random 0.5–1 jitter; a
   numeric ``Retry-After`` is honoured within the cap) until ``attempts`` were made, then
   failed.  Each attempt leaves a :class:`~api.models.DeliveryAttempt` (status or error,
   duration; never the body, which holds personal data).

Delivery is at least once: a dispatcher killed after its receiver answered 2xx but before it
recorded that sends the message again, with the same ``X-Linli-Key``; receivers must ignore a
key they have already handled (docs/service.md).  Nothing is lost: a message is in the outbox
from its publication's commit, and a delivery is pending until recorded otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import secrets
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import and_, bindparam, exists, false, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from api.audit import Actor, current_actor
from api.db import write_transaction
from api.jobs import claimer_is_dead, worker_name
from api.models import Delivery, OutboxMessage, WebhookEndpoint, utcnow
from api.models.webhook import ERROR_MAX_LENGTH
from api.services.publication import contact as recipient_contact
from api.settings import Settings

log = logging.getLogger("linli.delivery")

KEY_HEADER = "X-Linli-Key"
TIMESTAMP_HEADER = "X-Linli-Timestamp"
SIGNATURE_HEADER = "X-Linli-Signature"
ATTEMPT_HEADER = "X-Linli-Attempt"

RETRYABLE_4XX = frozenset({408, 425, 429})
"""Client-error statuses that say "later", not "never": retried like a 5xx."""

FAN_OUT_MARGIN_S = 600.0
"""After its first full pass, a dispatcher fans out messages created since its previous pass
less this margin (a publication's transaction that stayed open longer is caught by the next
full pass, every :data:`FULL_PASS_S`)."""

FULL_PASS_S = 900.0


def new_secret() -> str:
    """A signing secret for a new endpoint (256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Linli-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver checks (the snippet in docs/service.md): the signature, and a timestamp within
    ``tolerance`` seconds of ``now`` (a replayed old request is refused)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def message_body(message: OutboxMessage) -> bytes:
    """The JSON a receiver gets for one message (UTF-8, Chinese as is)."""
    payload = message.payload or {}
    # Who to send it to, as the publication wrote it (a family: its contact person's phone).
    name, phone, wechat = recipient_contact(message)
    contact = {"name": name, "phone": phone or None, "wechat": wechat or None}
    document = {
        "key": message.key,
        "station": message.station_id,
        "plan_id": message.plan_id,
        "week_start": message.week_start.isoformat(),
        "recipient": {"kind": message.recipient_kind, "id": message.recipient_id, "contact": contact},
        "text": message.body,
        "payload": payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before the attempt after ``attempt`` (1-based): ``base × 2^(attempt-1)``, at most
    ``cap``, times a jitter in [0.5, 1] so receivers that failed together are not retried together."""
    delay = min(cap, base * 2.0 ** min(attempt - 1, 62))
    return float(delay * (0.5 + 0.5 * (rng or random).random()))


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: an HTTP status or an error, and how long it took."""

    status: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        """The receiver took it (2xx)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def permanent(self) -> bool:
        """The receiver refused this message for good (a 4xx that does not mean "later")."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in RETRYABLE_4XX


@dataclass(frozen=True)
class _Job:
    """A claimed delivery with what its POST needs."""

    id: int
    attempt: int
    url: str
    secret: str
    key: str
    body: bytes


def _error_text(exc: Exception) -> str:
    """A short reason for a failed attempt (the exception's type and message; never a body)."""
    if isinstance(exc, httpx.TimeoutException):
        text = f"timeout ({type(exc).__name__})"
    else:
        text = f"{type(exc).__name__}: {exc}".strip()
    return text[:ERROR_MAX_LENGTH]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def send(client: httpx.Client, job: _Job, attempt: int, timeout: float) -> Outcome:
    """POST one message, signed now; never raises (a failure is the outcome)."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "linli-webhook/1",
        KEY_HEADER: job.key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(job.secret, timestamp, job.body),
        ATTEMPT_HEADER: str(attempt),
    }
    started = time.perf_counter()
    try:
        response = client.post(job.url, content=job.body, headers=headers, timeout=timeout)
    except Exception as exc:  # a refused connection, a timeout, a bad address: all retried
        return Outcome(None, _error_text(exc), round((time.perf_counter() - started) * 1000))
    ms = round((time.perf_counter() - started) * 1000)
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error, ms, _retry_after(response))


def fan_out(engine: Engine, since: dt.datetime | None = None) -> int:
    """Make the missing deliveries: one per (message, endpoint) for the active endpoints of the
    message's station created before it (only messages created since ``since``, if given);
    returns how many were made.  A pair made meanwhile by another dispatcher is skipped."""
    now = utcnow()
    m, e, d = OutboxMessage, WebhookEndpoint, Delivery
    pairs = (
        select(
            col(m.id),
            col(e.id),
            col(m.station_id),
            literal("pending"),
            literal(0),
            literal(now),
            literal(now),
        )
        .join(
            e,
            and_(
                col(e.station_id) == col(m.station_id), col(e.active), col(e.created_at) <= col(m.created_at)
            ),
        )
        .where(~exists().where(col(d.message_id) == col(m.id), col(d.endpoint_id) == col(e.id)))
    )
    if since is not None:
        pairs = pairs.where(col(m.created_at) >= since)
    columns = [
        "message_id",
        "endpoint_id",
        "station_id",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    with Session(engine) as session:
        dialect = session.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(Delivery).from_select(columns, pairs).on_conflict_do_nothing()
        made = int(getattr(session.execute(statement), "rowcount", 0) or 0)
        session.commit()
    return made


def dispatcher(engine: Engine, settings: Settings) -> Dispatcher | None:
    """The dispatcher a worker runs, or None while ``LINLI_DELIVERY_PAUSED``."""
    return None if settings.delivery_paused else Dispatcher.from_settings(engine, settings)


class Dispatcher:
    """Delivers pending webhook deliveries: fan out, claim, send, record (see the module's docstring).

    Parameters
    ----------
    engine
        The service's database.
    backoff, backoff_max, attempts, timeout, poll
        ``LINLI_DELIVERY_*`` (:class:`api.settings.Settings`): first retry's delay, the cap,
        attempts before failing, a receiver's time to answer, an idle dispatcher's poll.
    batch, concurrency
        Deliveries claimed per round, and POSTs in flight at once.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        backoff: float = 5.0,
        backoff_max: float = 3600.0,
        attempts: int = 10,
        timeout: float = 10.0,
        poll: float = 1.0,
        batch: int = 64,
        concurrency: int = 8,
    ) -> None:
        self.name = worker_name()
        self._engine = engine
        self._backoff, self._backoff_max, self._attempts = backoff, backoff_max, attempts
        self._timeout, self._poll = timeout, poll
        self._batch, self._concurrency = batch, concurrency
        # A claim outlives the slowest round: every POST of the batch timing out, in turn.
        self.lease = timeout * (batch // concurrency + 1) + 30.0
        self._since: dt.datetime | None = None
        self._full_pass_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(follow_redirects=False, limits=httpx.Limits(max_connections=concurrency))
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="linli-deliver")

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Dispatcher:
        """A dispatcher configured by ``LINLI_DELIVERY_*``."""
        return cls(
            engine,
            backoff=settings.delivery_backoff,
            backoff_max=settings.delivery_backoff_max,
            attempts=settings.delivery_attempts,
            timeout=settings.delivery_timeout,
            poll=settings.delivery_poll,
        )

    # ------------------------------------------------------------- control

    def start(self) -> None:
        """Run the loop on a thread of its own: a slow receiver never holds up a plan job."""
        thread = threading.Thread(target=self.run, name="linli-dispatcher", daemon=True)
        thread.start()
        # Published only once started: a stop() from another thread (the worker stopping while its
        # loop is still warming up) joins a started thread or none, never one not yet started.
        self._thread = thread

    def halt(self) -> None:
        """Ask the loop to end after its round (safe in a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 15.0) -> None:
        """End the loop (a round in flight finishes its POSTs and records them) and close the client."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.close()

    def close(self) -> None:
        """Release the HTTP connections and threads."""
        self._pool.shutdown(wait=True)
        self._client.close()

    def run(self) -> None:
        """The loop: rounds until :meth:`stop`; an idle one waits ``poll`` seconds."""
        current_actor.set(Actor("job", None, f"dispatcher:{self.name}"))
        print(f"delivery dispatcher {self.name}: ready", file=sys.stderr, flush=True)
        while not self._stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:  # the database may be away for a while: try again
                log.exception("delivery dispatcher %s: error, retrying", self.name)
                busy = False
            if not busy:
                self._stop.wait(self._poll)

    def run_once(self) -> int:
        """One round: fan out, claim, send and record; returns the attempts made."""
        self.fan_out()
        jobs = self.claim()
        if not jobs:
            return 0
        outcomes = list(self._pool.map(lambda j: send(self._client, j, j.attempt, self._timeout), jobs))
        self.record(zip(jobs, outcomes, strict=True))
        return len(jobs)

    def drain(self, timeout: float = 60.0) -> None:
        """Run rounds until nothing is due (``linli deliver --once``, the tests, the benchmark)."""
        end = time.monotonic() + timeout
        while self.run_once() and time.monotonic() < end:
            pass

    # ------------------------------------------------------------- the steps

    def fan_out(self) -> int:
        """Make the missing deliveries of new messages (a full pass now and then); returns how many."""
        now = utcnow()
        full = time.monotonic() >= self._full_pass_at or self._since is None
        made = fan_out(self._engine, None if full else self._since)
        self._since = now - dt.timedelta(seconds=FAN_OUT_MARGIN_S)
        if full:
            self._full_pass_at = time.monotonic() + FULL_PASS_S
        return made

    def _dead_claimers(self, session: Session, now: dt.datetime) -> list[str]:
        """Dispatchers of this host holding leases whose process is gone."""
        held = session.execute(
            select(col(Delivery.claimed_by))
            .where(col(Delivery.state) == "pending", col(Delivery.lease_until) >= now)
            .distinct()
        ).scalars()
        return [name for name in held if claimer_is_dead(name)]

    def claim(self) -> list[_Job]:
        """Claim up to ``batch`` due deliveries (see the module's docstring) with what to send."""
        now = utcnow()
        with Session(self._engine) as session:
            dead = self._dead_claimers(session, now)
            free = or_(
                col(Delivery.lease_until).is_(None),
                col(Delivery.lease_until) < now,
                col(Delivery.claimed_by).in_(dead) if dead else false(),
            )
            due = and_(col(Delivery.state) == "pending", col(Delivery.next_attempt_at) <= now, free)
            ids = (
                select(col(Delivery.id)).where(due).order_by(col(Delivery.next_attempt_at)).limit(self._batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                ids = ids.with_for_update(skip_locked=True)
            claimed = session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(ids.scalar_subquery()), due)
                .values(
                    claimed_by=self.name,
                    lease_until=now + dt.timedelta(seconds=self.lease),
                    attempts=col(Delivery.attempts) + 1,
                )
                .returning(col(Delivery.id), col(Delivery.attempts))
                .execution_options(synchronize_session=False)
            ).all()
            session.commit()
            if not claimed:
                return []
            attempt = {row[0]: row[1] for row in claimed}
            rows = session.execute(
                select(col(Delivery.id), col(WebhookEndpoint.url), col(WebhookEndpoint.secret), OutboxMessage)
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(Delivery.endpoint_id))
                .join(OutboxMessage, col(OutboxMessage.id) == col(Delivery.message_id))
                .where(col(Delivery.id).in_(list(attempt)))
            ).all()
        return [
            _Job(ident, attempt[ident], url, secret, message.key, message_body(message))
            for ident, url, secret, message in rows
        ]

    def _settle(self, attempt: int, outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
        """The delivery's columns after this attempt (every row the same keys: one executemany)."""
        done: dict[str, Any] = {
            "b_state": "pending",
            "b_next": now,
            "b_delivered": None,
            "b_status": outcome.status,
            "b_error": outcome.error,
        }
        if outcome.delivered:
            return {**done, "b_state": "delivered", "b_delivered": now, "b_error": None}
        if outcome.permanent or attempt >= self._attempts:
            return {**done, "b_state": "failed"}
        delay = backoff_delay(attempt, self._backoff, self._backoff_max)
        if outcome.retry_after is not None:
            delay = min(self._backoff_max, max(delay, outcome.retry_after))
        return {**done, "b_next": now + dt.timedelta(seconds=delay)}

    def record(self, results: Iterable[tuple[_Job, Outcome]]) -> None:
        """Write each attempt's outcome and its log line, while this dispatcher's claim holds.

        One transaction for the round: the rows still this claim's (same dispatcher and attempt)
        are locked and read, then updated and logged in two ``executemany`` statements.
        """
        results = list(results)
        if not results:
            return
        now = utcnow()
        table: Any = SQLModel.metadata.tables["delivery"]
        log_table: Any = SQLModel.metadata.tables["deliveryattempt"]
        with Session(self._engine) as session:
            write_transaction(session)  # SQLite: the write lock first; PostgreSQL locks the rows below
            conn = session.connection()
            held = select(table.c.id, table.c.attempts).where(
                table.c.id.in_([job.id for job, _ in results]),
                table.c.claimed_by == self.name,
                table.c.state == "pending",
            )
            if conn.dialect.name == "postgresql":
                held = held.with_for_update()
            mine = {row[0]: row[1] for row in conn.execute(held)}
            # A row no longer this claim's (its lease ran out and another took it) is left alone.
            kept = [(job, outcome) for job, outcome in results if mine.get(job.id) == job.attempt]
            if kept:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        state=bindparam("b_state"),
                        next_attempt_at=bindparam("b_next"),
                        delivered_at=bindparam("b_delivered"),
                        last_status=bindparam("b_status"),
                        last_error=bindparam("b_error"),
                        claimed_by=None,
                        lease_until=None,
                    ),
                    [{"b_id": job.id, **self._settle(job.attempt, outcome, now)} for job, outcome in kept],
                )
                conn.execute(
                    insert(log_table),
                    [
                        {
                            "delivery_id": job.id,
                            "attempt": job.attempt,
                            "at": now,
                            "status": outcome.status,
                            "error": outcome.error,
                            "duration_ms": outcome.duration_ms,
                        }
                        for job, outcome in kept
                    ],
                )
            session.commit()
