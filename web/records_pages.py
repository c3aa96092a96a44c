"""服务记录 (the 台账): record how last week's sessions went, correct a record, and each volunteer's
hours, star level and reliability.

``/s/<station>/records?week=`` lists every session of the week's newest finished plan (one
row per slot of an assignment: day, period, volunteer, beneficiary, service, planned hours)
with a form per row: 已服务 with its hours (the planned hours by default), a rating and a
note; 未到 (no-show); 志愿者取消 or 服务对象取消.  A post records it through
:func:`api.services.records.create_record`, the function the API's ``POST /v1/records``
calls (the same checks: the plan's week, the session, the day's hours, the station's
volunteers).  A recorded session shows its record (recorded against any version of the
week: a session is recorded once) and a 更正 form: the same fields and a reason, posted as
a correction, which keeps the old record, superseded.

``/s/<station>/volunteers/<id>`` shows a volunteer's cumulative hours (hours before Linli
plus current served records), star level (一星 … 五星, and ★), reliability over the last
weeks (:func:`api.services.records.reliability`) and recorded sessions, with a form (from, to)
for its 志愿服务证明: ``/s/<station>/volunteers/<id>/certificate.pdf?from=&to=`` answers the PDF
(:mod:`api.services.certificates`, as the API's ``GET /v1/volunteers/{id}/certificate.pdf``).

Both are behind login and scoped to the station like every page of :mod:`web.views`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field, ValidationError
from sqlmodel import col, select

from api import tables
from api.deps import MAX_ID, SessionDep
from api.models import PlanAssignment, PlanVersion, RecordCreate, RecordPublic, Station, Volunteer
from api.pdf import certificate_pdf
from api.services import certificates, ledger, ledger_book, planning, records, versions
from api.services.records import RecordFilter
from api.settings import get_settings
from api.stars import recorded_hours, summarize
from api.tables import content_disposition
from matcher.format.bounds import RATING_MAX, RATING_MIN
from matcher.format.errors import InputError
from matcher.format.schema import DAYS, PERIODS
from web import labels
from web.i18n import N_, Gettext
from web.views import CsrfForm, Page, PageError, Week, _week_links, check_csrf, page, week_of

router = APIRouter(include_in_schema=False)

NOT_HERE = N_("This page does not exist, or belongs to another station.")

OUTCOMES: dict[str, str] = {
    "served": N_("Served"),
    "no_show": N_("No-show"),
    "cancelled_by_volunteer": N_("Cancelled by the volunteer"),
    "cancelled_by_beneficiary": N_("Cancelled by the beneficiary"),
}
"""The outcomes of a session (已服务 / 未到 / 志愿者取消 / 服务对象取消)."""

RELIABILITY_WEEKS = 4
"""Weeks of history the volunteer's page shows."""

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
    """One session's outcome (served with hours, rating and note; no-show; cancelled by either
    side), or its correction (``correct`` set, with a reason).

    Every field is text with a default, read once the session and its CSRF token are
    checked: a post without a session goes to the login page, whatever it holds.  The
    lengths are generous; :class:`~api.models.RecordCreate` holds the real bounds.
    """

    assignment_id: str = Field(default="", max_length=20)
    served_on: str = Field(default="", max_length=20)
    slot: str = Field(default="", max_length=80)
    outcome: str = Field(default="served", max_length=40)
    hours: str = Field(default="", max_length=20)
    rating: str = Field(default="", max_length=20)
    note: str = Field(default="", max_length=2000)
    correct: str = Field(default="", max_length=10)
    reason: str = Field(default="", max_length=2000)
    week: str = Field(default="", max_length=20)


def _not_here() -> PageError:
    return PageError(404, NOT_HERE)


def _sessions(
    p: Page, station: Station, version: PlanVersion, done: list[RecordPublic]
) -> list[dict[str, Any]]:
    """One row per session (slot) of the version's assignments, by day and period, with its
    current record (made against any version of the week: the session is the volunteer's slot
    of the need on that day)."""
    names = versions.people_names(p.db, station)
    needs = {n["id"]: n for n in version.problem["needs"]}
    # By the need's stem: a session recorded against ``n`` shows on a swap's ``n+rest`` row too.
    by_session = {(records.need_stem(r.need_id), r.volunteer_id, r.served_on, r.slot): r for r in done}
    rows = []
    for a in versions.assignment_rows(p.db, version):
        n = needs[a.need_id]
        for day, slot in planning.sessions_of(version.week_start, a.slots):
            period = slot.partition("-")[2]
            rows.append(
                {
                    "assignment_id": a.id,
                    "key": (day, PERIODS.index(period) if period in PERIODS else len(PERIODS)),
                    "date": day,
                    "slot": slot,
                    "day": labels.label(labels.DAYS, DAYS[day.weekday()], p._),
                    "period": labels.label(labels.PERIODS, period, p._),
                    "volunteer_id": a.volunteer_id,
                    "volunteer": names.volunteers.get(a.volunteer_id, a.volunteer_id),
                    "beneficiary": _place_name(version, n, names),
                    "service": labels.label(labels.SERVICES, n["service"], p._),
                    "hours": float(n["hours"]),
                    "record": by_session.get((records.need_stem(a.need_id), a.volunteer_id, day, slot)),
                }
            )
    rows.sort(key=lambda r: (r["key"], r["volunteer"], r["assignment_id"]))
    return rows


