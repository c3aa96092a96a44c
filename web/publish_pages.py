"""发布 and 通知: publishing the week's plan, and the messages it sent, for the coordinators.

* Every week page shows whether the week's plan is a draft (草稿) or published (已发布, when),
  with a 发布本周安排 button (``publication.html``, included by ``week.html``).
* ``/s/<station>/publish?week=`` confirms first: how many volunteers and families will be told,
  and one of the messages as it will read; its form publishes through
  :func:`api.services.publication.publish`, the service ``POST /v1/plans/{id}/publish`` calls.
* ``/s/<station>/messages?week=`` (通知) lists the week's messages by publication, newest first:
  recipient, phone (masked in the list), the text with a 复制 button, and per publication
  下载 CSV / 下载文本 for stations that send by hand (phones in full there: the station's own).
  The delivery log of the webhook channel is another page (``/s/<station>/deliveries``), linked
  from here.

The same rules as every page (:mod:`web.views`): behind login, station-scoped (another
station's ids are 404), every post with the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api import tables
from api.contacts import mask_phone
from api.deps import MAX_ID, SessionDep
from api.models import OutboxMessage, PlanVersion, Station
from api.services import publication, versions
from api.services.errors import ConflictError
from web.i18n import N_
from web.views import CsrfForm, Page, PageError, Week, _week_links, check_csrf, env, page, week_of

router = APIRouter(include_in_schema=False)

NOT_FOUND = N_("This page does not exist, or belongs to another station.")


def local_time(moment: dt.datetime | None) -> str:
    """A stored time as the station's clock shows it: ``2026-12-05 14:20`` (Asia/Shanghai)."""
    if moment is None:
        return ""
    return publication.local_time(moment).strftime("%Y-%m-%d %H:%M")


env.filters["local_time"] = local_time  # the week pages' publication status shows it


class PublishForm(CsrfForm):
    """发布本周安排: the version the confirmation counted."""

    plan: int = Field(default=0, ge=0, le=MAX_ID)


@dataclass
class Publication:
    """One publication's messages: the version announced, against which, when."""

    plan: PlanVersion
    against: int | None
    created_at: dt.datetime
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def volunteers(self) -> int:
        return sum(m["kind"] == publication.VOLUNTEER for m in self.messages)

    @property
    def families(self) -> int:
        return sum(m["kind"] == publication.BENEFICIARY for m in self.messages)


def _row(m: OutboxMessage) -> dict[str, Any]:
    name, phone, wechat = publication.contact(m)
    return {
        "id": m.id,
        "kind": m.recipient_kind,
        "name": name,
        "phone": mask_phone(phone) if phone else "",
        "wechat": bool(wechat),
        "body": m.body,
        "change": m.payload.get("change", ""),
    }


def publications(db: SessionDep, station: Station, monday: dt.date) -> list[Publication]:
    """The week's publications with their messages, newest first."""
    out: dict[tuple[int, int | None], Publication] = {}
    for m in publication.week_messages(db, station, monday):
        against = m.payload.get("against")
        key = (m.plan_id, against if isinstance(against, int) else None)
        if key not in out:
            plan = db.get(PlanVersion, m.plan_id)
            assert plan is not None
            out[key] = Publication(plan, key[1], m.created_at)
        out[key].messages.append(_row(m))
    for p in out.values():
        p.messages.reverse()  # oldest first within a publication: volunteers, then families
    return list(out.values())


def _current(p: Page, station: Station, monday: dt.date) -> PlanVersion | None:
    """The week's current version, if it is finished (the one to publish)."""
    current = versions.current_version(p.db, station.id, monday)
    return current if current is not None and current.state == "done" else None


@router.get("/s/{station_id}/publish")
def confirm(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """发布本周安排, confirmed first: who will be told, and one message as it will read."""
    p = page(request, db)
    station = p.station(station_id)
    monday = week_of(week)
    current = _current(p, station, monday)
    drafts = publication.pending_drafts(db, current) if current is not None else []
    return p.render(
        "publish.html",
        station=station,
        current=current,
        volunteers=sum(d.recipient_kind == publication.VOLUNTEER for d in drafts),
        families=sum(d.recipient_kind == publication.BENEFICIARY for d in drafts),
        sample=drafts[0].body if drafts else "",
        tab="messages",
        **_week_links(monday),
    )


@router.post("/s/{station_id}/publish")
def publish(
    request: Request, db: SessionDep, station_id: str, form: Annotated[PublishForm, Form()]
) -> Response:
    """Publish the version the confirmation showed; then the week's 通知."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    plan = p.plan(form.plan) if form.plan else None
    if plan is None or plan.station_id != station.id:
        raise PageError(404, NOT_FOUND)
    try:
        publication.publish(db, plan)
    except ConflictError as exc:
        return p.render(
            "error.html",
            status_code=409,
            message=N_("The plan could not be published."),
            detail=exc.message,
        )
    return RedirectResponse(
        f"/s/{station.id}/messages?week={plan.week_start.isoformat()}", status.HTTP_303_SEE_OTHER
    )


@router.get("/s/{station_id}/messages")
def messages(request: Request, db: SessionDep, station_id: str, week: Week = None) -> HTMLResponse:
    """通知: the week's messages, by publication, newest first."""
    p = page(request, db)
    station = p.station(station_id)
    monday = week_of(week)
    shown, pending = versions.week_versions(db, station, monday)
    return p.render(
        "messages.html",
        station=station,
        shown=shown,
        pending=pending,
        publications=publications(db, station, monday),
        tab="messages",
        **_week_links(monday),
    )


PlanQuery = Annotated[int, Query(ge=1, le=MAX_ID)]
AgainstQuery = Annotated[int, Query(ge=0, le=MAX_ID)]


def _download(
    p: Page, station_id: str, plan_id: int, against: int
) -> tuple[PlanVersion, list[OutboxMessage]]:
    """One publication's messages (the version ``plan_id`` announced against ``against``, 0: the first)."""
    station = p.station(station_id)
    plan = p.plan(plan_id)
    if plan.station_id != station.id:
        raise PageError(404, NOT_FOUND)
    found = publication.plan_messages(p.db, plan).items
    return plan, [m for m in found if (m.payload.get("against") or 0) == against]


@router.get("/s/{station_id}/messages.csv")
def messages_csv(
    request: Request, db: SessionDep, station_id: str, plan: PlanQuery, against: AgainstQuery = 0
) -> Response:
    """下载 CSV: one publication's messages, phones in full, every cell neutralised."""
    version, found = _download(page(request, db), station_id, plan, against)
    name = f"messages-{version.station_id}-{version.week_start}-v{version.version}"
    return tables.export("csv", publication.EXPORT_HEADER, publication.export_rows(found), name)


@router.get("/s/{station_id}/messages.txt")
def messages_txt(
    request: Request, db: SessionDep, station_id: str, plan: PlanQuery, against: AgainstQuery = 0
) -> Response:
    """下载文本: one publication's messages as text blocks (收件人, 电话, the text)."""
    version, found = _download(page(request, db), station_id, plan, against)
    name = f"messages-{version.station_id}-{version.week_start}-v{version.version}.txt"
    return Response(
        publication.export_text(found).encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": tables.content_disposition(name)},
    )
