"""服务记录 and the volunteer's page (web/records_pages.py): record outcomes, hours and stars, scoping."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select
from test_web import WEEK, csrf_of, generate, log_in, unlabelled

from api.models import PlanAssignment, PlanVersion, ServiceRecord, Volunteer
from web.records_pages import last_monday, records_week

DAY = {d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


def _sessions(city: Any, plan_id: int) -> list[dict[str, Any]]:
    """The plan's sessions (one per slot of an assignment), with the need's hours per session."""
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None
        needs = {n["id"]: n for n in plan.problem["needs"]}
        rows = db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan_id)).all()
        return [
            {
                "assignment_id": a.id,
                "volunteer": a.volunteer_id,
                "served_on": (WEEK + dt.timedelta(days=DAY[slot.split("-")[0]])).isoformat(),
                "slot": slot,
                "hours": float(needs[a.need_id]["hours"]),
            }
            for a in rows
            for slot in a.slots
        ]


def _post(city: Any, station: str, csrf: str, session: dict[str, Any], **form: Any) -> Any:
    data = {
        "csrf_token": csrf,
        "assignment_id": str(session["assignment_id"]),
        "served_on": session["served_on"],
        "slot": session.get("slot", ""),
        "week": WEEK.isoformat(),
        **form,
    }
    return city.client.post(f"/s/{station}/records", data=data, follow_redirects=False)


def _three(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Three sessions of three different volunteers (a served one's hours stay its own)."""
    picked: dict[str, dict[str, Any]] = {}
    for s in sorted(sessions, key=lambda s: (-s["hours"], s["assignment_id"])):
        picked.setdefault(s["volunteer"], s)
    assert len(picked) >= 3
    return list(picked.values())[:3]


def test_weeks_default_to_last_week() -> None:
    assert last_monday(dt.date(2026, 12, 6)) == dt.date(2026, 11, 23)  # a Sunday: the week before its own
    assert last_monday(dt.date(2026, 12, 7)) == dt.date(2026, 11, 30)  # a Monday
    assert records_week("2026-03-04") == dt.date(2026, 3, 2)
    assert records_week(None) == last_monday()


