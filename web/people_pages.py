"""人员: the station's volunteers, beneficiaries and needs: lists, a form to add or edit one,
deactivate and reactivate, import from CSV or Excel (all or nothing), export to Excel.

Every change goes through :mod:`api.services.people` (the services the API's routes call), so
the page validates exactly as the API does; its messages (``field: message``) are shown in the
page's language by :func:`reason`.  Behind login, scoped to the caller's station (another
station's ids are 404), every post carries the CSRF token.  A bad query value is the HTML error
page, never the API's JSON 422 (:class:`HtmlRoute`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select
from starlette.datastructures import FormData, UploadFile

from api import contacts, csvio
from api.crud import lists
from api.crud.beneficiaries import beneficiary_data, read_beneficiaries
from api.crud.volunteers import read_volunteers, volunteer_data
from api.deps import SessionDep
from api.models import Beneficiary as BeneficiaryRow
from api.models import (
    BeneficiaryCreate,
    BeneficiaryUpdate,
    District,
    ImportResult,
    NeedCreate,
    NeedPublic,
    NeedUpdate,
    VolunteerCreate,
    VolunteerUpdate,
)
from api.models import Need as NeedRow
from api.models import Volunteer as VolunteerRow
from api.services import people, sites, spreadsheets
from matcher.format.bounds import EXPIRES_MAX, EXPIRES_MIN, is_id
from matcher.format.errors import format_error_details
from matcher.format.schema import CATEGORIES, DAYS, PERIODS, SERVICE_CODES
from web import labels
from web.calendar_pages import CalendarBox, calendar_box
from web.i18n import N_, Gettext
from web.views import Page, PageError, check_csrf, page

PER_PAGE = 50
MAX_UPLOAD = 2 * 2**20
"""Largest import file (bytes); the app's body limit (``LINLI_MAX_BODY_BYTES``) holds before it."""

KINDS: dict[str, str] = {
    "volunteers": N_("Volunteers"),
    "beneficiaries": N_("Beneficiaries"),
    "needs": N_("Needs"),
}