def _place_name(version: PlanVersion, need: dict[str, Any], names: versions.Names) -> str:
    """Whom (or where) a stored need serves, by name: its beneficiary, or a group post's site."""
    place = planning.place_of(need)
    sites = {x["id"]: x["name"] for x in version.problem.get("sites", [])}
    return sites.get(place) or names.beneficiaries.get(place, place)


@router.get("/s/{station_id}/records")
def records_page(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """服务记录: the week's sessions, each with a form (or its record once recorded)."""
    p = page(request, db)
    station = p.station(station_id)
    monday = records_week(week)
    shown, pending = versions.week_versions(db, station, monday)
    rows: list[dict[str, Any]] = []
    if shown is not None and shown.id is not None:
        week_records = RecordFilter(station_id=station.id, start=monday, end=monday + dt.timedelta(days=6))
        rows = _sessions(p, station, shown, records.list_records(db, p.principal, week_records).items)
    return p.render(
        "records.html",
        station=station,
        shown=shown,
        pending=pending,
        rows=rows,
        outcomes=OUTCOMES,
        ratings=range(RATING_MIN, RATING_MAX + 1),
        recorded=sum(1 for r in rows if r["record"] is not None),
        tab="records",
        **_week_links(monday),
    )


@router.get("/s/{station_id}/ledger.xlsx")
def ledger_xlsx(
    request: Request,
    db: SessionDep,
    station_id: str,
    year: Annotated[
        str | None, Query(description="The calendar year (default: the records' week's).")
    ] = None,
) -> Response:
    """下载年度台账: the station's year ledger workbook, as ``GET /v1/stations/{id}/ledger.xlsx``."""
    p = page(request, db)
    station = p.station(station_id)
    try:
        chosen = int(year) if year else last_monday().year
    except ValueError:
        chosen = 0
    if not ledger.YEAR_MIN <= chosen <= ledger.YEAR_MAX:
        raise PageError(422, N_("The year must be between 2000 and 2099."))
    book = ledger.build_ledger(db, [station], chosen, get_settings().star_hours, station.id)
    return Response(
        ledger_book.workbook(book),
        media_type=tables.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": tables.content_disposition(ledger_book.filename(book))},
    )


def _assignment_id(form: RecordForm) -> int:
    try:
        value = int(form.assignment_id)
    except ValueError:
        raise _not_here() from None
    if not 1 <= value <= MAX_ID:
        raise _not_here()
    return value


def _number(text: str, bad: float) -> float | None:
    """A form's number, None when empty, ``bad`` (refused by the model's bounds) when not a number."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return bad


def _body(assignment_id: int, form: RecordForm) -> RecordCreate:
    """The API's request from the form (pydantic's ValidationError names a bad field).

    A served session's hours are required (empty is refused, naming hours); the other
    outcomes' hours and rating fields are not read (the form keeps them while hidden).
    """
    served = form.outcome == "served"
    hours = _number(form.hours, -1.0) if served else None
    if served and hours is None:
        hours = -1.0
    rating = _number(form.rating, -1.0) if served else None
    data: dict[str, Any] = {
        "assignment_id": assignment_id,
        "served_on": form.served_on,
        "slot": form.slot or None,
        "outcome": form.outcome,
        "hours": hours,
        "rating": int(rating) if rating is not None and rating.is_integer() else rating,
        "note": form.note.strip() or None,
    }
    if form.correct:
        data["correction"] = {"reason": form.reason}
    return RecordCreate.model_validate(data)


def _recorded_already(p: Page, assignment: PlanAssignment, plan: PlanVersion, form: RecordForm) -> bool:
    """Whether the session the form names has a record already (a second click, or another
    coordinator was first); a form that names no session is left to the service's checks."""
    try:
        day = dt.date.fromisoformat(form.served_on)
    except ValueError:
        return False
    if form.slot not in assignment.slots:
        return False
    return records.session_record(p.db, assignment, plan, day, form.slot) is not None


