"""Publication and its messages (issue 19): the transactional outbox, on SQLite and on PostgreSQL.

A version's messages exist exactly when it was published; the first publication tells every
assigned volunteer and family, a later version tells only those whose week changed (the
same people the diff names), a draft's re-solve tells no one, a retry tells no one twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from typing import Any

import pytest
from api_support import City
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.models import Beneficiary, OutboxMessage, PlanVersion, Station, Volunteer
from api.models.outbox import KEY_MAX_LENGTH
from api.names import SERVICES as SERVICE_NAMES
from api.services import publication
from api.session_times import describe_session

WEEK = "2026-12-07"
MONDAY = dt.date(2026, 12, 7)


def _generate(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    assert done["published_at"] is None  # a draft
    return done


def _withdraw(city: City, station: str, plan: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The finished re-solve of a change set withdrawing the plan's ``index``-th assigned volunteer."""
    volunteer = sorted({a["volunteer"] for a in plan["plan"]["assignments"]})[index]
    r = city.client.post(
        f"/v1/plans/{plan['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": volunteer}]},
        headers=city.headers(station),
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _publish(city: City, station: str, plan_id: int) -> dict[str, Any]:
    r = city.client.post(f"/v1/plans/{plan_id}/publish", headers=city.headers(station))
    assert r.status_code == 200, r.text
    published: dict[str, Any] = r.json()
    return published


def _messages(city: City, station: str, plan_id: int) -> list[dict[str, Any]]:
    r = city.client.get(f"/v1/plans/{plan_id}/messages", headers=city.headers(station))
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == str(len(r.json()))
    return list(r.json())


def _all_messages(city: City, station: str) -> list[OutboxMessage]:
    with Session(city.engine) as db:
        return list(
            db.exec(
                select(OutboxMessage)
                .where(OutboxMessage.station_id == station)
                .order_by(col(OutboxMessage.id))
            )
        )


def _recipients(messages: list[dict[str, Any]], kind: str) -> set[str]:
    return {m["recipient_id"] for m in messages if m["recipient_kind"] == kind}


