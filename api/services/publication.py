"""Publication of a week's plan and its messages: the transactional outbox.

A station's plan version is a *draft* until the coordinator publishes it
(:func:`publish`).  Publishing sets the version's ``published_at`` and, in the same
transaction, writes one :class:`~api.models.OutboxMessage` per person whose week changed
compared to what they were last told: so a message exists exactly when its version was
published, whatever happens to the process afterwards.  Channels (the signed webhook of
:mod:`api.delivery`, the hand-sending export here) deliver from the outbox; each message's
``key`` is its idempotency key.

* A volunteer is told when their sessions of the week changed (first publication: every
  volunteer with sessions): all their sessions, each with its date, 时段 and clock times
  (:func:`api.session_times.describe_session`), 服务对象, 地址 and 服务内容; a volunteer who
  had sessions and has none now is told 本周的服务已取消.
* A beneficiary's family is told when who comes to them (volunteer, session, service)
  changed: who comes, when; a family whose volunteers are all gone now is told
  本周暂未安排志愿者 (only then: a family that had nobody before is not told it again).
* What people were told is the week's *announced* version, the one published last (the
  greatest ``published_at``, whatever its state now: a reverted version was still told).
* :func:`on_new_current` is the one rule every place applies when a new version of a week
  becomes current (a re-solve or a new generation finishing, a revert): once a week has been
  published, its new current version is published at once, in the same transaction, with
  messages to those whose week changed against the announced one; before, it stays a draft.
* Keys are ``p{plan}-a{against}-{v|b}-{recipient}``: the version announced, the version it was
  compared to (0 for a first publication) and the recipient.  A retry of the same publication
  makes the same keys, and the outbox's unique key refuses a second message.  (A version can be
  announced again, after a revert made it current again, but never twice against the same one:
  a reverted version is never current again.)

Services raise domain errors only (:class:`~api.services.errors.ConflictError`); nothing
here commits but :func:`publish`: :func:`on_new_current` writes into its caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api import tables
from api.db import write_transaction
from api.models import Beneficiary, OutboxMessage, PlanVersion, Site, Station, Volunteer, utcnow
from api.models.outbox import KEY_MAX_LENGTH
from api.names import service_name
from api.services import versions
from api.services.errors import ConflictError
from api.services.planning import plan_rows, slot_day
from api.session_times import PERIOD_NAMES, TIMEZONE, describe_session, session_time

VOLUNTEER, BENEFICIARY = "volunteer", "beneficiary"

FIRST, CHANGED, CANCELLED, UNMET = "first", "changed", "cancelled", "unmet"
"""What a message tells: a first publication's sessions, changed sessions, a volunteer's week
cancelled, a family's week without a volunteer."""

BRAND = "邻里志愿服务"
"""The sender's name at the head of every message (【邻里志愿服务·XX站】)."""

_PERIODS = tuple(PERIOD_NAMES)


# ------------------------------------------------------------------------ the facts of a version


@dataclass(frozen=True, order=True)
class Visit:
    """One session of a version's plan: who goes to whom, when, for what."""

    day: int
    period: int
    slot: str
    need: str
    volunteer: str
    beneficiary: str
    service: str
    hours: float
    site: str = ""
    """The site of a group post (多人岗位), or empty (then ``beneficiary`` is the one served)."""
    team: int = 1
    """How many volunteers serve the need together (同组人数): 1 but for a group post."""


def visits(version: PlanVersion | None) -> list[Visit]:
    """Every session of a finished version's plan, in the week's order (none for None); a group
    post's session is one visit per volunteer on it."""
    if version is None or version.plan is None:
        return []
    needs = {n["id"]: n for n in version.problem.get("needs", [])}
    rows = plan_rows(version.plan) if "assignments" in version.plan else []
    team: dict[str, int] = {}
    for need_id, _, _ in rows:
        team[need_id] = team.get(need_id, 0) + 1
    out = []
    for need_id, volunteer, slots in rows:
        need = needs.get(need_id)
        if need is None:
            continue
        for slot in slots:
            day = slot_day(slot)
            period = slot.partition("-")[2]
            out.append(
                Visit(
                    day if day is not None else 7,
                    _PERIODS.index(period) if period in _PERIODS else len(_PERIODS),
                    slot,
                    need_id,
                    volunteer,
                    str(need.get("beneficiary") or ""),
                    need["service"],
                    float(need["hours"]),
                    str(need.get("site") or ""),
                    team[need_id],
                )
            )
    return sorted(out)


