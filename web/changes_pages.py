"""临时变动: changes during the week (a volunteer withdraws, needs are cancelled): re-solve, review, undo.

The form (``/s/<station>/changes``) builds a format-1 change set on the week's current
version and hands it to :func:`api.services.versions.apply_change_set`, the service the
API's ``POST /v1/plans/{id}/changes`` calls; the re-solve's progress page opens the review
(``/plans/<id>/review``) when it is done: against the version it came from, who moves, who
is newly unmet (and why), who is newly served, and the coverage before and after.  The new
version is current from the start: 确认 keeps it, 撤销 goes back to the version before
(:func:`api.services.versions.revert`, as ``POST /v1/plans/{id}/revert``).

The same rules as every page (:mod:`web.views`): behind login, station-scoped (another
station's ids are 404), every post with the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api.deps import SessionDep, job_runner
from api.models import Need as NeedRow
from api.models import PlanVersion, Station
from api.services import planning, versions
from api.services.errors import ConflictError
from matcher.format.bounds import ID_MAX_LENGTH, SESSION_HOURS_MAX, SESSIONS_MAX
from matcher.format.errors import InputError
from matcher.format.schema import (
    CERTIFICATION_KINDS,
    DEFAULT_SLOTS,
    SERVICE_CODES,
    ChangeSet,
    Need,
    Withdrawal,
)
from web import labels
from web.i18n import N_, Gettext
from web.views import (
    CsrfForm,
    Page,
    PageError,
    Week,
    _plan_id,
    _slots,
    _week_links,
    check_csrf,
    page,
    progress_page,
    progress_panel,
    summary,
    week_of,
)

router = APIRouter(include_in_schema=False)

NOT_FOUND = N_("This page does not exist, or belongs to another station.")


class ChangeForm(CsrfForm):
    """临时变动: the version the choices were made on, a volunteer withdrawn (all week or some
    slots) and needs cancelled."""

    plan: int = Field(default=0, ge=0)
    volunteer: str = Field(default="", max_length=64)
    scope: Literal["week", "slots"] = "week"
    slots: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list, max_length=21)
    needs: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=2000)
    # 新增临时需求: one urgent need added (when a beneficiary is chosen)
    beneficiary: str = Field(default="", max_length=64)
    service: str = Field(default="", max_length=64)
    hours: str = Field(default="1", max_length=16)
    sessions: str = Field(default="1", max_length=4)
    windows: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list, max_length=21)
    requires: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=6)
    minor_ok: bool = False
    # 选择 (without JavaScript): the form again for the chosen volunteer, their sessions marked
    choose: bool = False


class FormError(Exception):
    """A changes form that asks for nothing, or for something not in the plan (shown on the form, 422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------ the form


def assigned_slots(current: PlanVersion) -> dict[str, set[str]]:
    """Each volunteer's times (``mon-am`` …) in the version's plan."""
    assert current.plan is not None
    assigned: dict[str, set[str]] = {}
    for _need, volunteer, slots in planning.plan_rows(current.plan):  # a post: each member's
        assigned.setdefault(volunteer, set()).update(slots)
    return assigned


def withdraw_grid(p: Page, current: PlanVersion, volunteer: str, ticked: list[str]) -> dict[str, Any]:
    """The withdrawal's time grid for ``volunteer`` (a volunteer of the version, else nobody): the
    times ticked, and the volunteer's times in the plan, marked so the right ones are ticked."""
    in_plan = {v["id"] for v in current.problem["volunteers"]}
    chosen = volunteer if volunteer in in_plan else ""
    names = versions.people_names(p.db, p.station(current.station_id or "")).volunteers if chosen else {}
    return {
        "ticked": ticked,
        "marked": sorted(assigned_slots(current).get(chosen, set())),
        "marked_name": names.get(chosen, chosen),
    }


def _places(version: PlanVersion, ben_names: dict[str, str]) -> dict[str, str]:
    """Display names of the version's places: beneficiaries', and its sites' (format 2)."""
    return {**ben_names, **{s["id"]: s["name"] for s in version.problem.get("sites", [])}}


def _form_context(p: Page, current: PlanVersion) -> dict[str, Any]:
    """The current version's volunteers (with their sessions) and needs, named, for the form."""
    assert current.plan is not None and current.station_id is not None
    station = p.station(current.station_id)
    vol_names, ben_names, _districts = versions.people_names(p.db, station)
    assigned = assigned_slots(current)
    volunteers = sorted(
        (
            {
                "id": v["id"],
                "name": vol_names.get(v["id"], v["id"]),
                "slots": [labels.slot_label(s, p._) for s in DEFAULT_SLOTS if s in assigned.get(v["id"], ())],
            }
            for v in current.problem["volunteers"]
        ),
        key=lambda v: (not v["slots"], v["name"], v["id"]),
    )
    bens = {b["id"]: b for b in current.problem["beneficiaries"]}
    places = _places(current, ben_names)
    met: dict[str, list[str]] = {}
    for need, volunteer, _at in planning.plan_rows(current.plan):  # a post: its members
        met.setdefault(need, []).append(vol_names.get(volunteer, volunteer))
    needs = sorted(
        (
            {
                "id": n["id"],
                "beneficiary": places.get(planning.place_of(n), planning.place_of(n)),
                "category": bens[n["beneficiary"]]["category"] if "beneficiary" in n else p._("Group posts"),
                "service": n["service"],
                "sessions": n["sessions"],
                "hours": n["hours"],
                "volunteer": "、".join(met[n["id"]]) if n["id"] in met else None,
            }
            for n in current.problem["needs"]
        ),
        key=lambda n: (n["beneficiary"], n["id"]),
    )
    beneficiaries = sorted(
        ({"id": b["id"], "name": ben_names.get(b["id"], b["id"])} for b in current.problem["beneficiaries"]),
        key=lambda b: (b["name"], b["id"]),
    )
    return {
        "volunteers": volunteers,
        "needs": needs,
        "beneficiaries": beneficiaries,
        "services": [(code, labels.label(labels.SERVICES, code, p._)) for code in labels.SERVICES],
        "certificates": [(code, p._(name)) for code, name in labels.CERTIFICATES.items()],
        "sessions_max": SESSIONS_MAX,
    }


def _form_page(
    p: Page, station: Station, monday: dt.date, chosen: ChangeForm | None = None, error: str = ""
) -> HTMLResponse:
    """The form on the week's current version (``chosen``: a refused post's choices, kept)."""
    current = versions.current_version(p.db, station.id, monday)
    pending = current if current is not None and current.state in versions.RUNNING else None
    ready = current is not None and current.state == "done"
    chosen = chosen or ChangeForm()
    grid = withdraw_grid(p, current, chosen.volunteer, chosen.slots) if ready and current else {}
    return p.render(
        "changes.html",
        station=station,
        current=current if ready else None,
        pending=pending,
        days=_slots(p._),
        tab="changes",
        chosen=chosen,
        grid=grid,
        error=error,
        status_code=422 if error else 200,
        **(_form_context(p, current) if ready and current is not None else {}),
        **_week_links(monday),
    )


@router.get("/s/{station_id}/changes")
def changes_form(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """临时变动: withdraw a volunteer (the whole week or some slots) and cancel needs of the current plan."""
    p = page(request, db)
    return _form_page(p, p.station(station_id), week_of(week))


def _need_id(db: SessionDep, current: PlanVersion, beneficiary: str) -> str:
    """A need id for an urgent need of ``beneficiary``: ``urgent-<beneficiary>-<n>``, in neither the
    week's problem nor the city's needs (ids of the format: at most 64 characters)."""
    taken = {n["id"] for n in current.problem["needs"]}
    n = 1
    while True:
        suffix = f"-{n}"
        candidate = "urgent-" + beneficiary[: ID_MAX_LENGTH - len("urgent-") - len(suffix)] + suffix
        if candidate not in taken and db.get(NeedRow, candidate) is None:
            return candidate
        n += 1


def _added_need(db: SessionDep, form: ChangeForm, current: PlanVersion) -> Need | None:
    """新增临时需求: the urgent need the form adds (``None`` when no beneficiary is chosen)."""
    if not form.beneficiary:
        if form.windows or form.requires:
            raise FormError(N_("Choose the beneficiary of the new need."))
        return None
    if form.beneficiary not in {b["id"] for b in current.problem["beneficiaries"]}:
        raise FormError(N_("Choose a beneficiary of this week's plan."))
    if form.service not in SERVICE_CODES:
        raise FormError(N_("Choose the service of the new need."))
    try:
        hours = float(form.hours.strip())
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and 0 < hours <= SESSION_HOURS_MAX):
        raise FormError(N_("The hours per session must be more than 0 and at most 12."))
    sessions = int(form.sessions) if form.sessions.strip().isdigit() else 0
    if not 1 <= sessions <= SESSIONS_MAX:
        raise FormError(N_("The sessions a week must be from 1 to 7."))
    slots = current.problem.get("slots") or DEFAULT_SLOTS
    windows = [s for s in slots if s in set(form.windows)]
    if not windows or len(windows) != len(set(form.windows)):
        raise FormError(N_("Choose the times the new need may take."))
    if len(windows) < sessions:
        raise FormError(N_("Choose at least as many times as the new need has sessions."))
    if any(r not in CERTIFICATION_KINDS for r in form.requires):
        raise FormError(N_("Choose certificates from the list."))
    return Need(
        id=_need_id(db, current, form.beneficiary),
        beneficiary=form.beneficiary,
        service=form.service,
        hours=hours,
        sessions=sessions,
        windows=windows,
        requires=[r for r in CERTIFICATION_KINDS if r in set(form.requires)],
        minor_ok=form.minor_ok,
    )


def _change_set(db: SessionDep, form: ChangeForm, current: PlanVersion) -> ChangeSet:
    """The format-1 change set the form asks for; :class:`FormError` naming what is missing or wrong."""
    volunteers = {v["id"] for v in current.problem["volunteers"]}
    needs = {n["id"] for n in current.problem["needs"]}
    withdrawn: list[Withdrawal] = []
    if form.volunteer:
        if form.volunteer not in volunteers:
            raise FormError(N_("Choose a volunteer of this week's plan."))
        slots = None
        if form.scope == "slots":
            slots = [s for s in DEFAULT_SLOTS if s in set(form.slots)]
            if not slots or len(slots) != len(set(form.slots)):
                raise FormError(N_("Choose the times the volunteer cannot come."))
        withdrawn.append(Withdrawal(volunteer=form.volunteer, slots=slots))
    cancelled = list(dict.fromkeys(form.needs))
    if any(n not in needs for n in cancelled):
        raise FormError(N_("Choose needs of this week's plan."))
    added = _added_need(db, form, current)
    if not withdrawn and not cancelled and added is None:
        raise FormError(N_("Choose a volunteer who withdraws, needs to cancel, or a need to add."))
    return ChangeSet(
        format=1,
        volunteers_withdrawn=withdrawn,
        needs_cancelled=cancelled,
        needs_added=[added] if added is not None else [],
    )


@router.post("/s/{station_id}/changes")
def apply_changes(
    request: Request, db: SessionDep, station_id: str, form: Annotated[ChangeForm, Form()]
) -> Response:
    """Re-solve the week's current version after the changes, then show the job's progress."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    current = p.plan(_plan_id(form.plan)) if form.plan else None
    if current is None or current.station_id != station.id:
        raise PageError(404, NOT_FOUND)
    if form.choose:  # 选择: nothing applied, the form again with the volunteer's times marked
        return _form_page(p, station, current.week_start, form)
    try:
        changes = _change_set(db, form, current)
    except FormError as exc:
        return _form_page(p, station, current.week_start, form, exc.message)
    try:
        made = versions.apply_change_set(db, job_runner(request), current, changes)
    except (ConflictError, InputError) as exc:
        return p.render(
            "error.html",
            status_code=409,
            message=N_("The changes could not be applied."),
            detail=exc.message,
        )
    return RedirectResponse(f"/plans/{made.id}/change", status.HTTP_303_SEE_OTHER)


@router.get("/s/{station_id}/changes/slots")
def withdraw_slots(
    request: Request,
    db: SessionDep,
    station_id: str,
    plan: Annotated[int, Query(ge=1)],
    volunteer: Annotated[str, Query(max_length=64)] = "",
    slots: Annotated[list[Annotated[str, Field(max_length=16)]], Query(max_length=21)] = [],  # noqa: B006
) -> HTMLResponse:
    """The withdrawal's time grid for a volunteer of the plan (HTMX swaps it in when the volunteer is
    chosen): their times in the plan marked, ``slots`` kept ticked."""
    p = page(request, db)
    station = p.station(station_id)
    current = p.plan(_plan_id(plan))
    if current.station_id != station.id or current.plan is None:
        raise PageError(404, NOT_FOUND)
    return p.render(
        "changes_slots.html",
        station=station,
        days=_slots(p._),
        grid=withdraw_grid(p, current, volunteer, slots),
    )


# ------------------------------------------------------------------------ the re-solve's progress


@router.get("/plans/{plan_id}/change")
def change_progress(request: Request, db: SessionDep, plan_id: int) -> HTMLResponse:
    """The re-solve's progress (the generate flow's page and panel); it opens the review when done."""
    return progress_page(page(request, db), plan_id, "changes", *_flow(plan_id))


@router.get("/plans/{plan_id}/change/panel")
def change_panel(request: Request, db: SessionDep, plan_id: int) -> Response:
    """The re-solve's progress panel (HTMX); a finished re-solve opens its review."""
    return progress_panel(page(request, db), plan_id, *_flow(plan_id))