def _assigned(plan: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The volunteers and the beneficiaries with an assignment in a plan version."""
    ben_of = {n["id"]: n["beneficiary"] for n in _problem(plan)["needs"]}
    return (
        {a["volunteer"] for a in plan["plan"]["assignments"]},
        {ben_of[a["need"]] for a in plan["plan"]["assignments"]},
    )


def _problem(plan: dict[str, Any]) -> dict[str, Any]:
    return dict(plan["_problem"])


def _with_problem(city: City, station: str, plan: dict[str, Any]) -> dict[str, Any]:
    r = city.client.get(f"/v1/plans/{plan['id']}/problem", headers=city.headers(station))
    return {**plan, "_problem": r.json()}


def _contacts(city: City, station: str) -> None:
    """Give the station's people phones and addresses (the demo city has none)."""
    with Session(city.engine) as db:
        for i, v in enumerate(db.exec(select(Volunteer).where(Volunteer.station_id == station))):
            v.phone = f"1380000{i:04d}"
            v.wechat = f"wx_{i}"
            db.add(v)
        for i, b in enumerate(db.exec(select(Beneficiary).where(Beneficiary.station_id == station))):
            b.address = f"幸福路{i + 1}号"
            b.contact_name = f"家属{i}"
            b.contact_phone = f"1390000{i:04d}"
            db.add(b)
        db.commit()


def test_first_publication_tells_every_assigned_volunteer_and_family(city: City) -> None:
    station = city.stations[0]
    _contacts(city, station)
    plan = _with_problem(city, station, _generate(city, station))
    assert _messages(city, station, plan["id"]) == []  # a draft has none
    published = _publish(city, station, plan["id"])
    assert published["published_at"] is not None and published["id"] == plan["id"]
    messages = _messages(city, station, plan["id"])
    volunteers, beneficiaries = _assigned(plan)
    assert _recipients(messages, "volunteer") == volunteers
    assert _recipients(messages, "beneficiary") == beneficiaries
    assert len(messages) == len(volunteers) + len(beneficiaries)
    keys = [m["key"] for m in messages]
    assert len(set(keys)) == len(keys) and all(len(k) <= KEY_MAX_LENGTH for k in keys)
    assert all(m["payload"]["change"] == "first" for m in messages)
    # The texts hold the facts: station, week, each session's date, 时段 and times, whom, where, what.
    with Session(city.engine) as db:
        station_name = db.get(Station, station).name  # type: ignore[union-attr]
        vols = {v.id: v for v in db.exec(select(Volunteer).where(Volunteer.station_id == station))}
        bens = {b.id: b for b in db.exec(select(Beneficiary).where(Beneficiary.station_id == station))}
    needs = {n["id"]: n for n in _problem(plan)["needs"]}
    by_recipient = {(m["recipient_kind"], m["recipient_id"]): m for m in messages}
    for a in plan["plan"]["assignments"]:
        need = needs[a["need"]]
        ben = bens[need["beneficiary"]]
        text = by_recipient[("volunteer", a["volunteer"])]["body"]
        assert text.startswith(f"【邻里志愿服务·{station_name}】{vols[a['volunteer']].name}您好！")
        assert "12月7日—12月13日" in text
        for slot in a["slots"]:
            assert (
                describe_session(MONDAY, slot, need["hours"]) in text
            )  # e.g. 12月8日（周二）上午 9:00-11:00
        assert (
            f"服务对象：{ben.name}，地址：{ben.address}，服务内容：{SERVICE_NAMES[need['service']]}" in text
        )
        family = by_recipient[("beneficiary", need["beneficiary"])]
        assert family["body"].startswith(f"【邻里志愿服务·{station_name}】{ben.contact_name}您好！")
        assert (
            f"志愿者：{vols[a['volunteer']].name}，服务内容：{SERVICE_NAMES[need['service']]}"
            in family["body"]
        )
        assert family["payload"]["recipient"]["contact_phone"] == ben.contact_phone
    some = by_recipient[("volunteer", sorted(volunteers)[0])]
    assert some["payload"]["recipient"]["phone"] == vols[sorted(volunteers)[0]].phone
    session0 = some["payload"]["sessions"][0]
    assert session0["start"].endswith("+08:00") and session0["service"]["name"] in SERVICE_NAMES.values()
    # Paged like the other lists.
    r = city.client.get(
        f"/v1/plans/{plan['id']}/messages", params={"limit": 2, "offset": 1}, headers=city.headers(station)
    )
    assert [m["id"] for m in r.json()] == [m["id"] for m in messages[1:3]]
    assert r.headers["X-Total-Count"] == str(len(messages))
    # The station's list shows the version as published.
    listed = city.client.get(f"/v1/stations/{station}/plans", headers=city.headers(station)).json()
    assert listed[0]["published_at"] == published["published_at"]


def test_publishing_twice_writes_one_set_of_messages(city: City) -> None:
    station = city.stations[0]
    plan = _generate(city, station)
    first = _publish(city, station, plan["id"])
    count = len(_all_messages(city, station))
    assert count > 0
    again = _publish(city, station, plan["id"])
    assert again["published_at"] == first["published_at"]
    assert len(_all_messages(city, station)) == count
    # The keys refuse a second message even to a publication that bypassed the check.
    with Session(city.engine) as db:
        version = db.get(PlanVersion, plan["id"])
        assert version is not None
        with pytest.raises(IntegrityError):  # the outbox's unique key
            publication._write_messages(db, version, None)
            db.flush()
        db.rollback()
    assert len(_all_messages(city, station)) == count


def test_a_draft_s_re_solve_tells_no_one(city: City) -> None:
    station = city.stations[0]
    plan = _generate(city, station)
    second = _withdraw(city, station, plan)
    assert second["published_at"] is None
    assert _all_messages(city, station) == []


def test_a_re_solve_after_publication_tells_those_whose_week_changed(city: City) -> None:
    station = city.stations[0]
    first = _with_problem(city, station, _generate(city, station))
    _publish(city, station, first["id"])
    told_first = len(_all_messages(city, station))
    withdrawn = sorted({a["volunteer"] for a in first["plan"]["assignments"]})[0]
    second = _with_problem(city, station, _withdraw(city, station, first))
    assert second["published_at"] is not None  # published by itself: the week was
    messages = _messages(city, station, second["id"])
    assert len(_all_messages(city, station)) == told_first + len(messages)
    diff = city.client.get(
        f"/v1/plans/{second['id']}/diff", params={"against": first["id"]}, headers=city.headers(station)
    ).json()
    assert diff["changed"], "the change set moved nothing: the test would prove nothing"
    assert sorted(e["need"] for e in diff["changed"]) == sorted(second["plan"]["changed"])
    moved_volunteers = {
        side["volunteer"] for e in diff["changed"] for side in (e["before"], e["after"]) if side
    }
    needs = {n["id"]: n for n in first["_problem"]["needs"]} | {
        n["id"]: n for n in second["_problem"]["needs"]
    }
    moved_families = {needs[e["need"]]["beneficiary"] for e in diff["changed"]}
    assert _recipients(messages, "volunteer") == moved_volunteers
    assert _recipients(messages, "beneficiary") == moved_families
    cancelled = next(m for m in messages if m["recipient_id"] == withdrawn)
    assert cancelled["payload"]["change"] == "cancelled" and "的志愿服务已取消，无需前往" in cancelled["body"]
    changed = [m for m in messages if m["payload"]["change"] == "changed"]
    assert all("有变动" in m["body"] for m in changed)
    assert all(m["key"].startswith(f"p{second['id']}-a{first['id']}-") for m in messages)

    # A revert: the first version is current again, and told again to the same people.
    r = city.client.post(f"/v1/plans/{second['id']}/revert", headers=city.headers(station))
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["id"] == first["id"] and back["published_at"] > second["published_at"]
    again = _messages(city, station, first["id"])
    reverted = [m for m in again if m["key"].startswith(f"p{first['id']}-a{second['id']}-")]
    assert _recipients(reverted, "volunteer") == moved_volunteers
    assert _recipients(reverted, "beneficiary") == moved_families
    assert next(m for m in reverted if m["recipient_id"] == withdrawn)["payload"]["change"] == "changed"
    all_keys = [m.key for m in _all_messages(city, station)]
    assert len(set(all_keys)) == len(all_keys)


def test_a_failed_publication_leaves_neither_mark_nor_messages(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = city.stations[0]
    plan = _generate(city, station)

    def fail(*_args: Any) -> None:
        raise RuntimeError("the server died after the messages were added")

    monkeypatch.setattr(publication, "_mark_published", fail)
    with Session(city.engine) as db:
        version = db.get(PlanVersion, plan["id"])
        assert version is not None
        with pytest.raises(RuntimeError):
            publication.publish(db, version)
    with Session(city.engine) as db:
        stored = db.get(PlanVersion, plan["id"])
        assert stored is not None and stored.published_at is None
    assert _all_messages(city, station) == []
    monkeypatch.undo()
    # And the same publication goes through afterwards.
    _publish(city, station, plan["id"])
    assert _all_messages(city, station)


def test_a_failed_revert_takes_its_messages_with_it(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    station = city.stations[0]
    first = _generate(city, station)
    _publish(city, station, first["id"])
    second = _withdraw(city, station, first)
    before = len(_all_messages(city, station))

    def fail(*_args: Any) -> None:
        raise RuntimeError("the server died after the messages were added")

    monkeypatch.setattr(publication, "_mark_published", fail)
    with pytest.raises(RuntimeError):
        city.client.post(f"/v1/plans/{second['id']}/revert", headers=city.headers(station))
    assert len(_all_messages(city, station)) == before
    with Session(city.engine) as db:
        stored = db.get(PlanVersion, second["id"])
        assert stored is not None and stored.state == "done"  # the revert rolled back with its messages


def test_only_the_current_finished_station_plan_is_published(city: City) -> None:
    a, b = city.stations
    first = _generate(city, a)
    second = _withdraw(city, a, first)
    r = city.client.post(f"/v1/plans/{first['id']}/publish", headers=city.headers(a))
    assert r.status_code == 409 and "current" in r.json()["detail"]
    # Another station's plan is 404, for publishing and for its messages.
    for path in ("publish",):
        r = city.client.post(f"/v1/plans/{second['id']}/{path}", headers=city.headers(b))
        assert r.status_code == 404
    for path in ("messages", "messages.csv", "messages.txt"):
        r = city.client.get(f"/v1/plans/{second['id']}/{path}", headers=city.headers(b))
        assert r.status_code == 404
    assert _all_messages(city, a) == []


def test_the_hand_sending_exports(city: City) -> None:
    station = city.stations[0]
    _contacts(city, station)
    plan = _generate(city, station)
    someone = sorted({a["volunteer"] for a in plan["plan"]["assignments"]})[0]
    with Session(city.engine) as db:  # names are read when the messages are written
        row = db.get(Volunteer, someone)
        assert row is not None
        row.name = '=HYPERLINK("http://x","y")'
        db.add(row)
        db.commit()
    _publish(city, station, plan["id"])
    messages = _messages(city, station, plan["id"])
    r = city.client.get(f"/v1/plans/{plan['id']}/messages.csv", headers=city.headers(station))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == list(publication.EXPORT_HEADER)
    assert len(rows) == len(messages) + 1
    assert {row[5] for row in rows[1:]} == {m["key"] for m in messages}
    phones = {row[2] for row in rows[1:]}
    assert any(p.startswith("1380000") and len(p) == 11 for p in phones)  # in full: the station's own
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith("=") for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    r = city.client.get(f"/v1/plans/{plan['id']}/messages.txt", headers=city.headers(station))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert text.count("收件人：") == len(messages)
    assert "电话：1380000" in text and messages[0]["body"].splitlines()[0] in text
    assert not any(line.startswith("=") for line in text.splitlines())


def test_keys_are_bounded_and_distinct() -> None:
    long_id = "v" * 64
    key = publication.message_key(2**31 - 1, 2**31 - 2, "volunteer", long_id)
    assert len(key) <= KEY_MAX_LENGTH
    assert key != publication.message_key(2**31 - 1, 2**31 - 2, "volunteer", long_id[:-1] + "w")
    assert publication.message_key(3, None, "beneficiary", "b1") == "p3-a0-b-b1"
    assert publication.message_key(3, 2, "volunteer", "b1") != publication.message_key(
        3, 2, "beneficiary", "b1"
    )


def test_two_concurrent_publications_write_one_set_of_messages(city: City) -> None:
    station = city.stations[0]
    plan = _generate(city, station)
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def publish() -> None:
        barrier.wait()
        r = city.client.post(f"/v1/plans/{plan['id']}/publish", headers=city.headers(station))
        answers.append(r.status_code)

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 200], answers
    messages = _all_messages(city, station)
    volunteers, _families = _assigned(_with_problem(city, station, plan))
    assert len([m for m in messages if m.recipient_kind == "volunteer"]) == len(volunteers)
    assert len({m.key for m in messages}) == len(messages)


def test_generating_a_published_week_again_publishes_the_new_version(city: City) -> None:
    station = city.stations[0]
    first = _with_problem(city, station, _generate(city, station))
    _publish(city, station, first["id"])
    with Session(city.engine) as db:  # a volunteer leaves the station: the week is generated again
        gone = db.get(Volunteer, sorted({a["volunteer"] for a in first["plan"]["assignments"]})[0])
        assert gone is not None
        gone.active = False
        db.add(gone)
        db.commit()
        gone_id = gone.id
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    again = _with_problem(city, station, city.wait(r.json()["id"], station))
    assert again["state"] == "done" and again["published_at"] is not None
    messages = _messages(city, station, again["id"])
    diff = city.client.get(
        f"/v1/plans/{again['id']}/diff", params={"against": first["id"]}, headers=city.headers(station)
    ).json()
    moved = {side["volunteer"] for e in diff["changed"] for side in (e["before"], e["after"]) if side}
    assert gone_id in moved and _recipients(messages, "volunteer") == moved
    assert next(m for m in messages if m["recipient_id"] == gone_id)["payload"]["change"] == "cancelled"
