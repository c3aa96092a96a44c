"""The audit log: who wrote what, when, and the change (``GET /v1/audit``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.deps import PrincipalDep, SessionDep
from api.models import AuditPublic
from api.routers.records import Paging, paging
from api.services import audit
from api.services.audit import AuditFilter

router = APIRouter(prefix="/v1", tags=["audit"])


def audit_filter(
    entity: Annotated[
        str | None, Query(max_length=64, description="The table: volunteer, beneficiary, need, token, …")
    ] = None,
    entity_id: Annotated[str | None, Query(max_length=128, description="The record's id.")] = None,
    start: Annotated[
        dt.datetime | None, Query(alias="from", description="Written at or after (ISO 8601, UTC if no zone).")
    ] = None,
    end: Annotated[dt.datetime | None, Query(alias="to", description="Written at or before.")] = None,
) -> AuditFilter:
    """Dependency: the entries' filter; 422 if ``from`` is after ``to``."""
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="from: after 'to'")
    return AuditFilter(entity, entity_id, start, end)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@router.get("/audit", response_model=list[AuditPublic])
def list_audit(
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    where: Annotated[AuditFilter, Depends(audit_filter)],
    page: Annotated[Paging, Depends(paging)],
) -> list[AuditPublic]:
    """The audit log, oldest first: every write's actor (token id and label, or the CLI's user),
    time, record (``entity``, ``entity_id``, ``action``) and changed fields ``{field: [before,
    after]}`` (a token's secret or digest never).

    The centre sees every entry; a station sees its own station's only (another station's
    record finds nothing).  Filters: ``entity``, ``entity_id``, ``from``, ``to``; paged by
    ``limit`` (default 500, at most 1000) and ``offset``, ``X-Total-Count`` the number of
    matches.  Unknown parameters are 422.  The log is append-only: there is no route to
    change or delete an entry.
    """
    found = audit.list_entries(session, principal, where, limit=page.limit, offset=page.offset)
    response.headers["X-Total-Count"] = str(found.total)
    return found.items
