"""Service records, cumulative hours and star levels, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api_support import City
from sqlmodel import Session, select

from api.models import Volunteer
from api.routers.records import star_thresholds
from api.settings import DEFAULT_STARS, get_settings
from api.stars import next_star_at, star_level

WEEK = dt.date(2026, 12, 7)


@dataclass(frozen=True)
class Slot:
    """One session of an assignment of a finished plan (its day and slot), with its need's hours."""

    id: int
    plan_id: int
    need: str
    volunteer: str
    day: dt.date
    slot: str
    hours: float


def _generate(city: City, station: str, week: dt.date = WEEK) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": week.isoformat()}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _slots(city: City, plan: dict[str, Any]) -> list[Slot]:
    """The plan's sessions, from its response's assignments (ids and sessions), most hours first."""
    needs = {
        n["id"]: n
        for n in city.client.get(f"/v1/plans/{plan['id']}/problem", headers=city.headers()).json()["needs"]
    }
    slots = [
        Slot(
            a["id"],
            plan["id"],
            a["need"],
            a["volunteer"],
            dt.date.fromisoformat(s["date"]),
            s["slot"],
            float(needs[a["need"]]["hours"]),
        )
        for a in plan["assignments"]
        for s in a["sessions"]
    ]
    assert slots, "the demo station should cover something"
    return sorted(slots, key=lambda s: (-s.hours, s.id, s.day, s.slot))


def _slot(city: City, station: str, at_least: float = 2.0) -> Slot:
    slot = _slots(city, _generate(city, station))[0]
    assert slot.hours >= at_least, slot
    return slot


def _set_hours_before(city: City, volunteer: str, hours: float) -> None:
    with Session(city.engine) as session:
        v = session.get(Volunteer, volunteer)
        assert v is not None
        v.hours_before = hours
        session.add(v)
        session.commit()


def _record(
    city: City,
    slot: Slot,
    hours: float | None,
    station: str | None = None,
    day: int | None = None,
    **extra: Any,
) -> Any:
    """Record the session (``day``: another day of the week instead of the session's)."""
    body: dict[str, Any] = {
        "assignment_id": slot.id,
        "served_on": (slot.day if day is None else WEEK + dt.timedelta(days=day)).isoformat(),
        "slot": slot.slot,
    }
    if hours is not None:
        body["hours"] = hours
    return city.client.post("/v1/records", json=body | extra, headers=city.headers(station))


def _service(city: City, volunteer: str, station: str | None = None) -> dict[str, Any]:
    r = city.client.get(f"/v1/volunteers/{volunteer}/service", headers=city.headers(station))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Settings re-read from the environment during the test, and again after it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# ------------------------------------------------------------------------ star_level (pure)


@pytest.mark.parametrize("level", range(1, 6))
def test_star_level_at_and_around_default_thresholds(level: int) -> None:
    """Just below a default threshold is one star less; at and just above it, that star."""
    t = DEFAULT_STARS[level - 1]
    assert star_level(t - 0.5, DEFAULT_STARS) == level - 1
    assert star_level(t - 1e-6, DEFAULT_STARS) == level - 1
    assert star_level(t, DEFAULT_STARS) == level
    assert star_level(t + 0.5, DEFAULT_STARS) == level
    assert next_star_at(t - 0.5, DEFAULT_STARS) == t
    assert next_star_at(t, DEFAULT_STARS) == (DEFAULT_STARS[level] if level < 5 else None)


def test_star_level_ends() -> None:
    """No hours is no star; far past the last threshold stays at five, with no next star."""
    assert star_level(0, DEFAULT_STARS) == 0
    assert next_star_at(0, DEFAULT_STARS) == 100
    assert star_level(10_000, DEFAULT_STARS) == 5
    assert next_star_at(10_000, DEFAULT_STARS) is None


def test_star_level_sums_of_tenths_reach_the_threshold() -> None:
    """A total a hair under a threshold from decimal fractions (99 + ten 0.1) still reaches it."""
    total = 99.0
    for _ in range(10):
        total += 0.1
    assert total < 100
    assert star_level(total, DEFAULT_STARS) == 1


def test_star_level_custom_thresholds() -> None:
    """Other cities' thresholds, including fewer than five stars, move every level."""
    custom = (50.0, 120.0, 250.0, 400.0, 800.0)
    assert [star_level(h, custom) for h in (49, 50, 119.5, 120, 250, 399, 400, 800, 900)] == [
        0,
        1,
        1,
        2,
        3,
        3,
        4,
        5,
        5,
    ]
    assert next_star_at(130, custom) == 250
    three = (10.0, 20.0, 30.0)
    assert [star_level(h, three) for h in (0, 10, 25, 30, 1000)] == [0, 1, 2, 3, 3]
    assert next_star_at(30, three) is None