def _by(items: Iterable[Visit], kind: str) -> dict[str, list[Visit]]:
    out: dict[str, list[Visit]] = {}
    for v in items:
        if kind == VOLUNTEER:
            out.setdefault(v.volunteer, []).append(v)
        elif v.beneficiary:  # a post at a site has no family to tell
            out.setdefault(v.beneficiary, []).append(v)
    return out


# ------------------------------------------------------------------------ the messages


@dataclass(frozen=True)
class Draft:
    """A message to be written: to whom, what it tells, its text and its facts."""

    recipient_kind: str
    recipient_id: str
    change: str
    body: str
    payload: dict[str, Any]


class People(NamedTuple):
    """The station's people by id (inactive ones too: a volunteer who left is still told)."""

    volunteers: dict[str, Volunteer]
    beneficiaries: dict[str, Beneficiary]
    sites: dict[str, Site]


def _people(session: Session, station_id: str) -> People:
    vols = session.exec(select(Volunteer).where(Volunteer.station_id == station_id))
    bens = session.exec(select(Beneficiary).where(Beneficiary.station_id == station_id))
    sites = session.exec(select(Site).where(Site.station_id == station_id))
    return People({v.id: v for v in vols}, {b.id: b for b in bens}, {s.id: s for s in sites})


def week_label(week_start: dt.date) -> str:
    """``12月7日—12月13日``: the week as a message names it."""
    end = week_start + dt.timedelta(days=6)
    return f"{week_start.month}月{week_start.day}日—{end.month}月{end.day}日"


def _session_facts(week_start: dt.date, v: Visit) -> dict[str, Any]:
    when = session_time(week_start, v.slot, v.hours)
    return {
        "slot": v.slot,
        "date": when.start.date().isoformat() if when is not None else None,
        "start": when.start.isoformat() if when is not None else None,
        "end": when.end.isoformat() if when is not None else None,
        "period": PERIOD_NAMES.get(v.slot.partition("-")[2]),
        "hours": v.hours,
        "description": describe_session(week_start, v.slot, v.hours),
        "service": {"code": v.service, "name": service_name(v.service)},
    }


