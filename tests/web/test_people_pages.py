"""人员 (web/people_pages.py): lists, search, paging, the add/edit form, deactivate, import, export."""

from __future__ import annotations

import io
import os
import re
import threading
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select
from test_web import log_in, unlabelled

from api.models import Need, Volunteer
from api.tables import XLSX_MEDIA_TYPE
from web.i18n import translator
from web.people_pages import reason

os.environ.setdefault("LINLI_SECRET_KEY", "test-secret-key-for-the-web-tests-only")


def _district(city: Any) -> str:
    from api.models import District

    with Session(city.engine) as db:
        d = db.exec(select(District)).first()
        assert d is not None
        return d.id


def _volunteer(district: str, **more: Any) -> dict[str, Any]:
    return {
        "id": "vweb1",
        "name": "王小明",
        "district": district,
        "skills": ["life_care", "companionship"],
        "availability": ["mon-am", "sat-pm"],
        "max_hours": "6",
        "max_beneficiaries": "2",
        "certificates-0-kind": "first_aid",
        "certificates-0-expires": "2030-05-01",
        "certificates-1-kind": "",
        "certificates-1-expires": "",
        **more,
    }


def _session(city: Any, station: str) -> tuple[TestClient, str]:
    return city.client, log_in(city.client, city.tokens[station])


def test_list_search_paging_and_bad_values(city: Any) -> None:
    station = city.stations[0]
    client, _csrf = _session(city, station)
    page = client.get(f"/s/{station}/people")
    assert page.status_code == 200
    assert "人员" in page.text and 'aria-current="page">人员</a>' in page.text
    assert "志愿者" in page.text and "技能" in page.text
    assert unlabelled(page.text) == []
    with Session(city.engine) as db:
        vols = list(db.exec(select(Volunteer).where(Volunteer.station_id == station)))
    assert any(labels in page.text for labels in ("生活照料", "陪伴"))  # skills by their Chinese names
    first = vols[0]
    found = client.get(f"/s/{station}/people", params={"q": first.id})
    assert found.status_code == 200 and f">{first.id}</a>" in found.text
    assert "没有符合条件的人员" in client.get(f"/s/{station}/people", params={"q": "zzzz-nobody"}).text
    for kind in ("beneficiaries", "needs"):
        r = client.get(f"/s/{station}/people", params={"kind": kind})
        assert r.status_code == 200 and "<table" in r.text
    # paging: 50 a page
    with Session(city.engine) as db:
        district = _district(city)
        for i in range(60):
            db.add(
                Volunteer(
                    id=f"page{i:03d}",
                    name=f"翻页{i}",
                    district=district,
                    skills=["life_care"],
                    availability=["mon-am"],
                    max_hours=2.0,
                    station_id=station,
                )
            )
        db.commit()
    one = client.get(f"/s/{station}/people", params={"q": "page"})
    assert one.text.count('href="/s/') > 50 and "下一页" in one.text and "上一页" not in one.text
    two = client.get(f"/s/{station}/people", params={"q": "page", "page": "2"})
    assert "page059" in two.text and "page000" not in two.text and "上一页" in two.text
    # bad or unknown values: the HTML error page, never JSON
    for params in ({"kind": "cats"}, {"page": "x"}, {"page": "0"}, {"inactive": "2"}, {"nope": "1"}):
        r = client.get(f"/s/{station}/people", params=params)
        assert r.status_code == 422, params
        assert r.headers["content-type"].startswith("text/html") and "抱歉" in r.text
    assert client.get(f"/s/{station}/people", params={"q": "x" * 101}).status_code == 422
    assert client.get(f"/s/{station}/people/cats/new").status_code == 422


