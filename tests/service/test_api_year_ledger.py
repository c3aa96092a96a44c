"""The year ledger (年度台账, issue 18) on SQLite and PostgreSQL: the workbook re-read with openpyxl
sums to the records and equals the JSON API's figures; another station's ledger is 404; formula-like
names stay text; a bad year is 422; the centre's workbook covers every station; ``linli ledger``."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from api_support import City
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, select

from api.models import Beneficiary, Need, Volunteer
from api.settings import get_settings
from linli.cli import main as linli

WEEK = dt.date(2026, 12, 7)
YEAR = WEEK.year
EVIL = '=HYPERLINK("http://example.com","x")'


def _plan(city: City, station: str) -> dict[str, Any]:
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK.isoformat()}, headers=city.headers(station)
    )
    assert r.status_code == 202, r.text
    done = city.wait(r.json()["id"], station)
    assert done["state"] == "done", done
    return done


def _record_week(city: City, station: str) -> list[dict[str, Any]]:
    """Record every session of the station's week: mostly served, one of every other outcome, and one
    served session corrected (its first row superseded); returns the records the API answered."""
    plan = _plan(city, station)
    problem = city.client.get(f"/v1/plans/{plan['id']}/problem", headers=city.headers()).json()
    hours = {n["id"]: float(n["hours"]) for n in problem["needs"]}
    sessions = [(a, s) for a in plan["assignments"] for s in a["sessions"]]
    assert len(sessions) >= 6, "the demo station plans too few sessions for this test"
    others = ["no_show", "no_show", "cancelled_by_volunteer", "cancelled_by_beneficiary"]
    made = []
    for i, (a, s) in enumerate(sessions):
        body: dict[str, Any] = {"assignment_id": a["id"], "served_on": s["date"], "slot": s["slot"]}
        if i < len(others):
            body["outcome"] = others[i]
        else:
            body["hours"] = hours[a["need"]]
        r = city.client.post("/v1/records", json=body, headers=city.headers(station))
        assert r.status_code == 201, r.text
        made.append(r.json())
    # a correction: the served session's first row no longer counts, its correction does
    a, s = sessions[len(others)]
    fix = {"assignment_id": a["id"], "served_on": s["date"], "slot": s["slot"], "hours": 0.5}
    r = city.client.post(
        "/v1/records", json=fix | {"correction": {"reason": "签到表更正"}}, headers=city.headers(station)
    )
    assert r.status_code == 201, r.text
    return made


def _current(city: City, station: str | None = None) -> list[dict[str, Any]]:
    """The year's current records through ``GET /v1/records`` (the centre's view without a station)."""
    params: dict[str, Any] = {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31", "limit": 1000}
    if station is not None:
        params["station_id"] = station
    r = city.client.get("/v1/records", params=params, headers=city.headers())
    assert r.status_code == 200 and int(r.headers["X-Total-Count"]) < 1000, r.text
    records: list[dict[str, Any]] = r.json()
    return records


def _programmes(city: City) -> dict[str, str]:
    """Need id -> its beneficiary's category."""
    with Session(city.engine) as db:
        rows = db.exec(select(Need.id, Beneficiary.category).join(Beneficiary))
        return dict(rows.all())