@router.post("/s/{station_id}/records")
def record_session(
    request: Request, db: SessionDep, station_id: str, form: Annotated[RecordForm, Form()]
) -> Response:
    """Record one session's outcome, or correct its record (through the API's service), then back
    to the table."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    assignment_id = _assignment_id(form)
    assignment = db.get(PlanAssignment, assignment_id)
    plan = db.get(PlanVersion, assignment.plan_id) if assignment is not None else None
    if plan is None or plan.station_id != station.id:
        raise _not_here()
    assert assignment is not None
    if not form.correct and _recorded_already(p, assignment, plan, form):
        message = N_("This session is recorded already. Reload the page to see its record, or correct it.")
        return p.render("error.html", status_code=409, station=station, message=message)
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
            message=N_("The record could not be corrected.")
            if form.correct
            else N_("The session could not be recorded."),
            detail=detail,
        )
    week = plan.week_start.isoformat()
    return RedirectResponse(
        f"/s/{station.id}/records?week={week}#a{assignment_id}-{done.served_on.isoformat()}-{done.slot}",
        status.HTTP_303_SEE_OTHER,
    )


def star_name(stars: int, _: Gettext) -> str:
    """一星 … 五星 (暂无星级 for none)."""
    return _(STARS[max(0, min(stars, len(STARS) - 1))])


def _volunteer(p: Page, station_id: str, volunteer_id: str) -> tuple[Station, Volunteer]:
    """The station and its volunteer, in the caller's scope; the not-found page otherwise."""
    station = p.station(station_id)
    try:
        volunteer = records.volunteer_in_scope(p.db, p.principal, volunteer_id)
    except HTTPException:
        raise _not_here() from None
    if volunteer.station_id != station.id:
        raise _not_here()
    return station, volunteer


@router.get("/s/{station_id}/volunteers/{volunteer_id}")
def volunteer_page(request: Request, db: SessionDep, station_id: str, volunteer_id: str) -> HTMLResponse:
    """A volunteer's cumulative hours, star level, reliability and recorded sessions."""
    p = page(request, db)
    station, volunteer = _volunteer(p, station_id, volunteer_id)
    thresholds = get_settings().star_hours
    summary = summarize(volunteer, recorded_hours(db, [volunteer.id])[volunteer.id], thresholds)
    done = records.list_records(db, p.principal, RecordFilter(volunteer_id=volunteer.id)).items
    history = records.reliability(db, [volunteer], dt.date.today(), RELIABILITY_WEEKS)[volunteer.id]
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
        rows.append(
            {
                "record": r,
                "day": labels.label(labels.DAYS, DAYS[r.served_on.weekday()], p._),
                "beneficiary": _place_name(plan, need, names) if plan and need else "",
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
        period=certificates.default_period(None, None, dt.date.today()),
        rows=rows,
        outcomes=OUTCOMES,
        history=history,
        tab="records",
        week=None,
    )


PeriodDay = Annotated[str, Query(max_length=20)]


@router.get("/s/{station_id}/volunteers/{volunteer_id}/certificate.pdf")
def volunteer_certificate(
    request: Request,
    db: SessionDep,
    station_id: str,
    volunteer_id: str,
    start: Annotated[PeriodDay, Query(alias="from")] = "",
    end: Annotated[PeriodDay, Query(alias="to")] = "",
) -> Response:
    """开具志愿服务证明: the volunteer's certificate of ``from`` .. ``to`` as a PDF (a Chinese
    document whatever the page's language), issued through :func:`api.services.certificates.issue`,
    the API's function; a missing end takes the API's default (1 January .. today)."""
    p = page(request, db)
    station, volunteer = _volunteer(p, station_id, volunteer_id)
    try:
        first = certificates.parse_day("from", start) if start.strip() else None
        last = certificates.parse_day("to", end) if end.strip() else None
        first, last = certificates.default_period(first, last, dt.date.today())
        if first > last:
            raise InputError(f"from: {first} is after to ({last})")
    except InputError as exc:
        return p.render(
            "error.html",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            station=station,
            message=N_("The certificate's period is not valid: the first day may not be after the last."),
            detail=exc.message,
        )
    data = certificates.issue(db, volunteer, first, last, p.principal.token_id, get_settings().star_hours)
    return Response(
        certificate_pdf(data),
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(f"certificate-{volunteer.id}-{first}-{last}.pdf")
        },
    )