def _flow(plan_id: int) -> tuple[str, str]:
    """A re-solve's panel and where it goes once done: its review."""
    return f"/plans/{plan_id}/change/panel", f"/plans/{plan_id}/review"


# ------------------------------------------------------------------------ the review


@dataclass
class Line:
    """One need of the review: whom, what, and who serves it when, before and after."""

    need: str
    beneficiary: str
    service: str
    before: str
    after: str
    reasons: list[str]


def _serving(where: dict[str, Any] | None, vol_names: dict[str, str], _: Gettext) -> str:
    """``{volunteer, slots}`` as 张三 · 周一上午, 周三下午 (empty when unmet)."""
    if where is None:
        return ""
    slots = _(", ").join(labels.slot_label(s, _) for s in where["slots"])
    return f"{vol_names.get(where['volunteer'], where['volunteer'])} · {slots}"


def review_lines(
    names: versions.Names, version: PlanVersion, parent: PlanVersion, _: Gettext
) -> dict[str, list[Line]]:
    """The API's diff of ``version`` against ``parent``, sorted into moves, newly unmet (with
    their reasons), newly served and needs gone from the week (cancelled)."""
    assert version.plan is not None
    vol_names, ben_names, _districts = names
    needs = {n["id"]: n for n in parent.problem["needs"]} | {n["id"]: n for n in version.problem["needs"]}
    places = _places(parent, ben_names) | _places(version, ben_names)
    now = {n["id"] for n in version.problem["needs"]}
    reasons = {u["need"]: u["reasons"] for u in version.plan["unmet"]}
    out: dict[str, list[Line]] = {"moved": [], "unmet": [], "served": [], "cancelled": []}
    for entry in versions.diff(version, parent).changed:
        n = needs[entry.need]
        line = Line(
            entry.need,
            places.get(planning.place_of(n), planning.place_of(n)),
            labels.label(labels.SERVICES, n["service"], _),
            _serving(entry.before, vol_names, _),
            _serving(entry.after, vol_names, _),
            [labels.label(labels.REASONS, r, _) for r in reasons.get(entry.need, [])],
        )
        if entry.need not in now:
            out["cancelled"].append(line)
        elif entry.before is None:
            out["served"].append(line)
        elif entry.after is None:
            out["unmet"].append(line)
        else:
            out["moved"].append(line)
    # A need added by the change and left unmet is unmet before and after: the diff does not
    # list it, but it is newly unmet all the same.
    before = {n["id"] for n in parent.problem["needs"]}
    for u in version.plan["unmet"]:
        if u["need"] not in before:
            n = needs[u["need"]]
            out["unmet"].append(
                Line(
                    u["need"],
                    places.get(planning.place_of(n), planning.place_of(n)),
                    labels.label(labels.SERVICES, n["service"], _),
                    "",
                    "",
                    [labels.label(labels.REASONS, r, _) for r in u["reasons"]],
                )
            )
    return out