def _rows(sheet: Worksheet) -> list[dict[str, Any]]:
    header: list[Any] = [c.value for c in sheet[1]]
    return [dict(zip(header, row, strict=False)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def _book(city: City, path: str, station: str | None = None) -> Any:
    r = city.client.get(path, params={"year": YEAR}, headers=city.headers(station))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(r.content))


def _summary_block(sheet: Worksheet, first: str) -> list[tuple[Any, ...]]:
    """The rows of the 汇总 sheet's table whose header starts with ``first``, up to the blank row."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == first)
    out = []
    for row in rows[start + 1 :]:
        if all(v is None for v in row):
            break
        out.append(row)
    return out


def _check_people(city: City, station: str, book: Any, data: dict[str, Any], near: str, hours: float) -> None:
    """The 志愿者 and 服务对象 sheets against the records' ``hours`` and the JSON's ``data``; ``near``:
    the volunteer who reached the first star this year, named with a formula."""
    # volunteers: the year's hours sum to the records; the near-star volunteer is an award candidate;
    # the formula-like name is text (neutralised with a leading ')
    people = {v["志愿者编号"]: v for v in _rows(book["志愿者"])}
    assert math.fsum(v["本年时长(小时)"] for v in people.values()) == hours
    mine = people[near]
    assert mine["姓名"] == "'" + EVIL and mine["表彰候选"] == "是"
    assert (mine["年初星级"], mine["年末星级"]) == ("暂无星级", "一星")
    cell = next(c for c in book["志愿者"]["B"] if c.value == "'" + EVIL)
    assert cell.data_type == "s"
    listed = {v["id"]: v for v in data["volunteers"]}
    # every record is in this year: the year's end is the star summaries' now
    stars = city.client.get(f"/v1/stations/{station}/service", headers=city.headers(station)).json()
    assert {s["volunteer"]: (s["hours_total"], s["stars"]) for s in stars} == {
        v["id"]: (v["hours_total"], v["stars"]) for v in data["volunteers"]
    }
    assert listed[near]["award_candidate"] is True
    assert sum(v["award_candidate"] for v in data["volunteers"]) == sum(
        v["表彰候选"] == "是" for v in people.values()
    )
    # the roster: the station's beneficiaries, category in Chinese
    roster = _rows(book["服务对象"])
    assert len(roster) == len(data["beneficiaries"]) > 0
    assert {r["类别"] for r in roster} <= {"敬老", "爱幼", "助残", "农民工", "社区"}
    assert math.fsum(r["受助时长(小时)"] for r in roster) == hours


def test_the_workbook_sums_to_the_records_and_equals_the_json(city: City) -> None:
    a, b = city.stations
    _record_week(city, a)
    _record_week(city, b)
    with Session(city.engine) as db:  # a name Excel would run as a formula; a volunteer near a star
        records = _current(city, a)
        served = next(r for r in records if r["outcome"] == "served" and r["hours"] >= 1)
        volunteer = db.get(Volunteer, served["volunteer_id"])
        assert volunteer is not None
        volunteer.name = EVIL
        volunteer.hours_before = 100 - 0.5  # the first threshold (100 h) is reached this year
        db.add(volunteer)
        db.commit()

    records = _current(city, a)
    programmes = _programmes(city)
    served_rows = [r for r in records if r["outcome"] == "served"]
    outcomes = Counter(r["outcome"] for r in records)
    hours = math.fsum(r["hours"] for r in served_rows)
    by_month: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(12)])
    for r in served_rows:
        by_month[programmes[r["need_id"]]][dt.date.fromisoformat(r["served_on"]).month - 1].append(r["hours"])

    data = city.client.get(f"/v1/stations/{a}/ledger", params={"year": YEAR}, headers=city.headers(a)).json()
    assert "sessions" not in data
    total = data["total"]
    assert total["sessions"] == len(records) and total["served"] == len(served_rows)
    assert total["no_shows"] == outcomes["no_show"] == 2
    assert total["cancelled_by_volunteer"] == outcomes["cancelled_by_volunteer"] == 1
    assert total["hours"] == hours
    assert total["volunteers_active"] == len({r["volunteer_id"] for r in served_rows})
    assert [s["station_id"] for s in data["stations"]] == [a]
    for p in data["hours_by_programme"]:
        assert p["months"] == [math.fsum(m) for m in by_month.get(p["programme"], [[]] * 12)], p
    assert [w["week_start"] for w in data["coverage"]] == [WEEK.isoformat()]
    assert 0 < data["coverage"][0]["coverage"] <= 1

    book = _book(city, f"/v1/stations/{a}/ledger.xlsx", a)
    assert book.sheetnames == ["汇总", "服务记录", "志愿者", "服务对象"]
    sessions = _rows(book["服务记录"])
    assert len(sessions) == len(records) and {s["站点编号"] for s in sessions} == {a}
    assert sorted(s["记录编号"] for s in sessions) == sorted(r["id"] for r in records)
    assert math.fsum(s["时长(小时)"] for s in sessions if s["结果"] == "已服务") == hours
    assert sum(1 for s in sessions if s["结果"] == "未到") == outcomes["no_show"]
    assert all(isinstance(s["服务日期"], dt.datetime) for s in sessions)  # dates, not text
    assert book["服务记录"].freeze_panes == "A2"
    assert book["服务记录"].page_setup.orientation == "landscape"
    assert (
        book["服务记录"].oddHeader.center.text
        == f"{YEAR}年度志愿服务台账 · {data['stations'][0]['name']} · &A"
    )
    # the summary: the station row, and hours by programme and month, equal the JSON's
    station_rows = _summary_block(book["汇总"], "站点编号")
    assert station_rows[0][:10] == (
        a,
        data["stations"][0]["name"],
        total["volunteers_active"],
        total["beneficiaries_served"],
        total["sessions"],
        total["served"],
        total["no_shows"],
        total["cancelled_by_volunteer"],
        total["cancelled_by_beneficiary"],
        hours,
    )
    months = _summary_block(book["汇总"], "项目")
    assert [list(row[1:13]) for row in months[:-1]] == [p["months"] for p in data["hours_by_programme"]]
    assert months[-1][0] == "合计" and months[-1][13] == hours
    _check_people(city, a, book, data, served["volunteer_id"], hours)


def test_another_stations_ledger_is_404_and_a_bad_year_422(city: City) -> None:
    a, b = city.stations
    for path in (f"/v1/stations/{a}/ledger", f"/v1/stations/{a}/ledger.xlsx"):
        assert city.client.get(path, params={"year": YEAR}, headers=city.headers(b)).status_code == 404
        for year in (1999, 2100, "next"):
            r = city.client.get(path, params={"year": year}, headers=city.headers(a))
            assert r.status_code == 422 and r.json()["detail"].startswith("query.year: "), r.text
    # a station's token on the centre's routes sees its own station only
    own = city.client.get("/v1/ledger", params={"year": YEAR}, headers=city.headers(b)).json()
    assert [s["station_id"] for s in own["stations"]] == [b]


def test_the_centre_workbook_covers_every_station(city: City) -> None:
    a, b = city.stations
    _record_week(city, a)
    _record_week(city, b)
    records = _current(city)
    data = city.client.get("/v1/ledger", params={"year": YEAR}, headers=city.headers()).json()
    assert data["scope"] == "centre"
    assert [s["station_id"] for s in data["stations"]] == sorted(city.stations)
    for s in data["stations"]:
        alone = city.client.get(
            f"/v1/stations/{s['station_id']}/ledger", params={"year": YEAR}, headers=city.headers()
        ).json()
        assert alone["total"] | {"station_id": s["station_id"], "name": s["name"]} == s
    assert data["total"]["sessions"] == len(records) == sum(s["sessions"] for s in data["stations"])
    book = _book(city, "/v1/ledger.xlsx")
    sessions = _rows(book["服务记录"])
    assert {s["站点编号"] for s in sessions} == {a, b} and len(sessions) == len(records)
    assert math.fsum(s["时长(小时)"] for s in sessions) == data["total"]["hours"]
    station_rows = _summary_block(book["汇总"], "站点编号")
    assert [row[0] for row in station_rows] == [*sorted(city.stations), None]
    assert station_rows[-1][1] == "合计" and station_rows[-1][4] == len(records)
    assert {v["站点编号"] for v in _rows(book["志愿者"])} == {a, b}
    assert {w["station_id"] for w in data["coverage"]} == {a, b}


def _exit_code(argv: list[str]) -> int | str | None:
    """``linli``'s exit code: returned, or raised by argparse for a value it cannot parse."""
    try:
        return linli(argv)
    except SystemExit as exc:
        return exc.code


def test_the_ledger_cli_writes_the_workbook_and_refuses_bad_input(
    city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    a = city.stations[0]
    _record_week(city, a)
    monkeypatch.setenv("DATABASE_URL", city.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        out = tmp_path / "台账" / "ledger.xlsx"
        assert linli(["ledger", "--station", a, "--year", str(YEAR), "--out", str(out)]) == 0
        book = load_workbook(out)
        api = city.client.get(f"/v1/stations/{a}/ledger.xlsx", params={"year": YEAR}, headers=city.headers())
        assert _rows(book["服务记录"]) == _rows(load_workbook(io.BytesIO(api.content))["服务记录"])
        assert linli(["ledger", "--centre", "--year", str(YEAR), "--out", str(tmp_path / "c.xlsx")]) == 0
        assert len(_rows(load_workbook(tmp_path / "c.xlsx")["汇总"])) >= len(city.stations) + 1
        capsys.readouterr()
        for argv, field in (
            (["--station", "nowhere", "--year", "2026"], "--station"),
            (["--station", a, "--year", "1999"], "--year"),
            (["--station", a, "--year", "twenty"], "--year"),
        ):
            code = _exit_code(["ledger", *argv, "--out", str(tmp_path / "x.xlsx")])
            err = capsys.readouterr().err.strip().splitlines()
            assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and field in err[0], err
        assert not (tmp_path / "x.xlsx").exists()
    finally:
        get_settings.cache_clear()
