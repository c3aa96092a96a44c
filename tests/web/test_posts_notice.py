"""The week pages of a week with group posts (多人岗位, issue 20), now that the week is planned in
format 2: no notice that posts are left out, and each page shows the post (its site, its members)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, select
from test_web import log_in

from api.models import Volunteer

WEEK = "2026-12-07"


def test_the_week_pages_show_a_planned_post_without_the_old_notice(city: Any) -> None:
    """With a post at a site planned, 概览, 排班表, 未满足需求, the change form, the records and the
    review of a re-solve answer 200; the grid shows the site's name in each member's cell, and no
    page says posts are left out (the notice of the weeks before posts were planned is gone)."""
    station, _other = city.stations
    with Session(city.engine) as db:
        volunteers = list(db.exec(select(Volunteer).where(Volunteer.station_id == station)))
    district = Counter(v.district for v in volunteers).most_common(1)[0][0]
    local = [v for v in volunteers if v.district == district and v.active and not v.minor]
    service = Counter(s for v in local for s in v.skills).most_common(1)[0][0]
    able = [v for v in local if service in v.skills]
    windows = sorted(s for s, n in Counter(s for v in able for s in v.availability).items() if n >= 3)
    headers = city.headers(station)
    site = {"id": "s-square", "name": "雄关广场", "district": district}
    r = city.client.post(f"/v1/stations/{station}/sites", json=site, headers=headers)
    assert r.status_code == 201, r.text
    post = {
        "id": "n-post",
        "service": service,
        "hours": 2,
        "sessions": 1,
        "windows": windows,
        "priority": 5,
        "volunteers_min": 2,
        "volunteers_max": 3,
    }
    r = city.client.post(f"/v1/stations/{station}/sites/s-square/needs", json=post, headers=headers)
    assert r.status_code == 201, r.text
    r = city.client.post(f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=headers)
    assert r.status_code == 202, r.text
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done" and plan["plan"]["format"] == 2, plan
    members = next(a["volunteers"] for a in plan["plan"]["assignments"] if a["need"] == "n-post")
    log_in(city.client, city.tokens[station])
    pages = [
        f"/s/{station}/?week={WEEK}",
        f"/s/{station}/grid?week={WEEK}",
        f"/s/{station}/unmet?week={WEEK}",
        f"/s/{station}/changes?week={WEEK}",
        f"/s/{station}/records?week={WEEK}",
    ]
    for path in pages:
        page = city.client.get(path)
        assert page.status_code == 200, (path, page.text[:2000])
        assert "本站有" not in page.text and "暂时还不能按多人岗位安排" not in page.text, path
    grid = city.client.get(f"/s/{station}/grid?week={WEEK}").text
    assert grid.count("雄关广场") >= len(members)
    # A member withdrawn: the re-solve is reviewed like any other.
    r = city.client.post(
        f"/v1/plans/{plan['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": members[0]}]},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    second = city.wait(r.json()["id"], station)
    assert second["state"] == "done", second
    review = city.client.get(f"/plans/{second['id']}/review")
    assert review.status_code == 200 and "雄关广场" in review.text
