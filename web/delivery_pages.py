"""消息发送记录: a station's webhook receivers and the delivery log of its published messages.

``/s/<station>/deliveries`` lists the station's receivers (its SMS or WeChat gateway: name,
address, 启用/已停用) with a form to add one and a 停用 button each, and the latest
deliveries (对象, 状态 已送达 / 等待发送 / 等待重试 / 失败, 次数, 最近结果, 时间), filtered by
state, with 重试 for a failed one.  Adding a receiver answers the page itself with the new
secret shown this once (it is never shown again, as with tokens) and a hint to copy it to the
gateway.  Every write goes through :mod:`api.services.webhooks`, as the API's routes do.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field, ValidationError

from api.deps import MAX_ID, SessionDep
from api.models import DELIVERY_STATES, DeliveryPublic, Station, WebhookCreate
from api.services import versions, webhooks
from api.services.errors import ConflictError
from api.session_times import TIMEZONE
from web.i18n import N_, Gettext
from web.views import CsrfForm, Page, PageError, check_csrf, page

router = APIRouter(include_in_schema=False)

NOT_HERE = N_("This page does not exist, or belongs to another station.")
SHOWN = 100
"""Deliveries the page lists (the newest; the API pages through all of them)."""

STATES: dict[str, str] = {
    "delivered": N_("Delivered"),
    "waiting": N_("Waiting to send"),
    "retrying": N_("Waiting to retry"),
    "failed": N_("Failed"),
}
"""How a delivery's state reads (已送达 / 等待发送 / 等待重试 / 失败)."""

RECIPIENTS: dict[str, str] = {"volunteer": N_("Volunteer"), "beneficiary": N_("Beneficiary's family")}


class WebhookForm(CsrfForm):
    """添加接收地址: a name and an address (the model holds the real bounds)."""

    name: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=2000)
    description: str = Field(default="", max_length=2000)


def local(moment: dt.datetime) -> dt.datetime:
    """A stored time in the stations' clock (Beijing time; SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TIMEZONE)


def shown_state(delivery: DeliveryPublic) -> str:
    """The state as the page names it: a pending one waits to be sent, or (tried already) to be retried."""
    if delivery.state == "pending":
        return "retrying" if delivery.attempts else "waiting"
    return delivery.state


def last_result(delivery: DeliveryPublic, _: Gettext) -> str:
    """最近结果: the last attempt's HTTP status or error, or a dash."""
    if not delivery.log:
        return "—"
    last = delivery.log[-1]
    if last.status is not None:
        return f"HTTP {last.status}" + (" " + _("(accepted)") if 200 <= last.status < 300 else "")
    return last.error or "—"


def _rows(p: Page, station: Station, state: str | None) -> tuple[list[dict[str, Any]], int]:
    names = versions.people_names(p.db, station)
    found = webhooks.deliveries(p.db, station, state, limit=SHOWN)
    rows = []
    for d in found.items:
        people = names.volunteers if d.recipient_kind == "volunteer" else names.beneficiaries
        rows.append(
            {
                "d": d,
                "who": people.get(d.recipient_id, d.recipient_id),
                "kind": RECIPIENTS.get(d.recipient_kind, d.recipient_kind),
                "state": shown_state(d),
                "result": last_result(d, p._),
                "at": local(d.log[-1].at if d.log else d.created_at),
            }
        )
    return rows, found.total


def _render(p: Page, station: Station, state: str | None, **more: Any) -> HTMLResponse:
    rows, total = _rows(p, station, state)
    return p.render(
        "deliveries.html",
        station=station,
        endpoints=[(e, local(e.created_at)) for e in webhooks.endpoints(p.db, station)],
        rows=rows,
        total=total,
        states=STATES,
        filter=state or "",
        filters=DELIVERY_STATES,
        tab="deliveries",
        **more,
    )


def _state(text: str | None) -> str | None:
    if not text:
        return None
    if text not in DELIVERY_STATES:
        raise PageError(422, N_("Unknown state."))
    return text


@router.get("/s/{station_id}/deliveries")
def deliveries_page(
    request: Request, db: SessionDep, station_id: str, state: str | None = None
) -> HTMLResponse:
    """消息发送记录: the receivers and the newest deliveries."""
    p = page(request, db)
    return _render(p, p.station(station_id), _state(state))


@router.post("/s/{station_id}/deliveries/webhooks")
def add_webhook(
    request: Request, db: SessionDep, station_id: str, form: Annotated[WebhookForm, Form()]
) -> Response:
    """Add a receiver; the page comes back with its secret, shown this once."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    try:
        body = WebhookCreate(
            name=form.name.strip(), url=form.url.strip(), description=form.description.strip()
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}"
        return p.render(
            "error.html",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            station=station,
            message=N_("The receiver could not be added."),
            detail=detail,
        )
    endpoint, secret = webhooks.create_endpoint(db, station, body)
    return _render(p, station, None, created=endpoint, secret=secret, status_code=status.HTTP_201_CREATED)


def _id(text: int) -> int:
    if not 1 <= text <= MAX_ID:
        raise PageError(404, NOT_HERE)
    return text


@router.post("/s/{station_id}/deliveries/webhooks/{webhook_id}/deactivate")
def deactivate_webhook(
    request: Request, db: SessionDep, station_id: str, webhook_id: int, form: Annotated[CsrfForm, Form()]
) -> Response:
    """停用: nothing more is sent to the receiver."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    endpoint = webhooks.endpoint_in_scope(db, p.principal, _id(webhook_id))
    if endpoint is None or endpoint.station_id != station.id:
        raise PageError(404, NOT_HERE)
    webhooks.deactivate(db, endpoint)
    return RedirectResponse(f"/s/{station.id}/deliveries", status.HTTP_303_SEE_OTHER)


@router.post("/s/{station_id}/deliveries/{delivery_id}/retry")
def retry_delivery(
    request: Request, db: SessionDep, station_id: str, delivery_id: int, form: Annotated[CsrfForm, Form()]
) -> Response:
    """重试: a failed delivery is sent again now."""
    p = page(request, db)
    check_csrf(request, p.data, form.csrf_token)
    station = p.station(station_id)
    delivery = webhooks.delivery_in_scope(db, p.principal, _id(delivery_id))
    if delivery is None or delivery.station_id != station.id:
        raise PageError(404, NOT_HERE)
    try:
        webhooks.retry(db, delivery)
    except ConflictError:
        message = N_("This message is not waiting for a retry, or its receiver was deactivated.")
        return p.render("error.html", status_code=409, station=station, message=message)
    return RedirectResponse(f"/s/{station.id}/deliveries", status.HTTP_303_SEE_OTHER)
