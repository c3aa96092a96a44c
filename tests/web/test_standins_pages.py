"""备选志愿者 and 换人 on the week grid (web/standins_pages.py): listed, confirmed, swapped, refused.

The browser test of the same flow is in ``test_browser_standins.py``.
"""

from __future__ import annotations

import html as html_lib
import re
from collections import Counter
from typing import Any

from sqlmodel import Session, select
from test_web import WEEK, csrf_of, generate, log_in

from api.models import PlanAssignment, PlanVersion, Volunteer
from matcher.format.changes import apply_changes
from matcher.format.io import parse
from matcher.format.schema import ChangeSet, Plan, Plan2, Problem, Problem2
from matcher.format.validate import validate_plan
from matcher.format.validate2 import validate_plan2

SWAP_FORM = re.compile(
    r'<form method="get" action="/s/([^/]+)/swap"[^>]*>\s*'
    r'<input type="hidden" name="plan" value="(\d+)"><input type="hidden" name="assignment" value="(\d+)">'
    r'<input type="hidden" name="slot" value="([^"]*)"><input type="hidden" name="volunteer" value="([^"]+)">'
)


def _swaps(page: str) -> list[dict[str, str]]:
    """The grid's 换人 buttons, each with its form's fields."""
    return [
        {
            "station": m[0],
            "plan": m[1],
            "assignment": m[2],
            "slot": m[3],
            "volunteer": html_lib.unescape(m[4]),
        }
        for m in SWAP_FORM.findall(page)
    ]