def test_add_edit_errors_deactivate_reactivate(city: Any) -> None:
    station = city.stations[0]
    client, csrf = _session(city, station)
    district = _district(city)
    form = client.get(f"/s/{station}/people/volunteers/new")
    assert form.status_code == 200 and unlabelled(form.text) == []
    assert "周一上午" in form.text and "生活照料" in form.text
    # bad values: Chinese messages by the field, the input kept, nothing stored
    bad = _volunteer(district, max_hours="-3", name="保留我", availability=["mon-am"])
    bad["district"] = ""
    r = client.post(f"/s/{station}/people/volunteers/new", data={**bad, "csrf_token": csrf})
    assert r.status_code == 422
    assert "不能小于 0" in r.text and "必填" in r.text
    assert 'value="保留我"' in r.text and 'value="-3"' in r.text
    assert re.search(r'value="mon-am" aria-label="周一上午" checked', r.text)
    r = client.post(
        f"/s/{station}/people/volunteers/new",
        data={**_volunteer(district, max_hours="abc"), "csrf_token": csrf},
    )
    assert r.status_code == 422 and "不是数字" in r.text
    r = client.post(
        f"/s/{station}/people/volunteers/new",
        data={**_volunteer("no-such-district"), "csrf_token": csrf},
    )
    assert r.status_code == 422 and "没有这个区域" in r.text
    with Session(city.engine) as db:
        assert db.get(Volunteer, "vweb1") is None
    # a good one
    r = client.post(
        f"/s/{station}/people/volunteers/new",
        data={**_volunteer(district), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/s/{station}/people/volunteers/vweb1?saved=1"
    with Session(city.engine) as db:
        v = db.get(Volunteer, "vweb1")
        assert v is not None and v.name == "王小明" and v.max_hours == 6.0 and v.station_id == station
    # the id is taken now (ids are unique in the city)
    r = client.post(f"/s/{station}/people/volunteers/new", data={**_volunteer(district), "csrf_token": csrf})
    assert r.status_code == 422 and "编号已被使用" in r.text
    # edit
    page = client.get(f"/s/{station}/people/volunteers/vweb1?saved=1")
    assert "已保存" in page.text
    assert '<option value="first_aid" selected>急救</option>' in page.text
    assert 'name="certificates-0-expires" value="2030-05-01"' in page.text
    r = client.post(
        f"/s/{station}/people/volunteers/vweb1",
        data={**_volunteer(district, name="王大明", max_hours="8", skills=["tutoring"]), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/s/{station}/people/volunteers/vweb1",
        data={**_volunteer(district, skills=["flying"]), "csrf_token": csrf},
    )
    assert r.status_code == 422 and "未知的服务" in r.text
    with Session(city.engine) as db:
        v = db.get(Volunteer, "vweb1")
        assert v is not None and v.name == "王大明" and v.max_hours == 8.0 and v.skills == ["tutoring"]
    # deactivate (hidden from the list), then reactivate
    assert 'data-confirm="' in page.text
    r = client.post(f"/s/{station}/people/volunteers/vweb1/active", data={"active": "0", "csrf_token": csrf})
    assert r.status_code == 200 and "已停用" in r.text and "重新启用" in r.text
    assert ">vweb1</a>" not in client.get(f"/s/{station}/people", params={"q": "vweb1"}).text
    assert ">vweb1</a>" in client.get(f"/s/{station}/people", params={"q": "vweb1", "inactive": "1"}).text
    r = client.post(f"/s/{station}/people/volunteers/vweb1/active", data={"active": "1", "csrf_token": csrf})
    assert r.status_code == 200 and "停用" in r.text
    with Session(city.engine) as db:
        v = db.get(Volunteer, "vweb1")
        assert v is not None and v.active
    # a need: deactivate through the same button
    with Session(city.engine) as db:
        need = db.exec(select(Need)).first()
        assert need is not None
    ben_station = client.get(f"/s/{station}/people/needs/{need.id}")
    if ben_station.status_code == 200:
        r = client.post(
            f"/s/{station}/people/needs/{need.id}/active", data={"active": "0", "csrf_token": csrf}
        )
        assert r.status_code == 200
        with Session(city.engine) as db:
            stored = db.get(Need, need.id)
            assert stored is not None and not stored.active


def test_beneficiary_edit(city: Any) -> None:
    station = city.stations[0]
    client, csrf = _session(city, station)
    listing = client.get(f"/s/{station}/people", params={"kind": "beneficiaries"})
    ident = re.findall(r'/people/beneficiaries/([^"?]+)">([^<]+)</a></td>', listing.text)[0][0]
    form = client.get(f"/s/{station}/people/beneficiaries/{ident}")
    assert form.status_code == 200 and unlabelled(form.text) == []
    text_field = r'name="(name|priority|latitude|longitude)" type="text"[^>]*value="([^"]*)"'
    values = dict(re.findall(text_field, form.text))
    category = re.search(r'name="category".*?<option value="(\w+)" selected', form.text, re.S)
    district = re.search(r'name="district".*?<option value="([^"]+)" selected', form.text, re.S)
    assert category and district
    data = {
        **values,
        "priority": "9",
        "category": category.group(1),
        "district": district.group(1),
        "csrf_token": csrf,
    }
    r = client.post(f"/s/{station}/people/beneficiaries/{ident}", data=data)
    assert r.status_code == 422 and "不能大于 5" in r.text
    r = client.post(
        f"/s/{station}/people/beneficiaries/{ident}", data={**data, "priority": "2"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    # a need of that beneficiary, added with the form (windows: the slot grid)
    need = {
        "id": "nweb1",
        "beneficiary_id": ident,
        "service": "companionship",
        "hours": "1.5",
        "sessions": "9",
        "windows": ["tue-am", "thu-pm"],
        "csrf_token": csrf,
    }
    assert client.get(f"/s/{station}/people/needs/new").status_code == 200
    r = client.post(f"/s/{station}/people/needs/new", data=need)
    assert r.status_code == 422 and "不能大于 7" in r.text
    r = client.post(f"/s/{station}/people/needs/new", data={**need, "sessions": "2"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        stored = db.get(Need, "nweb1")
        assert stored is not None and stored.beneficiary_id == ident
        assert stored.windows == ["tue-am", "thu-pm"]
    r = client.post(
        f"/s/{station}/people/needs/nweb1", data={**need, "sessions": "3"}, follow_redirects=False
    )
    assert r.status_code == 303
    listing = client.get(f"/s/{station}/people", params={"kind": "needs", "q": "nweb1"})
    assert "陪伴关爱" in listing.text and "周二上午" in listing.text and "3 次 × 1.5 小时" in listing.text


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_import_all_or_nothing_csv_and_xlsx(city: Any) -> None:
    station = city.stations[0]
    client, csrf = _session(city, station)
    district = _district(city)
    page = client.get(f"/s/{station}/people/import")
    assert page.status_code == 200 and unlabelled(page.text) == []
    header = "id,name,district,skills,availability,max_hours"
    bad = _csv(
        header,
        f"imp1,甲,{district},life_care,mon-am,4",
        f"imp2,乙,{district},flying,mon-am,4",
        f"imp3,丙,{district},life_care,mon-noon,abc",
    )
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("people.csv", bad, "text/csv")},
    )
    assert r.status_code == 422
    cells = r'<tr><td class="num">(\d+)</td><td><code>(\w+)</code>[^<]*</td><td>([^<]*)</td>'
    rows = re.findall(cells, r.text)
    assert ("3", "skills", "未知的服务“flying”") in rows
    assert any(row[0] == "4" and row[1] == "max_hours" and "不是数字" in row[2] for row in rows)
    assert any(row[0] == "4" and row[1] == "availability" and "未知的时段" in row[2] for row in rows)
    assert "什么也没有导入" in r.text
    with Session(city.engine) as db:
        assert db.get(Volunteer, "imp1") is None  # nothing stored
    good = _csv(header, f"imp1,甲,{district},life_care,mon-am,4", f"imp2,乙,{district},tutoring,tue-pm,3")
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("people.csv", good, "text/csv")},
    )
    assert r.status_code == 200 and "新增 2" in r.text
    # the same as .xlsx: the first sheet, header row of the CSV names; numbers typed as numbers
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header.split(","))
    sheet.append(["imp1", "甲改", district, "life_care;tutoring", "mon-am", 5])
    sheet.append(["imp4", "丁", district, "life_care", "wed-eve", 2.5])
    out = io.BytesIO()
    book.save(out)
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("people.xlsx", out.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 200 and "新增 1" in r.text and "更新 1" in r.text
    with Session(city.engine) as db:
        v = db.get(Volunteer, "imp1")
        assert v is not None and v.name == "甲改" and v.max_hours == 5.0
        assert db.get(Volunteer, "imp4") is not None
    # a file that is no workbook, an unknown column
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("x.xlsx", b"PK\x03\x04garbage", "application/octet-stream")},
    )
    assert r.status_code == 422 and "不是可读取的 Excel" in r.text
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("x.csv", _csv("id,colour", "a,red"), "text/csv")},
    )
    assert r.status_code == 422 and "未知的列“colour”" in r.text
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("big.csv", b"x" * (2 * 2**20 + 1), "text/csv")},
    )
    assert r.status_code == 422 and "文件太大" in r.text
    # CSRF
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers"},
        files={"file": ("people.csv", good, "text/csv")},
    )
    assert r.status_code == 403


