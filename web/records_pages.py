"""服务记录: record how last week's sessions went, and each volunteer's hours and star level.

``/s/<station>/records?week=`` lists every session of the week's newest finished plan (one
row per slot of an assignment: day, period, volunteer, beneficiary, service, planned hours)
with a form per row: served with its hours (the planned hours by default), 未到 (no-show)
or 已取消 (cancelled).  A post records it through :func:`api.services.records.create_record`,
the function the API's ``POST /v1/records`` calls (the same checks: the plan's week, the
week's hours cap, the station's volunteers).  A recorded session shows its record; records
cannot be changed (the API has no correction either).

``/s/<station>/volunteers/<id>`` shows a volunteer's cumulative hours (hours before Linli
plus served records), star level (一星 … 五星, and ★) and recorded sessions.

Both are behind login and scoped to the station like every page of :mod:`web.views`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field, ValidationError
from sqlmodel import col, select

from api.deps import MAX_ID, SessionDep
from api.models import PlanAssignment, PlanVersion, RecordCreate, RecordPublic, ServiceRecord, Station
from api.services import records, versions
from api.settings import get_settings
from api.stars import recorded_hours, summarize
from matcher.format.schema import DAYS, PERIODS
from web import labels
from web.i18n import N_, Gettext
from web.views import CsrfForm, Page, PageError, Week, _week_links, check_csrf, page, week_of

router = APIRouter(include_in_schema=False)

NOT_HERE = N_("This page does not exist, or belongs to another station.")

OUTCOMES: dict[str, str] = {
    "served": N_("Served"),
    "no_show": N_("No-show"),
    "cancelled": N_("Cancelled"),
}
"""The outcomes of a session (服务 / 未到 / 已取消)."""

STARS: tuple[str, ...] = (
    N_("No star yet"),
    N_("One star"),
    N_("Two stars"),
    N_("Three stars"),
    N_("Four stars"),
    N_("Five stars"),
)
"""Star levels by number (暂无星级, 一星 … 五星)."""


def last_monday(today: dt.date | None = None) -> dt.date:
    """The Monday of last week (records are kept for the week that has passed)."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday() + 7)


def records_week(text: str | None) -> dt.date:
    """The Monday of the week holding ``text``; last week's when absent."""
    return week_of(text) if text else last_monday()


class RecordForm(CsrfForm):
    """One session's outcome: served with hours, no-show or cancelled.

    Every field is text with a default, read once the session and its CSRF token are
    checked: a post without a session goes to the login page, whatever it holds.
    """

    assignment_id: str = Field(default="", max_length=20)
    served_on: str = Field(default="", max_length=20)
    outcome: str = Field(default="served", max_length=20)
    hours: str = Field(default="", max_length=20)
    week: str = Field(default="", max_length=20)


def _not_here() -> PageError:
    return PageError(404, NOT_HERE)


def _sessions(
    p: Page, station: Station, version: PlanVersion, done: list[RecordPublic]
) -> list[dict[str, Any]]:
    """One row per session (slot) of the version's assignments, by day and period, with its record."""
    names = versions.people_names(p.db, station)
    needs = {n["id"]: n for n in version.problem["needs"]}
    assignments = p.db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == version.id)).all()
    by_key: dict[tuple[int, dt.date], list[RecordPublic]] = defaultdict(list)
    for r in done:
        by_key[(r.assignment_id, r.served_on)].append(r)
    rows = []
    for a in assignments:
        n = needs[a.need_id]
        for slot in a.slots:
            day, _sep, period = slot.partition("-")
            rows.append(
                {
                    "assignment_id": a.id,
                    "key": (DAYS.index(day), PERIODS.index(period)),
                    "date": version.week_start + dt.timedelta(days=DAYS.index(day)),
                    "day": labels.label(labels.DAYS, day, p._),
                    "period": labels.label(labels.PERIODS, period, p._),
                    "volunteer_id": a.volunteer_id,
                    "volunteer": names.volunteers.get(a.volunteer_id, a.volunteer_id),
                    "beneficiary": names.beneficiaries.get(n["beneficiary"], n["beneficiary"]),
                    "service": labels.label(labels.SERVICES, n["service"], p._),
                    "hours": float(n["hours"]),
                    "record": None,
                }
            )
    rows.sort(key=lambda r: (r["key"], r["volunteer"], r["assignment_id"]))
    for row in rows:  # a day's records go to that day's sessions of the assignment, in order
        taken = by_key.get((row["assignment_id"], row["date"]))
        if taken:
            row["record"] = taken.pop(0)
    return rows