def test_the_grid_lists_stand_ins_and_a_swap_makes_the_next_version(city: Any) -> None:
    mine, theirs = city.stations
    plan_id = generate(city, mine)
    grid = city.client.get(f"/s/{mine}/grid?week={WEEK}")
    assert grid.status_code == 200
    assert "备选" in grid.text and "换人" in grid.text
    assert "距离" in grid.text and "本周已排" in grid.text
    swaps = _swaps(grid.text)
    assert swaps and all(s["station"] == mine and s["plan"] == str(plan_id) for s in swaps)
    chosen = swaps[0]
    # without JavaScript: the button opens the confirmation
    confirm = city.client.get(
        f"/s/{mine}/swap",
        params={k: chosen[k] for k in ("plan", "assignment", "slot", "volunteer")},
    )
    assert confirm.status_code == 200, confirm.text
    assert "换人确认" in confirm.text and ("确认换人" in confirm.text or "只换这一次" in confirm.text)
    assert "距离" in confirm.text
    csrf = csrf_of(confirm.text)
    data = {k: chosen[k] for k in ("plan", "assignment", "slot", "volunteer")} | {"csrf_token": csrf}
    r = city.client.post(f"/s/{mine}/swap", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/s/{mine}/grid?week={WEEK}&swapped=2"
    after = city.client.get(r.headers["location"])
    assert "已换人：本周排班现为第 2 版。" in after.text
    with Session(city.engine) as db:
        new = db.get(PlanVersion, plan_id + 1)
        assert new is not None and new.parent_id == plan_id and new.state == "done"
        assert new.plan is not None and new.changes is not None
        problem = parse(Problem, new.problem, "problem")
        plan = parse(Plan, new.plan, "plan")
        assert validate_plan(problem, plan) == []
        assert any(a.volunteer == chosen["volunteer"] and chosen["slot"] in a.slots for a in plan.assignments)
        parent = db.get(PlanVersion, plan_id)
        assert parent is not None
        changes = parse(ChangeSet, new.changes, "changes")
        assert apply_changes(parse(Problem, parent.problem, "problem"), changes) == problem
    # the old version's swap is refused now, in Chinese
    again = city.client.post(f"/s/{mine}/swap", data=data, follow_redirects=False)
    assert again.status_code == 409 and "打开页面后排班已有变动" in again.text
    # another station's token sees nothing of it
    log_in(city.client, city.tokens[theirs])
    other = city.client.get(
        f"/s/{mine}/swap", params={k: chosen[k] for k in ("plan", "assignment", "slot", "volunteer")}
    )
    assert other.status_code == 404


def test_a_swap_that_breaks_a_rule_is_explained_in_chinese(city: Any) -> None:
    mine, _theirs = city.stations
    plan_id = generate(city, mine)
    grid = city.client.get(f"/s/{mine}/grid?week={WEEK}")
    with Session(city.engine) as db:
        version = db.get(PlanVersion, plan_id)
        assert version is not None and version.plan is not None
        busy: dict[str, set[str]] = {}
        for a in version.plan["assignments"]:
            busy.setdefault(a["volunteer"], set()).update(a["slots"])
    chosen = _swaps(grid.text)[0]
    # someone already serving at that time (rule 4), or the session's own volunteer (rule 3)
    taken = next(v for v, slots in sorted(busy.items()) if chosen["slot"] in slots)
    data = {k: chosen[k] for k in ("plan", "assignment", "slot")} | {
        "volunteer": taken,
        "csrf_token": csrf_of(grid.text),
    }
    r = city.client.post(f"/s/{mine}/swap", data=data, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert "这位备选志愿者不能接替" in r.text
    assert "该时段" in r.text  # rule 3 or 4 in words
    # without the CSRF token: refused
    r = city.client.post(f"/s/{mine}/swap", data={**data, "csrf_token": ""}, follow_redirects=False)
    assert r.status_code == 403
    # with HTMX the refusal comes back as 200 so that it shows
    r = city.client.post(f"/s/{mine}/swap", data=data, headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 200 and "这位备选志愿者不能接替" in r.text


def test_no_stand_ins_on_a_superseded_version(city: Any) -> None:
    """Only the week's current version offers 换人; the grid always shows the newest done one."""
    mine, _theirs = city.stations
    generate(city, mine)
    second = generate(city, mine)
    grid = city.client.get(f"/s/{mine}/grid?week={WEEK}")
    assert all(s["plan"] == str(second) for s in _swaps(grid.text))


def _open_post(city: Any, station: str) -> None:
    """A site and a post of 2-4 volunteers at Saturday morning for the station's commonest skill, and
    everyone with it free then, with hours and places to spare (more able volunteers than places)."""
    with Session(city.engine) as db:
        people = list(db.exec(select(Volunteer).where(Volunteer.station_id == station)))
        district = Counter(v.district for v in people).most_common(1)[0][0]
        service = Counter(s for v in people if v.district == district for s in v.skills).most_common(1)[0][0]
        for v in people:
            if service in v.skills:
                v.availability = sorted({*v.availability, "sat-am"})
                v.max_hours, v.max_beneficiaries = 40, 8
                db.add(v)
        db.commit()
    h = {"Authorization": f"Bearer {city.tokens[station]}"}
    site = {"id": "s-square", "name": "雄关广场", "district": district}
    assert city.client.post(f"/v1/stations/{station}/sites", json=site, headers=h).status_code == 201
    post = {
        "id": "n-square",
        "service": service,
        "hours": 2,
        "sessions": 1,
        "windows": ["sat-am"],
        "priority": 5,
        "volunteers_min": 2,
        "volunteers_max": 4,
    }
    r = city.client.post(f"/v1/stations/{station}/sites/s-square/needs", json=post, headers=h)
    assert r.status_code == 201, r.text


def test_a_post_member_is_swapped_for_the_whole_post(city: Any) -> None:
    """A group post's member lists who could take their place (all its sessions, no slot in the
    form); the confirmation says so in Chinese and the swap makes the next version, format 2 and
    valid, with the member replaced on the post."""
    mine, _theirs = city.stations
    _open_post(city, mine)
    plan_id = generate(city, mine)
    with Session(city.engine) as db:
        version = db.get(PlanVersion, plan_id)
        assert version is not None and version.plan is not None and version.plan["format"] == 2
        members = next(a["volunteers"] for a in version.plan["assignments"] if a["need"] == "n-square")
        rows = {
            r.id: r.volunteer_id
            for r in db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan_id))
        }
    grid = city.client.get(f"/s/{mine}/grid?week={WEEK}")
    assert grid.status_code == 200
    posts = [s for s in _swaps(grid.text) if rows.get(int(s["assignment"])) in members]
    assert posts and all(s["slot"] == "" for s in posts)  # a post's member: all its sessions
    assert all(s["volunteer"] not in members for s in posts)
    assert "确定让" in grid.text and "在这个多人岗位上替换" in grid.text
    chosen = posts[0]
    confirm = city.client.get(
        f"/s/{mine}/swap", params={k: chosen[k] for k in ("plan", "assignment", "slot", "volunteer")}
    )
    assert (
        confirm.status_code == 200
        and "雄关广场" in confirm.text
        and "多人岗位的志愿者一起承担" in confirm.text
    )
    data = {k: chosen[k] for k in ("plan", "assignment", "slot", "volunteer")} | {
        "csrf_token": csrf_of(confirm.text)
    }
    r = city.client.post(f"/s/{mine}/swap", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        new = db.get(PlanVersion, plan_id + 1)
        assert new is not None and new.plan is not None and new.state == "done"
        problem, plan = parse(Problem2, new.problem, "problem"), parse(Plan2, new.plan, "plan")
    assert validate_plan2(problem, plan) == []
    leaving = rows[int(chosen["assignment"])]
    after = next(a.volunteers for a in plan.assignments if a.need == "n-square")
    assert after == [chosen["volunteer"] if v == leaving else v for v in members]
