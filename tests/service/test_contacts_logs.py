"""Contact details are never logged (issue 19: "a test greps them").

A real ``linli serve --log-level debug`` (its job worker in the process, as in production) on a
seeded database: people are registered, changed and imported with distinctive contact details
through the API and the 人员 pages, bad ones are sent, a plan is generated, lists, pages and
exports are read; then everything the server printed (stdout and stderr: application log,
access log, the job worker's output) and every audit entry is searched for those values.
None may appear.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import httpx
from api_support import database_url
from sqlmodel import Session, select
from test_faults import seeded, started

from api.auth import create_token
from api.db import make_engine
from api.models import AuditEntry, Station

# Distinctive values: found nowhere unless leaked (the seed's are 199/198-0000-xxxx).
GOOD = {
    "phone": "13577770001",
    "wechat": "leak_probe_wx9",
    "phone2": "+86 135 7777 0002",
    "address": "测漏里 77 幢 7 单元 707",
    "contact_name": "外甥 测漏强",
    "contact_phone": "0937-77770003",
    "imported_phone": "13577770004",
    "imported_address": "查漏苑 5 幢 505",
    "web_phone": "13577770005",
}
BAD = {
    "bad_phone": "1357777x0006",
    "bad_wechat": "7leakprobe",
    "bad_contact_phone": "135-7777-000x",
    "bad_web_phone": "13577770007abc",
    "bad_csv_phone": "1357777#0008",
}
WEEK = "2026-12-07"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _needles() -> list[str]:
    """The values, and the numbers' digits alone (a log could strip the spaces and hyphens)."""
    values = [*GOOD.values(), *BAD.values()]
    return sorted({*values, *(_digits(v) for v in values if sum(c.isdigit() for c in v) >= 8)})


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _drive(url: str, token: str, station: str, district: str) -> None:
    """Everything a coordinator does with contact details, through the API and the pages."""
    h = {"Authorization": f"Bearer {token}"}
    base = f"{url}/v1/stations/{station}"
    with httpx.Client(timeout=60) as c:
        volunteer = {
            "id": "leakv1",
            "name": "测漏志愿者",
            "district": district,
            "skills": ["companionship"],
            "availability": ["mon-am", "tue-pm"],
            "max_hours": 4,
            "phone": GOOD["phone"],
            "wechat": GOOD["wechat"],
        }
        assert c.post(f"{base}/volunteers", json=volunteer, headers=h).status_code == 201
        r = c.patch(f"{base}/volunteers/leakv1", json={"phone": GOOD["phone2"]}, headers=h)
        assert r.status_code == 200 and r.json()["phone"] == GOOD["phone2"]
        beneficiary = {
            "id": "leakb1",
            "name": "测漏对象",
            "category": "elderly",
            "district": district,
            "priority": 3,
            "address": GOOD["address"],
            "contact_name": GOOD["contact_name"],
            "contact_phone": GOOD["contact_phone"],
        }
        assert c.post(f"{base}/beneficiaries", json=beneficiary, headers=h).status_code == 201
        need = {"id": "leakn1", "service": "companionship", "hours": 1, "sessions": 1, "windows": ["mon-am"]}
        assert c.post(f"{base}/beneficiaries/leakb1/needs", json=need, headers=h).status_code == 201
        # Bad values: 422s naming the field.
        for body in (
            {**volunteer, "id": "leakv2", "phone": BAD["bad_phone"]},
            {**volunteer, "id": "leakv3", "wechat": BAD["bad_wechat"]},
        ):
            r = c.post(f"{base}/volunteers", json=body, headers=h)
            assert r.status_code == 422, r.text
        r = c.patch(
            f"{base}/beneficiaries/leakb1", json={"contact_phone": BAD["bad_contact_phone"]}, headers=h
        )
        assert r.status_code == 422, r.text
        # Imports: a good row, then a file with a bad one (all or nothing).
        csv_h = {**h, "Content-Type": "text/csv"}
        head = "id,district,skills,availability,max_hours,phone"
        good = f"{head}\nleakv4,{district},companionship,mon-am,3,{GOOD['imported_phone']}\n"
        assert c.put(f"{base}/volunteers.csv", content=good.encode(), headers=csv_h).status_code == 200
        bad = f"{head}\nleakv5,{district},companionship,mon-am,3,{BAD['bad_csv_phone']}\n"
        assert c.put(f"{base}/volunteers.csv", content=bad.encode(), headers=csv_h).status_code == 422
        bens = (
            f"id,category,district,priority,address\nleakb2,elderly,{district},2,{GOOD['imported_address']}\n"
        )
        assert c.put(f"{base}/beneficiaries.csv", content=bens.encode(), headers=csv_h).status_code == 200
        # A plan, read back.
        r = c.post(f"{base}/plans", json={"week_start": WEEK}, headers=h)
        assert r.status_code == 202, r.text
        plan = r.json()["id"]
        end = time.monotonic() + 120
        while c.get(f"{url}/v1/plans/{plan}", headers=h).json()["state"] in ("queued", "solving"):
            assert time.monotonic() < end, "the plan did not finish"
            time.sleep(0.2)
        for path in (
            f"{url}/v1/plans/{plan}",
            f"{url}/v1/plans/{plan}/problem",
            f"{base}/volunteers",
            f"{base}/volunteers/leakv1",
            f"{base}/beneficiaries",
            f"{base}/beneficiaries/leakb1",
            f"{base}/volunteers.csv",
            f"{base}/volunteers.xlsx",
            f"{base}/beneficiaries.csv",
            f"{url}/v1/audit",
        ):
            assert c.get(path, headers=h).status_code == 200, path
        # The 人员 pages: log in, lists, the person's page, a search, a bad and a good form.
        login = c.get(f"{url}/login")
        r = c.post(
            f"{url}/login", data={"token": token, "csrf_token": _csrf(login.text)}, follow_redirects=True
        )
        assert r.status_code == 200
        csrf = _csrf(r.text)
        web = f"{url}/s/{station}/people"
        for page in (
            web,
            f"{web}?kind=beneficiaries",
            f"{web}/volunteers/leakv1",
            f"{web}/beneficiaries/leakb1",
            f"{web}?q={GOOD['phone']}",  # a search for a number: the access log drops the query
            f"{url}/s/{station}/people.xlsx?kind=volunteers",
        ):
            assert c.get(page).status_code == 200, page
        form = {
            "id": "leakv6",
            "district": district,
            "skills": "companionship",
            "availability": "mon-am",
            "max_hours": "2",
            "csrf_token": csrf,
        }
        assert (
            c.post(f"{web}/volunteers/new", data={**form, "phone": BAD["bad_web_phone"]}).status_code == 422
        )
        r = c.post(f"{web}/volunteers/new", data={**form, "phone": GOOD["web_phone"]}, follow_redirects=False)
        assert r.status_code == 303, r.text


