"""Shared support for the webhook tests: a real receiver on 127.0.0.1, and outbox messages
written the way a publication writes them.

:func:`write_messages_like_publication` gives the dispatcher's own tests an outbox of a chosen
size without a solve; the end-to-end test across ``kill -9`` publishes through
``POST /v1/plans/{id}/publish`` instead (``tests/service/test_webhooks.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.models import OutboxMessage, PlanVersion, Volunteer, utcnow

WEEK = dt.date(2026, 12, 7)


def write_messages_like_publication(
    engine: Engine, station: str, count: int, plan_id: int | None = None, tag: str = ""
) -> list[str]:
    """Write ``count`` outbox messages for ``station``'s volunteers in ONE transaction, as a
    publication does (with its version's ``published_at``); returns their keys.

    Without ``plan_id``, a minimal published version of the week is made in the same transaction.
    """
    with Session(engine) as session:
        if plan_id is None:
            version = PlanVersion(
                station_id=station, week_start=WEEK, state="done", problem={}, published_at=utcnow()
            )
            session.add(version)
            session.flush()
            assert version.id is not None
            plan_id = version.id
        people = list(
            session.exec(
                select(Volunteer.id).where(Volunteer.station_id == station).order_by(col(Volunteer.id))
            )
        )
        keys = []
        for i in range(count):
            person = people[i % len(people)]
            key = f"p{plan_id}-volunteer-{person}-{i}{tag}"
            keys.append(key)
            session.add(
                OutboxMessage(
                    station_id=station,
                    plan_id=plan_id,
                    week_start=WEEK,
                    recipient_kind="volunteer",
                    recipient_id=person,
                    key=key,
                    body=f"【邻里】您好，本周（12月7日起）请于周一上午 9:00 到站服务。编号 {i}",
                    payload={
                        "recipient": {"id": person, "name": "张明", "phone": "13800000000", "wechat": None},
                        "sessions": [{"slot": "mon-am"}],
                    },
                )
            )
        session.commit()
    return keys


def signature_ok(secret: str, timestamp: str, body: bytes, signature: str, tolerance: float = 300) -> bool:
    """A gateway's check, written from docs/service.md (not with the service's own code)."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = (
        "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, signature)


@dataclass
class Receiver:
    """A webhook receiver: checks the signature (401 if wrong), answers 500 to the first
    ``fail_first`` attempts of each key (or every one while ``down``), then 200 (a key it has
    already taken is answered 200 again, as the docs ask, and counted)."""

    url: str = ""
    secrets: list[str] = field(default_factory=list)
    fail_first: int = 0
    down: bool = False
    delay_s: float = 0.0
    attempts: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)
    in_flight: Counter[str] = field(default_factory=Counter)
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: Any, body: bytes) -> int:
        """The status for one POST."""
        key = headers.get("X-Linli-Key", "")
        if not any(
            signature_ok(s, headers.get("X-Linli-Timestamp", ""), body, headers.get("X-Linli-Signature", ""))
            for s in self.secrets
        ):
            with self.lock:
                self.refused += 1
            return 401
        with self.lock:
            self.attempts[key] += 1
            self.times.setdefault(key, []).append(time.monotonic())
            self.in_flight[key] += 1
            self.most_at_once = max(self.most_at_once, self.in_flight[key])
            n = self.attempts[key]
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.down or n <= self.fail_first:
                return 500
            with self.lock:
                self.delivered[key] += 1
                self.bodies[key] = json.loads(body)
            return 200
        finally:
            with self.lock:
                self.in_flight[key] -= 1


@contextmanager
def receiving(secrets: list[str] | None = None, **kw: Any) -> Iterator[Receiver]:
    """A :class:`Receiver` served by ``ThreadingHTTPServer`` on 127.0.0.1 (an ephemeral port)."""
    receiver = Receiver(secrets=list(secrets or []), **kw)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            code = receiver.handle(self.headers, body)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/linli"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
