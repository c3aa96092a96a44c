"""备选志愿者 and 换人: each session of the week grid lists its ranked stand-ins; one click swaps one in.

The grid (:func:`web.views.grid`) shows, on the week's current plan, up to three stand-ins per
session with why they rank where they do (上周结对, 距离 1.2 公里, 本周已排 2 小时, 履约率 95%),
each with a 换人 button.  Without JavaScript the button opens a confirmation page
(``GET /s/<station>/swap``) whose form posts the swap; with HTMX the button asks for
confirmation in the browser and posts at once, and the grid comes back with the swap in it.
The swap is :func:`api.services.standins.swap_version`, the service ``POST /v1/plans/{id}/swap``
calls: the week's next version, at once, without a solve.

The same rules as every page (:mod:`web.views`): behind login, station-scoped (another
station's ids are 404), every post with the session's CSRF token.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlmodel import Session

from api.deps import MAX_ID, SessionDep
from api.models import PlanAssignment, PlanVersion, SwapRequest
from api.services import plan_posts, standins, versions
from api.services.errors import ConflictError
from matcher.format.bounds import ID_MAX_LENGTH
from matcher.format.errors import InputError
from matcher.standins import Standin
from web import labels
from web.i18n import N_, Gettext
from web.views import CsrfForm, Page, PageError, Standby, Standbys, check_csrf, page

router = APIRouter(include_in_schema=False)

NOT_FOUND = N_("This page does not exist, or belongs to another station.")

RULES: dict[str, str] = {
    "1": N_("the session is not at one of the need's times"),
    "2": N_("the volunteer lacks the skill or a valid certificate the need requires"),
    "3": N_("the volunteer is not free at that time"),
    "4": N_("the volunteer already serves another session at that time"),
    "5": N_("the volunteer would serve more hours than their weekly most"),
    "6": N_("the volunteer would serve more people than their most"),
    "7": N_("the volunteer does not serve that district"),
    "8": N_("a minor volunteer may not take this need"),
    "9": N_("the beneficiary asked for a volunteer of another gender, or not this volunteer"),
}
"""What breaking each hard rule means for a swap, in the coordinators' words."""


def reasons(s: Standin, _: Gettext) -> list[str]:
    """Why a stand-in ranks where they do, in words: pair, distance, reliability, hours planned."""
    out = []
    if s.previous:
        out.append(_("paired last week"))
    elif s.kept_pair:
        out.append(_("serves them this week"))
    out.append(_("%(km)s km away") % {"km": f"{s.km:.1f}"})
    if s.rate is None:
        out.append(_("no record yet"))
    else:
        out.append(_("kept %(rate)s%% of sessions") % {"rate": round(s.rate * 100)})
    if s.no_shows:
        out.append(_("%(n)s no-shows") % {"n": s.no_shows})
    if s.late_cancellations:
        out.append(_("%(n)s late cancellations") % {"n": s.late_cancellations})
    out.append(_("%(hours)s h planned this week") % {"hours": f"{s.hours:g}"})
    return out


def grid_standbys(db: Session, version: PlanVersion, names: versions.Names, _: Gettext) -> Standbys:
    """Each session's assignment id and stand-ins, named and explained, for the grid: by (need,
    volunteer, slot); a group post's member by (need, volunteer, ``""``), who could take their place
    at all the post's sessions."""
    found = standins.plan_standins(db, version) or []
    ids = {
        (a.need_id, a.volunteer_id): a.id for a in versions.assignment_rows(db, version) if a.id is not None
    }
    out: Standbys = {}

    def named(listed: list[Standin]) -> list[Standby]:
        return [
            Standby(s.volunteer, names.volunteers.get(s.volunteer, s.volunteer), reasons(s, _))
            for s in listed
        ]

    for f in found:
        row = ids.get((f.need, f.volunteer))
        if row is None:
            continue
        if f.whole_only:
            out[(f.need, f.volunteer, "")] = (row, named(f.whole))
        for slot, listed in f.sessions.items():
            out[(f.need, f.volunteer, slot)] = (row, named(listed))
    return out


def _rule_words(detail: str, _: Gettext) -> str:
    """The broken rule of a refused swap, in words (empty when the message names none)."""
    found = re.search(r"\(rule (\d)\)", detail)
    return _(RULES[found.group(1)]) if found and found.group(1) in RULES else ""


def _current(p: Page, station_id: str, plan_id: int) -> PlanVersion:
    """The plan version of the station's (404 otherwise)."""
    station = p.station(station_id)
    version = p.plan(plan_id)
    if version.station_id != station.id:
        raise PageError(404, NOT_FOUND)
    return version


def _assignment(db: Session, version: PlanVersion, assignment_id: int) -> PlanAssignment:
    row = db.get(PlanAssignment, assignment_id)
    if row is None or row.plan_id != version.id:
        raise PageError(404, NOT_FOUND)
    return row


