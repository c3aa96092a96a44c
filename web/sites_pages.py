"""服务地点: the station's sites (squares, crossroads, school gates, river banks) and, under each,
its posts (多人岗位): a list, a form to add or edit a site or a post, deactivate and reactivate,
import sites from CSV or Excel (all or nothing, with an empty template to fill), export to Excel.

Thin pages over :mod:`api.services.sites` (the services the API's routes call): the page reads
the form as the people pages do (:mod:`web.people_pages`: same controls, same Chinese messages
beside the field), and every write is the service's, audited by the session (:mod:`api.audit`).
Behind login, scoped to the caller's station (another station's site or post is 404), every post
carries the CSRF token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api import csvio
from api.crud.sites import read_sites, site_data
from api.deps import SessionDep
from api.models import ImportResult, Need, NeedCreate, NeedPublic, NeedUpdate, Site, SiteCreate, SiteUpdate
from api.services import people, sites, spreadsheets
from web import labels
from web.i18n import N_, Gettext
from web.people_pages import (
    CERTIFICATES,
    MAX_UPLOAD,
    Control,
    Kind,
    Problem,
    _choices,
    _districts,
    _import_page,
    _raw_text,
    _text,
    form_problem,
    form_values,
    problem_of,
    render_form,
    shown_values,
    upload_of,
    validate,
)
from web.people_pages import FIELDS as PEOPLE_FIELDS
from web.views import Page, PageError, check_csrf, page

router = APIRouter(include_in_schema=False)

KINDS: dict[str, str] = {"sites": N_("Sites"), "posts": N_("Group posts")}
"""What these pages show (the heading's last word; the import's one choice is sites)."""

FIELDS: dict[str, str] = {**PEOPLE_FIELDS, "name": N_("Site name")}
"""The forms' labels: the people pages', a site's name said as one (地点名称, not 姓名)."""

NOT_FOUND = N_("This page does not exist, or belongs to another station.")


def site_controls(db: Session, _station: str, _: Gettext) -> list[Control]:
    """The site form's fields, in the order the form shows them."""
    return [
        Control("id", "text", required=True, hint=N_("e.g. s-square")),
        Control("name", "text", required=True, hint=N_("e.g. 雄关广场")),
        Control("district", "select", _districts(db), required=True),
        Control("address", "text", hint=N_("e.g. 雄关广场东门")),
        Control("latitude", "number"),
        Control("longitude", "number"),
    ]


def post_controls(_db: Session, _station: str, _: Gettext) -> list[Control]:
    """The post form's fields: a need's, with the volunteers wanted, its priority and its lead."""
    return [
        Control("id", "text", required=True, hint=N_("e.g. n-square-sat")),
        Control("service", "select", _choices(labels.SERVICES, _), required=True),
        Control("hours", "number", required=True),
        Control("sessions", "number", required=True, hint="1-7"),
        Control("windows", "slots"),
        Control("volunteers_min", "number", required=True, hint="1-50"),
        Control("volunteers_max", "number", required=True, hint="1-50"),
        Control("priority", "number", required=True, hint=N_("1-5; 5 is the most urgent")),
        Control("lead_certifications", "checkboxes", _choices(CERTIFICATES, _)),
        Control("lead_skills", "checkboxes", _choices(labels.SERVICES, _)),
        Control("requires", "checkboxes", _choices(CERTIFICATES, _)),
        Control("minor_ok", "flag"),
    ]


SITE = Kind("sites", SiteCreate, csvio.SITE_COLUMNS, sites.import_sites, site_controls)
POST = Kind("posts", NeedPublic, csvio.NEED_COLUMNS, people.import_needs, post_controls)


@dataclass
class SiteRow:
    """One site as the list shows it."""

    id: str
    name: str
    district: str
    address: str
    location: str
    posts: int
    active: bool


def cleared(model: type[BaseModel], data: dict[str, Any], controls: Sequence[Control]) -> dict[str, Any]:
    """The form's values with each field left empty set to its default: an edit sends every field
    of the form, so emptying the address (or unticking every lead certificate) clears it."""
    fields = model.model_fields
    defaults = {
        c.name: fields[c.name].get_default(call_default_factory=True)
        for c in controls
        if not fields[c.name].is_required()
    }
    return {**defaults, **data}


def _page(request: Request, db: Session) -> Page:
    return page(request, db)


