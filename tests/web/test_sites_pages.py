"""服务地点 (web/sites_pages.py): the list, the site and post forms, deactivate, import, the scope."""

from __future__ import annotations

import io
import os
import re
from typing import Any

from openpyxl import load_workbook
from post_week import post_week
from sqlmodel import Session, select
from test_web import WEEK, generate, log_in, unlabelled

from api.models import AuditEntry, Beneficiary, District, Need, Site, Volunteer
from api.services import plan_posts
from api.tables import XLSX_MEDIA_TYPE

os.environ.setdefault("LINLI_SECRET_KEY", "test-secret-key-for-the-web-tests-only")


def _district(city: Any) -> str:
    with Session(city.engine) as db:
        d = db.exec(select(District)).first()
        assert d is not None
        return d.id


def _site(district: str, **more: str) -> dict[str, str]:
    return {"id": "s-square", "name": "雄关广场", "district": district, "address": "雄关广场东门", **more}


def _post(**more: Any) -> dict[str, Any]:
    return {
        "id": "n-square-sat",
        "service": "companionship",
        "hours": "2",
        "sessions": "1",
        "windows": ["sat-am", "sun-am"],
        "volunteers_min": "2",
        "volunteers_max": "5",
        "priority": "4",
        "lead_certifications": ["first_aid"],
        **more,
    }


