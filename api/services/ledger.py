"""The year ledger (年度台账, issue 18): a station's (or the centre's) calendar year of service
records, in figures the API returns as JSON and :mod:`api.services.ledger_book` writes as a workbook.

Only current records count (a record superseded by a correction is left out, its correction
counts), as for hours, stars and reliability everywhere else.  A session belongs to the
station of its plan version (as ``GET /v1/records`` scopes it); a volunteer or beneficiary
to their own station.  The programme of a session is its beneficiary's category (敬老, 爱幼,
助残, 农民工, 社区).

Everything is read in a handful of set-based queries, whatever the number of weeks or
volunteers: the year's records joined to their assignments, plans, needs and beneficiaries;
the volunteers' served hours before the year; the people; the year's plan versions, and the
plan and problem of each week's current version (for the coverage of demand).  Hours are
summed with :func:`math.fsum`, as :mod:`api.stars` sums them, so the ledger's totals equal
the star summaries' and the records' to the last digit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.models import (
    Beneficiary,
    District,
    Need,
    PlanAssignment,
    PlanVersion,
    ServiceRecord,
    Site,
    Station,
    Volunteer,
)
from api.models.ledger import (
    MONTHS,
    Ledger,
    LedgerBeneficiary,
    LedgerSession,
    LedgerStation,
    LedgerVolunteer,
    ProgrammeHours,
    WeekCoverage,
)
from api.names import (
    POST_PROGRAMME,
    POST_PROGRAMME_NAME,
    PROGRAMMES,
)  # the programmes, in the ledger's order, by their Chinese names
from api.services.versions import LIVE
from api.stars import star_level

# The 年度台账 is a Chinese form filed with the civil-affairs office, whatever language the
# coordinator's pages show: its programmes' names are api.names' Chinese ones, not the page's catalogue's.

YEAR_MIN = 2000
YEAR_MAX = 2099
"""The years a ledger may be asked for (the plans' weeks lie in 2000 .. 2099)."""

UNKNOWN = "unknown"
"""The programme of a session whose need or beneficiary is no longer known."""
UNKNOWN_NAME = "其他"


_CHUNK = 500  # plan ids per IN (...) query: well under SQLite's bound-parameter limit

CENTRE = "centre"
"""The scope of a ledger over every station the caller sees."""


def programme_name(code: str) -> str:
    """A programme's (category's) Chinese name; the code itself if it has none."""
    if code == POST_PROGRAMME:
        return POST_PROGRAMME_NAME
    return PROGRAMMES.get(code, UNKNOWN_NAME if code == UNKNOWN else code)


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """The first and last day of ``year``."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _sessions(session: Session, station_ids: list[str], start: dt.date, end: dt.date) -> list[LedgerSession]:
    """The current records of the stations' plans with a day in ``start`` .. ``end``, by day and id."""
    # SQLAlchemy's select: sqlmodel's typed overloads stop at four columns.  Columns, not
    # ServiceRecord objects: a year is tens of thousands of rows, and the ORM's objects
    # would cost more than the rest of the ledger.
    query = (
        sa.select(
            col(ServiceRecord.id),
            col(PlanVersion.station_id),
            col(ServiceRecord.served_on),
            col(ServiceRecord.slot),
            col(ServiceRecord.volunteer_id),
            col(ServiceRecord.outcome),
            col(ServiceRecord.hours),
            col(ServiceRecord.rating),
            col(ServiceRecord.note),
            col(Need.service),
            col(Beneficiary.id),
            col(Beneficiary.name),
            col(Beneficiary.category),
            col(PlanAssignment.need_id),
            col(Site.name),
        )
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
        # Outer joins: a need deleted since (or a plan naming one never stored) leaves its
        # sessions in the ledger, under the unknown programme, rather than out of it.
        .outerjoin(Need, col(Need.id) == col(PlanAssignment.need_id))
        .outerjoin(Beneficiary, col(Beneficiary.id) == col(Need.beneficiary_id))
        .outerjoin(Site, col(Site.id) == col(Need.site_id))
        .where(
            col(PlanVersion.station_id).in_(station_ids),
            col(ServiceRecord.served_on) >= start,
            col(ServiceRecord.served_on) <= end,
            col(ServiceRecord.superseded_by).is_(None),
        )
        .order_by(col(ServiceRecord.served_on), col(ServiceRecord.id))
    )
    out = []
    rows = session.execute(query).all()
    swapped = _swapped_needs(session, {r[13] for r in rows if r[9] is None and "+" in r[13]})
    for row in rows:
        (record_id, station_id, day, slot, volunteer_id, outcome, hours, rating, note) = row[:9]
        service, ben_id, ben_name, category, need_id, site_name = row[9:]
        if service is None and need_id in swapped:
            service, ben_id, ben_name, category = swapped[need_id]
        place = (ben_name or ben_id) if ben_id is not None else ""
        if ben_id is None and site_name is not None:
            # A group post at a site: no family; the site is what the 台账 shows in its place.
            place, category = site_name, POST_PROGRAMME
        # model_construct: the values are the database's typed columns, checked when stored;
        # validating each of a year's rows again would double the ledger's time.
        out.append(
            LedgerSession.model_construct(
                record_id=record_id,
                station_id=station_id,
                served_on=day,
                slot=slot,
                volunteer_id=volunteer_id,
                volunteer_name="",  # filled from the volunteers, read once
                beneficiary_id=ben_id,
                beneficiary_name=place,
                programme=category or UNKNOWN,
                service=service,
                outcome=outcome,
                hours=float(hours),
                rating=rating,
                note=note,
            )
        )
    return out


def _swapped_needs(session: Session, need_ids: set[str]) -> dict[str, tuple[str, str, str, str]]:
    """The need, beneficiary and category behind each id a stand-in swap made by splitting a need
    (``n7+sat-am``, ``n7+rest``: :func:`matcher.standins.swap`): the longest prefix before a ``+``
    that is a stored need (ids may hold ``+`` themselves, so each prefix is tried)."""
    prefixes = {
        need_id: [need_id[:i] for i in range(len(need_id) - 1, 0, -1) if need_id[i] == "+"]
        for need_id in need_ids
    }
    wanted = sorted({p for ps in prefixes.values() for p in ps})
    found: dict[str, tuple[str, str, str, str]] = {}
    for start_at in range(0, len(wanted), _CHUNK):
        for need, ben_id, ben_name, category, service in session.execute(
            sa.select(
                col(Need.id),
                col(Beneficiary.id),
                col(Beneficiary.name),
                col(Beneficiary.category),
                col(Need.service),
            )
            .join(Beneficiary, col(Beneficiary.id) == col(Need.beneficiary_id))
            .where(col(Need.id).in_(wanted[start_at : start_at + _CHUNK]))
        ):
            found[need] = (service, ben_id, ben_name, category)
    out = {}
    for need_id, ps in prefixes.items():
        base = next((p for p in ps if p in found), None)
        if base is not None:
            out[need_id] = found[base]
    return out


def _hours_before(session: Session, station_ids: list[str], start: dt.date) -> dict[str, list[float]]:
    """Each of the stations' volunteers' served hours recorded before ``start`` (current records)."""
    rows = session.exec(
        select(ServiceRecord.volunteer_id, ServiceRecord.hours)
        .join(Volunteer, col(Volunteer.id) == col(ServiceRecord.volunteer_id))
        .where(
            col(Volunteer.station_id).in_(station_ids),
            ServiceRecord.outcome == "served",
            col(ServiceRecord.superseded_by).is_(None),
            col(ServiceRecord.served_on) < start,
        )
    )
    hours: dict[str, list[float]] = defaultdict(list)
    for volunteer_id, h in rows:
        hours[volunteer_id].append(float(h))
    return hours


def _coverage(session: Session, station_ids: list[str], year: int) -> list[WeekCoverage]:
    """Each week (its Monday in ``year``) with a live plan version: its current version's coverage."""
    start, end = year_bounds(year)
    heads = session.execute(
        sa.select(
            col(PlanVersion.id),
            col(PlanVersion.station_id),
            col(PlanVersion.week_start),
            col(PlanVersion.version),
        ).where(
            col(PlanVersion.station_id).in_(station_ids),
            col(PlanVersion.week_start) >= start,
            col(PlanVersion.week_start) <= end,
            col(PlanVersion.state).in_(LIVE),
        )
    )
    # The current version of a week is its newest live one (api.services.versions.current_version),
    # picked here over all weeks at once instead of one query per week.
    newest: dict[tuple[str, dt.date], tuple[int, int]] = {}
    for plan_id, station_id, week, version in heads:
        key = (station_id, week)
        if key not in newest or version > newest[key][1]:
            newest[key] = (plan_id, version)
    ids = sorted(plan_id for plan_id, _v in newest.values())
    plans: dict[int, Any] = {}
    for first in range(0, len(ids), _CHUNK):
        query = sa.select(
            col(PlanVersion.id), col(PlanVersion.state), col(PlanVersion.plan), col(PlanVersion.problem)
        ).where(col(PlanVersion.id).in_(ids[first : first + _CHUNK]))
        plans.update({row[0]: row for row in session.execute(query)})
    out = []
    for (station_id, week), (plan_id, version) in sorted(newest.items()):
        _id, state, plan, problem = plans[plan_id]
        share, proved, gap = _share(plan, problem) if state == "done" and plan else (None, None, None)
        out.append(
            WeekCoverage(
                station_id=station_id,
                week_start=week,
                version=version,
                state=state,
                coverage=share,
                proved=proved,
                gap=gap,
            )
        )
    return out


def _share(plan: dict[str, Any], problem: dict[str, Any]) -> tuple[float | None, bool, float | None]:
    """A finished plan's share of its problem's demand, whether it is proved, and its gap."""
    priority = {b["id"]: b["priority"] for b in problem.get("beneficiaries", [])}
    # Format 2: a post at a site has its own priority, and its full value counts each volunteer
    # it takes (its max), as the plan's coverage counts each volunteer on it.
    demand = math.fsum(
        n.get("priority", priority.get(n.get("beneficiary", ""), 0))
        * n["hours"]
        * n["sessions"]
        * n.get("volunteers", {}).get("max", 1)
        for n in problem.get("needs", [])
    )
    covered = float(plan["objective"]["coverage"])
    bound = float(plan["objective"]["coverage_bound"])
    share = covered / demand if demand > 0 else None
    gap = (bound - covered) / bound if bound > 0 else None
    return share, plan.get("status") == "optimal", gap


def _tally(name: str, station_id: str | None, rows: Sequence[LedgerSession]) -> LedgerStation:
    outcomes = Counter(s.outcome for s in rows)
    served = [s for s in rows if s.outcome == "served"]
    return LedgerStation(
        station_id=station_id,
        name=name,
        volunteers_active=len({s.volunteer_id for s in served}),
        beneficiaries_served=len({s.beneficiary_id for s in served if s.beneficiary_id is not None}),
        sessions=len(rows),
        served=outcomes["served"],
        no_shows=outcomes["no_show"],
        cancelled_by_volunteer=outcomes["cancelled_by_volunteer"],
        cancelled_by_beneficiary=outcomes["cancelled_by_beneficiary"],
        hours=math.fsum(s.hours for s in served),
    )


def _by_programme(rows: Sequence[LedgerSession]) -> list[ProgrammeHours]:
    cells: dict[str, list[list[float]]] = {p: [[] for _m in range(MONTHS)] for p in PROGRAMMES}
    for s in rows:
        if s.outcome == "served":
            cells.setdefault(s.programme, [[] for _m in range(MONTHS)])[s.served_on.month - 1].append(s.hours)
    return [
        ProgrammeHours(
            programme=code,
            name=programme_name(code),
            months=[math.fsum(m) for m in months],
            total=math.fsum(h for m in months for h in m),
        )
        for code, months in cells.items()
    ]


def _volunteers(
    session: Session,
    station_ids: list[str],
    rows: Sequence[LedgerSession],
    start: dt.date,
    thresholds: Sequence[float],
) -> list[LedgerVolunteer]:
    """The stations' volunteers (the active ones, and any with a session in the year), by station and id."""
    mine: dict[str, list[LedgerSession]] = defaultdict(list)
    for s in rows:
        mine[s.volunteer_id].append(s)
    earlier = _hours_before(session, station_ids, start)
    out = []
    people = session.exec(
        select(Volunteer)
        .where(col(Volunteer.station_id).in_(station_ids))
        .order_by(col(Volunteer.station_id), col(Volunteer.id))
    )
    for v in people:
        sessions = mine.get(v.id, [])
        if not v.active and not sessions:
            continue
        outcomes = Counter(s.outcome for s in sessions)
        served = [s.hours for s in sessions if s.outcome == "served"]
        year = math.fsum(served)
        # The sums of api.stars.summarize: hours before Linli plus the exact sum of every current
        # served record up to then (so the year's end equals GET …/service once the year is over).
        before = float(v.hours_before) + math.fsum(earlier.get(v.id, []))
        total = float(v.hours_before) + math.fsum([*earlier.get(v.id, []), *served])
        stars_before, stars = star_level(before, thresholds), star_level(total, thresholds)
        out.append(
            LedgerVolunteer(
                id=v.id,
                name=v.name or v.id,
                station_id=v.station_id,
                sessions_served=outcomes["served"],
                no_shows=outcomes["no_show"],
                cancelled_by_volunteer=outcomes["cancelled_by_volunteer"],
                hours_year=year,
                hours_total=total,
                stars_before=stars_before,
                stars=stars,
                award_candidate=stars > stars_before,
            )
        )
    return out


def _beneficiaries(
    session: Session, station_ids: list[str], rows: Sequence[LedgerSession]
) -> list[LedgerBeneficiary]:
    """The stations' beneficiaries (the active ones, and any served in the year), by station and id."""
    served: dict[str, list[float]] = defaultdict(list)
    for s in rows:
        if s.outcome == "served" and s.beneficiary_id is not None:
            served[s.beneficiary_id].append(s.hours)
    districts = {d.id: d.name or d.id for d in session.exec(select(District))}
    out = []
    people = session.exec(
        select(Beneficiary)
        .where(col(Beneficiary.station_id).in_(station_ids))
        .order_by(col(Beneficiary.station_id), col(Beneficiary.id))
    )
    for b in people:
        hours = served.get(b.id, [])
        if not b.active and not hours:
            continue
        out.append(
            LedgerBeneficiary(
                id=b.id,
                name=b.name or b.id,
                station_id=b.station_id,
                category=b.category,
                category_name=programme_name(b.category),
                district=b.district,
                district_name=districts.get(b.district, b.district),
                priority=b.priority,
                active=b.active,
                sessions_served=len(hours),
                hours=math.fsum(hours),
            )
        )
    return out


def build_ledger(
    session: Session, stations: Sequence[Station], year: int, thresholds: Sequence[float], scope: str
) -> Ledger:
    """The year ledger of ``stations`` (resolved in the caller's scope already).

    Parameters
    ----------
    session
        Database session.
    stations
        The stations: one for a station's ledger, every visible one for the centre's.
    year
        The calendar year (:data:`YEAR_MIN` .. :data:`YEAR_MAX`; callers check it).
    thresholds
        The star thresholds (``LINLI_STAR_HOURS``).
    scope
        The station's id, or :data:`CENTRE`.

    Returns
    -------
    Ledger
        Per-station totals and their sum, hours by programme and month, coverage by week,
        volunteers (with award candidates), beneficiaries and the year's sessions.
    """
    station_ids = [s.id for s in stations]
    start, end = year_bounds(year)
    rows = _sessions(session, station_ids, start, end)
    volunteers = _volunteers(session, station_ids, rows, start, thresholds)
    names = {v.id: v.name for v in volunteers}
    missing = {s.volunteer_id for s in rows} - names.keys()
    if missing:  # a volunteer who left for another station since: named all the same
        for v in session.exec(select(Volunteer).where(col(Volunteer.id).in_(sorted(missing)))):
            names[v.id] = v.name or v.id
    for s in rows:
        s.volunteer_name = names.get(s.volunteer_id, s.volunteer_id)
    by_station: dict[str, list[LedgerSession]] = defaultdict(list)
    for s in rows:
        by_station[s.station_id].append(s)
    return Ledger(
        year=year,
        scope=scope,
        stations=[_tally(st.name, st.id, by_station.get(st.id, [])) for st in stations],
        total=_tally("合计", None, rows),
        hours_by_programme=_by_programme(rows),
        coverage=_coverage(session, station_ids, year),
        volunteers=volunteers,
        beneficiaries=_beneficiaries(session, station_ids, rows),
        sessions=rows,
    )
