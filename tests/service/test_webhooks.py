"""Signed webhook delivery of the outbox's messages (issue 19), on SQLite and PostgreSQL.

The receiver is a real HTTP server on 127.0.0.1 (:mod:`webhook_support`) that checks the
signature and timestamp, answers 500 at first and 200 later, and counts what it took per key.
Messages are written by :func:`webhook_support.write_messages_like_publication`, which stands
in for the publication route until both are merged.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import City
from sqlmodel import Session, col, select
from test_faults import _auth, seeded, started, until
from webhook_support import receiving, write_messages_like_publication

from api.db import make_engine
from api.delivery import Dispatcher, backoff_delay, sign
from api.models import Delivery, DeliveryAttempt, OutboxMessage, Station, WebhookCreate, WebhookEndpoint
from api.services import webhooks
from api.services.errors import ConflictError

BACKOFF = 0.05


def fast(db: str, attempts: int = 5, batch: int = 64, concurrency: int = 8) -> Dispatcher:
    """A dispatcher retrying in tens of milliseconds (the service's defaults are seconds to an hour)."""
    return Dispatcher(
        make_engine(db),
        backoff=BACKOFF,
        backoff_max=0.2,
        attempts=attempts,
        timeout=3.0,
        poll=0.05,
        batch=batch,
        concurrency=concurrency,
    )


def _station_and_endpoint(url: str, db: str, name: str = "短信网关") -> tuple[str, int, str]:
    """The first station of a seeded city, a new endpoint of it at ``url``, and its secret."""
    engine = make_engine(db)
    with Session(engine) as session:
        station = session.exec(select(Station).order_by(col(Station.id))).first()
        assert station is not None
        endpoint, secret = webhooks.create_endpoint(session, station, WebhookCreate(name=name, url=url))
        assert endpoint.id is not None
        out = (station.id, endpoint.id, secret)
    engine.dispose()
    return out


def _deliveries(db: str) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    engine = make_engine(db)
    with Session(engine) as session:
        rows = list(session.exec(select(Delivery).order_by(col(Delivery.id))))
        out = [
            (
                d,
                list(
                    session.exec(
                        select(DeliveryAttempt)
                        .where(DeliveryAttempt.delivery_id == d.id)
                        .order_by(col(DeliveryAttempt.attempt))
                    )
                ),
            )
            for d in rows
        ]
    engine.dispose()
    return out


def _states(db: str) -> list[str]:
    return [d.state for d, _ in _deliveries(db)]


def _drain(dispatcher: Dispatcher, done: Callable[[], object], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        if not dispatcher.run_once():
            time.sleep(0.02)


@pytest.fixture
def seeded_db(db_url: str) -> str:
    """A migrated database with a small demo city (no service running)."""
    seeded(db_url)
    return db_url


def test_messages_are_signed_retried_with_backoff_and_delivered_once(seeded_db: str) -> None:
    """500, 500, then 200: three attempts per key spaced by the backoff, one delivery per key,
    the body signed and carrying the message; the log has each attempt's status."""
    with receiving(fail_first=2) as rx:
        station, _, secret = _station_and_endpoint(rx.url, seeded_db)
        rx.secrets.append(secret)
        keys = write_messages_like_publication(make_engine(seeded_db), station, 6)
        dispatcher = fast(seeded_db)
        try:
            _drain(dispatcher, lambda: len(rx.delivered) == len(keys))
        finally:
            dispatcher.close()
    assert rx.refused == 0
    assert rx.delivered == dict.fromkeys(keys, 1)
    assert rx.attempts == dict.fromkeys(keys, 3)
    for key in keys:  # the retries waited: at least half the backoff (the jitter's floor)
        first, second, third = rx.times[key]
        assert second - first >= 0.5 * BACKOFF and third - second >= 0.5 * BACKOFF * 2
    body = rx.bodies[keys[0]]
    assert body["key"] == keys[0] and body["station"] == station and body["week_start"] == "2026-12-07"
    assert body["recipient"]["kind"] == "volunteer" and body["recipient"]["contact"] == {
        "name": "张明",
        "phone": "13800000000",
        "wechat": None,
    }
    assert body["text"].startswith("【邻里】您好")
    rows = _deliveries(seeded_db)
    assert len(rows) == len(keys)
    for delivery, log in rows:
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
        assert delivery.claimed_by is None and delivery.delivered_at is not None
        assert [a.status for a in log] == [500, 500, 200]
        assert [a.error for a in log] == ["HTTP 500", "HTTP 500", None]


def test_a_wrong_secret_is_refused_and_fails_until_retried(seeded_db: str) -> None:
    """A receiver holding another secret refuses (401): failed after one attempt, not retried;
    once the receiver has the right secret, a person's retry delivers it."""
    with receiving(secrets=["whsec_not-the-one"]) as rx:
        station, _, secret = _station_and_endpoint(rx.url, seeded_db)
        [key] = write_messages_like_publication(make_engine(seeded_db), station, 1)
        engine = make_engine(seeded_db)
        dispatcher = fast(seeded_db)
        try:
            _drain(dispatcher, lambda: _states(seeded_db) == ["failed"])
            assert rx.refused == 1 and not rx.delivered
            [(delivery, log)] = _deliveries(seeded_db)
            assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 1, 401)
            assert [a.status for a in log] == [401]
            rx.secrets.append(secret)  # the gateway is given the right secret
            with Session(engine) as session:
                row = session.get(Delivery, delivery.id)
                assert row is not None
                webhooks.retry(session, row)
            _drain(dispatcher, lambda: rx.delivered)
        finally:
            dispatcher.close()
    assert rx.delivered == {key: 1}
    [(delivery, log)] = _deliveries(seeded_db)
    assert delivery.state == "delivered" and delivery.retry_requested_at is not None
    assert [a.status for a in log] == [401, 200]
    with Session(engine) as session:
        row = session.get(Delivery, delivery.id)
        assert row is not None
        with pytest.raises(ConflictError):  # a delivered one is not sent again
            webhooks.retry(session, row)


def test_an_unreachable_receiver_is_retried_then_failed(seeded_db: str) -> None:
    """A refused connection is retried with backoff until the last attempt, then failed; the log
    says why (never the message)."""
    with receiving() as rx:
        url = rx.url  # nobody listens here once the receiver is shut
    station, _, _ = _station_and_endpoint(url, seeded_db)
    write_messages_like_publication(make_engine(seeded_db), station, 2)
    dispatcher = fast(seeded_db, attempts=3)
    try:
        _drain(dispatcher, lambda: _states(seeded_db) == ["failed", "failed"])
    finally:
        dispatcher.close()
    for delivery, log in _deliveries(seeded_db):
        assert (delivery.state, delivery.attempts) == ("failed", 3)
        assert [a.status for a in log] == [None, None, None]
        assert all(a.error and "Connect" in a.error and "邻里" not in a.error for a in log)


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    """5 s, 10 s, 20 s … (each times 0.5–1), never above the cap."""
    for attempt, full in ((1, 5.0), (2, 10.0), (3, 20.0), (12, 3600.0), (80, 3600.0)):
        delay = backoff_delay(attempt, 5.0, 3600.0)
        assert full * 0.5 <= delay <= full
    assert sign("k", 1, b"{}") == "sha256=" + hmac.new(b"k", b"1.{}", hashlib.sha256).hexdigest()


def test_two_dispatchers_never_send_a_key_twice(seeded_db: str) -> None:
    """Two dispatchers (two engines, as two processes would have) drain the same outbox at once:
    every key reaches the receiver exactly once, never twice at the same time."""
    with receiving(delay_s=0.005) as rx:
        station, _, secret = _station_and_endpoint(rx.url, seeded_db)
        rx.secrets.append(secret)
        keys = write_messages_like_publication(make_engine(seeded_db), station, 120)
        pair = [fast(seeded_db, batch=8, concurrency=4) for _ in range(2)]
        threads = [
            threading.Thread(target=_drain, args=(d, lambda: len(rx.delivered) == len(keys))) for d in pair
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for d in pair:
            d.close()
    assert rx.delivered == dict.fromkeys(keys, 1)
    assert rx.attempts == dict.fromkeys(keys, 1)
    assert rx.most_at_once == 1
    claimers = {log[0].attempt for _, log in _deliveries(seeded_db)}
    assert claimers == {1}


def _generate_and_publish(url: str, token: str, station: str, db: str) -> list[str]:
    """The station's week generated and published over HTTP; the keys of the messages it wrote."""
    headers = _auth(token)
    r = httpx.post(f"{url}/v1/stations/{station}/plans", json={"week_start": "2026-12-07"}, headers=headers)
    assert r.status_code == 202, r.text
    plan_id = r.json()["id"]

    def done() -> bool:
        state = httpx.get(f"{url}/v1/plans/{plan_id}", headers=headers, timeout=10).json()["state"]
        assert state in ("queued", "solving", "done"), state
        return bool(state == "done")

    until(done, 120, "the week's plan")
    r = httpx.post(f"{url}/v1/plans/{plan_id}/publish", headers=headers, timeout=30)
    assert r.status_code == 200 and r.json()["published_at"], r.text
    with Session(make_engine(db)) as session:
        keys = list(session.exec(select(OutboxMessage.key).where(OutboxMessage.plan_id == plan_id)))
    assert len(keys) >= 10, keys  # every volunteer with sessions and every family served
    return keys


def test_kill_9_between_publish_and_delivery_loses_nothing_and_sends_once(
    db_url: str, tmp_path: Path
) -> None:
    """A week is generated and published through the server's API (its messages written in the
    publication's transaction) while the receiver fails; the server is killed (-9) with deliveries
    pending and claimed; started again, with the receiver up, it delivers every key exactly once."""
    token = seeded(db_url)
    env = {
        "LINLI_DELIVERY_BACKOFF": "0.2",
        "LINLI_DELIVERY_BACKOFF_MAX": "0.5",
        "LINLI_DELIVERY_ATTEMPTS": "100",
        "LINLI_DELIVERY_POLL": "0.1",
    }
    with receiving(down=True) as rx:
        station, _, secret = _station_and_endpoint(rx.url, db_url)
        rx.secrets.append(secret)
        with started(db_url, tmp_path, ["serve"], token, **env) as first:
            keys = _generate_and_publish(first.url, token, station, db_url)
            until(
                lambda: (
                    len(rx.attempts) == len(keys) and all(d.attempts >= 1 for d, _ in _deliveries(db_url))
                ),
                60,
                "every message to be tried once",
            )
            first.proc.kill()  # kill -9: no cleanup, claims left held
            first.proc.wait(10)
        assert not rx.delivered
        left = _deliveries(db_url)
        assert len(left) == len(keys) and all(d.state == "pending" for d, _ in left)
        rx.down = False
        with started(db_url, tmp_path, ["serve"], token, **env):
            until(lambda: len(rx.delivered) == len(keys), 60, "every message to be delivered")
            until(
                lambda: all(d.state == "delivered" for d, _ in _deliveries(db_url)),
                30,
                "the log to say delivered",
            )
    assert rx.delivered == dict.fromkeys(keys, 1)
    assert all(n >= 2 for n in rx.attempts.values())


def test_the_api_creates_lists_and_deactivates_endpoints_and_shows_the_log(city: City) -> None:
    """POST shows the secret once, GET never; the service's own worker delivers; the log pages
    and filters; a delivered one is not retried (409); DELETE deactivates and fails pending ones."""
    station, other = city.stations
    headers = city.headers(station)
    bad = city.client.post(
        f"/v1/stations/{station}/webhooks", json={"name": "x", "url": "ftp://example.cn/x"}, headers=headers
    )
    assert bad.status_code == 422 and "url" in bad.json()["detail"], bad.text
    with receiving() as rx:
        r = city.client.post(
            f"/v1/stations/{station}/webhooks", json={"name": "短信网关", "url": rx.url}, headers=headers
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["secret"].startswith("whsec_") and created["active"]
        rx.secrets.append(created["secret"])
        listed = city.client.get(f"/v1/stations/{station}/webhooks", headers=headers)
        assert [e["id"] for e in listed.json()] == [created["id"]]
        assert created["secret"] not in listed.text and "secret" not in listed.json()[0]
        keys = write_messages_like_publication(city.engine, station, 3)
        write_messages_like_publication(city.engine, other, 2, tag="-other")  # no endpoint: nothing sent
        until(lambda: len(rx.delivered) == 3, 60, "the service's worker to deliver")

        def log(**params: Any) -> list[dict[str, Any]]:
            r = city.client.get(f"/v1/stations/{station}/deliveries", params=params, headers=headers)
            assert r.status_code == 200, r.text
            return list(r.json())

        until(lambda: {d["state"] for d in log()} == {"delivered"}, 30, "the log to say delivered")
        entries = log()
        assert sorted(e["key"] for e in entries) == sorted(keys)
        assert entries[0]["endpoint_name"] == "短信网关" and entries[0]["log"][0]["status"] == 200
        page = city.client.get(f"/v1/stations/{station}/deliveries", params={"limit": 2}, headers=headers)
        assert page.headers["X-Total-Count"] == "3" and len(page.json()) == 2
        assert log(state="failed") == []
        assert len(log(plan_id=entries[0]["plan_id"])) == 3
        assert set(rx.delivered) == set(keys)
        again = city.client.post(f"/v1/deliveries/{entries[0]['id']}/retry", headers=headers)
        assert again.status_code == 409, again.text
        # another station's token: 404 for all of it
        theirs = city.headers(other)
        assert city.client.get(f"/v1/stations/{station}/deliveries", headers=theirs).status_code == 404
        assert city.client.post(f"/v1/deliveries/{entries[0]['id']}/retry", headers=theirs).status_code == 404
        assert city.client.delete(f"/v1/webhooks/{created['id']}", headers=theirs).status_code == 404
        gone = city.client.delete(f"/v1/webhooks/{created['id']}", headers=headers)
        assert gone.status_code == 200 and gone.json()["active"] is False
    with Session(city.engine) as session:
        endpoint = session.get(WebhookEndpoint, created["id"])
        assert endpoint is not None and not endpoint.active and endpoint.deactivated_at is not None


def test_linli_deliver_once_sends_what_is_due(seeded_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``linli deliver --once`` (a cron job's run): every due message is sent, then it exits 0."""
    from api.settings import get_settings
    from linli.cli import main

    with receiving() as rx:
        station, _, secret = _station_and_endpoint(rx.url, seeded_db)
        rx.secrets.append(secret)
        keys = write_messages_like_publication(make_engine(seeded_db), station, 4)
        monkeypatch.setenv("DATABASE_URL", seeded_db)
        get_settings.cache_clear()
        try:
            assert main(["deliver", "--once"]) == 0
        finally:
            get_settings.cache_clear()
    assert rx.delivered == dict.fromkeys(keys, 1)
    assert _states(seeded_db) == ["delivered"] * 4
