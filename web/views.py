"""The coordinators' pages: login, week overview, week grid (print, Excel), generate, unmet needs
(服务记录 and the volunteer's page are :mod:`web.records_pages`, included by :func:`install`).

Every page is behind login (:func:`page`): without a session it redirects to ``/login``.
A station's session sees its station only; anything of another station is 404, as in
the API.  Every form post carries the session's CSRF token (:func:`check_csrf`) or is
refused 403.  Data come from the service layer (:mod:`api.services.versions`), the same
functions the API's routes call (plans are generated and cancelled there, not over HTTP),
with every station and plan id resolved in the caller's scope first (:mod:`api.deps`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import inspect
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api import tables
from api.audit import Actor, current_actor, set_session_actor
from api.auth import LAST_USED_RESOLUTION, Principal, authenticate
from api.deps import MAX_ID, SessionDep, job_runner, plan_in_scope, station_in_scope
from api.models import PlanRequest, PlanVersion, Simulation, Station, Token, utcnow
from api.services import plan_posts, versions
from api.services.errors import ConflictError
from matcher.format.errors import InputError
from matcher.format.schema import DAYS, DEFAULT_SLOTS, PERIODS, SERVICE_CODES
from web import labels, session
from web.i18n import LANGUAGE_NAMES, LANGUAGES, N_, Gettext, negotiate, translator

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def seconds_text(value: float) -> str:
    """A job's running time as the panels show it: tenths below ten seconds (a plan proved in
    0.4 s reads "0.4", not "0"), whole seconds above."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


env.filters["seconds"] = seconds_text