FIELDS: dict[str, str] = {
    "id": N_("ID"),
    "name": N_("Name"),
    "district": N_("District"),
    "team_id": N_("Team"),
    "group_id": N_("Group"),
    "skills": N_("Skills"),
    "availability": N_("Availability"),
    "certificates": N_("Certificates"),
    "max_hours": N_("Most hours a week"),
    "max_beneficiaries": N_("Most beneficiaries a week"),
    "minor": N_("Under 18"),
    "guardian_consent": N_("Guardian consented"),
    "gender": N_("Gender"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "hours_before": N_("Hours served before"),
    "phone": N_("Mobile phone"),
    "wechat": N_("WeChat ID"),
    "address": N_("Address"),
    "contact_name": N_("Contact person"),
    "contact_phone": N_("Contact phone"),
    "active": N_("Active"),
    "category": N_("Category"),
    "priority": N_("Priority"),
    "volunteer_gender": N_("Volunteer gender wanted"),
    "excluded_volunteers": N_("Volunteers never to pair"),
    "beneficiary_id": N_("Beneficiary"),
    "service": N_("Service"),
    "hours": N_("Hours per session"),
    "sessions": N_("Sessions a week"),
    "windows": N_("Times accepted"),
    "requires": N_("Certificates required"),
    "minor_ok": N_("A minor may serve"),
    "file": N_("File"),
    # 服务地点 and their posts (多人岗位, web.sites_pages)
    "site_id": N_("Site"),
    "volunteers_min": N_("Fewest volunteers"),
    "volunteers_max": N_("Most volunteers"),
    "lead_certifications": N_("Lead: certificates"),
    "lead_skills": N_("Lead: skills"),
}
"""Labels of the form's fields and of the import's columns (the CSV names stay the file's)."""

GENDERS: dict[str, str] = {"f": N_("Female"), "m": N_("Male")}
CERTIFICATES = labels.CERTIFICATES
"""Certification kinds by name (kept here too: 临时变动 and the tests import it from this page)."""

# The services' and the format's English messages, as message ids with their parameters.
REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in (
        (r"^required field is missing$", N_("required")),
        (r"^required when (?P<v>\w+) is given$", N_("required together with the other coordinate")),
        (r"^unknown field$", N_("unknown column")),
        (r"^not a number: '(?P<v>.*)'$", N_("not a number: “%(v)s”")),
        (r"^not a whole number: '(?P<v>.*)'$", N_("not a whole number: “%(v)s”")),
        (r"^expected true or false, not '(?P<v>.*)'$", N_("write true or false, not “%(v)s”")),
        (r"^must be at least (?P<n>[-\d.]+)", N_("must be at least %(n)s")),
        (r"^must be at most (?P<n>[-\d.]+)", N_("must be at most %(n)s")),
        (r"^must be (?:more|greater) than (?P<n>[-\d.]+)", N_("must be more than %(n)s")),
        (r"^Input should be greater than or equal to (?P<n>[-\d.]+)", N_("must be at least %(n)s")),
        (r"^Input should be greater than (?P<n>[-\d.]+)", N_("must be more than %(n)s")),
        (r"^Input should be less than or equal to (?P<n>[-\d.]+)", N_("must be at most %(n)s")),
        (r"^must have at most (?P<n>\d+) characters$", N_("at most %(n)s characters")),
        (r"^String should have at least (?P<n>\d+) characters$", N_("at least %(n)s characters")),
        (
            r"^not a phone number",
            N_("not a phone number: digits, e.g. 13812341234 (“+”, spaces, “-” allowed)"),
        ),
        (
            r"^not a WeChat id",
            N_("not a WeChat ID: 6-20 letters, digits, “_” or “-”, starting with a letter"),
        ),
        (r"^must have at most (?P<n>\d+) items$", N_("at most %(n)s items")),
        (r"^Input should be 'f' or 'm'$", N_("choose female or male, or leave it empty")),
        (r"Input should be a valid date", N_("not a date (write YYYY-MM-DD)")),
        (r"^Input should be ", N_("not one of the values allowed here")),
        (r"^unknown slot '(?P<v>.*)'$", N_("unknown time slot “%(v)s” (write e.g. mon-am)")),
        (r"^unknown service code '(?P<v>.*)'$", N_("unknown service “%(v)s”")),
        (r"^unknown certification kind '(?P<v>.*)'$", N_("unknown certificate kind “%(v)s”")),
        (r"^unknown category '(?P<v>.*)'$", N_("unknown category “%(v)s”")),
        (r"^unknown district '(?P<v>.*)'$", N_("no such district: “%(v)s”")),
        (r"^unknown team '(?P<v>.*)'$", N_("no such team in this station: “%(v)s”")),
        (r"^unknown group '(?P<v>.*)'$", N_("no such group in this station: “%(v)s”")),
        (r"^unknown volunteer '(?P<v>.*)'$", N_("no such volunteer in this station: “%(v)s”")),
        (r"^unknown beneficiary '(?P<v>.*)'$", N_("no such beneficiary in this station: “%(v)s”")),
        (r"^required with group_id", N_("a group needs its team")),
        (r"^group '(?P<v>.*)' is in team", N_("the group “%(v)s” belongs to another team")),
        (r"is already in use", N_("this ID is already in use (IDs are unique in the city)")),
        (r"^'(?P<v>.*)' is already on row (?P<n>\d+)$", N_("the same ID is already on row %(n)s")),
        (r"^character \d+ .* is not allowed", N_("an ID is letters, digits, “_”, “-”, “.” or “+”")),
        (r"^unknown column '(?P<v>[^']*)'", N_("unknown column “%(v)s”")),
        (r"^missing column '(?P<v>.*)'$", N_("the required column “%(v)s” is missing")),
        (r"^column '(?P<v>.*)' is named twice$", N_("the column “%(v)s” is named twice")),
        (r"^more cells than the header's (?P<n>\d+) columns$", N_("more cells than the header's columns")),
        (r"^certificate (?P<n>\d+): expected", N_("certificate %(n)s: write kind:YYYY-MM-DD")),
        (r"^the file is empty", N_("the file is empty (the first row must name the columns)")),
        (r"^not a readable \.xlsx workbook$", N_("not a readable Excel (.xlsx) file")),
        (r"^(neither UTF-8|not .* text)", N_("not CSV text: save it as “CSV UTF-8” or as .xlsx")),
        (r"^malformed CSV", N_("malformed CSV (check the quotes)")),
        (r"^'(?P<v>.*)' is also a beneficiary's id$", N_("“%(v)s” is already a beneficiary's ID")),
        (r"^a need at a site gives its priority", N_("a post at a site needs its priority (1-5)")),
        (r"^(?P<n>\d+) is more than volunteers_max", N_("more than the most volunteers")),
        (r"^a need names exactly one of", N_("a need is either a beneficiary's or at a site")),
    )
]


def reason(message: str, _: Gettext) -> str:
    """A service's or the format's English message in the page's language (else as it is)."""
    for pattern, text in REASONS:
        found = pattern.search(message)
        if found:
            return _(text) % {"v": "", "n": "", **found.groupdict()}
    return _(message)  # the page's own messages (N_), or the service's English as it is


