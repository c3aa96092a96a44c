"""志愿服务证明 (service-hour certificates): a volunteer's served sessions of a period, issued as a
PDF with a verification code that ``GET /v1/certificates/{code}`` confirms.

Shared by the API (:mod:`api.routers.certificates`), the coordinators' volunteer page
(:mod:`web.records_pages`) and ``linli certificate`` (:mod:`linli.cli`); the PDF itself is
:mod:`api.pdf`.

What a certificate holds, and why:

- The volunteer's current served records (``outcome`` served, not superseded by a correction)
  with a day in the period, of plans of the volunteer's own station (the issuing station):
  the total, the hours by programme (敬老, 爱幼, 助残, 农民工, 社区: the category of the
  beneficiary served, as the week's plan recorded it) and one row per session (day, 时段,
  programme, service, hours).  The caller's scope is checked before (another station's
  volunteer is 404); the centre may issue for any station's volunteer.
- The star level is the volunteer's cumulative one on the day of issue (hours before Linli
  plus every current served record, :mod:`api.stars`), as a star level is not of a period.
- No beneficiary's name: a certificate goes to a third party (a school, an employer), and the
  people served (the elderly, the disabled, children) did not agree to be named there; the
  programme and the service say what the volunteer did.  Linli stores no personal id number
  (身份证号) of a volunteer, so none is printed.
- A verification code (:data:`api.models.certificate.CODE_LENGTH` base32 characters from
  :mod:`secrets`, 80 bits): the stored :class:`~api.models.ServiceCertificate` row.  The
  check is public (a school has no token) and shows only the minimum: the name masked
  (张*明), the station and centre, the period, the hours and sessions, the day of issue.
  80 random bits make guessing hopeless without a rate limit.
- Generating the same period again while its figures are unchanged gives the same code (a
  coordinator re-downloading the PDF does not multiply certificates); once a record of the
  period is added or corrected, the figures differ and a new code is issued (the old one
  still checks, with the figures it was issued with).
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.contacts import mask_name as mask_name  # the one name mask, shown on the check
from api.models import (
    Centre,
    CertificateCheck,
    PlanAssignment,
    PlanVersion,
    ServiceCertificate,
    ServiceRecord,
    Station,
    Volunteer,
)
from api.models.certificate import CODE_LENGTH
from api.names import POST_PROGRAMME, PROGRAMMES
from api.stars import TOLERANCE, recorded_hours, summarize
from matcher.format.bounds import SERVICE_DAY_MAX, SERVICE_DAY_MIN
from matcher.format.errors import InputError
from matcher.format.schema import DAYS

_CHUNK = 500  # ids per IN (...) query: well under SQLite's bound-parameter limit

# The certificate is a Chinese document whatever the reader's language: its words are fixed
# (the programmes' and services' names are api.names', shared with the ledger and the calendars).
PERIODS: dict[str, str] = {"am": "上午", "pm": "下午", "eve": "晚上"}
WEEKDAYS: tuple[str, ...] = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
STARS: tuple[str, ...] = ("暂无星级", "一星", "二星", "三星", "四星", "五星")
"""Star levels by number."""


@dataclass(frozen=True)
class SessionRow:
    """One served session on the certificate."""

    day: dt.date
    slot: str | None
    programme: str
    service: str
    hours: float

    @property
    def when(self) -> str:
        """The session's 时段: 周一上午 (the weekday alone for a record without a slot)."""
        weekday = WEEKDAYS[self.day.weekday()]
        if self.slot is None or "-" not in self.slot:
            return weekday
        return weekday + PERIODS.get(self.slot.split("-", 1)[1], "")


@dataclass(frozen=True)
class CertificateData:
    """Everything the PDF prints: the issued row and the sessions behind it."""

    certificate: ServiceCertificate
    volunteer_name: str
    station_name: str
    centre_name: str
    by_programme: dict[str, float]
    stars: int
    cumulative_hours: float
    sessions: list[SessionRow]

    @property
    def star_name(self) -> str:
        """一星 … 五星 (暂无星级 for none)."""
        return STARS[max(0, min(self.stars, len(STARS) - 1))]


