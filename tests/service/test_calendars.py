"""Volunteers' calendar feeds (issue 19), on SQLite and PostgreSQL: the secret link (made, replaced,
revoked; only its digest stored), and the feed, parsed back with the iCalendar library: one event per
session of the published versions, at Asia/Shanghai local times, updated when a newer version is
published and never showing a draft.

Plan versions are written directly (``published_at`` set by hand, as publishing would), so each
test knows exactly which sessions a feed must hold; one test runs a real solve end to end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from api_support import City
from sqlmodel import Session, col, select

from api.models import (
    AuditEntry,
    Beneficiary,
    CalendarFeed,
    PlanAssignment,
    PlanVersion,
    Station,
    Volunteer,
)
from api.services import calendars
from matcher.format.schema import DAYS

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = dt.date(2026, 12, 7)
TODAY = dt.date(2026, 12, 9)  # a Wednesday of WEEK: the feed shows 2026-11-09 .. the week of 2027-02-01


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed's window counts from TODAY, whatever the machine's clock says."""
    monkeypatch.setattr(calendars, "local_today", lambda: TODAY)


# ------------------------------------------------------------------------ helpers


def _people(city: City, station: str) -> tuple[str, str, str]:
    """A volunteer (张明) and two beneficiaries (王奶奶 with an address, 李爷爷 without) of the station."""
    with Session(city.engine) as s:
        volunteer = s.exec(
            select(Volunteer).where(Volunteer.station_id == station).order_by(col(Volunteer.id))
        ).first()
        bens = list(
            s.exec(select(Beneficiary).where(Beneficiary.station_id == station).order_by(col(Beneficiary.id)))
        )[:2]
        assert volunteer is not None and len(bens) == 2
        volunteer.name = "张明"
        bens[0].name, bens[0].address = "王奶奶", "幸福里 3 幢 2 单元 301"
        bens[1].name, bens[1].address = "李爷爷", ""
        s.add_all([volunteer, *bens])
        s.commit()
        return volunteer.id, bens[0].id, bens[1].id


def _need(ident: str, beneficiary: str, service: str = "companionship", hours: float = 2) -> dict[str, Any]:
    return {"id": ident, "beneficiary": beneficiary, "service": service, "hours": hours, "sessions": 1}


def _version(
    city: City,
    station: str,
    week: dt.date,
    needs: list[dict[str, Any]],
    assignments: list[tuple[str, str, list[str]]],
    *,
    version: int = 1,
    published: dt.datetime | None = None,
) -> int:
    """A finished version of the station's week: ``needs`` in its problem, ``(need, volunteer, slots)``
    assignments, published at ``published`` (None: a draft)."""
    with Session(city.engine) as s:
        row = PlanVersion(
            station_id=station,
            week_start=week,
            version=version,
            state="done",
            problem={"format": 1, "needs": needs},
            plan={"format": 1, "assignments": [], "unmet": []},
            published_at=published,
        )
        s.add(row)
        s.commit()
        assert row.id is not None
        for need, volunteer, slots in assignments:
            s.add(PlanAssignment(plan_id=row.id, need_id=need, volunteer_id=volunteer, slots=slots))
        s.commit()
        return row.id


def _publish(city: City, plan_id: int, at: dt.datetime) -> None:
    with Session(city.engine) as s:
        row = s.get(PlanVersion, plan_id)
        assert row is not None
        row.published_at = at
        s.add(row)
        s.commit()


def _link(city: City, station: str, volunteer: str) -> dict[str, Any]:
    r = city.client.post(f"/v1/volunteers/{volunteer}/calendar", headers=city.headers(station))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _path(link: dict[str, Any]) -> str:
    """The feed's path, from the link's https URL (the TestClient's host is http://testserver)."""
    url: str = link["url"]
    return url[url.index("/cal/") :]


def _feed(city: City, link: dict[str, Any]) -> icalendar.Calendar:
    r = city.client.get(_path(link))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(r.content)


def _events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    events = {str(e["UID"]): e for e in cal.events}
    assert len(events) == len(cal.events), "UIDs are unique in a feed"
    return events


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


PUBLISHED = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)

# ------------------------------------------------------------------------ the feed