def test_table_lists_the_weeks_sessions_and_records_each_outcome(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    client = city.client
    page = client.get(f"/s/{station}/records?week={WEEK}")
    assert page.status_code == 200 and "服务记录" in page.text and 'aria-current="page"' in page.text
    sessions = _sessions(city, plan_id)
    assert page.text.count('class="inline record-form"') == len(sessions)
    assert unlabelled(page.text) == []
    assert f"0 / {len(sessions)}" in page.text
    served, no_show, cancelled = _three(sessions)
    with Session(city.engine) as db:  # served's hours make exactly 100: the first star
        v = db.get(Volunteer, served["volunteer"])
        assert v is not None
        v.hours_before = 100 - served["hours"]
        db.add(v)
        db.commit()
    csrf = csrf_of(page.text)
    r = _post(city, station, csrf, served, outcome="served", hours=f"{served['hours']:g}")
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/s/{station}/records?week={WEEK}#a{served['assignment_id']}-")
    assert _post(city, station, csrf, no_show, outcome="no_show", hours="2").status_code == 303
    assert _post(city, station, csrf, cancelled, outcome="cancelled_by_volunteer").status_code == 303
    with Session(city.engine) as db:
        stored = {(r.assignment_id, r.outcome, r.hours) for r in db.exec(select(ServiceRecord))}
    assert stored == {
        (served["assignment_id"], "served", served["hours"]),
        (no_show["assignment_id"], "no_show", 0.0),
        (cancelled["assignment_id"], "cancelled_by_volunteer", 0.0),
    }
    page = client.get(f"/s/{station}/records?week={WEEK}")
    assert page.text.count('class="inline record-form"') == len(sessions) - 3  # recorded: read-only
    assert "已服务" in page.text and "未到" in page.text and "志愿者取消" in page.text
    assert "服务对象取消" in page.text  # an option of the forms left
    assert page.text.count('class="correct-form"') == 3  # each recorded session can be corrected
    assert unlabelled(page.text) == []
    assert f"3 / {len(sessions)}" in page.text
    # the served volunteer: 100 hours, 一星 and one ★ of five
    mine = client.get(f"/s/{station}/volunteers/{served['volunteer']}")
    assert mine.status_code == 200
    assert "一星" in mine.text and "★☆☆☆☆" in mine.text and ">100<" in mine.text
    assert "已服务" in mine.text and served["served_on"] in mine.text
    assert f'href="/s/{station}/volunteers/{served["volunteer"]}"' in page.text  # linked from the table
    # the no-show's hours did not grow
    other = client.get(f"/s/{station}/volunteers/{no_show['volunteer']}")
    assert other.status_code == 200 and "未到" in other.text
    with Session(city.engine) as db:
        v = db.get(Volunteer, no_show["volunteer"])
        assert v is not None
        assert f">{v.hours_before:g}<" in other.text
    # in English
    english = client.get(
        f"/s/{station}/volunteers/{served['volunteer']}", headers={"Accept-Language": "en"}
    ).text
    assert "One star" in english and "Cumulative hours" in english and "一星" not in english
    # the grid names link to the volunteer's page
    grid = client.get(f"/s/{station}/grid?week={WEEK}")
    assert f'href="/s/{station}/volunteers/{served["volunteer"]}"' in grid.text


def test_bad_records_answer_an_error_page(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    session = _sessions(city, plan_id)[0]
    csrf = csrf_of(city.client.get(f"/s/{station}/records?week={WEEK}").text)
    over = _post(city, station, csrf, session, outcome="served", hours="25")
    assert over.status_code == 422 and "这次服务未能记录" in over.text and "hours" in over.text
    late = {**session, "served_on": str(dt.date.fromisoformat(session["served_on"]) + dt.timedelta(days=7))}
    r = _post(city, station, csrf, late, outcome="no_show")
    assert r.status_code == 422 and "served_on" in r.text
    other_day = next(
        (WEEK + dt.timedelta(days=d)).isoformat()
        for d in range(7)
        if (WEEK + dt.timedelta(days=d)).isoformat()
        not in {
            s["served_on"] for s in _sessions(city, plan_id) if s["assignment_id"] == session["assignment_id"]
        }
    )
    r = _post(city, station, csrf, {**session, "served_on": other_day, "slot": ""}, outcome="no_show")
    assert r.status_code == 422 and "served_on" in r.text and "has no session" in r.text
    wrong_slot = "sun-eve" if session["slot"] != "sun-eve" else "mon-am"
    r = _post(city, station, csrf, {**session, "slot": wrong_slot}, outcome="no_show")
    assert r.status_code == 422 and "slot" in r.text
    r = _post(city, station, csrf, session, outcome="served", hours="1", rating="9")
    assert r.status_code == 422 and "rating" in r.text
    assert _post(city, station, csrf, {**session, "assignment_id": "x"}).status_code == 404
    assert _post(city, station, csrf, {**session, "assignment_id": "999999"}).status_code == 404
    with Session(city.engine) as db:
        assert db.exec(select(ServiceRecord)).first() is None


def test_a_session_is_recorded_once(city: Any) -> None:
    """A second post of a recorded session (a double click, another coordinator) is refused."""
    station = city.stations[0]
    plan_id = generate(city, station)
    sessions = _sessions(city, plan_id)
    per_day: dict[tuple[int, str], int] = {}
    for s in sessions:
        per_day[(s["assignment_id"], s["served_on"])] = (
            per_day.get((s["assignment_id"], s["served_on"]), 0) + 1
        )
    session = next(s for s in sessions if per_day[(s["assignment_id"], s["served_on"])] == 1)
    csrf = csrf_of(city.client.get(f"/s/{station}/records?week={WEEK}").text)
    assert _post(city, station, csrf, session, outcome="no_show").status_code == 303
    again = _post(city, station, csrf, session, outcome="no_show")
    assert again.status_code == 409 and "已记录" in again.text
    with Session(city.engine) as db:
        assert len(db.exec(select(ServiceRecord)).all()) == 1


def test_csrf_is_refused(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    session = _sessions(city, plan_id)[0]
    for csrf in ("", "wrong"):
        r = _post(city, station, csrf, session, outcome="served", hours="1")
        assert r.status_code == 403 and "表单已过期" in r.text
    with Session(city.engine) as db:
        assert db.exec(select(ServiceRecord)).first() is None


def test_another_stations_volunteer_and_sessions_are_404(city: Any) -> None:
    mine, theirs = city.stations[0], city.stations[1]
    their_plan = generate(city, theirs)
    their_session = _sessions(city, their_plan)[0]
    csrf = log_in(city.client, city.tokens[mine])
    client = city.client
    r = client.get(f"/s/{mine}/volunteers/{their_session['volunteer']}")
    assert r.status_code == 404 and "此页面不存在" in r.text
    assert client.get(f"/s/{theirs}/volunteers/{their_session['volunteer']}").status_code == 404
    assert client.get(f"/s/{theirs}/records?week={WEEK}").status_code == 404
    assert client.get(f"/s/{mine}/volunteers/no-such-volunteer").status_code == 404
    assert _post(city, mine, csrf, their_session, outcome="no_show").status_code == 404
    assert _post(city, theirs, csrf, their_session, outcome="no_show").status_code == 404
    # the centre: through the right station only
    log_in(client, city.tokens[None])
    assert client.get(f"/s/{theirs}/volunteers/{their_session['volunteer']}").status_code == 200
    assert client.get(f"/s/{mine}/volunteers/{their_session['volunteer']}").status_code == 404
    with Session(city.engine) as db:
        assert db.exec(select(ServiceRecord)).first() is None


def test_names_are_escaped(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    vid = _sessions(city, plan_id)[0]["volunteer"]
    with Session(city.engine) as db:
        v = db.get(Volunteer, vid)
        assert v is not None
        v.name = "<script>alert(1)</script>"
        db.add(v)
        db.commit()
    for path in (f"/s/{station}/records?week={WEEK}", f"/s/{station}/volunteers/{vid}"):
        html = city.client.get(path).text
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_bad_query_answers_the_html_error_page(city: Any) -> None:
    station = city.stations[0]
    log_in(city.client, city.tokens[station])
    client = city.client
    for path in (f"/s/{station}/records?week={WEEK}&foo=1", f"/s/{station}/volunteers/v1?foo=1"):
        r = client.get(path)
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), path
        assert "此链接包含本页面无法识别的参数" in r.text and "foo" in r.text
    english = client.get(f"/s/{station}/records?foo=1", headers={"Accept-Language": "en"})
    assert english.status_code == 422 and "does not take" in english.text
    r = client.get("/plans/abc")  # not an integer: no such page
    assert r.status_code == 404 and "此页面不存在" in r.text
    api = client.get("/v1/records?foo=1", headers=city.headers(station))
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
    assert re.search("foo", api.json()["detail"])


def test_a_no_show_then_its_correction_through_the_page(city: Any) -> None:
    """未到 recorded, then corrected to 已服务 with a reason: the old record is kept, superseded,
    and only the correction counts towards the volunteer's hours."""
    station = city.stations[0]
    plan_id = generate(city, station)
    session = max(_sessions(city, plan_id), key=lambda s: (s["hours"], -s["assignment_id"]))
    page = city.client.get(f"/s/{station}/records?week={WEEK}")
    csrf = csrf_of(page.text)
    r = _post(city, station, csrf, session, outcome="no_show", note="没有来，电话未接")
    assert r.status_code == 303, r.text
    page = city.client.get(f"/s/{station}/records?week={WEEK}")
    assert "未到" in page.text and "没有来，电话未接" in page.text and 'class="correct-form"' in page.text
    assert "更正" in page.text and "更正原因" in page.text
    # a correction without a reason is refused, naming it; nothing changes
    r = _post(city, station, csrf, session, outcome="served", hours=f"{session['hours']:g}", correct="1")
    assert r.status_code == 422 and "这条记录未能更正" in r.text and "correction.reason" in r.text
    # a second record without correcting is refused
    r = _post(city, station, csrf, session, outcome="served", hours="1")
    assert r.status_code == 409 and "已记录" in r.text
    # the correction: served, with a rating, over the planned hours (a correction may)
    hours = session["hours"] + 0.5
    r = _post(
        city,
        station,
        csrf,
        session,
        outcome="served",
        hours=f"{hours:g}",
        rating="5",
        correct="1",
        reason="签到表补登：志愿者实际到场",
    )
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        rows = db.exec(select(ServiceRecord).order_by(ServiceRecord.id)).all()  # type: ignore[arg-type]
        assert [(x.outcome, x.hours, x.superseded_by) for x in rows] == [
            ("no_show", 0.0, rows[1].id),
            ("served", hours, None),
        ]
        assert rows[1].correction_reason == "签到表补登：志愿者实际到场" and rows[1].rating == 5
        before = db.get(Volunteer, session["volunteer"])
        assert before is not None
        hours_before = before.hours_before
    page = city.client.get(f"/s/{station}/records?week={WEEK}")
    assert "已更正：签到表补登：志愿者实际到场" in page.text and "★★★★★" in page.text
    mine = city.client.get(f"/s/{station}/volunteers/{session['volunteer']}")
    assert f">{hours_before + hours:g}<" in mine.text  # the correction's hours, once
    assert "履约情况" in mine.text and "已更正：签到表补登" in mine.text
    # CSRF is checked on a correction too
    r = _post(city, station, "wrong", session, outcome="no_show", correct="1", reason="x")
    assert r.status_code == 403


def test_the_volunteer_page_issues_the_certificate(city: Any) -> None:
    """开具志愿服务证明: the page's GET form answers the PDF (the API's service); another station's
    volunteer is 404, a bad period the error page."""
    mine, theirs = city.stations[0], city.stations[1]
    session = _sessions(city, generate(city, mine))[0]
    csrf = log_in(city.client, city.tokens[mine])
    assert _post(city, mine, csrf, session, outcome="served", hours=str(session["hours"])).status_code == 303
    vid = session["volunteer"]
    client = city.client
    html = client.get(f"/s/{mine}/volunteers/{vid}").text
    assert "开具志愿服务证明" in html and f'action="/s/{mine}/volunteers/{vid}/certificate.pdf"' in html
    period = {"from": WEEK.isoformat(), "to": (WEEK + dt.timedelta(days=6)).isoformat()}
    r = client.get(f"/s/{mine}/volunteers/{vid}/certificate.pdf", params=period)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "志愿服务证明" in text and session["served_on"] in text
    assert re.search(r"累计服务\s*{:g}\s*小时".format(session["hours"]), text), text
    bad = client.get(f"/s/{mine}/volunteers/{vid}/certificate.pdf", params=period | {"from": "2026-12-31"})
    assert bad.status_code == 422 and "起始日期不能晚于截止日期" in bad.text
    bad = client.get(f"/s/{mine}/volunteers/{vid}/certificate.pdf", params={"to": "someday"})
    assert bad.status_code == 422 and "to:" in bad.text
    their_vid = _sessions(city, generate(city, theirs))[0]["volunteer"]
    log_in(client, city.tokens[mine])
    for station in (mine, theirs):
        r = client.get(f"/s/{station}/volunteers/{their_vid}/certificate.pdf", params=period)
        assert r.status_code == 404 and "此页面不存在" in r.text


def test_the_records_page_downloads_the_year_ledger_of_its_own_station_only(city: Any) -> None:
    """下载年度台账 on 服务记录: a GET form with the year, serving the workbook the API writes."""
    mine, theirs = city.stations[0], city.stations[1]
    generate(city, mine)
    log_in(city.client, city.tokens[mine])
    client = city.client
    page = client.get(f"/s/{mine}/records?week={WEEK}")
    assert f'action="/s/{mine}/ledger.xlsx"' in page.text and "下载年度台账" in page.text
    assert f'name="year" value="{WEEK.year}"' in page.text
    r = client.get(f"/s/{mine}/ledger.xlsx", params={"year": WEEK.year})
    api = client.get(
        f"/v1/stations/{mine}/ledger.xlsx", params={"year": WEEK.year}, headers=city.headers(mine)
    )
    assert r.status_code == 200 and r.headers["content-type"] == api.headers["content-type"]
    assert r.headers["content-disposition"] == f'attachment; filename="ledger-{mine}-{WEEK.year}.xlsx"'
    sheets = [load_workbook(io.BytesIO(x.content)) for x in (r, api)]
    assert list(sheets[0]["汇总"].iter_rows(values_only=True)) == list(
        sheets[1]["汇总"].iter_rows(values_only=True)
    )
    for year in ("1999", "abc"):
        bad = client.get(f"/s/{mine}/ledger.xlsx", params={"year": year})
        assert bad.status_code == 422 and "年份须在 2000 至 2099 之间" in bad.text
    assert client.get(f"/s/{theirs}/ledger.xlsx", params={"year": WEEK.year}).status_code == 404
    assert client.get("/s/no-such-station/ledger.xlsx").status_code == 404