def _site(db: Session, station: str, ident: str) -> tuple[Site, list[Need]]:
    """A site of the station with its posts, or the 404 page."""
    try:
        return sites.find_site(db, station, ident)
    except HTTPException:
        raise PageError(404, NOT_FOUND) from None


def _post(db: Session, station: str, site: str, ident: str) -> Need:
    """A post at a site of the station, or the 404 page."""
    try:
        return sites.find_site_need(db, station, site, ident)
    except HTTPException:
        raise PageError(404, NOT_FOUND) from None


def _site_url(station: str, site: str) -> str:
    return f"/s/{station}/sites/{quote(site, safe='')}"


# ------------------------------------------------------------------------ the list, the export


@router.get("/s/{station_id}/sites")
def site_list(
    request: Request,
    db: SessionDep,
    station_id: str,
    inactive: Annotated[str, Query(max_length=1)] = "",
) -> HTMLResponse:
    """服务地点: the station's sites, each with its district, address, location and active posts."""
    p = _page(request, db)
    station = p.station(station_id)
    if inactive not in ("", "0", "1"):
        raise PageError(422, N_("This address holds a value the page does not know."))
    districts = dict(_districts(db))
    rows = [
        SiteRow(
            s.id,
            s.name,
            districts.get(s.district, s.district),
            s.address,
            "" if s.latitude is None else f"{s.latitude:.5f}, {s.longitude:.5f}",
            sum(1 for n in needs if n.active),
            s.active,
        )
        for s, needs in read_sites(db, station.id, active_only=inactive != "1").values()
    ]
    return p.render(
        "sites.html", station=station, tab="sites", rows=rows, inactive=inactive == "1", kinds=KINDS
    )


@router.get("/s/{station_id}/sites.xlsx")
def sites_xlsx(request: Request, db: SessionDep, station_id: str) -> Response:
    """The station's active sites as an Excel workbook in the import's columns (neutralised)."""
    p = _page(request, db)
    station = p.station(station_id)
    found = read_sites(db, station.id, active_only=True).values()
    return spreadsheets.export("xlsx", SITE.columns, [site_data(s) for s, _n in found], "sites", station.id)


@router.get("/s/{station_id}/sites/import/template.xlsx")
def sites_template(request: Request, db: SessionDep, station_id: str) -> Response:
    """An empty workbook with the import's columns, to fill in and import."""
    p = _page(request, db)
    station = p.station(station_id)
    return spreadsheets.export("xlsx", SITE.columns, [], "sites-template", station.id)


# ------------------------------------------------------------------------ import


def _import_sites_page(p: Page, station: Any, problems: Sequence[Problem] = (), **more: Any) -> HTMLResponse:
    return _import_page(
        p,
        station,
        "sites",
        problems,
        tab="sites",
        kinds={"sites": KINDS["sites"]},
        columns=SITE.columns,
        action=f"/s/{station.id}/sites/import",
        nav="sites_nav.html",
        template_url=f"/s/{station.id}/sites/import/template.xlsx",
        **more,
    )


@router.get("/s/{station_id}/sites/import")
def import_form(request: Request, db: SessionDep, station_id: str) -> HTMLResponse:
    """The import form: a CSV or Excel file of sites (the columns of ``sites.csv``)."""
    p = _page(request, db)
    return _import_sites_page(p, p.station(station_id))


