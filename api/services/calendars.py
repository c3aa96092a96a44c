"""Volunteers' calendar feeds (issue 19): a secret, revocable link to an iCalendar feed of the
volunteer's published sessions, which a phone's calendar subscribes to.

Shared by the API (:mod:`api.routers.calendars`), the 人员 page (:mod:`web.calendar_pages`) and
``linli calendar`` (:mod:`linli.cli`).  The rules:

- **The link.**  ``/cal/<secret>.ics``, the secret 256 random bits (:func:`secrets.token_urlsafe`);
  only its SHA-256 is stored (:class:`~api.models.CalendarFeed`), as for API tokens
  (:mod:`api.auth`): the secret is shown once, when the link is made, and a database copy cannot
  read anyone's calendar.  A volunteer has at most one live link: making a new one revokes the old
  one in the same transaction (a partial unique index refuses a second live one, so two made at
  the same moment give one 409).  A revoked or unknown secret answers the same 404, found by one
  lookup of its digest (unknown and revoked are one query, ``revoked_at IS NULL`` in it).  A
  deactivated volunteer's link answers 404 too, until they are reactivated: someone who left
  should not keep reading beneficiaries' addresses.
- **What the feed holds.**  Every session of the volunteer in the plans their station published,
  for the weeks from :data:`WEEKS_BEFORE` weeks before this week to :data:`WEEKS_AFTER` weeks
  after it: for each week the version published last (a draft, however new, is not shown; a
  week never published shows nothing).  One VEVENT per session, at the session's local time in
  Asia/Shanghai (:mod:`api.session_times`, the clock the messages use too), with a VTIMEZONE.
- **Updates.**  The feed is built from the database at each request, so a newly published
  version is in the next fetch.  A session's UID is stable across versions for the same
  volunteer, need, day and slot (:func:`event_uid`), so a phone updates the event in place
  (SEQUENCE and LAST-MODIFIED are the version's number and publication time); a session moved
  to another slot is another event, and the old one, gone from the feed, leaves the phone's
  calendar at its next refresh.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from icalendar import Calendar, Event, Timezone, vDuration
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.auth import digest
from api.db import write_transaction
from api.models import (
    Beneficiary,
    CalendarFeed,
    CalendarFeedPublic,
    District,
    PlanAssignment,
    PlanVersion,
    Site,
    Station,
    Volunteer,
    utcnow,
)
from api.names import service_name
from api.services.errors import ConflictError
from api.services.planning import place_of
from api.session_times import TIMEZONE, describe_session, session_time

WEEKS_BEFORE = 4
"""Weeks before this one the feed still shows (a volunteer looks back at what they did)."""
WEEKS_AFTER = 8
"""Weeks after this one the feed shows (as far as plans are usually published ahead)."""

REFRESH = dt.timedelta(hours=1)
"""How often a subscribed calendar should fetch the feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL)."""

SECRET_MAX_LENGTH = 100
"""A longer path segment is no secret of ours (``token_urlsafe(32)`` is 43 characters)."""

PRODID = "-//Linli//Volunteer calendar//ZH"
TZID = "Asia/Shanghai"
CALENDAR_TITLE = "邻里志愿服务"
UID_DOMAIN = "linli"

# The VTIMEZONE covers every week a plan may have (2000 .. 2099); since 1991 China keeps one offset,
# so it is a single STANDARD component, the same in every feed.
_ZONE_FIRST = dt.date(2000, 1, 1)
_ZONE_LAST = dt.date(2100, 1, 1)


def local_today() -> dt.date:
    """Today in the stations' time zone (Asia/Shanghai): the feed's window counts from its week."""
    return dt.datetime.now(TIMEZONE).date()


def window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The Mondays of the first and last weeks the feed shows, around ``today``'s week."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(weeks=WEEKS_BEFORE), monday + dt.timedelta(weeks=WEEKS_AFTER)


# ------------------------------------------------------------------------ the link


def live_link(session: Session, volunteer_id: str) -> CalendarFeed | None:
    """The volunteer's live link (made, not revoked), or None."""
    return session.exec(
        select(CalendarFeed).where(
            CalendarFeed.volunteer_id == volunteer_id, col(CalendarFeed.revoked_at).is_(None)
        )
    ).first()