def test_the_feed_parses_and_has_local_times(city: City) -> None:
    """A tue-am 2-hour session of the week of 2026-12-07 is 2026-12-08 09:00-11:00 +08:00, with its
    TZID, the VTIMEZONE, the Chinese summary, the address and the station in the description."""
    station = city.stations[0]
    volunteer, grandma, _ = _people(city, station)
    _version(
        city, station, WEEK, [_need("n-1", grandma)], [("n-1", volunteer, ["tue-am"])], published=PUBLISHED
    )
    cal = _feed(city, _link(city, station, volunteer))

    assert str(cal["X-WR-CALNAME"]) == str(cal["NAME"]) == "邻里志愿服务 · 张明"
    assert cal["REFRESH-INTERVAL"].to_ical() == b"PT1H"
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal["X-PUBLISHED-TTL"].to_ical() == b"PT1H"
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Asia/Shanghai"]
    assert zones[0].walk("STANDARD")[0].decoded("TZOFFSETTO") == dt.timedelta(hours=8)

    [event] = cal.events
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == _at(dt.date(2026, 12, 8), 9) and end == _at(dt.date(2026, 12, 8), 11)
    assert start.utcoffset() == end.utcoffset() == dt.timedelta(hours=8)
    assert (start.hour, end.hour) == (9, 11)  # the local wall clock, not UTC's 01:00
    assert event["DTSTART"].params["TZID"] == event["DTEND"].params["TZID"] == "Asia/Shanghai"
    assert b"DTSTART;TZID=Asia/Shanghai:20261208T090000" in cal.to_ical()
    assert str(event["SUMMARY"]) == "陪伴关爱 · 王奶奶"
    assert str(event["LOCATION"]) == "幸福里 3 幢 2 单元 301"
    description = str(event["DESCRIPTION"])
    with Session(city.engine) as s:
        station_row = s.get(Station, station)
        assert station_row is not None
        assert station_row.name in description
    assert "王奶奶" in description and "第 1 版" in description
    assert event.decoded("LAST-MODIFIED") == event.decoded("DTSTAMP") == PUBLISHED
    assert event.decoded("SEQUENCE") == 1