@pytest.mark.parametrize("bad", [(), (0.0, 10.0), (10.0, 10.0), (20.0, 10.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)])
def test_star_level_rejects_bad_thresholds(bad: tuple[float, ...]) -> None:
    """Empty, non-positive, non-ascending or more than five thresholds are refused."""
    with pytest.raises(ValueError, match="star thresholds"):
        star_level(1, bad)


# ------------------------------------------------------------------------ the service


def test_recording_hours_raises_total_and_stars(city: City) -> None:
    """98.5 hours before + 1.5 recorded is 100 exactly: the first star, shown on every view."""
    station = city.stations[0]
    slot = _slot(city, station)
    _set_hours_before(city, slot.volunteer, 98.5)
    before = _service(city, slot.volunteer, station)
    assert before == {
        "volunteer": slot.volunteer,
        "hours_before": 98.5,
        "hours_recorded": 0.0,
        "hours_total": 98.5,
        "stars": 0,
        "next_star_at": 100.0,
    }
    r = _record(city, slot, 1.5, station=station, rating=5)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["assignment_id"] == slot.id and rec["plan_id"] == slot.plan_id and rec["need_id"] == slot.need
    assert rec["volunteer_id"] == slot.volunteer and rec["hours"] == 1.5 and rec["rating"] == 5
    assert rec["served_on"] == slot.day.isoformat() and rec["slot"] == slot.slot
    after = _service(city, slot.volunteer, station)
    assert (after["hours_recorded"], after["hours_total"], after["stars"], after["next_star_at"]) == (
        1.5,
        100.0,
        1,
        300.0,
    )
    listed = city.client.get(
        "/v1/records", params={"volunteer_id": slot.volunteer}, headers=city.headers(station)
    ).json()
    assert [x["id"] for x in listed] == [rec["id"]]
    by_plan = city.client.get("/v1/records", params={"plan_id": slot.plan_id}, headers=city.headers()).json()
    assert [x["id"] for x in by_plan] == [rec["id"]]
    summary = city.client.get(f"/v1/stations/{station}/service", headers=city.headers(station))
    assert summary.status_code == 200
    rows = {s["volunteer"]: s for s in summary.json()}
    assert rows[slot.volunteer] == after
    with Session(city.engine) as session:
        ids = set(session.exec(select(Volunteer.id).where(Volunteer.station_id == station)))
    assert set(rows) == ids