def link_status(volunteer_id: str, feed: CalendarFeed | None) -> CalendarFeedPublic:
    """Whether the volunteer has a live link and since when (never the secret)."""
    return CalendarFeedPublic(
        volunteer_id=volunteer_id, live=feed is not None, created_at=feed.created_at if feed else None
    )


def _revoke_live(session: Session, volunteer_id: str) -> CalendarFeed | None:
    found = live_link(session, volunteer_id)
    if found is not None:
        found.revoked_at = utcnow()
        session.add(found)
    return found


def issue_link(session: Session, volunteer: Volunteer) -> tuple[CalendarFeed, str]:
    """Make the volunteer a new calendar link, revoking the live one if any.

    Returns
    -------
    tuple[CalendarFeed, str]
        The stored link (its digest only) and the secret, which is shown once.

    Raises
    ------
    ConflictError
        Another link for the volunteer was made at the same moment (nothing was written).
    """
    write_transaction(session)
    _revoke_live(session, volunteer.id)
    session.flush()  # the old link is revoked before the new one is live (the partial unique index)
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed(volunteer_id=volunteer.id, station_id=volunteer.station_id, digest=digest(secret))
    session.add(feed)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(
            f"calendar: another link for volunteer '{volunteer.id}' was made at the same moment; try again"
        ) from None
    session.refresh(feed)
    return feed, secret


def revoke_link(session: Session, volunteer: Volunteer) -> CalendarFeed | None:
    """Revoke the volunteer's live link (its URL answers 404 from now on); None if there was none."""
    write_transaction(session)
    found = _revoke_live(session, volunteer.id)
    session.commit()
    return found


def subscription_urls(base_url: str, secret: str) -> tuple[str, str]:
    """The feed's ``https://…/cal/<secret>.ics`` (as ``base_url`` says it) and its ``webcal://`` twin."""
    url = f"{base_url.rstrip('/')}/cal/{secret}.ics"
    return url, "webcal://" + url.split("://", 1)[-1]


def find_feed(session: Session, secret: str) -> tuple[CalendarFeed, Volunteer, Station] | None:
    """The live link of ``secret`` with its volunteer and station; None for an unknown or revoked
    secret (one lookup of the digest either way) or a deactivated volunteer."""
    if not secret or len(secret) > SECRET_MAX_LENGTH:
        return None
    feed = session.exec(
        select(CalendarFeed).where(
            CalendarFeed.digest == digest(secret), col(CalendarFeed.revoked_at).is_(None)
        )
    ).first()
    if feed is None:
        return None
    volunteer = session.get(Volunteer, feed.volunteer_id)
    station = session.get(Station, feed.station_id)
    if volunteer is None or station is None or not volunteer.active:
        return None
    return feed, volunteer, station


# ------------------------------------------------------------------------ the sessions


@dataclass(frozen=True)
class CalendarSession:
    """One session of a published plan, as the feed shows it."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    service: str
    """The service's Chinese name (陪伴关爱)."""
    hours: float
    beneficiary: str
    """The beneficiary's name (their id if they have none)."""
    address: str
    when: str
    """The session as a coordinator writes it (12月8日（周二）上午 9:00-11:00)."""
    version: int
    published_at: dt.datetime
    team: int = 0
    """A group post's (多人岗位) number of volunteers on it (``beneficiary`` is then the site's
    name, ``address`` where they gather); 0 for a beneficiary's one-volunteer need."""


def event_uid(volunteer_id: str, need_id: str, day: dt.date, slot: str) -> str:
    """The session's UID: the same for the volunteer's session of the need on that day and slot in
    every version (a phone updates the event in place); readable day and slot, hashed ids (ids may
    hold any letter, a UID is best kept ASCII)."""
    key = hashlib.sha256(f"{volunteer_id}\x00{need_id}".encode()).hexdigest()[:16]
    return f"{day:%Y%m%d}-{slot}-{key}@{UID_DOMAIN}"


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def as_local(moment: dt.datetime) -> dt.datetime:
    """A stored moment (UTC; naive from SQLite) in the stations' time zone."""
    return _utc(moment).astimezone(TIMEZONE)


@dataclass(frozen=True)
class Published:
    """A published version of a week (its light columns: the problem is read only where needed)."""

    id: int
    week_start: dt.date
    version: int
    published_at: dt.datetime