PlanId = Annotated[int, Query(ge=1, le=MAX_ID)]
AssignmentId = Annotated[int, Query(ge=1, le=MAX_ID)]
IdText = Annotated[str, Query(max_length=ID_MAX_LENGTH)]


class SwapForm(CsrfForm):
    """换人: the version, the assignment, the stand-in, and one session's slot (empty: all sessions)."""

    plan: int = Field(ge=1, le=MAX_ID)
    assignment: int = Field(ge=1, le=MAX_ID)
    volunteer: str = Field(max_length=ID_MAX_LENGTH)
    slot: str = Field(default="", max_length=ID_MAX_LENGTH)


def _error(p: Page, message: str, detail: str, code: int) -> HTMLResponse:
    """The swap's refusal in the coordinator's words (HTMX swaps only a 200 in: it gets one)."""
    htmx = p.request.headers.get("HX-Request") == "true"
    return p.render("error.html", status_code=200 if htmx else code, message=message, detail=detail)


def swap_page(p: Page, station_id: str, form: SwapForm) -> Response:
    """Swap the stand-in in, then back to the grid with the new version (or the refusal, explained)."""
    version = _current(p, station_id, form.plan)
    try:
        body = SwapRequest(assignment_id=form.assignment, volunteer=form.volunteer, slot=form.slot or None)
    except ValueError:
        raise PageError(404, NOT_FOUND) from None
    try:
        made = standins.swap_version(p.db, version, body)
    except ConflictError as exc:
        return _error(
            p, N_("This plan has changed since the page was loaded: reload the grid."), exc.message, 409
        )
    except InputError as exc:
        words = _rule_words(exc.message, p._)
        message = N_("The stand-in cannot take it.") if words else N_("The swap could not be made.")
        return _error(p, message, f"{words} ({exc.message})" if words else exc.message, 422)
    return RedirectResponse(
        f"/s/{station_id}/grid?week={made.week_start.isoformat()}&swapped={made.version}",
        status.HTTP_303_SEE_OTHER,
    )


def labels_of(
    p: Page, version: PlanVersion, row: PlanAssignment, volunteer: str, slot: str
) -> dict[str, Any]:
    """The confirmation's words: beneficiary, service, session(s), who leaves and who stands in, and why."""
    names = versions.people_names(p.db, p.station(version.station_id or ""))
    need = next(n for n in version.problem["needs"] if n["id"] == row.need_id)
    place = plan_posts.places(version.problem)[row.need_id]
    found = next(
        (
            f
            for f in standins.plan_standins(p.db, version) or []
            if f.need == row.need_id and f.volunteer == row.volunteer_id
        ),
        None,
    )
    listed = found.sessions.get(slot, []) if found and slot else (found.whole if found else [])
    chosen = next((s for s in listed if s.volunteer == volunteer), None)
    whole = bool(found and len(row.slots) > 1 and any(s.volunteer == volunteer for s in found.whole))
    return {
        "beneficiary": place.name if place.at_site else names.beneficiaries.get(place.id, place.id),
        "service": labels.label(labels.SERVICES, need["service"], p._),
        "when": labels.slot_label(slot, p._)
        if slot
        else p._(", ").join(labels.slot_label(s, p._) for s in row.slots),
        "leaving": names.volunteers.get(row.volunteer_id, row.volunteer_id),
        "standin": names.volunteers.get(volunteer, volunteer),
        "reasons": reasons(chosen, p._) if chosen else [],
        "listed": chosen is not None,
        "whole": whole,
        "sessions": len(row.slots),
        "post": bool(found and found.whole_only),
    }


@router.get("/s/{station_id}/swap")
def confirm(
    request: Request,
    db: SessionDep,
    station_id: str,
    plan: PlanId,
    assignment: AssignmentId,
    volunteer: IdText,
    slot: IdText = "",
) -> HTMLResponse:
    """换人确认 (the page without JavaScript): who leaves, who stands in, which session (or all), and why."""
    p = page(request, db)
    version = _current(p, station_id, plan)
    row = _assignment(db, version, assignment)
    if version.plan is None or (slot and slot not in row.slots):
        raise PageError(404, NOT_FOUND)
    return p.render(
        "swap.html",
        station=p.station(station_id),
        plan=version,
        row=row,
        volunteer=volunteer,
        slot=slot,
        words=labels_of(p, version, row, volunteer, slot),
        tab="grid",
    )


@router.post("/s/{station_id}/swap")
def swap(request: Request, db: SessionDep, station_id: str, form: Annotated[SwapForm, Form()]) -> Response:
    """换人: the stand-in takes the session (or the whole assignment); the grid shows the new version."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    return swap_page(p, station_id, form)