@router.get("/s/{station_id}/records")
def records_page(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """服务记录: the week's sessions, each with a form (or its record once recorded)."""
    p = page(request, db)
    station = p.station(station_id)
    monday = records_week(week)
    shown, pending = versions.week_versions(db, station, monday)
    rows: list[dict[str, Any]] = []
    if shown is not None and shown.id is not None:
        rows = _sessions(p, station, shown, records.list_records(db, p.principal, plan_ids=[shown.id]))
    return p.render(
        "records.html",
        station=station,
        shown=shown,
        pending=pending,
        rows=rows,
        outcomes=OUTCOMES,
        recorded=sum(1 for r in rows if r["record"] is not None),
        tab="records",
        **_week_links(monday),
    )


def _assignment_id(form: RecordForm) -> int:
    try:
        value = int(form.assignment_id)
    except ValueError:
        raise _not_here() from None
    if not 1 <= value <= MAX_ID:
        raise _not_here()
    return value


def _body(assignment_id: int, form: RecordForm) -> RecordCreate:
    """The API's request from the form (pydantic's ValidationError names a bad field)."""
    hours: float | None = None
    if form.outcome == "served":
        try:
            hours = float(form.hours)
        except ValueError:
            hours = -1.0  # refused by RecordCreate's bounds, naming hours
    return RecordCreate.model_validate(
        {"assignment_id": assignment_id, "served_on": form.served_on, "hours": hours, "outcome": form.outcome}
    )


def _unrecordable(p: Page, assignment: PlanAssignment, served_on: str) -> str | None:
    """Why the page will not record this day of the assignment (no session then, or every
    session of the day recorded already: a second click, or another coordinator was first),
    or None.  A day that is not a date is left to the service's checks (422 naming it)."""
    try:
        day = dt.date.fromisoformat(served_on)
    except ValueError:
        return None
    sessions = sum(1 for slot in assignment.slots if slot.partition("-")[0] == DAYS[day.weekday()])
    if sessions == 0:
        return N_("This volunteer has no session of this need on that day.")
    done = p.db.exec(
        select(ServiceRecord.id).where(
            ServiceRecord.assignment_id == assignment.id, ServiceRecord.served_on == day
        )
    ).all()
    if len(done) >= sessions:
        return N_("This session is recorded already. Reload the page to see its record.")
    return None


@router.post("/s/{station_id}/records")
def record_session(
    request: Request, db: SessionDep, station_id: str, form: Annotated[RecordForm, Form()]
) -> Response:
    """Record one session's outcome (through the API's service), then back to the table."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    assignment_id = _assignment_id(form)
    assignment = db.get(PlanAssignment, assignment_id)
    plan = db.get(PlanVersion, assignment.plan_id) if assignment is not None else None
    if plan is None or plan.station_id != station.id:
        raise _not_here()
    assert assignment is not None
    unrecordable = _unrecordable(p, assignment, form.served_on)
    if unrecordable is not None:
        return p.render("error.html", status_code=409, station=station, message=unrecordable)
    try:
        done = records.create_record(db, p.principal, _body(assignment_id, form))
    except (HTTPException, ValidationError) as exc:
        db.rollback()
        if isinstance(exc, HTTPException):
            code, detail = exc.status_code, str(exc.detail)
        else:
            code = status.HTTP_422_UNPROCESSABLE_CONTENT
            first = exc.errors()[0]
            detail = f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}"
        return p.render(
            "error.html",
            status_code=code,
            station=station,
            message=N_("The session could not be recorded."),
            detail=detail,
        )
    week = plan.week_start.isoformat()
    return RedirectResponse(
        f"/s/{station.id}/records?week={week}#a{assignment_id}-{done.served_on.isoformat()}",
        status.HTTP_303_SEE_OTHER,
    )


def star_name(stars: int, _: Gettext) -> str:
    """一星 … 五星 (暂无星级 for none)."""
    return _(STARS[max(0, min(stars, len(STARS) - 1))])


@router.get("/s/{station_id}/volunteers/{volunteer_id}")
def volunteer_page(request: Request, db: SessionDep, station_id: str, volunteer_id: str) -> HTMLResponse:
    """A volunteer's cumulative hours, star level and recorded sessions."""
    p = page(request, db)
    station = p.station(station_id)
    try:
        volunteer = records.volunteer_in_scope(db, p.principal, volunteer_id)
    except HTTPException:
        raise _not_here() from None
    if volunteer.station_id != station.id:
        raise _not_here()
    thresholds = get_settings().star_hours
    summary = summarize(volunteer, recorded_hours(db, [volunteer.id])[volunteer.id], thresholds)
    done = records.list_records(db, p.principal, volunteer_id=volunteer.id)
    plans = {
        v.id: v
        for v in db.exec(
            select(PlanVersion).where(col(PlanVersion.id).in_(sorted({r.plan_id for r in done})))
        )
    }
    names = versions.people_names(db, station)
    rows = []
    for r in reversed(done):  # newest first
        plan = plans.get(r.plan_id)
        need = next((n for n in plan.problem["needs"] if n["id"] == r.need_id), None) if plan else None
        ben = need["beneficiary"] if need else ""
        rows.append(
            {
                "record": r,
                "day": labels.label(labels.DAYS, DAYS[r.served_on.weekday()], p._),
                "beneficiary": names.beneficiaries.get(ben, ben),
                "service": labels.label(labels.SERVICES, need["service"], p._) if need else "",
            }
        )
    return p.render(
        "records_volunteer.html",
        station=station,
        volunteer=volunteer,
        summary=summary,
        star_name=star_name(summary.stars, p._),
        max_stars=len(thresholds),
        rows=rows,
        outcomes=OUTCOMES,
        tab="records",
        week=None,
    )