@dataclass
class Problem:
    """One bad cell of an import or a form: its row (None on a form), column and reason."""

    row: int | None
    column: str
    message: str


_ROW = re.compile(r"^row (\d+): (.*)$", re.S)
_FIELD = re.compile(r"^([A-Za-z_]+)(?:\[\d+\])?(?:\.\w+)?: (.*)$", re.S)


def problem_of(line: str) -> Problem:
    """``row 3: skills[0]: unknown service code 'x'`` as (3, ``skills``, the message)."""
    row = None
    found = _ROW.match(line)
    if found:
        row, line = int(found.group(1)), found.group(2)
    named = _FIELD.match(line)
    if named and named.group(1) not in ("body", "file", "content"):
        return Problem(row, named.group(1), named.group(2))
    if named:
        line = named.group(2)
    return Problem(row, "", line)


_CERTIFICATE = re.compile(r"^certificates\[(\d+)\](?:\.(\w+))?: (.*)$", re.S)


def form_problem(line: str) -> Problem:
    """A form's message as its problem: ``certificates[1].expires: …`` is the form's certificate 2
    (its ``row``), with the part named (``expires: …``); anything else as :func:`problem_of`."""
    found = _CERTIFICATE.match(line)
    if found is None:
        return problem_of(line)
    part = f"{found.group(2)}: " if found.group(2) else ""
    return Problem(int(found.group(1)) + 1, "certificates", part + found.group(3))


# A bad query (an unknown parameter, a value too long) is the HTML error page: web.views.install.
router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=100)]


# ------------------------------------------------------------------------ kinds of record


@dataclass
class Control:
    """One form control: a field, how it is entered, and its choices."""

    name: str
    widget: str  # text, tel, number, select, checkboxes, slots, flag, certificates (rows of kind and expiry)
    choices: Sequence[tuple[str, str]] = ()
    required: bool = False
    hint: str = ""


@dataclass
class Kind:
    """What the page needs of volunteers, beneficiaries or needs."""

    name: str
    model: type[BaseModel]
    columns: Sequence[csvio.Column]
    importer: Callable[[Session, str, spreadsheets.CsvUpload], ImportResult | list[str]]
    controls: Callable[[Session, str, Gettext], list[Control]]


def _choices(names: Mapping[str, str], _: Gettext) -> list[tuple[str, str]]:
    return [(code, _(name)) for code, name in names.items()]


def _districts(db: Session) -> list[tuple[str, str]]:
    return sorted(((d.id, d.name or d.id) for d in db.exec(select(District))), key=lambda kv: kv[1])


def volunteer_controls(db: Session, _station: str, _: Gettext) -> list[Control]:
    return [
        Control("id", "text", required=True),
        Control("name", "text"),
        Control("phone", "tel", hint=N_("e.g. 13812341234")),
        Control("wechat", "text", hint=N_("optional")),
        Control("district", "select", _districts(db), required=True),
        Control("skills", "checkboxes", _choices(labels.SERVICES, _)),
        Control("availability", "slots"),
        Control("max_hours", "number", required=True),
        Control("max_beneficiaries", "number", hint="3"),
        Control("certificates", "certificates", _choices(CERTIFICATES, _)),
        Control("minor", "flag"),
        Control("guardian_consent", "flag"),
        Control("gender", "select", _choices(GENDERS, _)),
        Control("team_id", "text"),
        Control("group_id", "text"),
        Control("hours_before", "number", hint="0"),
        Control("latitude", "number"),
        Control("longitude", "number"),
    ]


def beneficiary_controls(db: Session, _station: str, _: Gettext) -> list[Control]:
    return [
        Control("id", "text", required=True),
        Control("name", "text"),
        Control("category", "select", [(c, _(labels.CATEGORIES[c])) for c in CATEGORIES], required=True),
        Control("district", "select", _districts(db), required=True),
        Control("priority", "number", required=True, hint=N_("1-5; 5 is the most vulnerable")),
        Control("volunteer_gender", "select", _choices(GENDERS, _)),
        Control("excluded_volunteers", "text", hint=N_("volunteer IDs, e.g. v0012;v0040")),
        Control("address", "text", hint=N_("e.g. 幸福里 3 幢 2 单元 301")),
        Control("contact_name", "text", hint=N_("e.g. 儿子 王强")),
        Control("contact_phone", "tel", hint=N_("e.g. 13812341234")),
        Control("latitude", "number"),
        Control("longitude", "number"),
    ]