class PageError(Exception):
    """A page that cannot be shown: a redirect (to login) or an error page in the user's language."""

    def __init__(self, status_code: int, message: str = "", location: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.location = location


def install(app: FastAPI) -> None:
    """Serve the web app on ``app``: its pages at ``/`` and its files at ``/static``.

    A request a page's parameters refuse (an unknown query parameter, a value of the wrong
    type) gets the error page in the user's language; under :data:`API_PATHS` it keeps the
    API's JSON answer (the handler ``app`` had).
    """
    # The page modules import this one: imported here, not at the top, to avoid a cycle.
    from web import (
        calendar_pages,
        changes_pages,
        delivery_pages,
        people_pages,
        publish_pages,
        records_pages,
        scenario_pages,
        sites_pages,
        standins_pages,
    )

    app.include_router(router)
    app.include_router(people_pages.router)
    app.include_router(sites_pages.router)
    app.include_router(calendar_pages.router)
    app.include_router(records_pages.router)
    app.include_router(changes_pages.router)
    app.include_router(scenario_pages.router)
    app.include_router(delivery_pages.router)
    app.include_router(publish_pages.router)
    app.include_router(standins_pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        if exc.location is not None:
            if request.headers.get("HX-Request"):
                return Response(status_code=204, headers={"HX-Redirect": exc.location})
            return RedirectResponse(exc.location, status.HTTP_303_SEE_OTHER)
        lang = language(request)
        return render(
            request,
            "error.html",
            {"_": translator(lang), "lang": lang, "message": exc.message, "user": None},
            exc.status_code,
        )

    api_invalid = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_api_path(request.url.path) and api_invalid is not None:
            answer = api_invalid(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        errors = list(exc.errors())
        if any(e.get("loc", ("",))[0] == "path" for e in errors):  # /plans/abc names no page
            return await _page_error(request, PageError(404, NOT_FOUND))
        first = errors[0] if errors else {}
        loc = [str(x) for x in first.get("loc", ())[1:]]
        lang = language(request)
        return render(
            request,
            "error.html",
            {
                "_": translator(lang),
                "lang": lang,
                "message": N_("This address asks for something this page does not take. Check the link."),
                "detail": f"{'.'.join(loc)}: {first.get('msg', '')}" if loc else "",
                "user": None,
            },
            status.HTTP_422_UNPROCESSABLE_CONTENT,
        )


API_PATHS = ("/v1", "/docs", "/redoc", "/openapi.json", "/static", "/static-offline-docs")
"""Paths that answer as the API does (JSON errors), not with the error page."""

NOT_FOUND = N_("This page does not exist, or belongs to another station.")


def is_api_path(path: str) -> bool:
    """Whether ``path`` is the API's (or its docs' or files'), not a page."""
    return any(path == p or path.startswith(p + "/") for p in API_PATHS)


def language(request: Request) -> str:
    """The page language (switch cookie, ``Accept-Language``, else Chinese)."""
    return negotiate(request.cookies.get(session.LANG_COOKIE), request.headers.get("accept-language"))


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A template rendered with the page's context."""
    lang = context["lang"]
    other = next(code for code in LANGUAGES if code != lang)
    html = env.get_template(name).render(
        request=request,
        html_lang=LANGUAGES[lang],
        other_lang=other,
        other_lang_tag=LANGUAGES[other],
        other_lang_name=LANGUAGE_NAMES[other],
        path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store", "Vary": "Cookie"})


@dataclass
class Page:
    """A logged-in request: the caller, their session, the page language."""

    request: Request
    db: Session
    principal: Principal
    data: dict[str, Any]
    lang: str
    _: Gettext

    def context(self, **more: Any) -> dict[str, Any]:
        return {
            "_": self._,
            "lang": self.lang,
            "csrf": self.data.get("csrf", ""),
            "user": self.principal,
            "L": labels,
            **more,
        }

    def render(self, name: str, **more: Any) -> HTMLResponse:
        code: int = more.pop("status_code", 200)
        return render(self.request, name, self.context(**more), code)

    def station(self, station_id: str) -> Station:
        try:
            return station_in_scope(self.db, self.principal, station_id)
        except HTTPException:
            raise PageError(404, N_("This page does not exist, or belongs to another station.")) from None

    def plan(self, plan_id: int) -> PlanVersion:
        try:
            plan = plan_in_scope(self.db, self.principal, plan_id)
        except HTTPException:
            plan = None
        if plan is None or plan.station_id is None:
            raise PageError(404, N_("This page does not exist, or belongs to another station."))
        return plan


def principal_of(db: Session, data: dict[str, Any]) -> Principal | None:
    """The session's caller, if its token still exists and is not revoked."""
    token_id, token_digest = data.get("tid"), data.get("dg")
    if not isinstance(token_id, int) or not isinstance(token_digest, str):
        return None
    token = db.get(Token, token_id)
    if token is None or token.revoked_at is not None or token.id is None:
        return None
    if not hmac.compare_digest(token.digest, token_digest):
        return None
    now, last = utcnow(), token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=dt.UTC)
    if last is None or now - last >= LAST_USED_RESOLUTION:  # `linli token list` shows the session's use
        token.last_used_at = now
        db.add(token)
        db.commit()
    # The page's writes (this session's, and those of sessions this request opens) are the token's.
    actor = Actor("web", token.id, token.label)
    set_session_actor(db, actor)
    current_actor.set(actor)
    return Principal(token.id, token.station_id, token.label)


def page(request: Request, db: Session) -> Page:
    """The logged-in caller, or a redirect to the login page."""
    data = session.load(request)
    principal = principal_of(db, data)
    if principal is None:
        raise PageError(303, location="/login")
    lang = language(request)
    return Page(request, db, principal, data, lang, translator(lang))


def check_csrf(request: Request, data: dict[str, Any], sent: str | None) -> None:
    """Refuse (403) a post without the session's CSRF token (form field or ``X-CSRF-Token``)."""
    if not session.csrf_ok(data, sent or request.headers.get(session.CSRF_HEADER)):
        raise PageError(
            403, N_("The form expired or did not come from this site. Reload the page and try again.")
        )


class CsrfForm(BaseModel):
    """A form that only carries the CSRF token (logout, cancel)."""

    model_config = ConfigDict(extra="forbid")

    csrf_token: str | None = Field(default=None, max_length=200)


class LoginForm(CsrfForm):
    """The login form: a pasted token."""

    token: str = Field(default="", max_length=200)


class GenerateForm(CsrfForm):
    """生成排班: the week to plan."""

    week: str = Field(default="", max_length=20)


# ------------------------------------------------------------------------ weeks


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after today (a week is planned ahead)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def week_of(text: str | None) -> dt.date:
    """The Monday of the week holding ``text`` (an ISO date); next Monday when absent or not a date."""
    try:
        day = dt.date.fromisoformat(text) if text else next_monday()
    except ValueError:
        day = next_monday()
    day = min(max(day, dt.date(2000, 1, 3)), dt.date(2099, 12, 28))
    return day - dt.timedelta(days=day.weekday())


Week = Annotated[str | None, Query(description="A date in the week (ISO).")]


# ------------------------------------------------------------------------ login, language


@router.get("/login")
def login_form(request: Request, db: SessionDep) -> Response:
    """Paste a token to log in."""
    data = session.load(request)
    if principal_of(db, data) is not None:
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    lang = language(request)
    if "csrf" not in data:
        data = {"csrf": session.new_csrf()}
    response = render(
        request, "login.html", {"_": translator(lang), "lang": lang, "csrf": data["csrf"], "user": None}
    )
    session.save(request, response, data)
    return response


@router.post("/login")
def login(request: Request, db: SessionDep, form: Annotated[LoginForm, Form()]) -> Response:
    """Check the token; a session for its station (or the centre) on success."""
    data = session.load(request)
    check_csrf(request, data, form.csrf_token)
    principal = authenticate(db, form.token.strip())
    if principal is None:
        lang = language(request)
        return render(
            request,
            "login.html",
            {
                "_": translator(lang),
                "lang": lang,
                "csrf": data["csrf"],
                "user": None,
                "error": N_("This token is not valid (mistyped, or revoked). Ask the centre for a new one."),
            },
            status.HTTP_401_UNAUTHORIZED,
        )
    stored = db.get(Token, principal.token_id)
    assert stored is not None
    response = RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    session.save(request, response, {"tid": stored.id, "dg": stored.digest, "csrf": session.new_csrf()})
    return response


@router.post("/logout")
def logout(request: Request, form: Annotated[CsrfForm, Form()]) -> Response:
    """End the session."""
    check_csrf(request, session.load(request), form.csrf_token)
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    session.clear(response)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    """Switch the page language (a cookie for a year) and go back to the page."""
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    if code in LANGUAGES:
        response.set_cookie(session.LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# ------------------------------------------------------------------------ stations


@router.get("/")
def home(request: Request, db: SessionDep) -> Response:
    """A station's overview; the centre first chooses a station."""
    p = page(request, db)
    if p.principal.station_id is not None:
        return RedirectResponse(f"/s/{p.principal.station_id}/", status.HTTP_303_SEE_OTHER)
    return RedirectResponse("/stations", status.HTTP_303_SEE_OTHER)


@router.get("/stations")
def stations(request: Request, db: SessionDep) -> Response:
    """The centre's list of stations (a station's token goes straight to its own)."""
    p = page(request, db)
    if p.principal.station_id is not None:
        return RedirectResponse(f"/s/{p.principal.station_id}/", status.HTTP_303_SEE_OTHER)
    rows = versions.visible_stations(db, p.principal)
    return p.render("stations.html", stations=rows)


def _week_links(week: dt.date) -> dict[str, Any]:
    return {"prev": week - dt.timedelta(days=7), "next": week + dt.timedelta(days=7), "week": week}


@dataclass
class Tally:
    """Needs met and unmet of one category or district."""

    key: str
    label: str
    met: int = 0
    unmet: int = 0

    @property
    def total(self) -> int:
        return self.met + self.unmet

    @property
    def percent(self) -> float:
        return 100.0 * self.met / self.total if self.total else 0.0


def summary(version: PlanVersion, districts: dict[str, str], _: Gettext) -> dict[str, Any]:
    """The overview's figures of a finished version."""
    assert version.plan is not None
    problem, plan = version.problem, version.plan
    where = plan_posts.places(problem)
    # A post's full value counts each volunteer it asks for (format 2); a one-person need, once.
    demand = sum(
        where[n["id"]].priority * n["hours"] * n["sessions"] * plan_posts.bounds(n)[1]
        for n in problem["needs"]
    )
    coverage = float(plan["objective"]["coverage"])
    bound = float(plan["objective"]["coverage_bound"])
    met = {a["need"] for a in plan["assignments"]}
    by_category = {c: Tally(c, labels.label(labels.CATEGORIES, c, _)) for c in labels.CATEGORIES}
    by_district: dict[str, Tally] = {}
    for n in problem["needs"]:
        b = where[n["id"]]
        tallies = [
            by_district.setdefault(b.district, Tally(b.district, districts.get(b.district, b.district))),
        ]
        if not b.at_site:  # a site belongs to no programme (敬老, 爱幼 …)
            tallies.append(by_category.setdefault(b.category, Tally(b.category, b.category)))
        for t in tallies:
            if n["id"] in met:
                t.met += 1
            else:
                t.unmet += 1
    return {
        "coverage_percent": 100.0 * coverage / demand if demand else 100.0,
        "optimal": plan["status"] == "optimal",
        "gap_percent": 100.0 * (bound - coverage) / bound if bound > 0 else 0.0,
        "needs_met": len(met),
        "needs_unmet": len(plan["unmet"]),
        "by_category": list(by_category.values()),
        "by_district": sorted(by_district.values(), key=lambda t: t.label),
        "solve_seconds": plan.get("solve_seconds", 0),
    }


@router.get("/s/{station_id}/")
def overview(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """本周概览: the week's coverage, proved optimal or its gap, needs met by category and district."""
    p = page(request, db)
    station = p.station(station_id)
    monday = week_of(week)
    shown, pending = versions.week_versions(db, station, monday)
    districts = versions.people_names(db, station).districts
    return p.render(
        "overview.html",
        station=station,
        shown=shown,
        pending=pending,
        figures=summary(shown, districts, p._) if shown is not None else None,
        tab="overview",
        **_week_links(monday),
    )


# ------------------------------------------------------------------------ the week grid


@dataclass
class Standby:
    """A stand-in (备选志愿者) as the grid shows them: who, and why they rank where they do."""

    volunteer: str
    name: str
    reasons: list[str]


@dataclass
class Cell:
    """One session of the grid: whom, what; on the week's current plan, its assignment and stand-ins."""

    beneficiary: str
    service: str
    category: str
    assignment: int | None = None
    slot: str = ""
    """The slot a swap from this cell names; ``""`` for a group post's member (swapped for all sessions)."""
    standins: list[Standby] = field(default_factory=list)
    post: plan_posts.PlanPost | None = None
    """The group post (多人岗位) this session is of, with all its members; None for one-person needs."""


Standbys = dict[tuple[str, str, str], tuple[int, list[Standby]]]
"""(need, volunteer, slot) -> the volunteer's assignment row id and the session's stand-ins; a group
post's member under slot ``""``: who could take their place at all its sessions
(:mod:`web.standins_pages`)."""


def grid_rows(
    names: versions.Names,
    version: PlanVersion,
    _: Gettext,
    district: str = "",
    category: str = "",
    skill: str = "",
    standbys: Standbys | None = None,
) -> list[dict[str, Any]]:
    """One row per volunteer with sessions: their cells by slot, filtered (``names``: the station's;
    ``standbys``: each session's stand-ins, on the week's current plan)."""
    assert version.plan is not None and version.station_id is not None
    vol_names, ben_names, district_names = names
    problem = version.problem
    needs = {n["id"]: n for n in problem["needs"]}
    where = plan_posts.places(problem)
    posts = plan_posts.plan_posts(problem, version.plan)
    vols = {v["id"]: v for v in problem["volunteers"]}
    cells: dict[str, dict[str, list[Cell]]] = {}
    for a in version.plan["assignments"]:
        n = needs[a["need"]]
        place = where[n["id"]]
        if category and place.category != category:
            continue
        post = posts.get(n["id"])
        for slot in a["slots"]:
            for volunteer in plan_posts.members(a):
                # A post's member (or a one-person need with a lead) is swapped for all its sessions:
                # their lists are under slot "", every cell of theirs offers it, the swap names no slot.
                listed = standbys or {}
                key = (a["need"], volunteer, slot if (a["need"], volunteer, slot) in listed else "")
                assignment, standins = listed.get(key, (None, []))
                cells.setdefault(volunteer, {}).setdefault(slot, []).append(
                    Cell(
                        place.name if place.at_site else ben_names.get(place.id, place.id),
                        labels.label(labels.SERVICES, n["service"], _),
                        place.category or "post",
                        assignment,
                        key[2],
                        standins,
                        post,
                    )
                )
    rows = []
    for vid in sorted(cells, key=lambda v: (vol_names.get(v, v), v)):
        v = vols.get(vid, {})
        if district and v.get("district") != district:
            continue
        if skill and skill not in v.get("skills", ()):
            continue
        rows.append(
            {
                "id": vid,
                "name": vol_names.get(vid, vid),
                "district": district_names.get(v.get("district", ""), v.get("district", "")),
                "cells": cells[vid],
                "sessions": sum(len(c) for c in cells[vid].values()),
            }
        )
    return rows


def grid_posts(
    names: versions.Names, version: PlanVersion, district: str = "", category: str = "", skill: str = ""
) -> list[dict[str, Any]]:
    """The week's group posts (多人岗位), one card each: place, members (id and name), slots, and
    how many more it could take; filtered as the grid is (a post at a site has no category, and
    a district or skill filter keeps a post with at least one member who matches)."""
    assert version.plan is not None
    vols = {v["id"]: v for v in version.problem["volunteers"]}
    cards = []
    for post in plan_posts.plan_posts(version.problem, version.plan).values():
        if category and post.place.category != category:
            continue
        kept = [
            v
            for v in post.volunteers
            if (not district or vols.get(v, {}).get("district") == district)
            and (not skill or skill in vols.get(v, {}).get("skills", ()))
        ]
        if (district or skill) and not kept:
            continue
        place = post.place
        cards.append(
            {
                "post": post,
                "place": place.name if place.at_site else names.beneficiaries.get(place.id, place.id),
                "district": names.districts.get(place.district, place.district),
                "members": [(v, names.volunteers.get(v, v)) for v in post.volunteers],
            }
        )
    return cards


def _slots(_: Gettext) -> list[dict[str, Any]]:
    return [
        {
            "day": labels.label(labels.DAYS, d, _),
            "periods": [(f"{d}-{p}", labels.label(labels.PERIODS, p, _)) for p in PERIODS],
        }
        for d in DAYS
    ]


Filter = Annotated[str, Query(max_length=64)]


@router.get("/s/{station_id}/grid")
def grid(
    request: Request,
    db: SessionDep,
    station_id: str,
    week: Week = None,
    district: Filter = "",
    category: Filter = "",
    skill: Filter = "",
    swapped: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="A swap just made this version.")
    ] = None,
) -> HTMLResponse:
    """排班表: volunteers by day and period, each session with whom and what, and on the week's current
    plan its stand-ins (备选), each with 换人; filters; print; Excel."""
    p = page(request, db)
    station = p.station(station_id)
    monday = week_of(week)
    shown, pending = versions.week_versions(db, station, monday)
    names = versions.people_names(db, station)
    standbys = None
    if shown is not None and pending is None and versions.is_current(db, shown):
        from web.standins_pages import grid_standbys  # the stand-ins' page imports this module

        standbys = grid_standbys(db, shown, names, p._)
    rows = grid_rows(names, shown, p._, district, category, skill, standbys) if shown is not None else []
    posts = grid_posts(names, shown, district, category, skill) if shown is not None else []
    districts = names.districts
    by_slot: dict[str, list[tuple[str, Cell]]] = {}  # the phone's list by day
    for row in rows:
        for slot, cells in row["cells"].items():
            by_slot.setdefault(slot, []).extend((row["name"], c) for c in cells)
    return p.render(
        "grid.html",
        by_slot=by_slot,
        posts=posts,
        station=station,
        shown=shown,
        pending=pending,
        rows=rows,
        days=_slots(p._),
        districts=sorted(districts.items(), key=lambda kv: kv[1]),
        services=sorted(SERVICE_CODES, key=lambda s: list(labels.SERVICES).index(s)),
        filters={"district": district, "category": category, "skill": skill},
        swapped=swapped,
        tab="grid",
        **_week_links(monday),
    )


@router.get("/s/{station_id}/grid.xlsx")
def grid_xlsx(
    request: Request,
    db: SessionDep,
    station_id: str,
    week: Week = None,
    district: Filter = "",
    category: Filter = "",
    skill: Filter = "",
) -> Response:
    """The grid as an Excel workbook (every text cell neutralised by :mod:`api.tables`)."""
    p = page(request, db)
    station = p.station(station_id)
    monday = week_of(week)
    shown, _pending = versions.week_versions(db, station, monday)
    if shown is None:
        raise PageError(404, N_("No finished plan for this week yet."))
    _ = p._
    header = [_("Volunteer"), _("District")] + [labels.slot_label(s, _) for s in DEFAULT_SLOTS]
    cells: list[list[tables.Cell]] = []
    for row in grid_rows(versions.people_names(db, station), shown, _, district, category, skill):
        line: list[tables.Cell] = [row["name"], row["district"]]
        for slot in DEFAULT_SLOTS:
            line.append("\n".join(_cell_text(c, _) for c in row["cells"].get(slot, [])) or None)
        cells.append(line)
    return tables.export(
        "xlsx", header, cells, f"grid-{station.id}-{monday}-v{shown.version}", _("Week grid")
    )


def _cell_text(c: Cell, _: Gettext) -> str:
    """A session in the grid's workbook: whom (or where), what, and a post's volunteers (3/5 人)."""
    text = f"{c.beneficiary} · {c.service}"
    if c.post is not None:
        count = _("%(n)s/%(max)s people") % {"n": len(c.post.volunteers), "max": c.post.maximum}
        text += f" · {count}"
    return text


# ------------------------------------------------------------------------ generate, progress


@router.post("/s/{station_id}/generate")
def generate(
    request: Request,
    db: SessionDep,
    station_id: str,
    form: Annotated[GenerateForm, Form()],
) -> Response:
    """生成排班: the week's plan job, then its progress page."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    monday = week_of(form.week)
    try:
        body = PlanRequest(week_start=monday)
        made = versions.generate(db, job_runner(request), station, body.week_start)
    except (ConflictError, InputError) as exc:
        return p.render(
            "error.html",
            status_code=409,
            message=N_("The plan could not be generated."),
            detail=exc.message,
        )
    return RedirectResponse(f"/plans/{made.id}", status.HTTP_303_SEE_OTHER)


def elapsed_seconds(job: PlanVersion | Simulation) -> float:
    """Seconds a job has run (from its latest start, else its creation), to its end or now."""
    start = job.started_at or job.created_at
    end = job.finished_at or utcnow()
    if start.tzinfo is None:  # SQLite hands back naive UTC
        start = start.replace(tzinfo=dt.UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    return max(0.0, (end - start).total_seconds())


def _progress(plan: PlanVersion) -> dict[str, Any]:
    objective = (plan.plan or {}).get("objective", {})
    report = versions.progress_of(plan)  # the engine's latest report, written by the job about once a second
    return {
        "elapsed": elapsed_seconds(plan),
        "running": plan.state in ("queued", "solving"),
        "coverage": objective.get("coverage"),
        "bound": objective.get("coverage_bound"),
        "report": report,
    }


def _plan_id(plan_id: int) -> int:
    if not 1 <= plan_id <= MAX_ID:
        raise PageError(404, N_("This page does not exist, or belongs to another station."))
    return plan_id


def progress_page(
    p: Page, plan_id: int, tab: str, panel_url: str | None = None, done_url: str | None = None
) -> HTMLResponse:
    """A job's progress page under ``tab``; its panel polls ``panel_url`` (default
    ``/plans/<id>/panel``) and, once done, links to ``done_url`` (default the week's grid)."""
    plan = p.plan(_plan_id(plan_id))
    station = p.station(plan.station_id or "")
    return p.render(
        "progress.html",
        station=station,
        plan=plan,
        progress=_progress(plan),
        tab=tab,
        week=plan.week_start,
        panel_url=panel_url,
        done_url=done_url,
    )


def progress_panel(
    p: Page, plan_id: int, panel_url: str | None = None, done_url: str | None = None
) -> Response:
    """A job's progress panel (HTMX): the panel again while it runs; once done, a redirect to
    ``done_url`` (default the week's grid)."""
    plan = p.plan(_plan_id(plan_id))
    if plan.state == "done":
        target = done_url or f"/s/{plan.station_id}/grid?week={plan.week_start.isoformat()}"
        return Response(status_code=200, headers={"HX-Redirect": target})
    return p.render("panel.html", plan=plan, progress=_progress(plan), panel_url=panel_url, done_url=done_url)


@router.get("/plans/{plan_id}")
def progress(request: Request, db: SessionDep, plan_id: int) -> HTMLResponse:
    """The job's progress page: its panel polls every second until the plan opens in the grid."""
    return progress_page(page(request, db), plan_id, "generate")


@router.get("/plans/{plan_id}/panel")
def panel(request: Request, db: SessionDep, plan_id: int) -> Response:
    """The progress panel (HTMX); a finished plan opens in the grid."""
    return progress_panel(page(request, db), plan_id)


@router.post("/plans/{plan_id}/cancel")
def cancel(request: Request, db: SessionDep, plan_id: int, form: Annotated[CsrfForm, Form()]) -> Response:
    """Cancel a queued or running job; the version it started from stays."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    plan = p.plan(_plan_id(plan_id))
    with contextlib.suppress(ConflictError):  # it finished meanwhile: the progress page shows how
        versions.cancel(db, job_runner(request), plan)
    return RedirectResponse(f"/plans/{plan_id}", status.HTTP_303_SEE_OTHER)


# ------------------------------------------------------------------------ unmet needs


@router.get("/s/{station_id}/unmet")
def unmet(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """未满足需求: each unmet need with its reasons in plain words."""
    p = page(request, db)
    station = p.station(station_id)
    monday = week_of(week)
    shown, pending = versions.week_versions(db, station, monday)
    rows: list[dict[str, Any]] = []
    reason_counts: Counter[str] = Counter()
    if shown is not None and shown.plan is not None:
        _v, ben_names, district_names = versions.people_names(db, station)
        needs = {n["id"]: n for n in shown.problem["needs"]}
        where = plan_posts.places(shown.problem)
        for u in shown.plan["unmet"]:
            n = needs[u["need"]]
            b = where[n["id"]]
            reason_counts.update(u["reasons"])
            rows.append(
                {
                    "beneficiary": b.name if b.at_site else ben_names.get(b.id, b.id),
                    "category": b.category,
                    "district": district_names.get(b.district, b.district),
                    "priority": b.priority,
                    "service": n["service"],
                    "hours": n["hours"],
                    "sessions": n["sessions"],
                    "windows": n["windows"],
                    "reasons": u["reasons"],
                    # a post that did not run: how many it needs at least (and at most)
                    "volunteers": plan_posts.bounds(n) if plan_posts.is_post(n) else None,
                }
            )
        rows.sort(key=lambda r: (-r["priority"], r["beneficiary"]))
    return p.render(
        "unmet.html",
        station=station,
        shown=shown,
        pending=pending,
        rows=rows,
        reason_counts=reason_counts.most_common(),
        tab="unmet",
        **_week_links(monday),
    )