def published_versions(session: Session, station_id: str, first: dt.date, last: dt.date) -> list[Published]:
    """For each week from ``first`` to ``last`` (Mondays, inclusive), the version published last, by week."""
    found = session.exec(
        select(
            col(PlanVersion.id),
            col(PlanVersion.week_start),
            col(PlanVersion.version),
            col(PlanVersion.published_at),
        )
        .where(
            PlanVersion.station_id == station_id,
            col(PlanVersion.week_start) >= first,
            col(PlanVersion.week_start) <= last,
            col(PlanVersion.published_at).is_not(None),
        )
        .order_by(
            col(PlanVersion.week_start), col(PlanVersion.published_at).desc(), col(PlanVersion.id).desc()
        )
    )
    latest: dict[dt.date, Published] = {}
    for ident, week, number, published in found:
        if ident is not None and published is not None and week not in latest:
            latest[week] = Published(ident, week, number, _utc(published))
    return list(latest.values())


def _needs(session: Session, plan_ids: set[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """The needs of the versions' problems, by (version, need id): what each version was solved for."""
    needs: dict[tuple[int, str], dict[str, Any]] = {}
    if not plan_ids:
        return needs
    query = select(col(PlanVersion.id), col(PlanVersion.problem)).where(
        col(PlanVersion.id).in_(sorted(plan_ids))
    )
    for plan_id, problem in session.exec(query):
        assert plan_id is not None
        for need in problem.get("needs", []):
            needs[(plan_id, need["id"])] = need
    return needs


def volunteer_sessions(session: Session, volunteer: Volunteer, today: dt.date) -> list[CalendarSession]:
    """The volunteer's sessions in the published plans of the feed's window, by start time.

    The need's service and hours are the published version's (its problem); the beneficiary's name
    and address are today's (a family that moved is visited at the new address).  Only the problems
    of versions that give the volunteer a session are read (a station's problem is its whole week).
    """
    first, last = window(today)
    versions = {v.id: v for v in published_versions(session, volunteer.station_id, first, last)}
    if not versions:
        return []
    assignments = list(
        session.exec(
            select(PlanAssignment).where(
                col(PlanAssignment.plan_id).in_(sorted(versions)), PlanAssignment.volunteer_id == volunteer.id
            )
        )
    )
    needs = _needs(session, {a.plan_id for a in assignments})
    found = [needs[(a.plan_id, a.need_id)] for a in assignments if (a.plan_id, a.need_id) in needs]
    wanted = {n["beneficiary"] for n in found if "beneficiary" in n}
    people = {
        b.id: b for b in session.exec(select(Beneficiary).where(col(Beneficiary.id).in_(sorted(wanted))))
    }
    at = {n["site"] for n in found if "site" in n}
    sites = {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(sorted(at))))}
    team = _teams(session, assignments)
    out: list[CalendarSession] = []
    for a in assignments:
        version, need = versions[a.plan_id], needs.get((a.plan_id, a.need_id))
        if need is None:
            continue
        hours = float(need["hours"])
        members = team.get((a.plan_id, a.need_id), 1)
        if "site" in need or members > 1:
            # A group post (多人岗位): the event is at the site (a beneficiary's post: their home),
            # and says how many serve together.
            site = sites.get(need.get("site", ""))
            home = people.get(need.get("beneficiary", ""))
            place = site or home
            name = (place.name or place.id) if place else place_of(need)
            address = (place.address or (place.name if site else "")) if place else ""
            for slot in a.slots:
                when = session_time(version.week_start, slot, hours)
                if when is None:
                    continue
                out.append(
                    CalendarSession(
                        uid=event_uid(volunteer.id, a.need_id, when.start.date(), slot),
                        start=when.start,
                        end=when.end,
                        service=service_name(need["service"]),
                        hours=hours,
                        beneficiary=name,
                        address=address,
                        when=describe_session(version.week_start, slot, hours),
                        version=version.version,
                        published_at=version.published_at,
                        team=members,
                    )
                )
            continue
        person = people.get(need["beneficiary"])
        for slot in a.slots:
            when = session_time(version.week_start, slot, hours)
            if when is None:  # a slot without a day and period: no clock time to show
                continue
            out.append(
                CalendarSession(
                    uid=event_uid(volunteer.id, a.need_id, when.start.date(), slot),
                    start=when.start,
                    end=when.end,
                    service=service_name(need["service"]),
                    hours=hours,
                    beneficiary=(person.name or person.id) if person else need["beneficiary"],
                    address=person.address if person else "",
                    when=describe_session(version.week_start, slot, hours),
                    version=version.version,
                    published_at=version.published_at,
                )
            )
    return sorted(out, key=lambda s: (s.start, s.uid))