def need_controls(db: Session, station: str, _: Gettext) -> list[Control]:
    bens = read_beneficiaries(db, station)
    return [
        Control("id", "text", required=True),
        Control("beneficiary_id", "select", [(i, b.name or i) for i, (b, _n) in bens.items()], True),
        Control("service", "select", _choices(labels.SERVICES, _), required=True),
        Control("hours", "number", required=True),
        Control("sessions", "number", required=True, hint="1-7"),
        Control("windows", "slots"),
        Control("volunteers_min", "number", hint="1"),
        Control("volunteers_max", "number", hint="1"),
        Control("requires", "checkboxes", _choices(CERTIFICATES, _)),
        Control("minor_ok", "flag"),
    ]


KIND: dict[str, Kind] = {
    "volunteers": Kind(
        "volunteers",
        VolunteerCreate,
        csvio.VOLUNTEER_COLUMNS,
        people.import_volunteers,
        volunteer_controls,
    ),
    "beneficiaries": Kind(
        "beneficiaries",
        BeneficiaryCreate,
        csvio.BENEFICIARY_COLUMNS,
        people.import_beneficiaries,
        beneficiary_controls,
    ),
    "needs": Kind("needs", NeedPublic, csvio.NEED_COLUMNS, people.import_needs, need_controls),
}


def kind_of(name: str) -> Kind:
    if name not in KIND:
        raise PageError(422, N_("This address holds a value the page does not know."))
    return KIND[name]


# ------------------------------------------------------------------------ records


def record(db: Session, station: str, kind: str, ident: str) -> dict[str, Any]:
    """One record of the station, or the 404 page."""
    found: list[dict[str, Any]]
    if kind == "volunteers":
        found = [volunteer_data(v, c) for v, c in read_volunteers(db, station, ident).values()]
    elif kind == "beneficiaries":
        found = [beneficiary_data(b) for b, _n in read_beneficiaries(db, station, ident).values()]
    else:  # an unsafe id names nothing (NUL would fail PostgreSQL's query)
        found = (
            lists.search_needs(db, station, [], active_only=False, ident=ident).rows if is_id(ident) else []
        )
    if not found:
        raise PageError(404, N_("This page does not exist, or belongs to another station."))
    return found[0]


def search_terms(db: Session, q: str, _: Gettext) -> list[lists.Term]:
    """The search's words, each with the districts, services and categories whose names (in the
    page's language) or codes hold it: the database knows codes, the coordinator types names."""
    districts = _districts(db)
    terms = []
    for word in q.lower().split():
        terms.append(
            lists.Term(
                word,
                districts=frozenset(i for i, name in districts if word in name.lower()),
                services=frozenset(
                    c
                    for c in SERVICE_CODES
                    if word in c or word in labels.label(labels.SERVICES, c, _).lower()
                ),
                categories=frozenset(
                    c for c in CATEGORIES if word in labels.label(labels.CATEGORIES, c, _).lower()
                ),
            )
        )
    return terms