def new_code() -> str:
    """A fresh verification code: 80 random bits, base32 (A-Z, 2-7), 16 characters."""
    return base64.b32encode(secrets.token_bytes(CODE_LENGTH * 5 // 8)).decode("ascii")


def parse_day(field: str, text: str) -> dt.date:
    """A period's day from ``YYYY-MM-DD`` text; :class:`InputError` naming ``field`` otherwise."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{field}: expected a date YYYY-MM-DD, got {text!r}") from None
    if not SERVICE_DAY_MIN <= day <= SERVICE_DAY_MAX:
        raise InputError(f"{field}: {day} is outside {SERVICE_DAY_MIN} .. {SERVICE_DAY_MAX}")
    return day


def default_period(start: dt.date | None, end: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The period, its missing ends filled: ``to`` today, ``from`` the 1st of January of ``to``'s year."""
    end = end or today
    return start or dt.date(end.year, 1, 1), end


def served_sessions(session: Session, volunteer: Volunteer, start: dt.date, end: dt.date) -> list[SessionRow]:
    """The volunteer's current served records of ``start`` .. ``end`` at their station, by day and slot.

    The programme and service are the week's plan's (the need as it was planned), not the
    need's today.
    """
    # Columns, not ORM rows: nothing to track, and a year is a few hundred rows.
    rows = session.exec(
        select(
            col(ServiceRecord.served_on),
            col(ServiceRecord.slot),
            col(ServiceRecord.hours),
            col(ServiceRecord.assignment_id),
        )
        .join(PlanAssignment, col(ServiceRecord.assignment_id) == col(PlanAssignment.id))
        .join(PlanVersion, col(PlanAssignment.plan_id) == col(PlanVersion.id))
        .where(
            ServiceRecord.volunteer_id == volunteer.id,
            PlanVersion.station_id == volunteer.station_id,
            ServiceRecord.outcome == "served",
            col(ServiceRecord.superseded_by).is_(None),
            col(ServiceRecord.served_on) >= start,
            col(ServiceRecord.served_on) <= end,
        )
    ).all()
    assignments: dict[int, tuple[int, str]] = {}  # assignment -> (plan, need)
    ids = sorted({a for *_, a in rows})
    for start_at in range(0, len(ids), _CHUNK):
        for a_id, plan_id, need_id in session.exec(
            select(PlanAssignment.id, PlanAssignment.plan_id, PlanAssignment.need_id).where(
                col(PlanAssignment.id).in_(ids[start_at : start_at + _CHUNK])
            )
        ):
            assert a_id is not None
            assignments[a_id] = (plan_id, need_id)
    needs: dict[tuple[int, str], tuple[str, str]] = {}  # (plan, need) -> (programme, service)
    plan_ids = sorted({p for p, _need in assignments.values()})
    for start_at in range(0, len(plan_ids), _CHUNK):
        for version_id, problem in session.exec(
            select(PlanVersion.id, PlanVersion.problem).where(
                col(PlanVersion.id).in_(plan_ids[start_at : start_at + _CHUNK])
            )
        ):
            assert version_id is not None
            categories = {b["id"]: b["category"] for b in problem.get("beneficiaries", [])}
            for n in problem.get("needs", []):
                # A group post at a site has no beneficiary: its programme is the posts' (多人岗位).
                programme = categories.get(n["beneficiary"], "") if "beneficiary" in n else POST_PROGRAMME
                needs[(version_id, n["id"])] = (programme, n["service"])
    out = [
        SessionRow(
            day=day,
            slot=slot,
            programme=needs.get(assignments[a_id], ("", ""))[0],
            service=needs.get(assignments[a_id], ("", ""))[1],
            hours=float(hours),
        )
        for day, slot, hours, a_id in rows
    ]
    out.sort(key=lambda s: (s.day, _slot_order(s.slot)))
    return out


def _slot_order(slot: str | None) -> tuple[int, int]:
    day, _, period = (slot or "").partition("-")
    return (
        DAYS.index(day) if day in DAYS else len(DAYS),
        list(PERIODS).index(period) if period in PERIODS else len(PERIODS),
    )


def by_programme(sessions: Sequence[SessionRow]) -> dict[str, float]:
    """Hours by programme, in :data:`PROGRAMMES`' order (programmes without hours left out)."""
    sums = {
        p: math.fsum(s.hours for s in sessions if s.programme == p)
        for p in [*PROGRAMMES, *sorted({s.programme for s in sessions} - set(PROGRAMMES))]
    }
    return {p: h for p, h in sums.items() if h > 0}


def issue(
    session: Session,
    volunteer: Volunteer,
    start: dt.date,
    end: dt.date,
    issued_by: int | None,
    thresholds: Sequence[float],
) -> CertificateData:
    """Issue (or find again) the volunteer's certificate of ``start`` .. ``end`` and gather what it prints.

    The volunteer is in the caller's scope already.  The same period with the same figures
    (sessions and hours) as a certificate issued before gives that certificate again;
    otherwise a new row with a fresh code is stored.

    Raises
    ------
    InputError
        ``from`` after ``to`` (the callers map it to their 422 or exit 2).
    """
    if start > end:
        raise InputError(f"from: {start} is after to ({end})")
    sessions = served_sessions(session, volunteer, start, end)
    total = math.fsum(s.hours for s in sessions)
    station = session.get(Station, volunteer.station_id)
    assert station is not None  # a foreign key
    centre = session.get(Centre, station.centre_id)
    issued = session.exec(
        select(ServiceCertificate)
        .where(
            ServiceCertificate.volunteer_id == volunteer.id,
            ServiceCertificate.station_id == station.id,
            ServiceCertificate.period_start == start,
            ServiceCertificate.period_end == end,
            ServiceCertificate.sessions == len(sessions),
        )
        .order_by(col(ServiceCertificate.issued_at).desc())
    ).all()
    row = next((c for c in issued if abs(c.hours - total) <= TOLERANCE), None)
    if row is None:
        code = new_code()
        while session.get(ServiceCertificate, code) is not None:  # 80 bits: never, but cheap to be sure
            code = new_code()
        row = ServiceCertificate(
            code=code,
            volunteer_id=volunteer.id,
            station_id=station.id,
            period_start=start,
            period_end=end,
            hours=total,
            sessions=len(sessions),
            issued_by=issued_by,
        )
        session.add(row)
        session.commit()
        session.refresh(row)
    summary = summarize(volunteer, recorded_hours(session, [volunteer.id])[volunteer.id], thresholds)
    return CertificateData(
        certificate=row,
        volunteer_name=volunteer.name.strip() or volunteer.id,
        station_name=station.name,
        centre_name=centre.name if centre is not None else "",
        by_programme=by_programme(sessions),
        stars=summary.stars,
        cumulative_hours=summary.hours_total,
        sessions=sessions,
    )


def check(session: Session, code: str) -> CertificateCheck | None:
    """The public check of a verification code (case and spaces forgiven); None for an unknown code."""
    code = code.strip().upper()
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isalnum():
        return None  # not a code: nothing to look up (and NUL would fail PostgreSQL's query)
    row = session.get(ServiceCertificate, code)
    if row is None:
        return None
    volunteer = session.get(Volunteer, row.volunteer_id)
    station = session.get(Station, row.station_id)
    centre = session.get(Centre, station.centre_id) if station is not None else None
    return CertificateCheck(
        code=row.code,
        valid=True,
        volunteer=mask_name(volunteer.name) if volunteer is not None and volunteer.name.strip() else "",
        station=station.name if station is not None else "",
        centre=centre.name if centre is not None else "",
        period_start=row.period_start,
        period_end=row.period_end,
        hours=row.hours,
        sessions=row.sessions,
        issued_on=row.issued_at.date(),
    )