def _parent_of(p: Page, plan: PlanVersion) -> PlanVersion:
    if plan.parent_id is None:
        raise PageError(404, N_("This plan version was not made by a change: there is nothing to compare."))
    return p.plan(plan.parent_id)


@router.get("/plans/{plan_id}/review")
def review(request: Request, db: SessionDep, plan_id: int) -> Response:
    """The re-solve against its parent: moves, newly unmet, newly served, coverage; 确认 or 撤销."""
    p = page(request, db)
    plan = p.plan(_plan_id(plan_id))
    station = p.station(plan.station_id or "")
    parent = _parent_of(p, plan)
    if plan.plan is None or parent.plan is None:  # still solving, failed or cancelled: its progress page
        return RedirectResponse(f"/plans/{plan.id}/change", status.HTTP_303_SEE_OTHER)
    names = versions.people_names(db, station)
    current = versions.current_version(db, station.id, plan.week_start)
    return p.render(
        "changes_review.html",
        station=station,
        plan=plan,
        parent=parent,
        current=current,
        is_current=current is not None and current.id == plan.id,
        lines=review_lines(names, plan, parent, p._),
        before=summary(parent, names.districts, p._),
        after=summary(plan, names.districts, p._),
        withdrawn=[
            {
                "name": names.volunteers.get(w["volunteer"], w["volunteer"]),
                "slots": [labels.slot_label(s, p._) for s in w.get("slots") or []],
            }
            for w in (plan.changes or {}).get("volunteers_withdrawn", [])
        ],
        cancelled=len((plan.changes or {}).get("needs_cancelled", [])),
        added=[
            {
                "beneficiary": names.beneficiaries.get(n["beneficiary"], n["beneficiary"]),
                "service": labels.label(labels.SERVICES, n["service"], p._),
                "sessions": n["sessions"],
                "hours": n["hours"],
            }
            for n in (plan.changes or {}).get("needs_added", [])
        ],
        tab="changes",
        week=plan.week_start,
    )


@router.post("/plans/{plan_id}/accept")
def accept(request: Request, db: SessionDep, plan_id: int, form: Annotated[CsrfForm, Form()]) -> Response:
    """确认: the re-solve is current already; back to the week grid."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    plan = p.plan(_plan_id(plan_id))
    return RedirectResponse(
        f"/s/{plan.station_id}/grid?week={plan.week_start.isoformat()}", status.HTTP_303_SEE_OTHER
    )


@router.post("/plans/{plan_id}/undo")
def undo(request: Request, db: SessionDep, plan_id: int, form: Annotated[CsrfForm, Form()]) -> Response:
    """撤销: the re-solve is withdrawn and the version it came from is current again."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    plan = p.plan(_plan_id(plan_id))
    try:
        versions.revert(db, plan)
    except ConflictError as exc:
        return p.render(
            "error.html", status_code=409, message=N_("This change could not be undone."), detail=exc.message
        )
    return RedirectResponse(f"/plans/{plan.id}/review", status.HTTP_303_SEE_OTHER)
