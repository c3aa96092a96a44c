"""志愿服务证明 (issue 18): the PDF's text as a reader extracts it, the public code check, scoping,
bad input and ``linli certificate``, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from api_support import City
from pypdf import PdfReader
from sqlmodel import Session, select

from api.models import ServiceCertificate, Volunteer
from api.names import PROGRAMMES, SERVICES
from api.services.certificates import PERIODS, mask_name
from api.settings import get_settings
from linli.cli import main as linli

WEEK = dt.date(2026, 12, 7)
PERIOD = {"from": WEEK.isoformat(), "to": (WEEK + dt.timedelta(days=6)).isoformat()}
NAME = "欧阳<b>&明"  # markup characters must print as written
CODE = re.compile(r"核验码：([A-Z2-7]{16})")


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _holds(text: str, phrase: str) -> bool:
    """Whether the PDF's text holds the phrase, whitespace aside (lines wrap where they fit)."""
    return re.sub(r"\s+", "", phrase) in re.sub(r"\s+", "", text)


def _served(city: City, station: str) -> tuple[str, list[dict[str, Any]]]:
    """A volunteer of a fresh plan with two sessions or more, and those sessions recorded served."""
    r = city.client.post(
        f"/v1/stations/{station}/plans", json={"week_start": WEEK.isoformat()}, headers=city.headers(station)
    )
    plan = city.wait(r.json()["id"], station)
    assert plan["state"] == "done", plan
    sessions: dict[str, list[dict[str, Any]]] = {}
    for a in plan["assignments"]:
        for s in a["sessions"]:
            sessions.setdefault(a["volunteer"], []).append(
                {"assignment_id": a["id"], "plan": plan["id"], "need": a["need"], **s}
            )
    volunteer, theirs = max(sessions.items(), key=lambda kv: (len(kv[1]), kv[0]))
    assert len(theirs) >= 2, "the demo plan should give someone two sessions"
    for s in theirs:
        body = {"assignment_id": s["assignment_id"], "served_on": s["date"], "slot": s["slot"], "hours": 1}
        r = city.client.post("/v1/records", json=body, headers=city.headers(station))
        assert r.status_code == 201, r.text
    with Session(city.engine) as session:
        v = session.get(Volunteer, volunteer)
        assert v is not None
        v.name = NAME
        session.add(v)
        session.commit()
    return volunteer, theirs