class _Writer:
    """Writes the messages of one publication: the station, its week, its people."""

    def __init__(
        self, station: Station, version: PlanVersion, against: PlanVersion | None, people: People
    ) -> None:
        self.station, self.version, self.against, self.people = station, version, against, people
        self.head = f"【{BRAND}·{station.name}】"
        self.week = week_label(version.week_start)

    def _payload(self, kind: str, change: str, recipient: dict[str, Any], **more: Any) -> dict[str, Any]:
        assert self.version.id is not None
        return {
            "kind": kind,
            "change": change,
            "station": {"id": self.station.id, "name": self.station.name},
            "plan_id": self.version.id,
            "version": self.version.version,
            "against": self.against.id if self.against is not None else None,
            "week_start": self.version.week_start.isoformat(),
            "week_end": (self.version.week_start + dt.timedelta(days=6)).isoformat(),
            "recipient": recipient,
            **more,
        }

    def volunteer(self, vid: str, now: list[Visit], change: str) -> Draft:
        person = self.people.volunteers[vid]
        name = person.name or vid
        recipient = {"id": vid, "name": name, "phone": person.phone, "wechat": person.wechat}
        if change == CANCELLED:
            body = (
                f"{self.head}{name}您好！您本周（{self.week}）的志愿服务已取消，无需前往。"
                "如有疑问请联系站点。"
            )
            return Draft(
                VOLUNTEER, vid, change, body, self._payload(VOLUNTEER, change, recipient, sessions=[])
            )
        lines, sessions = [], []
        for i, v in enumerate(now, start=1):
            if v.site:
                lines.append(f"{i}. {self._post_line(v)}")
                sessions.append(self._post_facts(v))
                continue
            ben = self.people.beneficiaries.get(v.beneficiary)
            ben_name = (ben.name if ben is not None else "") or v.beneficiary
            address = ben.address if ben is not None else ""
            where = f"，地址：{address}" if address else ""
            lines.append(
                f"{i}. {describe_session(self.version.week_start, v.slot, v.hours)}，"
                f"服务对象：{ben_name}{where}，服务内容：{service_name(v.service)}"
            )
            facts = _session_facts(self.version.week_start, v)
            facts["beneficiary"] = {"id": v.beneficiary, "name": ben_name, "address": address}
            sessions.append(facts)
        intro = "的志愿服务安排有变动，最新安排" if change == CHANGED else "的志愿服务安排"
        body = (
            f"{self.head}{name}您好！您本周（{self.week}）{intro}：\n"
            + "\n".join(lines)
            + "\n如有变动请联系站点。"
        )
        return Draft(
            VOLUNTEER, vid, change, body, self._payload(VOLUNTEER, change, recipient, sessions=sessions)
        )

    def _post_line(self, v: Visit) -> str:
        """A group post's session as a volunteer's message lists it: when, where, what, how many."""
        site = self.people.sites.get(v.site)
        name = (site.name if site is not None else "") or v.site
        address = site.address if site is not None else ""
        where = f"，地址：{address}" if address else ""
        return (
            f"{describe_session(self.version.week_start, v.slot, v.hours)}，地点：{name}{where}，"
            f"服务内容：{service_name(v.service)}，同组 {v.team} 人"
        )

    def _post_facts(self, v: Visit) -> dict[str, Any]:
        site = self.people.sites.get(v.site)
        facts = _session_facts(self.version.week_start, v)
        facts["site"] = {
            "id": v.site,
            "name": (site.name if site is not None else "") or v.site,
            "address": site.address if site is not None else "",
        }
        facts["team"] = v.team
        return facts

    def beneficiary(self, bid: str, now: list[Visit], change: str, unmet: list[str]) -> Draft:
        person = self.people.beneficiaries[bid]
        name = person.name or bid
        recipient = {
            "id": bid,
            "name": name,
            "contact_name": person.contact_name,
            "contact_phone": person.contact_phone,
            "address": person.address,
        }
        greet = f"{self.head}{person.contact_name or name}您好！"
        unmet_facts = [{"code": s, "name": service_name(s)} for s in unmet]
        if change == UNMET:
            body = (
                f"{greet}本周（{self.week}）暂未为{name}安排志愿者，站点会尽快与您联系。如有疑问请联系站点。"
            )
            payload = self._payload(BENEFICIARY, change, recipient, sessions=[], unmet_services=unmet_facts)
            return Draft(BENEFICIARY, bid, change, body, payload)
        lines, sessions = [], []
        for i, v in enumerate(now, start=1):
            vol = self.people.volunteers.get(v.volunteer)
            vol_name = (vol.name if vol is not None else "") or v.volunteer
            lines.append(
                f"{i}. {describe_session(self.version.week_start, v.slot, v.hours)}，"
                f"志愿者：{vol_name}，服务内容：{service_name(v.service)}"
            )
            facts = _session_facts(self.version.week_start, v)
            facts["volunteer"] = {"id": v.volunteer, "name": vol_name}
            sessions.append(facts)
        intro = "的上门志愿服务有变动，最新安排" if change == CHANGED else "的上门志愿服务安排"
        text = f"{greet}本周（{self.week}）为{name}{intro}：\n" + "\n".join(lines)
        if unmet:
            text += "\n以下服务本周暂未安排志愿者：" + "、".join(service_name(s) for s in unmet)
        body = text + "\n如有变动请联系站点。"
        payload = self._payload(BENEFICIARY, change, recipient, sessions=sessions, unmet_services=unmet_facts)
        return Draft(BENEFICIARY, bid, change, body, payload)


def _facts(items: Sequence[Visit], kind: str) -> frozenset[tuple[Any, ...]]:
    """What a person was told, to compare two versions by (names and addresses are the people's,
    not the version's: a renamed person is not re-told their week)."""
    if kind == VOLUNTEER:
        return frozenset((v.slot, v.need, v.beneficiary, v.service, v.hours, v.site, v.team) for v in items)
    return frozenset((v.slot, v.need, v.volunteer, v.service, v.hours) for v in items)


def drafts(session: Session, version: PlanVersion, against: PlanVersion | None) -> list[Draft]:
    """The messages publishing ``version`` makes, compared to ``against`` (what people were told
    last; None for a first publication): volunteers first, then families, each by id."""
    assert version.station_id is not None
    station = session.get(Station, version.station_id)
    assert station is not None
    people = _people(session, version.station_id)
    writer = _Writer(station, version, against, people)
    first = against is None
    now, before = visits(version), visits(against)
    out: list[Draft] = []
    now_v, before_v = _by(now, VOLUNTEER), _by(before, VOLUNTEER)
    for vid in sorted(set(now_v) | set(before_v)):
        if vid not in people.volunteers:
            continue  # not the station's (a stored plan naming someone gone): no one to tell
        mine, had = now_v.get(vid, []), before_v.get(vid, [])
        if _facts(mine, VOLUNTEER) == _facts(had, VOLUNTEER):
            continue
        change = FIRST if first else (CHANGED if mine else CANCELLED)
        out.append(writer.volunteer(vid, mine, change))
    now_b, before_b = _by(now, BENEFICIARY), _by(before, BENEFICIARY)
    unmet = _unmet_services(version)
    for bid in sorted(set(now_b) | set(before_b)):
        person = people.beneficiaries.get(bid)
        if person is None:
            continue
        mine, had = now_b.get(bid, []), before_b.get(bid, [])
        if _facts(mine, BENEFICIARY) == _facts(had, BENEFICIARY):
            continue
        if not mine and not person.active:
            continue  # left the station's care: nobody is missing from their week
        change = FIRST if first else (CHANGED if mine else UNMET)
        out.append(writer.beneficiary(bid, mine, change, unmet.get(bid, [])))
    return out


