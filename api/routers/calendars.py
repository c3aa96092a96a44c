"""Volunteers' calendar links: make (and so replace), revoke and look at a volunteer's secret link, and
the public feed it names.  The rules are :mod:`api.services.calendars`'."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from api.deps import PrincipalDep, SessionDep, not_found
from api.models import CalendarFeedCreated, CalendarFeedPublic
from api.services import calendars
from api.services.records import volunteer_in_scope
from api.settings import get_settings

router = APIRouter(tags=["calendars"])


def base_url(request: Request) -> str:
    """Where the service is reached from outside: ``LINLI_PUBLIC_URL``, else the request's own base URL."""
    return get_settings().public_url or str(request.base_url)


@router.post(
    "/v1/volunteers/{volunteer_id}/calendar",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedCreated,
    responses={409: {"description": "Another link was made at the same moment."}},
)
def create_calendar_link(
    volunteer_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> CalendarFeedCreated:
    """Make the volunteer a calendar link (a live one is revoked: one link per volunteer).

    The answer holds the subscription URL with its secret, this once (only a digest is stored):
    ``url`` (``https://…/cal/<secret>.ics``) and ``webcal_url``, which a phone opens to subscribe.
    The host is ``LINLI_PUBLIC_URL`` if set, else the one this request reached.
    404 for another station's volunteer.
    """
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    feed, secret = calendars.issue_link(session, volunteer)
    url, webcal = calendars.subscription_urls(base_url(request), secret)
    return CalendarFeedCreated(
        **calendars.link_status(volunteer.id, feed).model_dump(), url=url, webcal_url=webcal
    )


@router.get("/v1/volunteers/{volunteer_id}/calendar", response_model=CalendarFeedPublic)
def get_calendar_link(volunteer_id: str, session: SessionDep, principal: PrincipalDep) -> CalendarFeedPublic:
    """Whether the volunteer has a live calendar link, and when it was made (never its secret)."""
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    return calendars.link_status(volunteer.id, calendars.live_link(session, volunteer.id))


@router.delete("/v1/volunteers/{volunteer_id}/calendar", response_model=CalendarFeedPublic)
def delete_calendar_link(
    volunteer_id: str, session: SessionDep, principal: PrincipalDep
) -> CalendarFeedPublic:
    """Revoke the volunteer's calendar link: its URL answers 404 from now on (``live`` false; also
    when there was none)."""
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    calendars.revoke_link(session, volunteer)
    return calendars.link_status(volunteer.id, None)


ICS = "text/calendar; charset=utf-8"


@router.get(
    "/cal/{secret}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The volunteer's calendar (iCalendar)."},
        304: {"description": "Unchanged since the ETag sent in If-None-Match."},
        404: {"description": "No such link, or it was revoked."},
    },
)
def calendar_feed(
    secret: str,
    session: SessionDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A volunteer's calendar: **no token needed**, the secret in the path is the key.

    Public on purpose: a phone's calendar app subscribes to the URL and sends no token.  The secret
    has 256 random bits and only its digest is stored; an unknown and a revoked link get the same
    404.  The feed holds every session of the volunteer in the plans their station published, from
    4 weeks ago to 8 weeks ahead, at Asia/Shanghai times, and is built at each request (so it
    follows the newest published version).  ``ETag`` is the content's; ``If-None-Match`` with it
    answers 304.
    """
    body = calendars.feed_ics(session, secret)
    if body is None:
        raise not_found("calendar", "link")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        # Per person and secret: never kept by a shared cache; a client revalidates (304) each time.
        "Cache-Control": "private, no-cache",
        "Content-Disposition": 'inline; filename="linli.ics"',
    }
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=ICS, headers=headers)