def test_export_neutralises_and_escaping(city: Any) -> None:
    station = city.stations[0]
    client, csrf = _session(city, station)
    district = _district(city)
    script, formula = "<script>alert(1)</script>", '=HYPERLINK("x")'
    for ident, name in (("esc1", script), ("esc2", formula)):
        r = client.post(
            f"/s/{station}/people/volunteers/new",
            data={**_volunteer(district, id=ident, name=name), "csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    page = client.get(f"/s/{station}/people", params={"q": "esc"})
    assert script not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert script not in client.get(f"/s/{station}/people/volunteers/esc1").text
    xlsx = client.get(f"/s/{station}/people.xlsx", params={"q": "esc"})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["id", "name", "district"]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(str(n) for n in names) == sorted([script, "'" + formula])
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # the export imports back unchanged
    r = client.post(
        f"/s/{station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("back.xlsx", xlsx.content, "application/octet-stream")},
    )
    assert r.status_code == 200 and "更新 2" in r.text, r.text
    with Session(city.engine) as db:
        v = db.get(Volunteer, "esc2")
        assert v is not None and v.name == formula


def test_csrf_scoping_and_login(city: Any) -> None:
    mine, theirs = city.stations[0], city.stations[1]
    client = city.client
    client.cookies.clear()
    for path in (f"/s/{mine}/people", f"/s/{mine}/people/import", f"/s/{mine}/people/volunteers/new"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    client, csrf = _session(city, mine)
    district = _district(city)
    r = client.post(f"/s/{mine}/people/volunteers/new", data=_volunteer(district))
    assert r.status_code == 403 and "表单已过期" in r.text
    r = client.post(f"/s/{mine}/people/volunteers/new", data={**_volunteer(district), "csrf_token": "no"})
    assert r.status_code == 403
    with Session(city.engine) as db:
        assert db.get(Volunteer, "vweb1") is None
        theirs_vol = db.exec(select(Volunteer).where(Volunteer.station_id == theirs)).first()
        assert theirs_vol is not None
    r = client.post(f"/s/{mine}/people/volunteers/{theirs_vol.id}/active", data={"active": "0"})
    assert r.status_code == 403
    # another station's pages and records are 404
    for path in (
        f"/s/{theirs}/people",
        f"/s/{theirs}/people.xlsx",
        f"/s/{theirs}/people/import",
        f"/s/{theirs}/people/volunteers/new",
        f"/s/{mine}/people/volunteers/{theirs_vol.id}",
        f"/s/{mine}/people/volunteers/no-such-one",
    ):
        r = client.get(path)
        assert r.status_code == 404 and "此页面不存在" in r.text, path
    r = client.post(
        f"/s/{mine}/people/volunteers/{theirs_vol.id}/active", data={"active": "0", "csrf_token": csrf}
    )
    assert r.status_code == 404
    r = client.post(
        f"/s/{mine}/people/volunteers/{theirs_vol.id}",
        data={**_volunteer(district), "csrf_token": csrf},
    )
    assert r.status_code == 404
    with Session(city.engine) as db:
        stored = db.get(Volunteer, theirs_vol.id)
        assert stored is not None and stored.active and stored.name == theirs_vol.name


def test_english(city: Any) -> None:
    station = city.stations[0]
    client, csrf = _session(city, station)
    english = {"Accept-Language": "en"}
    page = client.get(f"/s/{station}/people", headers=english)
    assert "People" in page.text and "Volunteers" in page.text and "人员" not in page.text
    r = client.post(
        f"/s/{station}/people/volunteers/new",
        data={**_volunteer(_district(city), max_hours="-1"), "csrf_token": csrf},
        headers=english,
    )
    assert r.status_code == 422 and "must be at least 0" in r.text


def test_reasons_are_translated() -> None:
    from matcher.format.schema import CERTIFICATION_KINDS
    from web.people_pages import CERTIFICATES

    assert set(CERTIFICATES) == set(CERTIFICATION_KINDS)
    zh = translator("zh_CN")
    assert reason("required field is missing", zh) == "必填"
    assert reason("must be at most 50 (distinct people a volunteer serves in a week)", zh) == "不能大于 50"
    assert "编号已被使用" in reason("volunteer 'v1' is already in use (ids are unique in the city)", zh)
    assert reason("something new", zh) == "something new"
    assert reason("Input should be a valid date or datetime, input is too short", zh).startswith("不是日期")


# ------------------------------------------------------------------------ the lists in SQL


def _found(html: str, kind: str) -> tuple[int, list[str]]:
    """A list page's count (共 n 条) and the ids it shows, in order."""
    total = re.search(r"共 (\d+) 条", html)
    assert total is not None
    return int(total.group(1)), re.findall(rf'/people/{kind}/([^"?]+)">[^<]*</a></td>', html)


def _searched_in_python(city: Any, station: str, kind: str, q: str, inactive: bool) -> list[str]:
    """What the search found when it loaded every record and looked in its text (the page before
    the search went into SQL): ids in the list's order."""
    from api.crud.beneficiaries import beneficiary_data, read_beneficiaries
    from api.crud.volunteers import read_volunteers, volunteer_data
    from api.models import District
    from web import labels

    zh = translator("zh_CN")
    with Session(city.engine) as db:
        districts = {d.id: d.name or d.id for d in db.exec(select(District))}
        bens = read_beneficiaries(db, station)
        if kind == "volunteers":
            rows = [volunteer_data(v, c) for v, c in read_volunteers(db, station).values()]
        elif kind == "beneficiaries":
            rows = [beneficiary_data(b) for b, _n in bens.values()]
        else:
            rows = [
                {**n.model_dump(), "beneficiary_name": b.name or b.id} for b, ns in bens.values() for n in ns
            ]
    out = []
    for r in rows:
        parts = [r["id"], r.get("name", ""), r.get("beneficiary_name", ""), r.get("beneficiary_id", "")]
        if "district" in r:
            parts += [r["district"], districts.get(r["district"], "")]
        for code in [*r.get("skills", []), r.get("service", "")]:
            parts += [code, labels.label(labels.SERVICES, code, zh)] if code else []
        if "category" in r:
            parts.append(labels.label(labels.CATEGORIES, r["category"], zh))
        text = " ".join(str(p) for p in parts).lower()
        if (inactive or r.get("active", True)) and all(w in text for w in q.lower().split()):
            out.append(r["id"])
    return out


def test_the_search_in_sql_finds_what_the_search_in_python_found(city: Any) -> None:
    """Every kind, on SQLite and PostgreSQL: ids, names, districts (id and name), skills and services
    (codes and Chinese names), categories; any case; several words; ``%`` and ``_`` are literal."""
    station = city.stations[0]
    client, csrf = _session(city, station)
    from api.models import Beneficiary, District

    with Session(city.engine) as db:
        vol = db.exec(select(Volunteer).where(Volunteer.station_id == station).order_by(Volunteer.id)).first()
        ben = db.exec(select(Beneficiary).where(Beneficiary.station_id == station)).first()
        district = db.exec(select(District)).first()
        assert vol is not None and ben is not None and district is not None
        vol.name = "Zhang_Li 100%"  # a name holding LIKE's wildcards and capitals
        vol.active = False
        db.add(vol)
        for i in range(70):  # more than a page
            skills = ["companionship"] if i % 2 else ["life_care", "tutoring"]
            db.add(
                Volunteer(
                    id=f"bulk{i:02d}",
                    name=f"批量{i}",
                    district=district.id,
                    skills=skills,
                    availability=["mon-am"],
                    max_hours=2.0,
                    station_id=station,
                )
            )
        db.commit()
        vol_id, ben_name, district_name = vol.id, ben.name, district.name
    queries = [
        "",
        vol_id,
        vol_id.upper(),
        vol_id[:2],
        ben_name[:1],
        ben_name,
        district_name,
        district.id.upper(),
        "陪伴",
        "生活照料",
        "care",
        "CARE life",
        "敬老",
        "100%",
        "%",
        "_li",
        "zhang_",
        "z_ang",
        "nobody-at-all",
        f"{district_name} 陪伴",
    ]
    for kind in ("volunteers", "beneficiaries", "needs"):
        for q in queries:
            for inactive in (False, True):
                params = {"kind": kind, "q": q, **({"inactive": "1"} if inactive else {})}
                expected = _searched_in_python(city, station, kind, q, inactive)
                r = client.get(f"/s/{station}/people", params=params)
                assert r.status_code == 200
                if not expected:
                    assert "没有符合条件的人员" in r.text, (kind, q)
                    continue
                assert _found(r.text, kind) == (len(expected), expected[:50]), (kind, q, inactive)
                last = -(-len(expected) // 50)
                if last > 1:  # the last page, and a page past it (shown as the last)
                    for page in (last, last + 3):
                        r = client.get(f"/s/{station}/people", params={**params, "page": str(page)})
                        assert _found(r.text, kind) == (len(expected), expected[(last - 1) * 50 :])
                        assert f"第 {last} 页，共 {last} 页" in r.text
    assert _searched_in_python(city, station, "volunteers", "100%", True) == [vol_id]  # the test can fail
    # the export holds every match, not a page
    xlsx = client.get(f"/s/{station}/people.xlsx", params={"kind": "needs", "q": "陪伴"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == _searched_in_python(city, station, "needs", "陪伴", False) and ids
    assert csrf


def test_a_list_page_loads_a_page_of_rows_in_a_bounded_number_of_statements(city: Any) -> None:
    """However many volunteers the station has, the list's page runs the same few statements and
    loads at most a page (50) of volunteers (counted by SQLAlchemy's events), on both databases."""
    from sqlalchemy import event

    station = city.stations[0]
    client, _csrf = _session(city, station)
    district = _district(city)
    statements: list[str] = []
    loaded: list[str] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The app's own background threads (the job worker's loop, the delivery dispatcher's polls,
        # all named linli-…) share the engine: their statements are not the page's.
        if not threading.current_thread().name.startswith("linli-"):
            statements.append(statement)

    def on_load(target: Any, _context: Any) -> None:
        loaded.append(type(target).__name__)

    def measured(path: str, **params: str) -> tuple[int, int, str]:
        statements.clear()
        loaded.clear()
        r = client.get(path, params=params)
        assert r.status_code == 200
        # The token's last use is written at most once a minute (api.auth), whichever request
        # comes then: on a slow machine one of these; not the list's statement.
        listed = [s for s in statements if not s.lstrip().upper().startswith("UPDATE TOKEN")]
        return len(listed), loaded.count("Volunteer"), r.text

    counts = []
    for batch in (0, 1):
        with Session(city.engine) as db:
            for i in range(150):
                db.add(
                    Volunteer(
                        id=f"many{batch}{i:03d}",
                        name=f"多{i}",
                        district=district,
                        skills=["life_care"],
                        availability=["mon-am"],
                        max_hours=2.0,
                        station_id=station,
                    )
                )
            db.commit()
        event.listen(city.engine, "before_cursor_execute", on_statement)
        event.listen(Volunteer, "load", on_load)
        try:
            first = measured(f"/s/{station}/people")
            third = measured(f"/s/{station}/people", page="3")
            search = measured(f"/s/{station}/people", q="many 照料")
        finally:
            event.remove(city.engine, "before_cursor_execute", on_statement)
            event.remove(Volunteer, "load", on_load)
        for n_statements, n_volunteers, html in (first, third, search):
            assert n_volunteers <= 50 and len(_found(html, "volunteers")[1]) == 50
            assert n_statements <= 12, statements
        assert _found(search[2], "volunteers")[0] == 150 * (batch + 1)
        counts.append((first[0], third[0], search[0]))
    assert counts[0] == counts[1]  # 150 more volunteers, not one more statement


def test_certificates_are_rows_of_a_kind_and_a_date(city: Any) -> None:
    """The volunteer form's certificates: a kind (by its Chinese name) and an expiry date a row, one
    empty row more, 再添加一个证书 without JavaScript, 删除; errors name the row; stored as the CSV
    cell ``first_aid:2030-05-01;…`` would store them, and exported in that format."""
    from api.models import Certificate
    from web.people_pages import CERTIFICATES

    station = city.stations[0]
    client, csrf = _session(city, station)
    district = _district(city)
    blank = client.get(f"/s/{station}/people/volunteers/new").text
    assert blank.count('name="certificates-0-kind"') == 1 and 'name="certificates-1-kind"' not in blank
    for code, name in CERTIFICATES.items():  # the kinds by their Chinese names
        assert f'<option value="{code}">{translator("zh_CN")(name)}</option>' in blank
    assert 'type="date" id="f-certificates-0-expires"' in blank and "再添加一个证书" in blank
    assert unlabelled(blank) == []
    base = {k: v for k, v in _volunteer(district, id="vcert").items() if not k.startswith("certificates")}
    rows = {
        "certificates-0-kind": "first_aid",
        "certificates-0-expires": "2030-05-01",
        "certificates-1-kind": "legal",
        "certificates-1-expires": "",
        "certificates-2-kind": "",
        "certificates-2-expires": "2031-01-01",
        "certificates-3-kind": "",  # an empty row: not a certificate
        "certificates-3-expires": "",
        "certificates-4-kind": "health_care",
        "certificates-4-expires": "2301-01-01",
    }
    r = client.post(f"/s/{station}/people/volunteers/new", data={**base, **rows, "csrf_token": csrf})
    assert r.status_code == 422
    errors = re.findall(r'<p class="error" id="e-certificates-(\d)">([^<]*)</p>', r.text)
    assert errors == [
        ("2", "第 2 个证书：有效期：必填"),
        ("3", "第 3 个证书：证书种类：必填"),
        ("4", "第 4 个证书：有效期：不能大于 2200-12-31"),
    ]
    assert "未保存：请修改下面标出的字段" in r.text
    # the rows as typed, the empty one dropped, one empty row below them
    assert '<option value="legal" selected>' in r.text
    assert 'name="certificates-2-expires" value="2031-01-01"' in r.text
    assert 'name="certificates-3-kind"' in r.text and 'name="certificates-4-kind"' in r.text
    assert 'name="certificates-5-kind"' not in r.text
    assert 'value="王小明"' in r.text  # the other fields kept
    # 再添加一个证书: the form again with one more empty row, nothing saved (no JavaScript needed)
    more = {**base, "certificates-0-kind": "first_aid", "certificates-0-expires": "2030-05-01"}
    more |= {"certificates-1-kind": "", "certificates-1-expires": "", "add_certificate": "1"}
    r = client.post(f"/s/{station}/people/volunteers/new", data={**more, "csrf_token": csrf})
    assert r.status_code == 200 and "未保存" not in r.text and 'class="error"' not in r.text
    assert 'name="certificates-2-kind"' in r.text and 'name="certificates-3-kind"' not in r.text
    assert 'name="certificates-0-expires" value="2030-05-01"' in r.text
    with Session(city.engine) as db:
        assert db.get(Volunteer, "vcert") is None
    # saved: the same certificates the CSV cell would give
    good = {**base, "certificates-0-kind": "first_aid", "certificates-0-expires": "2030-05-01"}
    good |= {"certificates-1-kind": "legal", "certificates-1-expires": "2031-01-01"}
    good |= {"certificates-2-kind": "", "certificates-2-expires": ""}
    r = client.post(
        f"/s/{station}/people/volunteers/new", data={**good, "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text

    def stored() -> list[tuple[str, str]]:
        with Session(city.engine) as db:
            certs = db.exec(select(Certificate).where(Certificate.volunteer_id == "vcert"))
            return sorted((c.kind, c.expires.isoformat()) for c in certs)

    assert stored() == [("first_aid", "2030-05-01"), ("legal", "2031-01-01")]
    page = client.get(f"/s/{station}/people/volunteers/vcert").text
    assert 'name="certificates-1-expires" value="2031-01-01"' in page
    assert 'name="certificates-2-kind"' in page and 'name="certificates-3-kind"' not in page
    # the export keeps the CSV format
    xlsx = client.get(f"/s/{station}/people.xlsx", params={"q": "vcert"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[header.index("certificates")] == "first_aid:2030-05-01;legal:2031-01-01"
    # 删除: the ticked row goes when saved
    edit = {**good, "certificates-0-remove": "1", "csrf_token": csrf}
    r = client.post(f"/s/{station}/people/volunteers/vcert", data=edit, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert stored() == [("legal", "2031-01-01")]
    # in English too
    r = client.post(
        f"/s/{station}/people/volunteers/vcert",
        data={**base, "certificates-0-kind": "legal", "csrf_token": csrf},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 422 and "Certificate 1: Expiry date: required" in r.text
    assert stored() == [("legal", "2031-01-01")]