def _unmet_services(version: PlanVersion) -> dict[str, list[str]]:
    """Services of each beneficiary's needs left unmet in the version's plan."""
    if version.plan is None:
        return {}
    needs = {n["id"]: n for n in version.problem.get("needs", [])}
    out: dict[str, list[str]] = {}
    for u in version.plan.get("unmet", []):
        need = needs.get(u["need"])
        if need is not None and need.get("beneficiary"):  # a post at a site has no family
            out.setdefault(need["beneficiary"], []).append(need["service"])
    return out


def message_key(plan_id: int, against_id: int | None, kind: str, recipient_id: str) -> str:
    """The message's idempotency key: ``p{plan}-a{against or 0}-{v|b}-{recipient}``, the
    recipient's id hashed when the key would be longer than the outbox allows."""
    head = f"p{plan_id}-a{against_id or 0}-{kind[0]}-"
    if len(head) + len(recipient_id) <= KEY_MAX_LENGTH and recipient_id.isascii():
        return head + recipient_id
    return head + "h" + hashlib.sha256(recipient_id.encode()).hexdigest()[:32]


# ------------------------------------------------------------------------ publishing


def announced(session: Session, version: PlanVersion) -> PlanVersion | None:
    """The week's announced version: the one published last (what volunteers and families were
    told), whatever its state now; None while the week is a draft."""
    return session.exec(
        select(PlanVersion)
        .where(
            PlanVersion.station_id == version.station_id,
            PlanVersion.week_start == version.week_start,
            col(PlanVersion.published_at).is_not(None),
        )
        .order_by(col(PlanVersion.published_at).desc(), col(PlanVersion.id).desc())
    ).first()


def pending_drafts(session: Session, version: PlanVersion) -> list[Draft]:
    """The messages publishing ``version`` now would make (none when it is the announced one):
    what the confirmation before publishing counts."""
    last = announced(session, version)
    if last is not None and last.id == version.id:
        return []
    return drafts(session, version, last)


def _write_messages(session: Session, version: PlanVersion, against: PlanVersion | None) -> int:
    """Add the publication's messages to the session; returns how many."""
    assert version.id is not None and version.station_id is not None
    made = drafts(session, version, against)
    for d in made:
        session.add(
            OutboxMessage(
                station_id=version.station_id,
                plan_id=version.id,
                week_start=version.week_start,
                recipient_kind=d.recipient_kind,
                recipient_id=d.recipient_id,
                key=message_key(
                    version.id, against.id if against else None, d.recipient_kind, d.recipient_id
                ),
                body=d.body,
                payload=d.payload,
            )
        )
    return len(made)


def _mark_published(session: Session, version: PlanVersion) -> None:
    """The version is what people were told, from now."""
    version.published_at = utcnow()
    session.add(version)


def _announce(session: Session, version: PlanVersion, against: PlanVersion | None) -> None:
    """Publish ``version`` against ``against`` in the caller's transaction: messages, then the mark."""
    _write_messages(session, version, against)
    _mark_published(session, version)
    session.flush()  # a duplicate key fails here, inside the transaction that would write it


def _refusal(session: Session, version: PlanVersion) -> str | None:
    """Why ``version`` cannot be published (the 409's message), or None."""
    if version.station_id is None:
        return f"plan {version.id} is an integrator's job: only a station's plan is published"
    if version.state != "done" or version.plan is None:
        return f"plan {version.id} is {version.state}, not done: publish a finished plan"
    if not versions.is_current(session, version):
        return f"plan {version.id} is not the week's current version: publish that one"
    return None