def matching(
    db: Session, station: str, query: ListQuery, _: Gettext, limit: int | None = None
) -> lists.Found:
    """The station's records the query finds (inactive ones on request): their count and, with
    ``limit``, the query's page of them (a page past the last is the last), else all of them.

    A word matches a record when its id, name, district (id or name), skills or service (code
    or name), category (name) or, for a need, beneficiary (id or name) holds it; every word must.
    """
    search = {
        "volunteers": lists.search_volunteers,
        "beneficiaries": lists.search_beneficiaries,
        "needs": lists.search_needs,
    }[query.kind]
    terms = search_terms(db, query.q, _)
    if limit is None:
        return search(db, station, terms, active_only=not query.inactive)
    found = search(
        db, station, terms, active_only=not query.inactive, offset=(query.page - 1) * limit, limit=limit
    )
    last = max(1, -(-found.total // limit))
    if query.page > last:  # past the end (a stale link): the last page
        query.page = last
        if found.total:
            offset = (last - 1) * limit
            found = search(db, station, terms, active_only=not query.inactive, offset=offset, limit=limit)
    return found


@dataclass
class ListQuery:
    kind: str
    q: str
    page: int
    inactive: bool

    def link(self, **changes: Any) -> str:
        values = {"kind": self.kind, "q": self.q, "page": self.page, "inactive": self.inactive, **changes}
        pairs = {"kind": values["kind"]}
        if values["q"]:
            pairs["q"] = values["q"]
        if values["page"] != 1:
            pairs["page"] = str(values["page"])
        if values["inactive"]:
            pairs["inactive"] = "1"
        return "?" + urlencode(pairs)


def parse_query(kind: str, q: str, page_: str, inactive: str) -> ListQuery:
    kind_of(kind)
    if not re.fullmatch(r"[1-9]\d{0,5}", page_) or inactive not in ("", "0", "1"):
        raise PageError(422, N_("This address holds a value the page does not know."))
    return ListQuery(kind, q.strip(), int(page_), inactive == "1")


# ------------------------------------------------------------------------ the list, the export


@router.get("/s/{station_id}/people")
def people_list(
    request: Request,
    db: SessionDep,
    station_id: str,
    kind: Text = "volunteers",
    q: Text = "",
    page: Annotated[str, Query(max_length=7)] = "1",
    inactive: Annotated[str, Query(max_length=1)] = "",
) -> HTMLResponse:
    """人员: a searchable list of the station's volunteers, beneficiaries or needs, 50 a page."""
    p = _page(request, db)
    station = p.station(station_id)
    query = parse_query(kind, q, page, inactive)
    found = matching(db, station.id, query, p._, limit=PER_PAGE)
    return p.render(
        "people.html",
        station=station,
        tab="people",
        query=query,
        # A list shows contact details masked (138****1234); the person's page, in full.
        rows=[contacts.masked(r) for r in found.rows],
        total=found.total,
        number=query.page,
        pages=max(1, -(-found.total // PER_PAGE)),
        kinds=KINDS,
        districts=dict(_districts(db)),
        genders=GENDERS,
    )


def _page(request: Request, db: Session) -> Page:
    return page(request, db)


@router.get("/s/{station_id}/people.xlsx")
def people_xlsx(
    request: Request,
    db: SessionDep,
    station_id: str,
    kind: Text = "volunteers",
    q: Text = "",
    inactive: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    """The list (all its pages) as an Excel workbook in the import's columns, neutralised by api.tables."""
    p = _page(request, db)
    station = p.station(station_id)
    query = parse_query(kind, q, "1", inactive)
    found = matching(db, station.id, query, p._)
    k = KIND[kind]
    return spreadsheets.export("xlsx", k.columns, found.rows, kind, station.id)


# ------------------------------------------------------------------------ add, edit


_CERTIFICATE_FIELD = re.compile(r"^certificates-(\d{1,2})-(kind|expires|remove)$")
BLANK_CERTIFICATES = 1
"""Empty certificate rows the form shows below the volunteer's (再添加一个证书 adds one more)."""


def certificate_rows(form: FormData) -> tuple[list[dict[str, str]], int]:
    """The form's certificate rows (``certificates-<i>-kind``, ``-expires``, ``-remove``), in order:
    those kept (neither removed nor left empty) as ``{kind, expires}`` (what is filled in), and the
    number of rows left empty."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.multi_items():
        found = _CERTIFICATE_FIELD.match(name)
        if found and isinstance(value, str):
            rows.setdefault(int(found.group(1)), {})[found.group(2)] = value.strip()
    kept = []
    for _i, row in sorted(rows.items()):
        if row.get("remove") or not (row.get("kind") or row.get("expires")):
            continue
        kept.append({part: row[part] for part in ("kind", "expires") if row.get(part)})
    return kept, len(rows) - len(kept)


def form_values(k: Kind, form: FormData, controls: Sequence[Control]) -> tuple[dict[str, Any], list[Problem]]:
    """The form's fields read as the CSV import reads cells (same kinds), and the cells it could not read.

    Certificates are rows of a kind and a date, assembled into the value the CSV cell
    ``first_aid:2027-05-01;…`` reads as (a part left empty is missing: the model names it).
    """
    kinds = {c.name: c.kind for c in k.columns}
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    for c in controls:
        if c.widget == "certificates":
            data[c.name] = certificate_rows(form)[0]
            continue
        if c.widget in ("checkboxes", "slots"):
            data[c.name] = [str(v) for v in form.getlist(c.name)]
            continue
        if c.widget == "flag":
            data[c.name] = form.get(c.name) == "1"
            continue
        raw = form.get(c.name)
        text = raw.strip() if isinstance(raw, str) else ""
        try:
            value = csvio.read_cell(text, kinds[c.name])
        except ValueError as exc:
            problems.append(Problem(None, c.name, str(exc)))
            continue
        if value is not None:
            data[c.name] = value
    return data, problems


def validate(k: Kind, data: dict[str, Any]) -> list[Problem]:
    try:
        k.model.model_validate(data)
    except ValidationError as exc:
        return [form_problem(format_error_details(dict(e))) for e in exc.errors(include_url=False)]
    return []


def store(db: Session, station: str, k: Kind, data: dict[str, Any], ident: str | None) -> None:
    """Register (``ident`` None) or change the record through the people services."""
    if k.name == "volunteers":
        body = VolunteerCreate.model_validate(data)
        if ident is None:
            people.register_volunteer(db, station, body)
        else:
            people.update_volunteer(db, station, ident, body)
    elif k.name == "beneficiaries":
        ben = BeneficiaryCreate.model_validate(data)
        if ident is None:
            people.register_beneficiary(db, station, ben)
        else:
            people.update_beneficiary(db, station, ident, ben)
    else:
        need = NeedPublic.model_validate(data)
        if ident is None:
            created = NeedCreate(**need.model_dump(exclude={"beneficiary_id", "site_id"}))
            if need.site_id is not None:
                sites.add_site_need(db, station, need.site_id, created)
            else:
                people.add_need(db, station, str(need.beneficiary_id), created)
        else:
            before = record(db, station, "needs", ident)
            if before.get("site_id") is not None:
                sites.update_site_need(db, station, before["site_id"], ident, need)
            else:
                people.update_need(db, station, before["beneficiary_id"], ident, need)


def shown_values(
    controls: Sequence[Control], data: Mapping[str, Any], k: Kind, blank: int = BLANK_CERTIFICATES
) -> dict[str, Any]:
    """What each control shows: text for text fields, lists for boxes, and for certificates the
    rows ``{kind, expires}`` (stored or as typed) and ``blank`` empty ones."""
    kinds = {c.name: c.kind for c in k.columns}
    out: dict[str, Any] = {}
    for c in controls:
        value = data.get(c.name)
        if c.widget == "certificates":
            rows = [
                {"kind": str(_part(cert, "kind")), "expires": str(_part(cert, "expires"))}
                for cert in value or []
            ]
            out[c.name] = rows + [{"kind": "", "expires": ""}] * blank
        elif c.widget in ("checkboxes", "slots"):
            out[c.name] = list(value or [])
        elif c.widget == "flag":
            out[c.name] = bool(value)
        elif isinstance(value, str):  # as typed
            out[c.name] = value
        else:
            cell = None if value is None else csvio.cell_value(value, kinds[c.name])
            out[c.name] = "" if cell is None else str(cell)
    return out


def _part(cert: Any, name: str) -> Any:
    """A certificate's kind or expiry, stored (a Certification) or as typed (a dict); "" if none."""
    value = cert.get(name, "") if isinstance(cert, Mapping) else getattr(cert, name, "")
    return "" if value is None else value


CERTIFICATE_PARTS: dict[str, str] = {"kind": N_("Certificate kind"), "expires": N_("Expiry date")}


def render_form(
    p: Page,
    station: Any,
    k: Kind,
    values: Mapping[str, Any],
    ident: str | None,
    problems: Sequence[Problem] = (),
    **more: Any,
) -> HTMLResponse:
    controls = k.controls(p.db, station.id, p._)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    rows: dict[int, list[str]] = {}  # certificate row (from 1) -> its problems
    names = {c.name for c in controls}
    for pr in problems:
        text = reason(pr.message, p._)
        if pr.column == "certificates" and pr.row is not None:
            part, sep, rest = pr.message.partition(": ")
            if sep and part in CERTIFICATE_PARTS:
                text = p._(CERTIFICATE_PARTS[part]) + p._(": ") + reason(rest, p._)
            rows.setdefault(pr.row, []).append(text)  # shown by its row
            continue
        if pr.column in names:
            errors.setdefault(pr.column, []).append(text)
        else:
            general.append((p._(FIELDS[pr.column]) + p._(": ") if pr.column in FIELDS else "") + text)
    base = more.get("base") or f"/s/{station.id}/people/{k.name}"
    return p.render(
        "people_form.html",
        status_code=more.get("status_code", 200),
        base=base,  # the form posts to {base}/new or {base}/{ident}; web.sites_pages gives its own
        back=more.get("back") or f"/s/{station.id}/people?kind={k.name}",
        nav=more.get("nav") or "people_nav.html",
        heading=more.get("heading"),
        below=more.get("below"),  # a template shown under the form (a site's posts)
        below_data=more.get("below_data"),
        station=station,
        tab=more.get("tab", "people"),
        kind=k.name,
        kinds=more.get("kinds", KINDS),
        fields=more.get("fields", FIELDS),
        controls=controls,
        values=values,
        ident=ident,
        active=more.get("active", True),
        saved=more.get("saved", False),
        calendar=more.get("calendar"),  # a volunteer's 日历订阅 box (web.calendar_pages)
        errors=errors,
        general=general,
        certificate_errors=rows,
        certificate_kinds=[(code, p._(name)) for code, name in CERTIFICATES.items()],
        expires_min=EXPIRES_MIN.isoformat(),
        expires_max=EXPIRES_MAX.isoformat(),
        days=[(d, labels.label(labels.DAYS, d, p._)) for d in DAYS],
        periods=[(x, labels.label(labels.PERIODS, x, p._)) for x in PERIODS],
    )


@router.get("/s/{station_id}/people/import")
def import_form(request: Request, db: SessionDep, station_id: str, kind: Text = "volunteers") -> HTMLResponse:
    """The import form: a CSV or Excel file of volunteers, beneficiaries or needs."""
    p = _page(request, db)
    station = p.station(station_id)
    kind_of(kind)
    return _import_page(p, station, kind)


def _import_page(
    p: Page,
    station: Any,
    kind: str,
    problems: Sequence[Problem] = (),
    result: ImportResult | None = None,
    status_code: int = 200,
    **more: Any,
) -> HTMLResponse:
    rows = [
        {
            "row": pr.row,
            "column": pr.column,
            "label": p._(FIELDS[pr.column]) if pr.column in FIELDS else "",
            "reason": reason(pr.message, p._),
        }
        for pr in problems
    ]
    return p.render(
        "people_import.html",
        status_code=status_code,
        station=station,
        tab=more.get("tab", "people"),
        kind=kind,
        kinds=more.get("kinds", KINDS),
        problems=rows,
        result=result,
        columns=more.get("columns") or KIND[kind].columns,
        max_mb=MAX_UPLOAD // 2**20,
        action=more.get("action") or f"/s/{station.id}/people/import",
        nav=more.get("nav") or "people_nav.html",
        template_url=more.get("template_url"),
    )


def upload_of(data: bytes, filename: str) -> spreadsheets.CsvUpload:
    """The file as the CSV upload the import services read (an ``.xlsx`` workbook converted)."""
    if filename.lower().endswith(".xlsx") or data.startswith(spreadsheets.XLSX_MAGIC):
        return spreadsheets.xlsx_upload(data)
    return spreadsheets.CsvUpload(data, None)


def _import(p: Page, station_id: str, form: FormData, data: bytes | None, filename: str) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    kind = _text(form.get("kind")) or ""
    k = kind_of(kind)
    if data is None:
        problems = [Problem(None, "file", N_("Choose a file to import."))]
    elif len(data) > MAX_UPLOAD:
        problems = [Problem(None, "file", N_("The file is too large."))]
    else:
        try:
            outcome = k.importer(p.db, station.id, upload_of(data, filename))
        except csvio.CsvError as exc:
            outcome = [exc.message]
        except HTTPException as exc:  # the station's data changed meanwhile (409)
            p.db.rollback()
            outcome = [str(exc.detail)]
        if isinstance(outcome, ImportResult):
            return _import_page(p, station, kind, result=outcome)
        problems = [problem_of(line) for line in outcome]
    return _import_page(p, station, kind, problems, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post("/s/{station_id}/people/import")
async def import_file(request: Request, db: SessionDep, station_id: str) -> Response:
    """Import a CSV or Excel file: every bad row shown (nothing stored), else the counts."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    data: bytes | None = None
    filename = ""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD + 1)
        filename = upload.filename
    return await run_in_threadpool(_import, p, station_id, form, data, filename)


@router.get("/s/{station_id}/people/{kind}/new")
def new_form(request: Request, db: SessionDep, station_id: str, kind: str) -> HTMLResponse:
    """The form to add a volunteer, beneficiary or need."""
    p = _page(request, db)
    station = p.station(station_id)
    k = kind_of(kind)
    controls = k.controls(db, station.id, p._)
    return render_form(p, station, k, shown_values(controls, {}, k), None)


@router.get("/s/{station_id}/people/{kind}/{ident}")
def edit_form(
    request: Request,
    db: SessionDep,
    station_id: str,
    kind: str,
    ident: str,
    saved: Annotated[str, Query(max_length=1)] = "",
) -> HTMLResponse:
    """The form to change one record (and to deactivate or reactivate it)."""
    p = _page(request, db)
    station = p.station(station_id)
    k = kind_of(kind)
    data = record(db, station.id, kind, ident)
    controls = k.controls(db, station.id, p._)
    shown = shown_values(controls, data, k)
    box = calendar_box(p, ident) if kind == "volunteers" else None
    return render_form(
        p, station, k, shown, ident, active=data.get("active", True), saved=saved == "1", calendar=box
    )


def volunteer_page(p: Page, station_id: str, ident: str, box: CalendarBox) -> HTMLResponse:
    """A volunteer's page (their form) with the calendar box as ``box`` says (a link just made)."""
    station = p.station(station_id)
    k = kind_of("volunteers")
    data = record(p.db, station.id, "volunteers", ident)
    shown = shown_values(k.controls(p.db, station.id, p._), data, k)
    return render_form(p, station, k, shown, ident, active=data.get("active", True), calendar=box)


def _save(p: Page, station_id: str, kind: str, ident: str | None, form: FormData) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    k = kind_of(kind)
    active = True
    if ident is not None:
        active = record(p.db, station.id, kind, ident).get("active", True)
    controls = k.controls(p.db, station.id, p._)
    data, problems = form_values(k, form, controls)
    if ident is not None:
        data["id"] = ident
    if form.get("add_certificate"):  # 再添加一个证书: the form again, one empty row more, nothing saved
        blank = certificate_rows(form)[1] + 1
        shown = shown_values(controls, {**data, **_raw_text(form, controls)}, k, blank=blank)
        return render_form(p, station, k, shown, ident, active=active)
    problems += [pr for pr in validate(k, data) if pr.column not in {x.column for x in problems}]
    if not problems:
        try:
            store(p.db, station.id, k, data, ident)
        except HTTPException as exc:
            if exc.status_code == status.HTTP_404_NOT_FOUND and ident is not None:
                raise PageError(404, N_("This page does not exist, or belongs to another station.")) from None
            p.db.rollback()
            problems = [form_problem(str(exc.detail))]
            if exc.status_code == status.HTTP_409_CONFLICT and not problems[0].column:
                problems[0].column = "id"
        else:
            target = f"/s/{station.id}/people/{kind}/{quote(str(data['id']), safe='')}?saved=1"
            return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    shown = shown_values(controls, {**data, **_raw_text(form, controls)}, k)
    return render_form(p, station, k, shown, ident, problems, active=active, status_code=422)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _raw_text(form: FormData, controls: Sequence[Control]) -> dict[str, str]:
    """The text the user typed, kept as typed when the form is shown again."""
    return {
        c.name: str(form.get(c.name) or "")
        for c in controls
        if c.widget in ("text", "tel", "number", "select") and isinstance(form.get(c.name), str)
    }


@router.post("/s/{station_id}/people/{kind}/new")
async def create(request: Request, db: SessionDep, station_id: str, kind: str) -> Response:
    """Register a new record (the people services check it)."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_save, p, station_id, kind, None, form)


@router.post("/s/{station_id}/people/{kind}/{ident}")
async def update(request: Request, db: SessionDep, station_id: str, kind: str, ident: str) -> Response:
    """Change a record (PATCH service: the changed record is checked whole)."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_save, p, station_id, kind, ident, form)


def _set_active(p: Page, station_id: str, kind: str, ident: str, form: FormData) -> Response:
    check_csrf(p.request, p.data, _text(form.get("csrf_token")))
    station = p.station(station_id)
    kind_of(kind)
    before = record(p.db, station.id, kind, ident)
    if form.get("active") == "1":
        if kind == "volunteers":
            people.update_volunteer(p.db, station.id, ident, VolunteerUpdate(active=True))
        elif kind == "beneficiaries":
            people.update_beneficiary(p.db, station.id, ident, BeneficiaryUpdate(active=True))
        else:
            people.update_need(p.db, station.id, before["beneficiary_id"], ident, NeedUpdate(active=True))
    else:
        row: VolunteerRow | BeneficiaryRow | NeedRow | None
        if kind == "volunteers":
            row = p.db.get(VolunteerRow, ident)
        elif kind == "beneficiaries":
            row = p.db.get(BeneficiaryRow, ident)
        else:
            row = people.find_need(p.db, station.id, before["beneficiary_id"], ident)
        assert row is not None  # record() found it in the station
        people.deactivate(p.db, row)
    return RedirectResponse(
        f"/s/{station.id}/people/{kind}/{quote(ident, safe='')}", status.HTTP_303_SEE_OTHER
    )


@router.post("/s/{station_id}/people/{kind}/{ident}/active")
async def set_active(request: Request, db: SessionDep, station_id: str, kind: str, ident: str) -> Response:
    """Deactivate (soft delete: ``active`` false) or reactivate a record."""
    p = await run_in_threadpool(_page, request, db)
    form = await request.form()
    return await run_in_threadpool(_set_active, p, station_id, kind, ident, form)
