"""Messages per second delivered by the webhook dispatcher to a local receiver, against plain POSTs.

Run ``python -m benchmarks.delivery`` from the repository root (a minute or so).  In a
temporary directory it seeds an SQLite database with a small demo city, starts a receiver in
a process of its own (``ThreadingHTTPServer`` on 127.0.0.1, answering 200 to every POST and
counting them) and gives the first station one webhook endpoint at it.  Then, ``--repeat``
times, it publishes ``--messages`` outbox messages in one transaction (as a publication does)
and measures, in messages per second:

* ``plain POSTs``: the baseline of the run: the same signed bodies POSTed with ``httpx`` to the
  same receiver, as many at once as the dispatcher sends (``--concurrency``), no database;
* ``dispatcher``: :meth:`api.delivery.Dispatcher.drain` from the messages' commit until every
  one is recorded delivered (fan-out, claims, the POSTs, each outcome and its log line).

``--database postgresql+psycopg://…`` runs it on PostgreSQL instead (a fresh schema, dropped
after).  It prints the median rate of each and the dispatcher's as a share of the baseline's,
and writes ``benchmarks/results/delivery-<date>.json`` (:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.db import make_engine
from api.delivery import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, Dispatcher, message_body, sign
from api.migrate import upgrade
from api.models import Delivery, OutboxMessage, PlanVersion, Station, Volunteer, WebhookCreate, utcnow
from api.seed import seed_demo
from api.services import webhooks
from benchmarks.results import Table, command_line, write_result


def _serve(port: Any) -> None:
    """The receiver's process: 200 to every POST, ``GET`` answers the count so far."""
    seen = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a gateway would

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                seen[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            body = str(seen[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


@contextmanager
def receiver() -> Iterator[str]:
    """The receiver's URL, while its process runs."""
    ctx = mp.get_context("spawn")
    port = ctx.Value("i", 0)
    proc = ctx.Process(target=_serve, args=(port,), daemon=True)
    proc.start()
    end = time.monotonic() + 30
    while not port.value and time.monotonic() < end:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port.value}/linli"
    finally:
        proc.kill()
        proc.join()


def messages(station: str, plan_id: int, people: list[str], count: int) -> list[OutboxMessage]:
    """``count`` messages of a published version (new keys each call)."""
    tag = uuid.uuid4().hex[:8]
    return [
        OutboxMessage(
            station_id=station,
            plan_id=plan_id,
            week_start=utcnow().date(),
            recipient_kind="volunteer",
            recipient_id=people[i % len(people)],
            key=f"bench-{tag}-{i}",
            body=f"【邻里】您好，本周请于周一上午 9:00 到站服务（{i}）。",
            payload={"contact": {"phone": "13800000000"}, "sessions": [{"slot": "mon-am"}]},
        )
        for i in range(count)
    ]


def publish(engine: Any, station: str, count: int) -> None:
    """``count`` messages of a new published version, written in one transaction (as a publication)."""
    with Session(engine) as session:
        version = PlanVersion(
            station_id=station, week_start=utcnow().date(), state="done", problem={}, published_at=utcnow()
        )
        session.add(version)
        session.flush()
        assert version.id is not None
        people = list(session.exec(select(Volunteer.id).where(Volunteer.station_id == station)))
        rows = messages(station, version.id, people, count)
        session.add_all(rows)
        session.commit()


def plain_posts(url: str, secret: str, messages: list[OutboxMessage], concurrency: int) -> float:
    """Seconds to POST every message, signed, ``concurrency`` at once (no database)."""
    bodies = [(m.key, message_body(m)) for m in messages]
    with httpx.Client(limits=httpx.Limits(max_connections=concurrency)) as client:

        def post(item: tuple[str, bytes]) -> None:
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                KEY_HEADER: item[0],
                TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign(secret, stamp, item[1]),
            }
            client.post(url, content=item[1], headers=headers, timeout=10).raise_for_status()

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            started = time.perf_counter()
            list(pool.map(post, bodies))
            return time.perf_counter() - started


def dispatched(engine: Any, dispatcher: Dispatcher, count: int) -> float:
    """Seconds for the dispatcher to deliver everything pending (``count`` messages)."""
    started = time.perf_counter()
    dispatcher.drain(timeout=600)
    elapsed = time.perf_counter() - started
    with Session(engine) as session:
        pending = session.exec(
            select(sa.func.count()).select_from(Delivery).where(col(Delivery.state) != "delivered")
        ).one()
    assert pending == 0, f"{pending} deliveries not delivered"
    return elapsed


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh migrated database: an SQLite file, or a new schema of the PostgreSQL ``url``."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            upgrade(path)
            yield path
        return
    schema = f"linli_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}?options=-csearch_path%3D{schema}"
    try:
        upgrade(scoped)
        yield scoped
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    backend = "postgresql" if args.database else "sqlite"
    with database(args.database) as url, receiver() as target:
        engine = make_engine(url)
        with Session(engine) as session:
            seed_demo(session, 60, 45, 2, 7)
            station = session.exec(select(Station).order_by(col(Station.id))).first()
            assert station is not None
            station_id = station.id
            _, secret = webhooks.create_endpoint(session, station, WebhookCreate(name="bench", url=target))
        dispatcher = Dispatcher(engine, batch=args.batch, concurrency=args.concurrency)
        plain: list[float] = []
        disp: list[float] = []
        try:
            for _ in range(args.repeat):
                # The baseline's messages are never stored: the dispatcher must not see them.
                alike = messages(station_id, 1, ["v1"], args.messages)
                plain.append(plain_posts(target, secret, alike, args.concurrency))
                publish(engine, station_id, args.messages)
                disp.append(dispatched(engine, dispatcher, args.messages))
        finally:
            dispatcher.close()
            engine.dispose()
        received = int(httpx.get(target).text)
    expected = 2 * args.repeat * args.messages
    assert received == expected, (received, expected)
    rate_plain = args.messages / statistics.median(plain)
    rate_disp = args.messages / statistics.median(disp)
    rows: list[list[str | float]] = [
        ["plain POSTs", round(rate_plain), round(statistics.median(plain), 2), 1.0],
        ["dispatcher", round(rate_disp), round(statistics.median(disp), 2), round(rate_disp / rate_plain, 2)],
    ]
    columns = ["method", "messages/s", "median s", "x plain"]
    print(f"{args.messages} messages, one endpoint, {args.concurrency} POSTs at once, {backend}")
    print(f"{'method':<12} {'messages/s':>10} {'median s':>9} {'x plain':>8}")
    for row in rows:
        print(f"{row[0]:<12} {row[1]:>10} {row[2]:>9} {row[3]:>8}")
    notes = [
        f"{args.messages} outbox messages of one publication, one endpoint (a local receiver in its own "
        f"process answering 200), {args.concurrency} POSTs in flight, dispatcher batches of {args.batch}, "
        f"{backend}; median of {args.repeat} runs; the receiver got all {received} POSTs",
    ]
    name = "delivery" if backend == "sqlite" else "delivery_postgresql"
    write_result(name, command_line("benchmarks.delivery", argv), [Table(columns, rows)], notes)


if __name__ == "__main__":
    main()