def test_contact_details_never_appear_in_logs_or_the_audit_log(tmp_path: Path) -> None:
    with contextlib.contextmanager(database_url)("sqlite", tmp_path) as url:
        seeded(url)
        engine = make_engine(url)
        with Session(engine) as session:
            station = session.exec(select(Station)).first()
            assert station is not None
            sid, district = station.id, station.district
            token = create_token(session, sid, "leak-test")
        with started(url, tmp_path, ["serve", "--log-level", "debug"], token) as server:
            _drive(server.url, token, sid, district)
        logged = b"".join(p.read_bytes() for p in tmp_path.glob("*.log")).decode("utf-8", "replace")
        with Session(engine) as session:
            audit = [f"{e.entity} {e.entity_id} {e.changes}" for e in session.exec(select(AuditEntry))]
        engine.dispose()
    # The test saw what it greps: debug lines, the access log, the job worker, the audit entries.
    assert "DEBUG" in logged and '"GET /v1/stations/' in logged and "ready, claiming jobs" in logged
    assert "api.services.people: station" in logged and "leakv1" in logged
    assert any("leakv1" in a and "phone" in a for a in audit) and any(
        "leakb1" in a and "address" in a for a in audit
    )
    for needle in _needles():
        assert needle not in logged, f"{needle!r} is in the server's output"
        for entry in audit:
            assert needle not in entry, f"{needle!r} is in the audit entry {entry}"