def test_configured_thresholds_change_the_star_level(
    city: City, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    """LINLI_STAR_HOURS (or an overridden thresholds dependency) decides the stars of the same hours."""
    station = city.stations[0]
    slot = _slot(city, station)
    _set_hours_before(city, slot.volunteer, 24.0)
    assert _record(city, slot, 1.5, station=station).status_code == 201
    assert _service(city, slot.volunteer, station)["stars"] == 0  # 25.5 h, defaults
    monkeypatch.setenv("LINLI_STAR_HOURS", "10,20,30,40,50")
    get_settings.cache_clear()
    got = _service(city, slot.volunteer, station)
    assert (got["hours_total"], got["stars"], got["next_star_at"]) == (25.5, 2, 30.0)
    station_rows = city.client.get(f"/v1/stations/{station}/service", headers=city.headers(station)).json()
    assert next(s for s in station_rows if s["volunteer"] == slot.volunteer)["stars"] == 2
    app: Any = city.client.app
    app.dependency_overrides[star_thresholds] = lambda: (5.0, 25.5)
    try:
        got = _service(city, slot.volunteer, station)
        assert (got["stars"], got["next_star_at"]) == (2, None)
    finally:
        app.dependency_overrides.pop(star_thresholds)


def test_other_station_gets_404_on_every_route(city: City) -> None:
    """Another station's token gets 404 on every route for this station's data; the centre sees all."""
    mine, other = city.stations[0], city.stations[1]
    slot = _slot(city, mine)
    c, h = city.client, city.headers(other)
    assert _record(city, slot, 1.0, station=other).status_code == 404
    ok = _record(city, slot, 1.0, station=mine)
    assert ok.status_code == 201
    assert c.get("/v1/records", params={"volunteer_id": slot.volunteer}, headers=h).status_code == 404
    assert c.get("/v1/records", params={"plan_id": slot.plan_id}, headers=h).status_code == 404
    assert c.get(f"/v1/volunteers/{slot.volunteer}/service", headers=h).status_code == 404
    assert c.get(f"/v1/stations/{mine}/service", headers=h).status_code == 404
    assert c.get("/v1/records", headers=h).json() == []
    r = c.post(
        "/v1/records",
        json={"assignment_id": 10**9, "served_on": WEEK.isoformat(), "hours": 1},
        headers=city.headers(),
    )
    assert r.status_code == 404
    assert c.get("/v1/volunteers/nobody/service", headers=city.headers()).status_code == 404
    assert [x["id"] for x in c.get("/v1/records", headers=city.headers()).json()] == [ok.json()["id"]]
    assert [x["id"] for x in c.get("/v1/records", headers=city.headers(mine)).json()] == [ok.json()["id"]]


def test_bad_record_is_422_naming_the_field(city: City) -> None:
    """A day outside the week names served_on; hours over the day's plan or out of range name hours."""
    station = city.stations[0]
    slots = _slots(city, _generate(city, station))
    slot = slots[0]
    for day in (-1, 7):
        r = _record(city, slot, 1.0, day=day, station=station)
        assert r.status_code == 422
        assert r.json()["detail"].startswith("served_on: "), r.json()
    planned = sum(s.hours for s in slots if (s.volunteer, s.day) == (slot.volunteer, slot.day))
    r = _record(city, slot, planned + 0.5, station=station)
    assert r.status_code == 422 and r.json()["detail"].startswith("hours: "), r.json()
    assert "over the" in r.json()["detail"] and slot.day.isoformat() in r.json()["detail"]
    for hours in (0, -1, 25):
        r = _record(city, slot, hours, station=station)
        assert r.status_code == 422 and r.json()["detail"].startswith("hours: "), r.json()
    r = _record(city, slot, 0.5, station=station, rating=6)
    assert r.status_code == 422 and r.json()["detail"].startswith("rating: "), r.json()
    assert _record(city, slot, slot.hours, station=station).status_code == 201  # exactly the session's
    assert _service(city, slot.volunteer, station)["hours_recorded"] == slot.hours


def test_a_resolve_does_not_record_a_session_twice(city: City) -> None:
    """A session recorded on version 1 is the same session in version 2: recording it there is 409."""
    station = city.stations[0]
    plan = _generate(city, station)
    slot = _slots(city, plan)[0]
    assert _record(city, slot, slot.hours, station=station).status_code == 201
    r = city.client.post(f"/v1/plans/{plan['id']}/changes", json={"format": 1}, headers=city.headers(station))
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], station)
    assert second["state"] == "done"
    again = next(
        s
        for s in _slots(city, second)
        if (s.need, s.volunteer, s.day, s.slot) == (slot.need, slot.volunteer, slot.day, slot.slot)
    )
    assert again.id != slot.id  # another version's assignment row
    r = _record(city, again, 0.5, station=station)
    assert r.status_code == 409 and "recorded already" in r.json()["detail"], r.json()


def test_totals_survive_the_database(city: City) -> None:
    """Many fractional records (1.5, 0.25, tenths) sum back exactly on SQLite and PostgreSQL alike."""
    station = city.stations[0]
    slots = [s for s in _slots(city, _generate(city, station)) if s.hours >= 1.5]
    assert len(slots) >= 6
    sent: dict[str, list[float]] = {}
    for i, slot in enumerate(slots):
        hours = (1.5, 0.25, 0.1)[i % 3]
        assert _record(city, slot, hours, station=station).status_code == 201
        sent.setdefault(slot.volunteer, []).append(hours)
    for v in sent:
        _set_hours_before(city, v, 99.0)
    for v, each in sent.items():
        got = _service(city, v, station)
        assert got["hours_recorded"] == math.fsum(each)
        assert got["hours_total"] == 99.0 + math.fsum(each)
    listed = city.client.get("/v1/records", headers=city.headers(station)).json()
    assert len(listed) == len(slots)
    assert sorted({x["hours"] for x in listed}) == [0.1, 0.25, 1.5]


def test_concurrent_records_never_pass_the_cap(city: City) -> None:
    """Eight records of one session posted at once: one lands, the others are 409."""
    station = city.stations[0]
    slots = _slots(city, _generate(city, station))
    slot = slots[0]
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def post(target: Slot, hours: float) -> None:
        barrier.wait()
        codes.append(_record(city, target, hours).status_code)

    threads = [threading.Thread(target=post, args=(slot, slot.hours / 2)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [409] * 7, codes
    assert _service(city, slot.volunteer)["hours_recorded"] == pytest.approx(slot.hours / 2)