def publish(session: Session, version: PlanVersion) -> PlanVersion:
    """Publish a station's current, finished plan version: its messages and ``published_at``, in one
    transaction (committed here).  Publishing the week's announced version again changes nothing.

    Raises
    ------
    ConflictError
        When the version is an integrator's job, not done, or not its week's current version, or
        when a concurrent publication of it won.
    """
    write_transaction(session)  # SQLite: one writer from the check to the commit
    # PostgreSQL: the row is locked, so a concurrent publish of it waits and then sees it published.
    locked = session.exec(
        select(PlanVersion)
        .where(PlanVersion.id == version.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    refused = _refusal(session, locked)
    if refused is not None:
        session.rollback()  # the write lock is not held while the client reads the answer
        raise ConflictError(refused)
    last = announced(session, locked)
    if last is not None and last.id == locked.id:
        session.rollback()
        session.refresh(version)
        return version  # told already
    try:
        _announce(session, locked, last)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"plan {locked.id} was published meanwhile: reload it") from None
    session.refresh(version)
    return version


def on_new_current(session: Session, version: PlanVersion) -> PlanVersion | None:
    """The rule for a version that just became its week's current one (a re-solve or a generation
    finishing, a revert): once the week was published, ``version`` is published too, in the
    caller's transaction (the caller commits), with messages to those whose week changed against
    the announced version; before, it stays a draft.

    Returns the version if it is published now, else None (a draft week, not a station's
    finished current version, or already the announced one).
    """
    if version.station_id is None or version.state != "done" or version.plan is None:
        return None
    session.flush()  # the caller's state change, seen by the queries below
    if not versions.is_current(session, version):
        return None
    last = announced(session, version)
    if last is None or last.id == version.id:
        return None
    _announce(session, version, last)
    return version


# ------------------------------------------------------------------------ reading the outbox


class MessagePage(NamedTuple):
    """A page of messages and the number of all of them."""

    items: list[OutboxMessage]
    total: int


def plan_messages(
    session: Session, version: PlanVersion, limit: int | None = None, offset: int = 0
) -> MessagePage:
    """The messages announcing ``version``, oldest first (volunteers, then families); a page of
    ``limit`` after ``offset`` (all without a limit: an export's)."""
    query = select(OutboxMessage).where(OutboxMessage.plan_id == version.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(OutboxMessage.id)).offset(offset).limit(limit))
    return MessagePage(list(rows), int(total))


def week_messages(session: Session, station: Station, week_start: dt.date) -> list[OutboxMessage]:
    """The messages of all the week's publications, newest first."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.station_id == station.id, OutboxMessage.week_start == week_start)
            .order_by(col(OutboxMessage.id).desc())
        )
    )


def contact(message: OutboxMessage) -> tuple[str, str, str]:
    """The recipient's name, phone and WeChat id as the message's facts hold them (a family's:
    the contact person's, or the beneficiary's name and no phone)."""
    r = message.payload.get("recipient", {})
    if message.recipient_kind == BENEFICIARY:
        return r.get("contact_name") or r.get("name") or "", r.get("contact_phone") or "", ""
    return r.get("name") or "", r.get("phone") or "", r.get("wechat") or ""


KIND_NAMES = {VOLUNTEER: "志愿者", BENEFICIARY: "服务对象家庭"}

EXPORT_HEADER = ("收件人", "类别", "电话", "微信", "消息", "编号")
"""The hand-sending export's columns: recipient, kind, phone (in full), WeChat id, text, key."""


def export_rows(messages: Iterable[OutboxMessage]) -> list[list[tables.Cell]]:
    """The messages as rows of :data:`EXPORT_HEADER` (neutralised when written by :mod:`api.tables`)."""
    rows: list[list[tables.Cell]] = []
    for m in messages:
        name, phone, wechat = contact(m)
        rows.append([name, KIND_NAMES.get(m.recipient_kind, m.recipient_kind), phone, wechat, m.body, m.key])
    return rows


def export_text(messages: Iterable[OutboxMessage]) -> str:
    """The messages as plain text for hand-sending: one block per message (收件人, 电话, the text),
    every line neutralised as a spreadsheet cell would be (the text may be pasted into one)."""
    blocks = []
    for m in messages:
        name, phone, wechat = contact(m)
        kind = KIND_NAMES.get(m.recipient_kind, m.recipient_kind)
        head = [
            f"收件人：{tables.neutralise(name)}（{kind}）",
            f"电话：{tables.neutralise(phone) or '未登记'}",
        ]
        if wechat:
            head.append(f"微信：{tables.neutralise(wechat)}")
        text = "\n".join(tables.neutralise(line) for line in m.body.splitlines())
        blocks.append("\n".join([*head, "", text]))
    return ("\n\n" + "─" * 16 + "\n\n").join(blocks) + ("\n" if blocks else "")


def local_time(moment: dt.datetime) -> dt.datetime:
    """A stored UTC time (SQLite hands it back naive) in the stations' clock, Asia/Shanghai."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TIMEZONE)
