"""志愿服务证明 (service-hour certificates): the PDF of a volunteer's period, and the public check
of its verification code.  The rules are :mod:`api.services.certificates`'; the PDF is :mod:`api.pdf`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import PrincipalDep, SessionDep, not_found
from api.models import CertificateCheck
from api.pdf import certificate_pdf
from api.routers.records import ThresholdsDep
from api.services import certificates
from api.services.records import unprocessable, volunteer_in_scope
from api.tables import content_disposition
from matcher.format.bounds import ServiceDay

router = APIRouter(prefix="/v1", tags=["certificates"])


@router.get(
    "/volunteers/{volunteer_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The certificate (A4 PDF)."}},
)
def volunteer_certificate(
    volunteer_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    thresholds: ThresholdsDep,
    start: Annotated[
        ServiceDay | None,
        Query(alias="from", description="The period's first day (default: 1 January of `to`'s year)."),
    ] = None,
    end: Annotated[
        ServiceDay | None, Query(alias="to", description="The period's last day (default: today).")
    ] = None,
) -> Response:
    """The volunteer's 志愿服务证明 of the period ``from`` .. ``to`` (days, inclusive), as a PDF.

    It holds the station and centre, the volunteer's name, the period, the hours served (current
    served records of the volunteer's station, corrections applied) in total and by programme, the
    star level, every session (day, 时段, programme, service, hours; no beneficiary's name) and a
    verification code that ``GET /v1/certificates/{code}`` confirms.  Each call issues the
    certificate, or gives the one issued before for the same period and figures (same code).

    404 for another station's volunteer; 422 naming the field for a bad day or ``from`` after ``to``.
    """
    volunteer = volunteer_in_scope(session, principal, volunteer_id)
    start, end = certificates.default_period(start, end, dt.date.today())
    if start > end:
        raise unprocessable(f"query.from: {start} is after to ({end})")
    data = certificates.issue(session, volunteer, start, end, principal.token_id, thresholds)
    return Response(
        certificate_pdf(data),
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"certificate-{volunteer.id}-{start}-{end}.pdf")},
    )


@router.get(
    "/certificates/{code}", response_model=CertificateCheck, responses={404: {"description": "No such code."}}
)
def check_certificate(code: str, session: SessionDep) -> CertificateCheck:
    """Confirm a 志愿服务证明 by the verification code printed on it: **no token needed**.

    Public on purpose: a school or employer holding the paper has no token.  It shows only what
    confirms the document (the volunteer's name masked as 张*明, the station and centre, the
    period, the hours and sessions, the day of issue), never ids or the sessions.  Codes are 16
    base32 characters from 80 random bits, so they cannot be guessed (hence no rate limit).
    404 for an unknown code.
    """
    found = certificates.check(session, code)
    if found is None:
        raise not_found("certificate", code)
    return found
