"""A station's webhook receivers and the delivery log (the dispatcher itself is :mod:`api.delivery`).

An endpoint's secret is generated here and returned once, by :func:`create_endpoint`; no
listing shows it again.  Deactivating an endpoint keeps its record (the log names it) and
fails its pending deliveries.  A failed delivery may be retried by a person: it is pending
again, due now, and the audit log records who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.auth import Principal
from api.delivery import new_secret
from api.models import (
    AttemptPublic,
    Delivery,
    DeliveryAttempt,
    DeliveryPublic,
    OutboxMessage,
    Station,
    WebhookCreate,
    WebhookEndpoint,
    WebhookPublic,
    utcnow,
)
from api.services.errors import ConflictError

DEACTIVATED = "endpoint deactivated"


def public(endpoint: WebhookEndpoint) -> WebhookPublic:
    """An endpoint as clients see it (never its secret)."""
    assert endpoint.id is not None
    return WebhookPublic(
        id=endpoint.id,
        station_id=endpoint.station_id,
        name=endpoint.name,
        url=endpoint.url,
        description=endpoint.description,
        active=endpoint.active,
        created_at=endpoint.created_at,
        deactivated_at=endpoint.deactivated_at,
    )


def create_endpoint(session: Session, station: Station, body: WebhookCreate) -> tuple[WebhookEndpoint, str]:
    """A new active endpoint of ``station`` and its secret (to show once)."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        station_id=station.id, url=body.url, name=body.name, description=body.description, secret=secret
    )
    session.add(endpoint)
    session.commit()
    session.refresh(endpoint)
    return endpoint, secret


def endpoints(session: Session, station: Station) -> list[WebhookEndpoint]:
    """The station's endpoints, active first, newest first."""
    return list(
        session.exec(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.station_id == station.id)
            .order_by(col(WebhookEndpoint.active).desc(), col(WebhookEndpoint.id).desc())
        )
    )


def endpoint_in_scope(session: Session, principal: Principal, endpoint_id: int) -> WebhookEndpoint | None:
    """The endpoint if the caller may see its station; else None (a 404)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not principal.may_see(endpoint.station_id):
        return None
    return endpoint


def deactivate(session: Session, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to ``endpoint``: no new deliveries, its pending ones failed (a no-op if inactive)."""
    if endpoint.active:
        endpoint.active = False
        endpoint.deactivated_at = utcnow()
        session.add(endpoint)
        session.execute(
            update(Delivery)
            .where(col(Delivery.endpoint_id) == endpoint.id, col(Delivery.state) == "pending")
            .values(state="failed", last_error=DEACTIVATED, claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        session.refresh(endpoint)
    return endpoint


def delivery_in_scope(session: Session, principal: Principal, delivery_id: int) -> Delivery | None:
    """The delivery if the caller may see its station; else None (a 404)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not principal.may_see(delivery.station_id):
        return None
    return delivery


def retry(session: Session, delivery: Delivery) -> Delivery:
    """Make a failed delivery pending and due now; 409 unless it failed, or if its endpoint is inactive."""
    if delivery.state != "failed":
        raise ConflictError(
            f"delivery {delivery.id}: only a failed delivery is retried (it is {delivery.state})"
        )
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        raise ConflictError(f"delivery {delivery.id}: its endpoint is deactivated; add a new one instead")
    now = utcnow()
    changed = session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery.id, col(Delivery.state) == "failed")
        .values(
            state="pending", next_attempt_at=now, retry_requested_at=now, claimed_by=None, lease_until=None
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        session.rollback()
        raise ConflictError(f"delivery {delivery.id}: it changed meanwhile; look again")
    session.commit()
    session.refresh(delivery)
    return delivery


@dataclass(frozen=True)
class DeliveryPage:
    """One page of the delivery log and how many match in all."""

    items: list[DeliveryPublic]
    total: int


def deliveries(
    session: Session,
    station: Station,
    state: str | None = None,
    plan_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> DeliveryPage:
    """The station's deliveries, newest first, each with its attempts (the delivery log)."""
    where: list[Any] = [col(Delivery.station_id) == station.id]
    if state is not None:
        where.append(col(Delivery.state) == state)
    if plan_id is not None:
        where.append(col(OutboxMessage.plan_id) == plan_id)
    return _page(session, where, limit, offset)


def one(session: Session, delivery: Delivery) -> DeliveryPublic:
    """One delivery as the log shows it."""
    return _page(session, [col(Delivery.id) == delivery.id], 1, 0).items[0]


def _page(session: Session, where: list[Any], limit: int, offset: int) -> DeliveryPage:
    joined = (
        select(Delivery, OutboxMessage, WebhookEndpoint.name)
        .join(OutboxMessage, col(OutboxMessage.id) == col(Delivery.message_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(Delivery.endpoint_id))
        .where(*where)
    )
    total = session.exec(
        select(func.count())
        .select_from(Delivery)
        .join(OutboxMessage, col(OutboxMessage.id) == col(Delivery.message_id))
        .where(*where)
    ).one()
    rows = session.exec(joined.order_by(col(Delivery.id).desc()).limit(limit).offset(offset)).all()
    ids = [d.id for d, _, _ in rows]
    log: dict[int, list[AttemptPublic]] = {}
    for a in session.exec(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(ids))
        .order_by(col(DeliveryAttempt.attempt))
    ):
        log.setdefault(a.delivery_id, []).append(
            AttemptPublic(
                attempt=a.attempt, at=a.at, status=a.status, error=a.error, duration_ms=a.duration_ms
            )
        )
    items = []
    for d, m, endpoint_name in rows:
        assert d.id is not None and m.id is not None
        items.append(
            DeliveryPublic(
                id=d.id,
                key=m.key,
                plan_id=m.plan_id,
                week_start=m.week_start,
                recipient_kind=m.recipient_kind,
                recipient_id=m.recipient_id,
                endpoint_id=d.endpoint_id,
                endpoint_name=endpoint_name,
                state=d.state,
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at if d.state == "pending" else None,
                last_status=d.last_status,
                last_error=d.last_error,
                delivered_at=d.delivered_at,
                created_at=d.created_at,
                log=log.get(d.id, []),
            )
        )
    return DeliveryPage(items, int(total))