def _certificate(city: City, volunteer: str, station: str | None, **query: str) -> tuple[str, str]:
    r = city.client.get(
        f"/v1/volunteers/{volunteer}/certificate.pdf", params=PERIOD | query, headers=city.headers(station)
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = _text(r.content)
    found = CODE.search(text)
    assert found is not None, text
    return text, found.group(1)


def test_certificate_pdf_holds_name_hours_and_a_code_the_public_check_confirms(city: City) -> None:
    a, _b = city.stations
    volunteer, sessions = _served(city, a)
    text, code = _certificate(city, volunteer, a)
    assert NAME in text
    assert _holds(text, f"参加志愿服务 {len(sessions)} 次")
    assert _holds(text, f"累计服务 {len(sessions)} 小时")
    assert "志愿服务证明" in text and "星级" in text
    assert f"/v1/certificates/{code}" in text
    # one table row per session: its day; the hours by programme (the need's beneficiary's category)
    for s in sessions:
        assert s["date"] in text
    problem = city.client.get(f"/v1/plans/{sessions[0]['plan']}/problem", headers=city.headers(a)).json()
    category = {b["id"]: b["category"] for b in problem["beneficiaries"]}
    programme = {n["id"]: category[n["beneficiary"]] for n in problem["needs"]}
    by_programme: dict[str, int] = {}
    for s in sessions:
        by_programme[programme[s["need"]]] = by_programme.get(programme[s["need"]], 0) + 1
    table = text.split("按服务项目统计", 1)[1].split("服务记录", 1)[0]
    for category_code, hours in by_programme.items():
        assert _holds(table, f"{PROGRAMMES[category_code]}\n{hours}"), (category_code, hours, table)
    # the public check needs no token and shows the minimum
    r = city.client.get(f"/v1/certificates/{code}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True and body["code"] == code
    assert body["volunteer"] == mask_name(NAME) == "欧*****明"
    assert body["hours"] == len(sessions) and body["sessions"] == len(sessions)
    assert body["period_start"] == PERIOD["from"] and body["period_end"] == PERIOD["to"]
    assert volunteer not in r.text  # no ids
    assert city.client.get(f"/v1/certificates/{code.lower()}").status_code == 200  # case forgiven
    for unknown in ("A" * 16, "nope", "%00" * 16):
        assert city.client.get(f"/v1/certificates/{unknown}").status_code == 404, unknown


def test_same_figures_same_code_and_a_correction_issues_a_new_one(city: City) -> None:
    a, _b = city.stations
    volunteer, sessions = _served(city, a)
    _text1, first = _certificate(city, volunteer, a)
    _text2, again = _certificate(city, volunteer, a)
    assert again == first
    s = sessions[0]
    body = {
        "assignment_id": s["assignment_id"],
        "served_on": s["date"],
        "slot": s["slot"],
        "hours": 3.5,
        "correction": {"reason": "stayed longer"},
    }
    assert city.client.post("/v1/records", json=body, headers=city.headers(a)).status_code == 201
    text, fresh = _certificate(city, volunteer, a)
    assert fresh != first
    # the superseded record (1 h) is not counted, its correction (3.5 h) is
    total = len(sessions) - 1 + 3.5
    assert _holds(text, f"累计服务 {total:g} 小时")
    # the old code still checks, with the figures it was issued with
    assert city.client.get(f"/v1/certificates/{first}").json()["hours"] == len(sessions)
    assert city.client.get(f"/v1/certificates/{fresh}").json()["hours"] == total
    with Session(city.engine) as session:
        rows = session.exec(
            select(ServiceCertificate).where(ServiceCertificate.volunteer_id == volunteer)
        ).all()
    assert len(rows) == 2 and all(r.issued_by is not None for r in rows)


def test_another_station_and_bad_dates(city: City) -> None:
    a, b = city.stations
    volunteer, _sessions = _served(city, a)
    path = f"/v1/volunteers/{volunteer}/certificate.pdf"
    r = city.client.get(path, params=PERIOD, headers=city.headers(b))
    assert r.status_code == 404, r.text
    assert city.client.get(path, params=PERIOD, headers=city.headers()).status_code == 200  # the centre
    assert city.client.get(path, params=PERIOD).status_code == 401  # the PDF needs a token
    for query, field in (
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-12-13", "to": "2026-12-07"}, "from"),
        ({"from": "1999-01-01"}, "from"),
    ):
        r = city.client.get(path, params=PERIOD | query, headers=city.headers(a))
        assert r.status_code == 422, (query, r.text)
        assert field in r.json()["detail"], (query, r.text)


def test_empty_period_prints_no_sessions(city: City) -> None:
    a, _b = city.stations
    volunteer, _sessions = _served(city, a)
    text, _code = _certificate(city, volunteer, a, **{"from": "2026-01-05", "to": "2026-01-11"})
    assert "此期间无服务记录" in text and _holds(text, "累计服务 0 小时")


def test_cli_writes_a_readable_pdf_and_refuses_bad_input(
    city: City, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    a, b = city.stations
    volunteer, sessions = _served(city, a)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        out = tmp_path / "out" / "cert.pdf"
        argv = ["certificate", volunteer, "--from", PERIOD["from"], "--to", PERIOD["to"]]
        assert linli([*argv, "--out", str(out), "--station", a]) == 0, capsys.readouterr().err
        text = _text(out.read_bytes())
        assert NAME in text and _holds(text, f"累计服务 {len(sessions)} 小时")
        code = CODE.search(text)
        assert code is not None and code.group(1) in capsys.readouterr().err
        with Session(city.engine) as session:
            row = session.get(ServiceCertificate, code.group(1))
            assert row is not None and row.issued_by is None  # the command line
        for bad, field in (
            (["--from", "2026-02-30"], "--from"),
            (["--to", "soon"], "--to"),
            (["--from", "2026-12-14"], "--from"),
            (["--station", b], "volunteer"),
            (["--station", "nowhere"], "--station"),
        ):
            code_ = linli([*argv, "--out", str(tmp_path / "bad.pdf"), *bad])
            err = capsys.readouterr().err.strip().splitlines()
            assert code_ == 2 and len(err) == 1 and err[0].startswith(f"error: {field}:"), (bad, err)
        assert (
            linli(["certificate", "nobody", "--from", "2026-01-01", "--to", "2026-01-02", "--out", "x.pdf"])
            == 2
        )
        assert capsys.readouterr().err.startswith("error: volunteer:")
        assert not (tmp_path / "bad.pdf").exists()
    finally:
        get_settings.cache_clear()


def test_mask_name() -> None:
    assert mask_name("张三明") == "张*明"
    assert mask_name("李四") == "李*"
    assert mask_name("王") == "王"
    assert mask_name(" 欧阳建华 ") == "欧**华"


def test_chinese_names_match_the_zh_catalogue() -> None:
    """The fixed Chinese names (api.names: certificates, ledgers, calendars; the certificate's periods) are
    the web app's zh_CN translations of the same codes."""
    from web import labels
    from web.i18n import translator

    _ = translator("zh_CN")
    assert {k: _(v) for k, v in labels.CATEGORIES.items()} == PROGRAMMES
    assert {k: _(v) for k, v in labels.SERVICES.items()} == SERVICES
    assert {k: _(v) for k, v in labels.PERIODS.items()} == PERIODS