def test_one_event_per_session(city: City) -> None:
    """Every session of the volunteer (several needs, several slots) is one event at its period's
    time; other volunteers' sessions, and a beneficiary without an address, are handled."""
    station = city.stations[0]
    volunteer, grandma, grandpa = _people(city, station)
    with Session(city.engine) as s:
        other = s.exec(
            select(Volunteer).where(Volunteer.station_id == station, Volunteer.id != volunteer)
        ).first()
        assert other is not None
    needs = [_need("n-1", grandma, hours=1.5), _need("n-2", grandpa, service="housekeeping", hours=1)]
    assignments = [
        ("n-1", volunteer, ["mon-am", "wed-pm", "fri-eve"]),
        ("n-2", volunteer, ["sat-pm"]),
        ("n-2", other.id, ["sun-am"]),
    ]
    _version(city, station, WEEK, needs, assignments, published=PUBLISHED)
    events = list(_feed(city, _link(city, station, volunteer)).events)
    got = sorted((e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"])) for e in events)
    assert got == [
        (_at(dt.date(2026, 12, 7), 9), _at(dt.date(2026, 12, 7), 10, 30), "陪伴关爱 · 王奶奶"),
        (_at(dt.date(2026, 12, 9), 14, 30), _at(dt.date(2026, 12, 9), 16), "陪伴关爱 · 王奶奶"),
        (_at(dt.date(2026, 12, 11), 19), _at(dt.date(2026, 12, 11), 20, 30), "陪伴关爱 · 王奶奶"),
        (_at(dt.date(2026, 12, 12), 14, 30), _at(dt.date(2026, 12, 12), 15, 30), "家政服务 · 李爷爷"),
    ]
    without_address = next(e for e in events if "李爷爷" in str(e["SUMMARY"]))
    assert "LOCATION" not in without_address


def test_only_published_versions_and_the_feed_follows_a_newer_one(city: City) -> None:
    """A draft (even a newer one) changes nothing; once published, the feed is the new version's: a
    session kept keeps its UID (SEQUENCE and LAST-MODIFIED move on), a moved one is a new UID and the
    old one is gone; a week never published shows nothing.  The ETag follows the content."""
    station = city.stations[0]
    volunteer, grandma, grandpa = _people(city, station)
    needs = [_need("n-1", grandma), _need("n-2", grandpa, service="tutoring")]
    _version(
        city,
        station,
        WEEK,
        needs,
        [("n-1", volunteer, ["tue-am"]), ("n-2", volunteer, ["thu-eve"])],
        published=PUBLISHED,
    )
    draft = _version(
        city,
        station,
        WEEK,
        needs,
        [("n-1", volunteer, ["tue-am"]), ("n-2", volunteer, ["fri-pm"])],
        version=2,
    )
    # The next week has only a draft: nothing of it is shown.
    _version(city, station, WEEK + dt.timedelta(weeks=1), needs, [("n-1", volunteer, ["mon-am"])])
    link = _link(city, station, volunteer)
    before = city.client.get(_path(link))
    first = _events(icalendar.Calendar.from_ical(before.content))
    kept = calendars.event_uid(volunteer, "n-1", dt.date(2026, 12, 8), "tue-am")
    moved_from = calendars.event_uid(volunteer, "n-2", dt.date(2026, 12, 10), "thu-eve")
    moved_to = calendars.event_uid(volunteer, "n-2", dt.date(2026, 12, 11), "fri-pm")
    assert set(first) == {kept, moved_from}
    assert first[moved_from].decoded("DTSTART") == _at(dt.date(2026, 12, 10), 19)

    republished = PUBLISHED + dt.timedelta(days=1)
    _publish(city, draft, republished)
    after = city.client.get(_path(link))
    second = _events(icalendar.Calendar.from_ical(after.content))
    assert set(second) == {kept, moved_to}
    assert second[moved_to].decoded("DTSTART") == _at(dt.date(2026, 12, 11), 14, 30)
    assert (second[kept].decoded("SEQUENCE"), second[kept].decoded("LAST-MODIFIED")) == (2, republished)
    assert second[kept].decoded("DTSTART") == first[kept].decoded("DTSTART")

    # The ETag is the content's: the old one is stale, the new one answers 304.
    assert before.headers["etag"] != after.headers["etag"]
    assert "private" in after.headers["cache-control"]
    stale = city.client.get(_path(link), headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200 and stale.content == after.content
    fresh = city.client.get(_path(link), headers={"If-None-Match": after.headers["etag"]})
    assert fresh.status_code == 304 and fresh.content == b""
    assert city.client.get(_path(link)).headers["etag"] == after.headers["etag"]  # stable while unchanged


def test_the_weeks_shown(city: City) -> None:
    """From 4 weeks before this week to 8 weeks after it: a week just outside either end is left out."""
    station = city.stations[0]
    volunteer, grandma, _ = _people(city, station)
    for weeks in (-5, -4, 0, 8, 9):
        _version(
            city,
            station,
            WEEK + dt.timedelta(weeks=weeks),
            [_need("n-1", grandma)],
            [("n-1", volunteer, ["mon-am"])],
            published=PUBLISHED,
        )
    days = sorted(e.decoded("DTSTART").date() for e in _feed(city, _link(city, station, volunteer)).events)
    assert days == [WEEK + dt.timedelta(weeks=w) for w in (-4, 0, 8)]


def test_a_real_plan_published_is_the_volunteers_sessions(city: City) -> None:
    """End to end: a generated plan, published; each volunteer's feed is their assignments' slots."""
    station = city.stations[0]
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK.isoformat()}, headers=city.headers(station)
    )
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done", plan
    busiest: dict[str, list[str]] = {}
    for a in plan["assignments"]:
        busiest.setdefault(a["volunteer"], []).extend(a["slots"])
    volunteer = max(sorted(busiest), key=lambda v: len(busiest[v]))
    link = _link(city, station, volunteer)
    assert list(_feed(city, link).events) == []  # generated, not yet published
    _publish(city, plan["id"], PUBLISHED)
    events = list(_feed(city, link).events)
    assert len(events) == len(busiest[volunteer]) > 0
    periods = {"am": (9, 0), "pm": (14, 30), "eve": (19, 0)}
    expected = sorted(
        _at(WEEK + dt.timedelta(days=DAYS.index(day)), *periods[period])
        for day, _sep, period in (slot.partition("-") for slot in busiest[volunteer])
    )
    assert sorted(e.decoded("DTSTART") for e in events) == expected


# ------------------------------------------------------------------------ the link


def test_a_new_link_revokes_the_old_and_revoking_answers_404(city: City) -> None:
    """One live link per volunteer: a new one revokes the old (404); DELETE revokes (404); GET says
    whether one is live and since when, never the secret; an unknown secret gets the same 404."""
    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    h = city.headers(station)
    status = city.client.get(f"/v1/volunteers/{volunteer}/calendar", headers=h).json()
    assert status == {"volunteer_id": volunteer, "live": False, "created_at": None}

    old = _link(city, station, volunteer)
    assert old["url"].startswith("http://testserver/cal/") and old["url"].endswith(".ics")
    assert old["webcal_url"] == "webcal://" + old["url"].removeprefix("http://")
    assert city.client.get(_path(old)).status_code == 200
    new = _link(city, station, volunteer)
    assert new["url"] != old["url"]
    revoked = city.client.get(_path(old))
    assert revoked.status_code == 404 and city.client.get(_path(new)).status_code == 200

    status = city.client.get(f"/v1/volunteers/{volunteer}/calendar", headers=h).json()
    assert status["live"] is True and status["created_at"] == new["created_at"]
    assert set(status) == {"volunteer_id", "live", "created_at"}  # no secret, no digest
    with Session(city.engine) as s:
        rows = list(s.exec(select(CalendarFeed).where(CalendarFeed.volunteer_id == volunteer)))
    assert len(rows) == 2 and sum(r.revoked_at is None for r in rows) == 1

    unknown = city.client.get("/cal/" + "x" * 43 + ".ics")
    assert (unknown.status_code, unknown.json()) == (404, revoked.json())
    assert city.client.get("/cal/" + "x" * 5000 + ".ics").status_code == 404

    gone = city.client.delete(f"/v1/volunteers/{volunteer}/calendar", headers=h)
    assert gone.status_code == 200 and gone.json()["live"] is False
    after = city.client.get(_path(new))
    assert (after.status_code, after.json()) == (404, revoked.json())
    again = city.client.delete(f"/v1/volunteers/{volunteer}/calendar", headers=h)  # none left: still fine
    assert again.status_code == 200 and again.json()["live"] is False


def test_only_the_digest_is_stored_and_audited(city: City) -> None:
    """The secret is nowhere in the database (its SHA-256 is the row's digest); the audit log names the
    link's creation and revocation by the caller's token, without the digest."""
    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    link = _link(city, station, volunteer)
    secret = _path(link).removeprefix("/cal/").removesuffix(".ics")
    assert len(secret) >= 43
    city.client.delete(f"/v1/volunteers/{volunteer}/calendar", headers=city.headers(station))
    with Session(city.engine) as s:
        [row] = s.exec(select(CalendarFeed).where(CalendarFeed.volunteer_id == volunteer))
        assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
        entries = list(s.exec(select(AuditEntry).where(AuditEntry.entity == "calendarfeed")))
    assert [e.action for e in entries] == ["create", "update"]
    assert all(e.actor_kind == "api" and e.station_id == station for e in entries)
    text = repr([e.changes for e in entries])
    assert secret not in text and row.digest not in text and "digest" not in text
    with city.engine.connect() as conn:
        for table in ("calendarfeed", "auditentry"):
            dump = repr(conn.execute(sa.text(f"SELECT * FROM {table}")).all())
            assert secret not in dump


def test_another_stations_volunteer_is_404(city: City) -> None:
    """Station B's token cannot make, read or revoke station A's volunteer's link; the centre can."""
    a, b = city.stations
    volunteer, _, _ = _people(city, a)
    link = _link(city, a, volunteer)
    for method in ("POST", "GET", "DELETE"):
        r = city.client.request(method, f"/v1/volunteers/{volunteer}/calendar", headers=city.headers(b))
        assert r.status_code == 404, (method, r.text)
    assert city.client.get(_path(link)).status_code == 200  # B's DELETE revoked nothing
    centre = city.client.get(f"/v1/volunteers/{volunteer}/calendar", headers=city.headers(None))
    assert centre.status_code == 200 and centre.json()["live"] is True
    assert city.client.post("/v1/volunteers/nobody/calendar", headers=city.headers(a)).status_code == 404
    assert city.client.post(f"/v1/volunteers/{volunteer}/calendar").status_code == 401


def test_a_deactivated_volunteers_link_answers_404(city: City) -> None:
    """Someone who left stops reading the plans (and addresses); reactivated, the same link works again."""
    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    link = _link(city, station, volunteer)
    h = city.headers(station)
    assert city.client.delete(f"/v1/stations/{station}/volunteers/{volunteer}", headers=h).status_code == 200
    assert city.client.get(_path(link)).status_code == 404
    r = city.client.patch(f"/v1/stations/{station}/volunteers/{volunteer}", json={"active": True}, headers=h)
    assert r.status_code == 200, r.text
    assert city.client.get(_path(link)).status_code == 200


def test_the_database_holds_one_live_link_per_volunteer(city: City) -> None:
    """Two live links of one volunteer are refused by the database itself (the partial unique index),
    so two made at the same moment cannot both stay live; revoked ones may be many."""
    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    with Session(city.engine) as s:
        s.add(CalendarFeed(volunteer_id=volunteer, station_id=station, digest="a" * 64, revoked_at=PUBLISHED))
        s.add(CalendarFeed(volunteer_id=volunteer, station_id=station, digest="b" * 64, revoked_at=PUBLISHED))
        s.add(CalendarFeed(volunteer_id=volunteer, station_id=station, digest="c" * 64))
        s.commit()
        s.add(CalendarFeed(volunteer_id=volunteer, station_id=station, digest="d" * 64))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_the_public_url_setting_makes_the_links_host(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a proxy the request's host is not the phones': LINLI_PUBLIC_URL is the links' base."""
    from api.settings import get_settings

    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    monkeypatch.setenv("LINLI_PUBLIC_URL", "https://linli.example.org/xiongguan")
    get_settings.cache_clear()
    try:
        link = _link(city, station, volunteer)
    finally:
        get_settings.cache_clear()
    assert link["url"].startswith("https://linli.example.org/xiongguan/cal/")
    assert link["webcal_url"].startswith("webcal://linli.example.org/xiongguan/cal/")


def test_the_feed_route_is_public_and_declares_no_security(city: City) -> None:
    """The phone sends no token: the feed route declares none, and a token changes nothing."""
    paths = city.client.get("/openapi.json").json()["paths"]
    assert not paths["/cal/{secret}.ics"]["get"].get("security")
    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    link = _link(city, station, volunteer)
    other = city.client.get(_path(link), headers=city.headers(city.stations[1]))
    assert other.status_code == 200


# ------------------------------------------------------------------------ the command line


def test_cli_calendar(city: City, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """``linli calendar V --new`` prints the link (the old one revoked), ``--revoke`` revokes it; bad
    input exits 2 with one ``error:`` line naming the field."""
    from api.settings import get_settings
    from linli.cli import main

    station = city.stations[0]
    volunteer, _, _ = _people(city, station)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("LINLI_PUBLIC_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["calendar", volunteer, "--new", "--base-url", "https://linli.example.org"]) == 0
        url = capsys.readouterr().out.strip()
        assert url.startswith("https://linli.example.org/cal/") and url.endswith(".ics")
        assert city.client.get(url.removeprefix("https://linli.example.org")).status_code == 200
        assert main(["calendar", volunteer, "--revoke"]) == 0
        assert "revoked" in capsys.readouterr().out
        assert city.client.get(url.removeprefix("https://linli.example.org")).status_code == 404
        for argv, field in (
            (["calendar", "nobody", "--new", "--base-url", "https://x.org"], "error: volunteer:"),
            (["calendar", volunteer, "--new"], "error: --base-url:"),
            (["calendar", volunteer, "--new", "--base-url", "ftp://x"], "error: --base-url:"),
        ):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert err.startswith(field) and err.count("\n") == 1, err
        with pytest.raises(SystemExit) as exit_:
            main(["calendar", volunteer])  # neither --new nor --revoke
        assert exit_.value.code == 2
        assert capsys.readouterr().err.startswith("error:")
    finally:
        get_settings.cache_clear()


def test_migration_0014_goes_down_and_up_again(db_url: str) -> None:
    """Down to 0013 drops the calendar links (and the partial unique index); up again restores both."""
    from alembic import command

    from api.migrate import config, upgrade

    engine = sa.create_engine(db_url)
    try:
        command.downgrade(config(db_url), "0013")
        with engine.connect() as conn:
            assert "calendarfeed" not in sa.inspect(conn).get_table_names()
        upgrade(db_url)
        engine.dispose()  # SQLite's PRAGMA index_list reads a connection's schema as it last saw it
        with engine.connect() as conn:
            indexes = {i["name"]: i for i in sa.inspect(conn).get_indexes("calendarfeed")}
        assert indexes["uq_calendarfeed_live"]["unique"], indexes
        assert indexes["ix_calendarfeed_digest"]["unique"]
    finally:
        engine.dispose()
