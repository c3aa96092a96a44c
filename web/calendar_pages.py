"""日历订阅: the calendar box of a volunteer's page in the 人员 section.

A coordinator makes a volunteer's calendar link (生成订阅链接), makes it anew (重新生成: the old link
stops working at once, e.g. for a lost phone) or stops it (停用).  The link, with its secret, is shown
once, in the answer to the post that made it: as text to copy, as a ``webcal://`` link to tap on the
volunteer's phone, and as a QR code (segno, inline SVG) that an iPhone's camera scans to subscribe;
with a short explanation of how to subscribe on an iPhone or an Android phone.  Afterwards the page
only says that a link exists and since when (only its digest is stored).  The rules are
:mod:`api.services.calendars`', the API's (``POST/DELETE /v1/volunteers/{id}/calendar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from api.deps import SessionDep
from api.models import Volunteer
from api.services import calendars, records
from api.services.errors import ConflictError
from api.settings import get_settings
from web.i18n import N_
from web.views import CsrfForm, Page, PageError, check_csrf, page

router = APIRouter(include_in_schema=False)

NOT_HERE = N_("This page does not exist, or belongs to another station.")


@dataclass(frozen=True)
class CalendarBox:
    """What the box shows: whether a link is live and since when; the link itself only just after it
    was made (``url`` and the others empty otherwise)."""

    live: bool
    created: str = ""
    """When the live link was made, local time (2026-12-07 11:05)."""
    url: str = ""
    webcal: str = ""
    qr: str = ""
    """The ``webcal://`` link as a QR code: an inline ``<svg>``."""
    replaced: bool = False
    """A live link was revoked to make this one."""
    revoked: bool = False
    """The link was just stopped (停用)."""
    error: str = ""
    unreachable: str = ""
    """The link's host when a phone cannot reach it (this computer: ``LINLI_PUBLIC_URL`` is unset)."""


def _local(moment: Any) -> str:
    if moment is None:
        return ""
    local = calendars.as_local(moment)
    return f"{local:%Y-%m-%d %H:%M}"


def calendar_box(p: Page, volunteer_id: str) -> CalendarBox:
    """The box of a volunteer's page as it stands (no link shown: it is shown only once)."""
    live = calendars.live_link(p.db, volunteer_id)
    return CalendarBox(live=live is not None, created=_local(live.created_at if live else None))


def qr_svg(text: str, title: str) -> str:
    """``text`` as a QR code: an inline SVG, black on white with the quiet zone (a phone's camera needs
    the contrast), scaled by the page's CSS."""
    code = segno.make(text, error="m")
    svg: str = code.svg_inline(scale=4, dark="#000", light="#fff", title=title, svgclass="qr", omitsize=True)
    return svg


def base_url(request: Request) -> str:
    """Where phones reach the service: ``LINLI_PUBLIC_URL``, else the host this page was served from."""
    return get_settings().public_url or str(request.base_url)


def loopback_host(url: str) -> str:
    """The host of ``url`` when it is this computer (localhost, 127.x, ::1), else empty."""
    host = urlsplit(url).hostname or ""
    return host if host in ("localhost", "::1") or host.startswith("127.") else ""


def _volunteer(p: Page, station_id: str, volunteer_id: str) -> Volunteer:
    station = p.station(station_id)
    try:
        volunteer = records.volunteer_in_scope(p.db, p.principal, volunteer_id)
    except HTTPException:
        raise PageError(404, NOT_HERE) from None
    if volunteer.station_id != station.id:
        raise PageError(404, NOT_HERE)
    return volunteer


class CalendarForm(CsrfForm):
    """生成订阅链接 / 重新生成 (``new``) or 停用 (``revoke``)."""

    action: str = Field(default="", max_length=10)


@router.post("/s/{station_id}/people/volunteers/{volunteer_id}/calendar")
def calendar_action(
    request: Request,
    db: SessionDep,
    station_id: str,
    volunteer_id: str,
    form: Annotated[CalendarForm, Form()],
) -> HTMLResponse:
    """Make the volunteer's calendar link anew (the old one revoked) or revoke it; the answer is the
    volunteer's page with the box saying what happened (and the new link, this once)."""
    from web import people_pages  # it imports this module (its page shows the box)

    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    volunteer = _volunteer(p, station_id, volunteer_id)
    if form.action == "revoke":
        calendars.revoke_link(db, volunteer)
        box = CalendarBox(live=False, revoked=True)
    elif form.action == "new":
        had = calendars.live_link(db, volunteer.id) is not None
        try:
            feed, secret = calendars.issue_link(db, volunteer)
        except ConflictError:
            box = calendar_box(p, volunteer.id)
            box = CalendarBox(box.live, box.created, error=N_("Another link was made at the same moment."))
        else:
            url, webcal = calendars.subscription_urls(base_url(request), secret)
            title = p._("Scan with the phone's camera to subscribe to %(name)s's calendar") % {
                "name": volunteer.name or volunteer.id
            }
            box = CalendarBox(
                live=True,
                created=_local(feed.created_at),
                url=url,
                webcal=webcal,
                qr=qr_svg(webcal, title),
                replaced=had,
                unreachable=loopback_host(url),
            )
    else:
        raise PageError(422, N_("Choose what to do with the calendar link."))
    response = people_pages.volunteer_page(p, station_id, volunteer.id, box)
    # The link is in this answer only: no cache keeps it (the browser's back button asks again).
    response.headers["Cache-Control"] = "no-store"
    return response