def _import(p: Page, station_id: str, form: FormData, data: bytes | None, filename: str) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    if data is None:
        problems = [Problem(None, "file", N_("Choose a file to import."))]
    elif len(data) > MAX_UPLOAD:
        problems = [Problem(None, "file", N_("The file is too large."))]
    else:
        outcome: ImportResult | list[str]
        try:
            outcome = sites.import_sites(p.db, station.id, upload_of(data, filename))
        except csvio.CsvError as exc:
            outcome = [exc.message]
        except HTTPException as exc:  # the station's data changed meanwhile (409)
            p.db.rollback()
            outcome = [str(exc.detail)]
        if isinstance(outcome, ImportResult):
            return _import_sites_page(p, station, result=outcome)
        problems = [problem_of(line) for line in outcome]
    return _import_sites_page(p, station, problems, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post("/s/{station_id}/sites/import")
async def import_file(request: Request, db: SessionDep, station_id: str) -> Response:
    """Import a CSV or Excel file of sites: every bad row shown (nothing stored), else the counts."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    data: bytes | None = None
    filename = ""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD + 1)
        filename = upload.filename
    return await run_in_threadpool(_import, p, station_id, form, data, filename)


# ------------------------------------------------------------------------ a site: add, edit


def _render_site(
    p: Page, station: Any, values: dict[str, Any], ident: str | None, **more: Any
) -> HTMLResponse:
    posts: list[Need] = []
    if ident is not None:
        posts = _site(p.db, station.id, ident)[1]
    return render_form(
        p,
        station,
        SITE,
        values,
        ident,
        more.pop("problems", ()),
        base=f"/s/{station.id}/sites",
        back=f"/s/{station.id}/sites",
        nav="sites_nav.html",
        tab="sites",
        kinds=KINDS,
        fields=FIELDS,
        below="site_posts.html" if ident is not None else None,
        below_data={"posts": posts, "url": _site_url(station.id, ident or "")},
        **more,
    )


@router.get("/s/{station_id}/sites/new")
def new_site(request: Request, db: SessionDep, station_id: str) -> HTMLResponse:
    """The form to add a site."""
    p = _page(request, db)
    station = p.station(station_id)
    return _render_site(p, station, shown_values(site_controls(db, station.id, p._), {}, SITE), None)


@router.get("/s/{station_id}/sites/{site_id}")
def edit_site(
    request: Request,
    db: SessionDep,
    station_id: str,
    site_id: str,
    saved: Annotated[str, Query(max_length=1)] = "",
) -> HTMLResponse:
    """A site's page: its form (and deactivate or reactivate), and its posts below."""
    p = _page(request, db)
    station = p.station(station_id)
    site = _site(db, station.id, site_id)[0]
    shown = shown_values(site_controls(db, station.id, p._), site_data(site), SITE)
    return _render_site(p, station, shown, site_id, active=site.active, saved=saved == "1")


def _save_site(p: Page, station_id: str, ident: str | None, form: FormData) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    active = True if ident is None else _site(p.db, station.id, ident)[0].active
    controls = site_controls(p.db, station.id, p._)
    data, problems = form_values(SITE, form, controls)
    if ident is not None:
        data["id"] = ident
    problems += [pr for pr in validate(SITE, data) if pr.column not in {x.column for x in problems}]
    if not problems:
        try:
            if ident is None:
                sites.register_site(p.db, station.id, SiteCreate.model_validate(data))
            else:
                sites.update_site(
                    p.db, station.id, ident, SiteCreate.model_validate(cleared(SiteCreate, data, controls))
                )
        except HTTPException as exc:
            p.db.rollback()
            problems = [form_problem(str(exc.detail))]
            if exc.status_code == status.HTTP_409_CONFLICT and not problems[0].column:
                problems[0].column = "id"
        else:
            return RedirectResponse(
                _site_url(station.id, str(data["id"])) + "?saved=1", status.HTTP_303_SEE_OTHER
            )
    shown = shown_values(controls, {**data, **_raw_text(form, controls)}, SITE)
    return _render_site(p, station, shown, ident, problems=problems, active=active, status_code=422)


@router.post("/s/{station_id}/sites/new")
async def create_site(request: Request, db: SessionDep, station_id: str) -> Response:
    """Register a new site (the sites service checks it)."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_save_site, p, station_id, None, form)


@router.post("/s/{station_id}/sites/{site_id}")
async def update_site(request: Request, db: SessionDep, station_id: str, site_id: str) -> Response:
    """Change a site (checked whole by the sites service, as a new one is)."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_save_site, p, station_id, site_id, form)


def _set_site_active(p: Page, station_id: str, ident: str, form: FormData) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    site = _site(p.db, station.id, ident)[0]
    if form.get("active") == "1":
        sites.update_site(p.db, station.id, ident, SiteUpdate(active=True))
    else:
        people.deactivate(p.db, site)
    return RedirectResponse(_site_url(station.id, ident), status.HTTP_303_SEE_OTHER)


@router.post("/s/{station_id}/sites/{site_id}/active")
async def set_site_active(request: Request, db: SessionDep, station_id: str, site_id: str) -> Response:
    """Deactivate a site (soft delete: it and its posts are left out of lists and plans) or reactivate it."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_set_site_active, p, station_id, site_id, form)


# ------------------------------------------------------------------------ a site's posts


def _render_post(
    p: Page, station: Any, site: Site, values: dict[str, Any], ident: str | None, **more: Any
) -> HTMLResponse:
    url = _site_url(station.id, site.id)
    return render_form(
        p,
        station,
        POST,
        values,
        ident,
        more.pop("problems", ()),
        base=f"{url}/posts",
        back=url,
        nav="sites_nav.html",
        tab="sites",
        kinds=KINDS,
        heading=site.name,
        fields=FIELDS,
        **more,
    )


@router.get("/s/{station_id}/sites/{site_id}/posts/new")
def new_post(request: Request, db: SessionDep, station_id: str, site_id: str) -> HTMLResponse:
    """The form to add a post at a site (two volunteers at least, by default of the form's hints)."""
    p = _page(request, db)
    station = p.station(station_id)
    site = _site(db, station.id, site_id)[0]
    return _render_post(p, station, site, shown_values(post_controls(db, station.id, p._), {}, POST), None)


@router.get("/s/{station_id}/sites/{site_id}/posts/{need_id}")
def edit_post(
    request: Request,
    db: SessionDep,
    station_id: str,
    site_id: str,
    need_id: str,
    saved: Annotated[str, Query(max_length=1)] = "",
) -> HTMLResponse:
    """A post's form (and deactivate or reactivate it)."""
    p = _page(request, db)
    station = p.station(station_id)
    site = _site(db, station.id, site_id)[0]
    need = _post(db, station.id, site_id, need_id)
    shown = shown_values(post_controls(db, station.id, p._), need.model_dump(), POST)
    return _render_post(p, station, site, shown, need_id, active=need.active, saved=saved == "1")


def _save_post(p: Page, station_id: str, site_id: str, ident: str | None, form: FormData) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    site = _site(p.db, station.id, site_id)[0]
    active = True if ident is None else _post(p.db, station.id, site_id, ident).active
    controls = post_controls(p.db, station.id, p._)
    data, problems = form_values(POST, form, controls)
    data["site_id"] = site.id
    if ident is not None:
        data["id"] = ident
    problems += [pr for pr in validate(POST, data) if pr.column not in {x.column for x in problems}]
    if not problems:
        try:
            need = NeedPublic.model_validate(data)
            if ident is None:
                body = NeedCreate(**need.model_dump(exclude={"beneficiary_id", "site_id"}))
                sites.add_site_need(p.db, station.id, site.id, body)
            else:
                patch = NeedPublic.model_validate(cleared(NeedPublic, data, controls))
                sites.update_site_need(p.db, station.id, site.id, ident, patch)
        except HTTPException as exc:
            p.db.rollback()
            problems = [form_problem(str(exc.detail))]
            if exc.status_code == status.HTTP_409_CONFLICT and not problems[0].column:
                problems[0].column = "id"
        else:
            target = f"{_site_url(station.id, site.id)}/posts/{quote(str(data['id']), safe='')}?saved=1"
            return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    shown = shown_values(controls, {**data, **_raw_text(form, controls)}, POST)
    return _render_post(p, station, site, shown, ident, problems=problems, active=active, status_code=422)


@router.post("/s/{station_id}/sites/{site_id}/posts/new")
async def create_post(request: Request, db: SessionDep, station_id: str, site_id: str) -> Response:
    """Add a post at a site (the sites service checks it)."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_save_post, p, station_id, site_id, None, form)


@router.post("/s/{station_id}/sites/{site_id}/posts/{need_id}")
async def update_post(
    request: Request, db: SessionDep, station_id: str, site_id: str, need_id: str
) -> Response:
    """Change a post (checked whole by the sites service)."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_save_post, p, station_id, site_id, need_id, form)


def _set_post_active(p: Page, station_id: str, site_id: str, ident: str, form: FormData) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    need = _post(p.db, station.id, site_id, ident)
    if form.get("active") == "1":
        sites.update_site_need(p.db, station.id, site_id, ident, NeedUpdate(active=True))
    else:
        people.deactivate(p.db, need)
    target = f"{_site_url(station.id, site_id)}/posts/{quote(ident, safe='')}"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("/s/{station_id}/sites/{site_id}/posts/{need_id}/active")
async def set_post_active(
    request: Request, db: SessionDep, station_id: str, site_id: str, need_id: str
) -> Response:
    """Deactivate a post (soft delete) or reactivate it."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_set_post_active, p, station_id, site_id, need_id, form)
