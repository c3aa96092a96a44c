"""The service plans group posts (多人岗位, issue 20): a station with sites and posts gets a format-2
week, end to end (plan, rows per member, diff, exports, publication, records, swap, re-solve), on
SQLite and on PostgreSQL; a station without posts keeps its format-1 week."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import Counter
from typing import Any

import pytest
from api_support import City
from sqlmodel import Session, col, select

from api.models import OutboxMessage, PlanAssignment, Volunteer
from api.services import calendars
from matcher.format.schema import Plan2, Problem2
from matcher.format.validate2 import validate_plan2

WEEK = "2026-12-07"
SITE = "s-square"


def _post_site(city: City, station: str) -> dict[str, Any]:
    """A site in the district where most of the station's volunteers live, and a post there for
    the service most of them have: 2-4 volunteers at any one slot of the week, priority 5."""
    with Session(city.engine) as db:
        volunteers = list(db.exec(select(Volunteer).where(Volunteer.station_id == station)))
    district = Counter(v.district for v in volunteers).most_common(1)[0][0]
    local = [v for v in volunteers if v.district == district and v.active and not v.minor]
    service = Counter(s for v in local for s in v.skills).most_common(1)[0][0]
    able = [v for v in local if service in v.skills]
    slots = Counter(s for v in able for s in v.availability)
    windows = sorted(s for s, n in slots.items() if n >= 3)
    assert len(able) >= 4 and windows, "the seeded station has volunteers enough for a post"
    h = city.headers(station)
    site = {"id": SITE, "name": "人民广场", "district": district, "address": "人民广场东门"}
    r = city.client.post(f"/v1/stations/{station}/sites", json=site, headers=h)
    assert r.status_code == 201, r.text
    post = {
        "id": "n-civility",
        "service": service,
        "hours": 2,
        "sessions": 1,
        "windows": windows,
        "priority": 5,
        "volunteers_min": 2,
        "volunteers_max": 4,
    }
    r = city.client.post(f"/v1/stations/{station}/sites/{SITE}/needs", json=post, headers=h)
    assert r.status_code == 201, r.text
    return post


def _generate(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    body = city.wait(r.json()["id"], station)
    assert body["state"] == "done", body
    return body


def _checked(city: City, body: dict[str, Any], station: str) -> tuple[Problem2, Plan2]:
    """The version's stored problem and plan, in format 2, the plan valid for the problem."""
    doc = city.client.get(f"/v1/plans/{body['id']}/problem", headers=city.headers(station)).json()
    problem, plan = Problem2.model_validate(doc), Plan2.model_validate(body["plan"])
    assert validate_plan2(problem, plan) == []
    return problem, plan


def _reported(body: dict[str, Any], plan: Plan2) -> None:
    """The posts solve or re-solve reported its progress (the week page's live bar): its last report,
    kept on the version, is the plan's own."""
    progress = body["progress"]
    assert progress is not None and progress["stage"] == "done", progress
    assert progress["proved"] == (plan.status == "optimal") and 0 < progress["coverage"] <= 1


def _post(plan: Plan2, need: str = "n-civility") -> Any:
    found = next((a for a in plan.assignments if a.need == need), None)
    assert found is not None, f"the post {need} is staffed"
    return found