def _teams(session: Session, assignments: Sequence[PlanAssignment]) -> dict[tuple[int, str], int]:
    """How many volunteers each of these assignments' needs has in its version (a post's members)."""
    plans = sorted({a.plan_id for a in assignments})
    needs = sorted({a.need_id for a in assignments})
    if not plans:
        return {}
    rows = session.exec(
        select(col(PlanAssignment.plan_id), col(PlanAssignment.need_id), func.count())
        .where(col(PlanAssignment.plan_id).in_(plans), col(PlanAssignment.need_id).in_(needs))
        .group_by(col(PlanAssignment.plan_id), col(PlanAssignment.need_id))
    )
    return {(plan, need): int(n) for plan, need, n in rows}


# ------------------------------------------------------------------------ the feed


def calendar_name(volunteer: Volunteer) -> str:
    """The calendar's name on the phone: 邻里志愿服务 · 张明."""
    return f"{CALENDAR_TITLE} · {volunteer.name or volunteer.id}"


def _hours(hours: float) -> str:
    return f"{hours:g} 小时"


def _description(s: CalendarSession, station: Station, where: str) -> str:
    place = f"地点：{s.beneficiary}" if s.team else f"服务对象：{s.beneficiary}"
    lines = [f"时间：{s.when}", place, f"服务内容：{s.service}（{_hours(s.hours)}）"]
    if s.team:
        lines.append(f"同组 {s.team} 人")
    if s.address:
        lines.append(f"地址：{s.address}")
    published = s.published_at.astimezone(TIMEZONE)
    lines += [
        f"排班：{where}，第 {s.version} 版（{published.month}月{published.day}日发布）",
        f"有变动或不能前往，请尽早联系{station.name}的协调员。",
    ]
    return "\n".join(lines)


@functools.cache
def _zone() -> Timezone:
    """The VTIMEZONE, made once: walking a century of the zone's transitions takes ~30 ms (the
    component is only read when a calendar is written)."""
    zone = Timezone.from_tzinfo(TIMEZONE, TZID, first_date=_ZONE_FIRST, last_date=_ZONE_LAST)
    zone.pop("COMMENT", None)  # the library's note of the years it covers: not for a volunteer's phone
    return zone


def render(volunteer: Volunteer, station: Station, where: str, sessions: Sequence[CalendarSession]) -> bytes:
    """The iCalendar document of ``sessions`` (RFC 5545, with RFC 7986's NAME and REFRESH-INTERVAL).

    ``where`` is how the events name the station (:func:`station_label`).  The document
    depends on the data only (no clock), so its ETag changes exactly when what it shows does.
    """
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = calendar_name(volunteer)
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", f"{station.name}发布的排班：每次服务一个日程，排班变动后自动更新。")
    cal.add("x-wr-timezone", TZID)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    cal.add_component(_zone())
    for s in sessions:
        event = Event()
        event.add("uid", s.uid)
        event.add("dtstamp", s.published_at)
        event.add("last-modified", s.published_at)
        event.add("sequence", s.version)
        event.add("dtstart", s.start)
        event.add("dtend", s.end)
        event.add("summary", f"{s.service} · {s.beneficiary}")
        if s.address:
            event.add("location", s.address)
        event.add("description", _description(s, station, where))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    document: bytes = cal.to_ical()
    return document


def station_label(session: Session, station: Station) -> str:
    """How the feed names the station: 雄关志愿服务站（城东区）, its district's name when it has one."""
    district = session.get(District, station.district)
    place = district.name if district is not None and district.name else ""
    return f"{station.name}（{place}）" if place else station.name


def feed_ics(session: Session, secret: str, today: dt.date | None = None) -> bytes | None:
    """The calendar of the link ``secret``; None for an unknown or revoked link (the same 404)."""
    found = find_feed(session, secret)
    if found is None:
        return None
    _feed, volunteer, station = found
    sessions = volunteer_sessions(session, volunteer, today or local_today())
    return render(volunteer, station, station_label(session, station), sessions)
