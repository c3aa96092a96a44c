"""Publishing a week's plan, and its messages for hand-sending.

Thin routes over :mod:`api.services.publication`: the plan version is resolved in the
caller's scope by :mod:`api.deps` (another station's is 404), the service publishes or
reads the outbox.  Delivery over the webhook channel is :mod:`api.delivery`'s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from api import tables
from api.deps import PlanDep, SessionDep
from api.models import MessagePublic, PlanPublic, PlanVersion
from api.routers.records import Paging, paging
from api.services import publication, versions

router = APIRouter(prefix="/v1", tags=["publication"])


@router.post(
    "/plans/{plan_id}/publish",
    response_model=PlanPublic,
    responses={409: {"description": "Not a station's plan, not done, or not the week's current version."}},
)
def publish(plan: PlanDep, session: SessionDep) -> PlanPublic:
    """Publish the week's current, finished plan version: ``published_at`` is set and, in the same
    transaction, one message is written to the outbox for each volunteer whose sessions changed
    since the week's last publication (the first: every volunteer with sessions) and for each
    family whose volunteers changed.  Publishing the published version again changes nothing.
    Once a week is published, each later version that becomes current is published by itself."""
    return versions.describe(session, publication.publish(session, plan))


@router.get("/plans/{plan_id}/messages", response_model=list[MessagePublic])
def list_messages(
    response: Response, plan: PlanDep, session: SessionDep, page: Annotated[Paging, Depends(paging)]
) -> list[MessagePublic]:
    """The messages announcing this version (none for a draft), oldest first: volunteers, then
    families.  Paged by ``limit`` (default 500, at most 1000) and ``offset``; ``X-Total-Count``
    says how many there are."""
    found = publication.plan_messages(session, plan, limit=page.limit, offset=page.offset)
    response.headers["X-Total-Count"] = str(found.total)
    return [MessagePublic.model_validate(m, from_attributes=True) for m in found.items]


def _name(plan: PlanVersion) -> str:
    return f"messages-{plan.station_id or 'job'}-{plan.week_start}-v{plan.version}"


@router.get(
    "/plans/{plan_id}/messages.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per message, for hand-sending."}},
)
def messages_csv(plan: PlanDep, session: SessionDep) -> Response:
    """The version's messages as CSV for stations that send by hand: 收件人, 类别, 电话 (in full: the
    station's own people), 微信, 消息, 编号 (the message's key); formula cells neutralised."""
    rows = publication.export_rows(publication.plan_messages(session, plan).items)
    return tables.export("csv", publication.EXPORT_HEADER, rows, _name(plan))


@router.get(
    "/plans/{plan_id}/messages.txt",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "One block per message."}},
)
def messages_txt(plan: PlanDep, session: SessionDep) -> Response:
    """The version's messages as plain text: one block per message (收件人, 电话, the text)."""
    text = publication.export_text(publication.plan_messages(session, plan).items)
    return Response(
        text.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": tables.content_disposition(f"{_name(plan)}.txt")},
    )