def test_sites_list_create_edit_posts_and_deactivate(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    empty = client.get(f"/s/{station}/sites")
    assert empty.status_code == 200 and "服务地点" in empty.text and "还没有服务地点" in empty.text
    form = client.get(f"/s/{station}/sites/new")
    assert (form.status_code == 200 and "地点名称" in form.text) or "名称" in form.text
    assert unlabelled(form.text) == []
    district = _district(city)
    r = client.post(
        f"/s/{station}/sites/new", data={**_site(district), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/s/{station}/sites/s-square?saved=1"
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "已保存" in page.text and "雄关广场东门" in page.text
    assert "此地点还没有岗位" in page.text
    listed = client.get(f"/s/{station}/sites")
    assert ">s-square</a>" in listed.text and "雄关广场" in listed.text
    # a post at the site: volunteers 2-5, priority, a first-aider to lead
    post_form = client.get(f"/s/{station}/sites/s-square/posts/new")
    assert post_form.status_code == 200 and "最少志愿者人数" in post_form.text and "优先级" in post_form.text
    assert unlabelled(post_form.text) == []
    r = client.post(
        f"/s/{station}/sites/s-square/posts/new", data={**_post(), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        need = db.get(Need, "n-square-sat")
        assert need is not None and need.site_id == "s-square" and need.beneficiary_id is None
        assert (need.volunteers_min, need.volunteers_max, need.priority) == (2, 5, 4)
        assert need.lead_certifications == ["first_aid"] and need.windows == ["sat-am", "sun-am"]
        entries = db.exec(select(AuditEntry).where(AuditEntry.entity_id.in_(("s-square", "n-square-sat"))))  # type: ignore[attr-defined]
        audited = {(e.entity, e.action, e.actor_kind, e.station_id) for e in entries}
    # the writes went through the audited session, as the web's other writes: the station's token
    assert {(entity, action) for entity, action, _k, _s in audited} == {
        ("site", "create"),
        ("need", "create"),
    }
    assert {(k, s) for _e, _a, k, s in audited} == {("web", station)}
    site_page = client.get(f"/s/{station}/sites/s-square")
    assert ">n-square-sat</a>" in site_page.text and "2-5 人" in site_page.text and "急救" in site_page.text
    assert '<td class="num">1</td>' in client.get(f"/s/{station}/sites").text  # one post
    # edit the site and the post
    r = client.post(
        f"/s/{station}/sites/s-square",
        data={**_site(district, name="雄关广场北", address=""), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    r = client.post(
        f"/s/{station}/sites/s-square/posts/n-square-sat",
        data={**_post(volunteers_max="8"), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        site = db.get(Site, "s-square")
        need = db.get(Need, "n-square-sat")
        assert site is not None and (site.name, site.address) == ("雄关广场北", "")  # emptied: cleared
        assert need is not None and need.volunteers_max == 8
    # deactivate the post, then the site; reactivate the site
    r = client.post(
        f"/s/{station}/sites/s-square/posts/n-square-sat/active",
        data={"active": "0", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for active in ("0", "1"):
        r = client.post(
            f"/s/{station}/sites/s-square/active",
            data={"active": active, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303
        with Session(city.engine) as db:
            site = db.get(Site, "s-square")
            assert site is not None and site.active is (active == "1")
    with Session(city.engine) as db:
        need = db.get(Need, "n-square-sat")
        assert need is not None and need.active is False
    assert '<td class="num">0</td>' in client.get(f"/s/{station}/sites").text  # no active post


def test_bad_fields_are_shown_in_chinese_beside_the_field(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    district = _district(city)
    r = client.post(f"/s/{station}/sites/new", data={**_site(district, name=""), "csrf_token": csrf})
    assert r.status_code == 422 and 'id="e-name"' in r.text and "未保存" in r.text
    r = client.post(f"/s/{station}/sites/new", data={**_site("no-such-district"), "csrf_token": csrf})
    assert r.status_code == 422 and 'id="e-district"' in r.text
    r = client.post(f"/s/{station}/sites/new", data={**_site(district, latitude="abc"), "csrf_token": csrf})
    assert r.status_code == 422 and "不是数字" in r.text and 'value="abc"' in r.text  # kept as typed
    with Session(city.engine) as db:
        assert db.get(Site, "s-square") is None
    client.post(f"/s/{station}/sites/new", data={**_site(district), "csrf_token": csrf})
    again = client.post(f"/s/{station}/sites/new", data={**_site(district), "csrf_token": csrf})
    assert again.status_code == 422 and "编号已被使用" in again.text
    url = f"/s/{station}/sites/s-square/posts/new"
    r = client.post(url, data={**_post(volunteers_min="6", volunteers_max="3"), "csrf_token": csrf})
    assert r.status_code == 422 and 'id="e-volunteers_min"' in r.text and "超过了最多志愿者人数" in r.text
    r = client.post(url, data={**_post(priority=""), "csrf_token": csrf})
    assert r.status_code == 422 and 'id="e-priority"' in r.text
    r = client.post(url, data={**_post(volunteers_max="51"), "csrf_token": csrf})
    assert r.status_code == 422 and "不能大于 50" in r.text
    with Session(city.engine) as db:
        assert db.get(Need, "n-square-sat") is None


def test_another_stations_sites_are_404_and_posts_need_the_csrf_token(city: Any) -> None:
    mine, theirs = city.stations
    client = city.client
    csrf = log_in(client, city.tokens[theirs])
    district = _district(city)
    assert (
        client.post(f"/s/{theirs}/sites/new", data={**_site(district), "csrf_token": csrf}).status_code == 200
    )
    client.post(f"/s/{theirs}/sites/s-square/posts/new", data={**_post(), "csrf_token": csrf})
    csrf = log_in(client, city.tokens[mine])
    assert client.get(f"/s/{mine}/sites/s-square").status_code == 404
    assert client.get(f"/s/{mine}/sites/s-square/posts/n-square-sat").status_code == 404
    assert client.get(f"/s/{mine}/sites/s-square/posts/new").status_code == 404
    assert client.get(f"/s/{theirs}/sites").status_code in (403, 404)
    for path, data in (
        (f"/s/{mine}/sites/s-square", _site(district, name="偷改")),
        (f"/s/{mine}/sites/s-square/active", {"active": "0"}),
        (f"/s/{mine}/sites/s-square/posts/n-square-sat", _post()),
        (f"/s/{mine}/sites/s-square/posts/n-square-sat/active", {"active": "0"}),
    ):
        assert client.post(path, data={**data, "csrf_token": csrf}).status_code == 404, path
    assert ">s-square</a>" not in client.get(f"/s/{mine}/sites").text
    # without the CSRF token nothing is written
    r = client.post(f"/s/{mine}/sites/new", data=_site(district, id="s-other"), follow_redirects=False)
    assert r.status_code == 403
    with Session(city.engine) as db:
        site = db.get(Site, "s-square")
        assert site is not None and site.name == "雄关广场" and site.active
        assert db.get(Site, "s-other") is None
    client.cookies.clear()  # logged out: the login page
    r = client.get(f"/s/{mine}/sites", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


def test_import_sites_from_excel_with_the_template(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    page = client.get(f"/s/{station}/sites/import")
    assert page.status_code == 200 and "下载空白模板" in page.text
    template = client.get(f"/s/{station}/sites/import/template.xlsx")
    assert template.status_code == 200 and template.headers["content-type"].startswith(XLSX_MEDIA_TYPE)
    book = load_workbook(io.BytesIO(template.content))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["id", "name", "district", "address"] and sheet.max_row == 1
    district = _district(city)
    sheet.append(["s-river", '=HYPERLINK("x")', district, "河堤入口"])
    sheet.append(["s-school", "实验小学门口", "nowhere"])
    out = io.BytesIO()
    book.save(out)
    files = {"file": ("sites.xlsx", out.getvalue(), XLSX_MEDIA_TYPE)}
    bad = client.post(f"/s/{station}/sites/import", data={"csrf_token": csrf}, files=files)
    assert bad.status_code == 422 and "什么也没有导入" in bad.text and "district" in bad.text
    with Session(city.engine) as db:
        assert db.get(Site, "s-river") is None  # all or nothing
    csv = f"id,name,district,address\ns-river,关爱山川河流,{district},河堤入口\n".encode()
    good = client.post(
        f"/s/{station}/sites/import",
        data={"csrf_token": csrf},
        files={"file": ("sites.csv", csv, "text/csv")},
    )
    assert good.status_code == 200 and "导入成功" in good.text, good.text
    export = client.get(f"/s/{station}/sites.xlsx")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][:2] == ("s-river", "关爱山川河流")


# ------------------------------------------------------------------------ posts in the week's pages


def test_plan_posts_groups_members_by_need_whatever_the_shape() -> None:
    """A post listed as format 2's one assignment with ``volunteers`` or as one assignment per
    member is the same post; a format-1 plan has none."""
    problem = {
        "beneficiaries": [{"id": "b1", "category": "elderly", "district": "d1", "priority": 3}],
        "sites": [{"id": "s1", "name": "雄关广场", "district": "d2"}],
        "needs": [
            {"id": "n1", "beneficiary": "b1", "service": "life_care", "hours": 1, "sessions": 1},
            {
                "id": "p1",
                "site": "s1",
                "priority": 5,
                "service": "companionship",
                "hours": 2,
                "sessions": 1,
                "volunteers": {"min": 2, "max": 5},
            },
        ],
    }
    one = {"need": "n1", "volunteer": "v9", "slots": ["mon-am"]}
    grouped = {"assignments": [one, {"need": "p1", "volunteers": ["v1", "v2", "v3"], "slots": ["sat-am"]}]}
    rows = {
        "assignments": [one]
        + [{"need": "p1", "volunteer": v, "slots": ["sat-am"]} for v in ("v1", "v2", "v3")]
    }
    for plan in (grouped, rows):
        posts = plan_posts.plan_posts(problem, plan)
        assert list(posts) == ["p1"]
        post = posts["p1"]
        assert post.volunteers == ["v1", "v2", "v3"] and post.slots == ["sat-am"]
        assert (post.minimum, post.maximum, post.open) == (2, 5, 2)
        assert post.place == plan_posts.Place("s1", True, "雄关广场", "", "d2", 5)
    assert plan_posts.plan_posts(problem, {"assignments": [one]}) == {}


def test_the_grid_shows_a_post_as_one_card_and_unmet_its_minimum(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    week = post_week(city.engine, plan_id)
    client = city.client
    log_in(client, city.tokens[station])
    grid = client.get(f"/s/{station}/grid", params={"week": week.week.isoformat()})
    assert grid.status_code == 200, grid.text
    cards = re.findall(r'<li class="post-card">(.*?)</li>', grid.text, re.S)
    assert len(cards) == 1  # one card for the three members
    card = cards[0]
    assert "雄关广场" in card and "陪伴" in card and "3/5 人" in card and "（至少 2 人）" in card
    assert "还可再加 2 人" in card and "周六上午" in card
    for vid, name in week.members:  # each member by name, linked to their page
        assert f'href="/s/{station}/volunteers/{vid}">{name}</a>' in card
    # each member's row shows the post's session too, with its count
    assert grid.text.count('<div class="session cat-post">') == 3
    # a format-1 week is shown as before: no post card, no post session
    plain = client.get(f"/s/{station}/grid", params={"week": WEEK.isoformat()})
    assert plain.status_code == 200 and "post-card" not in plain.text and "cat-post" not in plain.text
    # filters: a post at a site has no category; a district filter keeps it by its members
    filtered = client.get(f"/s/{station}/grid", params={"week": week.week.isoformat(), "category": "elderly"})
    assert "post-card" not in filtered.text
    with Session(city.engine) as db:
        first = db.get(Volunteer, week.members[0][0])
        assert first is not None
    kept = client.get(
        f"/s/{station}/grid", params={"week": week.week.isoformat(), "district": first.district}
    )
    assert kept.text.count('<li class="post-card">') == 1
    gone = client.get(f"/s/{station}/grid", params={"week": week.week.isoformat(), "district": "no-such"})
    assert "post-card" not in gone.text
    xlsx = client.get(f"/s/{station}/grid.xlsx", params={"week": week.week.isoformat()})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    texts = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert sum("雄关广场 · 陪伴关爱 · 3/5 人" in t for t in texts) == 3  # in each member's row
    unmet = client.get(f"/s/{station}/unmet", params={"week": week.week.isoformat()})
    assert unmet.status_code == 200
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", unmet.text, re.S) if "讨赖河河堤" in r)
    assert "多人岗位" in row and "能同时到岗的合适志愿者不足该岗位的最低人数" in row
    assert "至少需要 4 人（最多 6 人）" in row and "服务对象或地点" in unmet.text
    plain_unmet = client.get(f"/s/{station}/unmet", params={"week": WEEK.isoformat()})
    assert "服务对象或地点" not in plain_unmet.text and "至少需要" not in plain_unmet.text
    overview = client.get(f"/s/{station}/", params={"week": week.week.isoformat()})
    assert overview.status_code == 200


def test_a_post_listed_one_row_per_member_is_one_card(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    week = post_week(city.engine, plan_id, shape="rows")
    log_in(city.client, city.tokens[station])
    grid = city.client.get(f"/s/{station}/grid", params={"week": week.week.isoformat()})
    assert grid.status_code == 200
    assert len(re.findall(r'<li class="post-card">', grid.text)) == 1 and "3/5 人" in grid.text


def test_a_beneficiarys_need_asks_for_several_volunteers(city: Any) -> None:
    """人员's need form gains 最少/最多志愿者人数 (a beneficiary's need may be a post too)."""
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    with Session(city.engine) as db:
        ben = db.exec(select(Beneficiary).where(Beneficiary.station_id == station)).first()
        assert ben is not None
    form = client.get(f"/s/{station}/people/needs/new")
    assert "最少志愿者人数" in form.text and "最多志愿者人数" in form.text
    need = {
        "id": "n-move-house",
        "beneficiary_id": ben.id,
        "service": "companionship",
        "hours": "2",
        "sessions": "1",
        "windows": ["sat-am"],
        "volunteers_min": "3",
        "volunteers_max": "2",
        "csrf_token": csrf,
    }
    r = client.post(f"/s/{station}/people/needs/new", data=need)
    assert r.status_code == 422 and 'id="e-volunteers_min"' in r.text and "超过了最多志愿者人数" in r.text
    r = client.post(
        f"/s/{station}/people/needs/new", data={**need, "volunteers_min": "2"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        stored = db.get(Need, "n-move-house")
        assert stored is not None and (stored.volunteers_min, stored.volunteers_max) == (2, 2)
    page = client.get(f"/s/{station}/people/needs/n-move-house")
    assert 'name="volunteers_max" type="text" inputmode="decimal" value="2"' in page.text