def test_a_week_with_a_post_is_planned_in_format_2_end_to_end(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post gets 2-4 volunteers at the same slot, valid by the format-2 validator; one row per
    member (GET, CSV), the diff lists a post's members; publishing tells each member where and how
    many; each member records their own session; a swap the rules refuse is 422 naming the field."""
    station, other = city.stations
    c, h = city.client, city.headers(station)
    post = _post_site(city, station)
    body = _generate(city, station)
    problem, plan = _checked(city, body, station)
    assert body["plan"]["format"] == 2 and [s.id for s in problem.sites] == [SITE]
    _reported(body, plan)
    a = _post(plan)
    assert post["volunteers_min"] <= len(a.volunteers) <= post["volunteers_max"] and len(a.slots) == 1
    # One row per volunteer of the post, the post's slots, each with its own id.
    rows = [r for r in body["assignments"] if r["need"] == "n-civility"]
    assert sorted(r["volunteer"] for r in rows) == sorted(a.volunteers)
    assert all(r["slots"] == a.slots and len(r["sessions"]) == 1 for r in rows)
    assert all(r["places_open"] == a.places_open for r in rows)  # the plan's, on each member's row
    assert (a.places_open or 0) == post["volunteers_max"] - len(a.volunteers)
    assert len({r["id"] for r in rows}) == len(rows)
    assert len(body["assignments"]) == sum(len(x.volunteers) for x in plan.assignments)
    with Session(city.engine) as db:
        stored = db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == body["id"])).all()
        assert sorted((x.need_id, x.volunteer_id) for x in stored) == sorted(
            (x.need, v) for x in plan.assignments for v in x.volunteers
        )
    # The CSV export: one row per member, the site in the place column, each with its row id.
    r = c.get(f"/v1/plans/{body['id']}/assignments.csv", headers=h)
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    members = [x for x in table if x["need"] == "n-civility"]
    assert sorted(x["volunteer"] for x in members) == sorted(a.volunteers)
    assert {x["beneficiary"] for x in members} == {SITE}
    assert sorted(int(x["assignment_id"]) for x in members) == sorted(x["id"] for x in rows)
    assert len(table) == len(body["assignments"]) + len(plan.unmet)
    assert c.get(f"/v1/plans/{body['id']}/assignments.xlsx", headers=h).status_code == 200
    # The other station has no posts: its week stays format 1.
    assert _generate(city, other)["plan"]["format"] == 1

    # Publishing: each member is told the site, its address, the service and how many serve together.
    r = c.post(f"/v1/plans/{body['id']}/publish", headers=h)
    assert r.status_code == 200, r.text
    with Session(city.engine) as db:
        sent = {
            m.recipient_id: m
            for m in db.exec(
                select(OutboxMessage).where(
                    OutboxMessage.plan_id == body["id"], OutboxMessage.recipient_kind == "volunteer"
                )
            )
        }
    for v in a.volunteers:
        text = sent[v].body
        assert "地点：人民广场，地址：人民广场东门" in text and f"同组 {len(a.volunteers)} 人" in text, text
        facts = [s for s in sent[v].payload["sessions"] if "site" in s]
        assert facts and facts[0]["site"]["id"] == SITE and facts[0]["team"] == len(a.volunteers)

    # Each member's calendar has the post's session at the site, its own event (UID per volunteer).
    monkeypatch.setattr(calendars, "local_today", lambda: dt.date.fromisoformat(WEEK) + dt.timedelta(days=2))
    uids = set()
    for v in a.volunteers:
        link = c.post(f"/v1/volunteers/{v}/calendar", headers=h).json()["url"]
        ics = c.get(link[link.index("/cal/") :]).text.replace("\r\n ", "")
        event = next(e for e in ics.split("BEGIN:VEVENT")[1:] if "人民广场" in e)
        assert "LOCATION:人民广场东门" in event and f"同组 {len(a.volunteers)} 人" in event, event
        uids.add(next(line for line in event.splitlines() if line.startswith("UID:")))
    assert len(uids) == len(a.volunteers)

    # Each member records their own session; a second record of a member's session is 409.
    for row in rows:
        day = row["sessions"][0]["date"]
        record = {"assignment_id": row["id"], "served_on": day, "slot": a.slots[0], "hours": 2}
        r = c.post("/v1/records", json=record, headers=h)
        assert r.status_code == 201, r.text
    r = c.post("/v1/records", json={**record, "hours": 1.5}, headers=h)
    assert r.status_code == 409, r.text

    # The 台账 counts the members' hours under the posts' programme; the week's share stays a share.
    ledger = c.get(f"/v1/stations/{station}/ledger", params={"year": 2026}, headers=h).json()
    posts = next(p for p in ledger["hours_by_programme"] if p["programme"] == "post")
    assert posts["name"] == "多人岗位" and posts["total"] == 2 * len(a.volunteers)
    week = next(w for w in ledger["coverage"] if w["week_start"] == WEEK)
    assert 0 < week["coverage"] <= 1

    # A volunteer who cannot take a member's place: 422 naming the field and the rule, never a 5xx.
    spare = next(
        v.id for v in problem.volunteers if v.id not in a.volunteers and post["service"] not in v.skills
    )
    swap = {"assignment_id": rows[0]["id"], "volunteer": spare}
    r = c.post(f"/v1/plans/{body['id']}/swap", json=swap, headers=h)
    assert r.status_code == 422 and r.json()["detail"].startswith("volunteer:") and "(rule 2)" in r.text, (
        r.text
    )


def test_a_post_member_has_stand_ins_and_the_swap_replaces_them(city: City) -> None:
    """Each member of a post lists who could take their place at all its slots; the swap puts the
    first in (the week's next version, valid by the format-2 validator, the member replaced, the
    rest kept); a one-to-one need of the same week keeps format 1's per-session stand-ins."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    post = _post_site(city, station)
    # Everyone with the post's service free at its windows, with hours and places to spare: more
    # able volunteers with room than the post's 4 places.
    with Session(city.engine) as db:
        for v in db.exec(select(Volunteer).where(Volunteer.station_id == station)):
            if post["service"] in v.skills:
                v.availability = sorted({*v.availability, *post["windows"]})
                v.max_hours, v.max_beneficiaries = 40, 8
                db.add(v)
        db.commit()
    body = _generate(city, station)
    problem, plan = _checked(city, body, station)
    a = _post(plan)
    rows = [r for r in body["assignments"] if r["need"] == "n-civility"]
    assert all(r["sessions"][0]["standins"] == [] for r in rows)  # a post's member: whole only
    row = next(r for r in rows if r["standins"])
    listed = [s["volunteer"] for s in row["standins"]]
    assert len(listed) <= 3 and not set(listed) & set(a.volunteers)
    table = list(
        csv.DictReader(
            io.StringIO(c.get(f"/v1/plans/{body['id']}/assignments.csv", headers=h).text.lstrip("\ufeff"))
        )
    )
    cell = next(x["standins"] for x in table if x["assignment_id"] == str(row["id"]))
    assert cell == ";".join(listed)
    one = next(
        r
        for r in body["assignments"]
        if r["need"] != "n-civility" and any(s["standins"] for s in r["sessions"])
    )
    assert one["places_open"] is None
    r = c.post(
        f"/v1/plans/{body['id']}/swap", json={"assignment_id": row["id"], "volunteer": listed[0]}, headers=h
    )
    assert r.status_code == 201, r.text
    after = r.json()
    assert after["version"] == 2 and after["plan"]["format"] == 2
    problem2, plan2 = _checked(city, after, station)
    members = _post(plan2).volunteers
    assert members == [listed[0] if v == row["volunteer"] else v for v in a.volunteers]
    assert plan2.changed == ["n-civility"]
    assert [x for x in plan2.assignments if x.need != "n-civility"] == [
        x for x in plan.assignments if x.need != "n-civility"
    ]
    assert sorted(x["volunteer"] for x in after["assignments"] if x["need"] == "n-civility") == sorted(
        members
    )
    # The one-to-one need's session swap in the new version: format 1's split, still format 2.
    one = next(
        x for x in after["assignments"] if x["need"] == one["need"] and x["volunteer"] == one["volunteer"]
    )
    moved = next(s for s in one["sessions"] if s["standins"])
    swap = {"assignment_id": one["id"], "volunteer": moved["standins"][0]["volunteer"], "slot": moved["slot"]}
    r = c.post(f"/v1/plans/{after['id']}/swap", json=swap, headers=h)
    assert r.status_code == 201, r.text
    _, plan3 = _checked(city, r.json(), station)
    assert _post(plan3).volunteers == members
    # A volunteer the post cannot take (already on it) is 422 naming the field, never a 5xx.
    row3 = next(x for x in r.json()["assignments"] if x["need"] == "n-civility")
    other = next(v for v in members if v != row3["volunteer"])
    bad = c.post(
        f"/v1/plans/{r.json()['id']}/swap", json={"assignment_id": row3["id"], "volunteer": other}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("volunteer:"), bad.text
    assert problem2.needs == problem.needs


def test_a_withdrawal_from_a_post_is_re_solved_with_posts(city: City) -> None:
    """A member withdrawn: the re-solve (matcher.resolve_posts) keeps the other assignments, refills or
    releases the post, stays format 2 and valid; ``changed`` and the diff name the post, per volunteer."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    _post_site(city, station)
    first = _generate(city, station)
    _, plan1 = _checked(city, first, station)
    gone = _post(plan1).volunteers[0]
    r = c.post(
        f"/v1/plans/{first['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": gone}]},
        headers=h,
    )
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], station)
    assert second["state"] == "done" and second["version"] == 2, second
    problem2, plan2 = _checked(city, second, station)
    _reported(second, plan2)  # the re-solve's progress, as the first solve's
    assert all(gone not in a.volunteers for a in plan2.assignments)
    before = {a.need: (sorted(a.volunteers), sorted(a.slots)) for a in plan1.assignments}
    after = {a.need: (sorted(a.volunteers), sorted(a.slots)) for a in plan2.assignments}
    # Every assignment the withdrawal did not touch is kept as it was.
    for need, (members, slots) in before.items():
        if gone not in members:
            assert after.get(need) == (members, slots), need
    assert "n-civility" in (plan2.changed or [])
    assert plan2.changed == [n.id for n in problem2.needs if before.get(n.id) != after.get(n.id)]
    d = c.get(f"/v1/plans/{second['id']}/diff", params={"against": first["id"]}, headers=h).json()
    post_entries = [e for e in d["changed"] if e["need"] == "n-civility"]
    left = [e for e in post_entries if e["before"] is not None and e["before"]["volunteer"] == gone]
    assert len(left) == 1 and left[0]["after"] is None
    assert all((e["before"] or e["after"])["volunteer"] for e in post_entries)  # per volunteer
    assert {e["need"] for e in d["changed"]} == set(plan2.changed or [])
    with Session(city.engine) as db:
        rows = db.exec(
            select(PlanAssignment)
            .where(PlanAssignment.plan_id == second["id"])
            .order_by(col(PlanAssignment.id))
        ).all()
    assert sorted((x.need_id, x.volunteer_id) for x in rows) == sorted(
        (a.need, v) for a in plan2.assignments for v in a.volunteers
    )


def test_the_demo_seed_puts_posts_at_its_last_station_only(db_url: str) -> None:
    """``linli seed``'s posts (seed_demo(posts=True)): three sites and posts at the last station by id,
    whose week is format 2 with each post able to run (at least its minimum of volunteers with the
    service free at one of its windows, and a lead among them); the other stations stay format 1."""
    from api.db import make_engine
    from api.models import Need, Site
    from api.seed import DEMO_POSTS, seed_demo
    from api.services.planning import build_problem

    engine = make_engine(db_url)
    with Session(engine) as db:
        stations = seed_demo(db, 60, 45, 2, seed=3, posts=True)
        week = dt.date.fromisoformat(WEEK)
        problems = {s: build_problem(db, s, week, 5) for s in stations}
        assert {s.station_id for s in db.exec(select(Site))} == {max(stations)}
        assert len(db.exec(select(Need).where(col(Need.site_id).is_not(None))).all()) == len(DEMO_POSTS)
    engine.dispose()
    assert [p.format for s, p in sorted(problems.items())] == [1] * (len(stations) - 1) + [2]
    problem = problems[max(stations)]
    assert isinstance(problem, Problem2)
    deadline = problem.certification_deadline
    for post in (n for n in problem.needs if n.site is not None):
        able = [v for v in problem.volunteers if post.service in v.skills and not v.minor]
        best = max(sum(w in v.availability for v in able) for w in post.windows)
        assert best >= post.volunteers.min, post.id
        if post.lead is not None:
            assert any(
                {c.kind for c in v.certifications if c.expires >= deadline} >= set(post.lead.certifications)
                for v in able
            ), post.id


def test_a_simulation_runs_on_a_week_with_posts(city: City) -> None:
    """情景模拟 on a station whose week is format 2: the scenario runner solves the posts too."""
    station = city.stations[0]
    _post_site(city, station)
    text = "name: posts\ntime_limit: 5\nperturbations:\n  - kind: attrition\n    rate: 0.2\n"
    r = city.client.post(
        f"/v1/stations/{station}/simulations",
        json={"week_start": WEEK, "yaml": text, "runs": 1},
        headers=city.headers(station),
    )
    assert r.status_code == 202, r.text
    end = time.monotonic() + 120
    while True:
        done = city.client.get(f"/v1/simulations/{r.json()['id']}", headers=city.headers(station)).json()
        if done["state"] not in ("queued", "solving") or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert done["state"] == "done", done
    assert done["report"]["runs"]["count"] == 1
    assert "posts" in done["report"], sorted(done["report"])


def test_a_session_recorded_before_a_swap_split_its_need_is_not_recorded_again(city: City) -> None:
    """A swap of one session of several splits the need into ``<need>+<slot>`` and ``<need>+rest``:
    a session of the rest recorded against the older version's ``<need>`` is the same session as
    the new version's ``<need>+rest`` row's (409), and a correction of it still goes through."""
    station = city.stations[1]  # no posts: a format-1 week, with stand-ins
    c, h = city.client, city.headers(station)
    body = _generate(city, station)
    found = next(
        (a, s) for a in body["assignments"] if len(a["slots"]) > 1 for s in a["sessions"][1:] if s["standins"]
    )
    a, moved = found
    kept = next(s for s in a["sessions"] if s["slot"] != moved["slot"])
    # A no-show holds no hours: only the one-record-per-session rule can refuse it a second time.
    record = {"assignment_id": a["id"], "served_on": kept["date"], "slot": kept["slot"], "outcome": "no_show"}
    assert c.post("/v1/records", json=record, headers=h).status_code == 201
    swap = {"assignment_id": a["id"], "volunteer": moved["standins"][0]["volunteer"], "slot": moved["slot"]}
    r = c.post(f"/v1/plans/{body['id']}/swap", json=swap, headers=h)
    assert r.status_code == 201, r.text
    after = r.json()
    rest = next(
        x
        for x in after["assignments"]
        if x["need"].startswith(a["need"] + "+") and x["volunteer"] == a["volunteer"]
    )
    assert kept["slot"] in rest["slots"]
    again = {**record, "assignment_id": rest["id"]}
    r = c.post("/v1/records", json=again, headers=h)
    assert r.status_code == 409, r.text
    correction = {**again, "outcome": "served", "hours": 1, "correction": {"reason": "其实来了"}}
    r = c.post("/v1/records", json=correction, headers=h)
    assert r.status_code in (200, 201), r.text


def test_a_re_solve_re_checks_kept_members_against_the_station_as_it_is_now(city: City) -> None:
    """A volunteer's max_hours (a post member's if one has other needs) is lowered after the week was
    planned (less than the hours the plan gives them); a change set that touches nobody of theirs
    re-solves the week on the station as it is now: they are released where they no longer fit, the
    plan validates for the stored problem (their new max_hours in it), and ``changed`` names where."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    _post_site(city, station)
    first = _generate(city, station)
    problem1, plan1 = _checked(city, first, station)
    needs = {n.id: n for n in problem1.needs}

    def hours(plan: Plan2, volunteer: str) -> float:
        return sum(
            needs[a.need].hours * needs[a.need].sessions
            for a in plan.assignments
            if volunteer in a.volunteers
        )

    # A post member with other needs too if there is one, else another volunteer with several needs.
    ids = [*_post(plan1).volunteers, *(v.id for v in problem1.volunteers)]
    member = next(v for v in ids if sum(v in a.volunteers for a in plan1.assignments) > 1)
    # Their largest need's hours: each of their needs alone still fits (the pair rules hold), not all
    # of them together (only the count over the week can tell).
    lowered = max(
        needs[a.need].hours * needs[a.need].sessions for a in plan1.assignments if member in a.volunteers
    )
    assert hours(plan1, member) > lowered
    with Session(city.engine) as db:
        v = db.get(Volunteer, member)
        assert v is not None
        v.max_hours = lowered
        db.add(v)
        db.commit()
    idle = next(v.id for v in problem1.volunteers if all(v.id not in a.volunteers for a in plan1.assignments))
    r = c.post(
        f"/v1/plans/{first['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": idle}]},
        headers=h,
    )
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], station)
    assert second["state"] == "done", second
    problem2, plan2 = _checked(city, second, station)  # valid for the stored problem
    assert next(v for v in problem2.volunteers if v.id == member).max_hours == lowered
    assert hours(plan2, member) <= lowered
    released = [
        a.need
        for a in plan1.assignments
        if member in a.volunteers
        and not any(b.need == a.need and member in b.volunteers for b in plan2.assignments)
    ]
    assert released and set(released) <= set(plan2.changed or [])
