"""A station's signed webhook receivers and the delivery log of its published messages.

The receiver's secret is in the creation's response and nowhere else; the dispatcher
(:mod:`api.delivery`, run by the job workers) signs every POST with it (docs/service.md says
how a gateway checks).  Another station's endpoint or delivery answers 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.deps import MAX_ID, PrincipalDep, SessionDep, StationDep, not_found, plan_in_scope
from api.models import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic
from api.routers.records import Paging, paging
from api.services import webhooks

router = APIRouter(prefix="/v1", tags=["webhooks"])

WebhookId = Annotated[int, Path(ge=1, le=MAX_ID, description="A webhook endpoint's id.")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="A delivery's id.")]


@router.post(
    "/stations/{station_id}/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated
)
def post_webhook(body: WebhookCreate, station: StationDep, session: SessionDep) -> WebhookCreated:
    """Add a webhook receiver (the station's SMS or WeChat gateway); its signing secret is in this
    response and never shown again.  Messages published from now on are POSTed to it."""
    endpoint, secret = webhooks.create_endpoint(session, station, body)
    return WebhookCreated(**webhooks.public(endpoint).model_dump(), secret=secret)


@router.get("/stations/{station_id}/webhooks", response_model=list[WebhookPublic])
def get_webhooks(station: StationDep, session: SessionDep) -> list[WebhookPublic]:
    """The station's receivers, active first (never their secrets)."""
    return [webhooks.public(e) for e in webhooks.endpoints(session, station)]


@router.delete("/webhooks/{webhook_id}", response_model=WebhookPublic)
def delete_webhook(webhook_id: WebhookId, session: SessionDep, principal: PrincipalDep) -> WebhookPublic:
    """Deactivate a receiver: nothing more is sent to it and its pending deliveries fail.  The
    record stays (the delivery log names it)."""
    endpoint = webhooks.endpoint_in_scope(session, principal, webhook_id)
    if endpoint is None:
        raise not_found("webhook", webhook_id)
    return webhooks.public(webhooks.deactivate(session, endpoint))


@router.get("/stations/{station_id}/deliveries", response_model=list[DeliveryPublic])
def get_deliveries(
    response: Response,
    station: StationDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: Annotated[Paging, Depends(paging)],
    state: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(description="Only these.")
    ] = None,
    plan_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this version's messages.")
    ] = None,
) -> list[DeliveryPublic]:
    """The delivery log, newest first: each message's key, recipient, endpoint, state and attempts
    (when, HTTP status or error, duration; never the message).  Paged by ``limit`` and ``offset``;
    ``X-Total-Count`` is the number of matches."""
    if plan_id is not None:
        plan = plan_in_scope(session, principal, plan_id)
        if plan.station_id != station.id:
            raise not_found("plan", plan_id)
    found = webhooks.deliveries(session, station, state, plan_id, limit=page.limit, offset=page.offset)
    response.headers["X-Total-Count"] = str(found.total)
    return found.items


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryPublic)
def retry_delivery(delivery_id: DeliveryId, session: SessionDep, principal: PrincipalDep) -> DeliveryPublic:
    """Try a failed delivery again now (409 unless it failed, or if its receiver was deactivated)."""
    delivery = webhooks.delivery_in_scope(session, principal, delivery_id)
    if delivery is None:
        raise not_found("delivery", delivery_id)
    webhooks.retry(session, delivery)
    return webhooks.one(session, delivery)
