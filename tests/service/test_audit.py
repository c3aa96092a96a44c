"""The audit log (issue 18): every write is attributable.

The walk reads every write route (POST/PUT/PATCH/DELETE) from the application's OpenAPI schema
and sends each a valid request; each must leave an audit entry naming the caller's token, the
record and the action.  A route added later fails :func:`test_every_write_route_has_a_walk_case`
until it is given a case here.  A guard on the engine fails any transaction that writes an
audited table (beyond machine columns) without an audit entry for it, so a bulk statement
that bypasses the session's capture is caught too.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_support import City
from helpers import load_example_doc
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.audit import AUDITED, LOGGED_KEY
from api.delivery import fan_out
from api.models import AuditEntry, Delivery, District, PlanAssignment, Token, Volunteer

os.environ.setdefault("LINLI_SECRET_KEY", "test-secret-key-for-the-web-tests-only")

WEEK = "2026-12-07"

# ------------------------------------------------------------------------ the guard


_WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)\"?", re.IGNORECASE)
_GUARD_KEY = "linli.test.audited_writes"


def _set_columns(statement: str) -> set[str]:
    """Columns an UPDATE's SET clause writes."""
    set_part = re.split(r"\sWHERE\s", statement.split(" SET ", 1)[1], maxsplit=1, flags=re.IGNORECASE)[0]
    return set(re.findall(r"(\w+)\s*=", set_part))


@contextmanager
def audit_guard(engine: Engine) -> Iterator[list[str]]:
    """Collect the committed transactions that wrote an audited table without an audit entry for it."""
    violations: list[str] = []

    def after(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        match = _WRITE.match(statement)
        if match is None or cursor.rowcount == 0:  # a conditional UPDATE that lost its race wrote nothing
            return
        verb, table = match.group(1).upper(), match.group(2).lower()
        spec = AUDITED.get(table)
        if spec is None:
            return
        if verb == "UPDATE" and _set_columns(statement) <= spec.ignored:
            return  # machine columns only: a lease, a job's progress, a token's last use
        if verb == "INSERT INTO" and spec.machine_rows:
            return  # a row the machine makes (a delivery fanned out from the outbox)
        conn.info.setdefault(_GUARD_KEY, {}).setdefault(table, statement[:120])

    def commit(conn: Any) -> None:
        written: dict[str, str] = conn.info.pop(_GUARD_KEY, {})
        logged: set[str] = conn.info.pop(LOGGED_KEY, set())
        violations.extend(f"{t}: {s}" for t, s in written.items() if t not in logged)

    def forget(conn: Any) -> None:
        # A pooled connection keeps its ``info`` from transactions before the guard was installed.
        conn.info.pop(_GUARD_KEY, None)
        conn.info.pop(LOGGED_KEY, None)

    listeners = (("after_cursor_execute", after), ("commit", commit), ("begin", forget), ("rollback", forget))
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        yield violations
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)


def test_the_guard_catches_an_unaudited_write(city: City) -> None:
    """A write through a bare connection (no session, so no capture) is flagged; the session's is not."""
    with Session(city.engine) as s:
        someone = s.exec(select(Volunteer.id)).first()
    with audit_guard(city.engine) as violations:
        with city.engine.begin() as conn:
            conn.execute(sa.update(Volunteer).where(col(Volunteer.id) == someone).values(name="x"))
        assert violations and violations[0].startswith("volunteer:"), violations
        violations.clear()
        with Session(city.engine) as s:
            row = s.exec(select(Volunteer)).first()
            assert row is not None
            row.name = "审计"
            s.add(row)
            s.commit()
        assert violations == []


# ------------------------------------------------------------------------ the walk


def _entries(engine: Engine, after: int = 0) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).where(col(AuditEntry.id) > after).order_by(col(AuditEntry.id))))


def _last_id(engine: Engine) -> int:
    with Session(engine) as s:
        found = s.exec(select(sa.func.max(AuditEntry.id))).one()
        return int(found or 0)


@dataclass
class Walk:
    """The walk's station, its token ids, and what earlier steps made (plan ids …)."""

    city: City
    station: str
    district: str
    token_ids: dict[str | None, int]
    made: dict[str, Any] = field(default_factory=dict)

    def send(self, method: str, url: str, station: str | None = "", **kw: Any) -> httpx.Response:
        who = self.station if station == "" else station
        r: httpx.Response = self.city.client.request(method, url, headers=self.city.headers(who), **kw)
        return r


Step = Callable[[Walk], tuple[httpx.Response, str | None, str, str]]
"""A valid request of one route: the response, the caller (station; None: the centre), the
entity and action its entry must have."""


def _volunteer_body(w: Walk, vid: str) -> dict[str, Any]:
    return {
        "id": vid,
        "district": w.district,
        "skills": ["life_care"],
        "availability": ["mon-am"],
        "max_hours": 4,
        "certificates": [{"kind": "first_aid", "expires": "2030-01-01"}],
    }


def _post_volunteer(w: Walk) -> Any:
    r = w.send("POST", f"/v1/stations/{w.station}/volunteers", json=_volunteer_body(w, "v-audit"))
    return r, w.station, "volunteer", "create"


def _patch_volunteer(w: Walk) -> Any:
    r = w.send("PATCH", f"/v1/stations/{w.station}/volunteers/v-audit", json={"max_hours": 6})
    return r, w.station, "volunteer", "update"


def _delete_volunteer(w: Walk) -> Any:
    r = w.send("DELETE", f"/v1/stations/{w.station}/volunteers/v-audit")
    return r, w.station, "volunteer", "update"  # a soft delete: ``active`` goes false


def _post_beneficiary(w: Walk) -> Any:
    body = {"id": "b-audit", "category": "elderly", "district": w.district, "priority": 3}
    return (
        w.send("POST", f"/v1/stations/{w.station}/beneficiaries", json=body),
        w.station,
        "beneficiary",
        "create",
    )


def _patch_beneficiary(w: Walk) -> Any:
    r = w.send("PATCH", f"/v1/stations/{w.station}/beneficiaries/b-audit", json={"priority": 5})
    return r, w.station, "beneficiary", "update"


def _delete_beneficiary(w: Walk) -> Any:
    return (
        w.send("DELETE", f"/v1/stations/{w.station}/beneficiaries/b-audit"),
        w.station,
        "beneficiary",
        "update",
    )


NEED = {"id": "n-audit", "service": "life_care", "hours": 1, "sessions": 1, "windows": ["mon-am"]}


def _post_need(w: Walk) -> Any:
    r = w.send("POST", f"/v1/stations/{w.station}/beneficiaries/b-audit/needs", json=NEED)
    return r, w.station, "need", "create"


def _patch_need(w: Walk) -> Any:
    r = w.send("PATCH", f"/v1/stations/{w.station}/beneficiaries/b-audit/needs/n-audit", json={"hours": 2})
    return r, w.station, "need", "update"


def _delete_need(w: Walk) -> Any:
    r = w.send("DELETE", f"/v1/stations/{w.station}/beneficiaries/b-audit/needs/n-audit")
    return r, w.station, "need", "update"


def _post_site(w: Walk) -> Any:
    body = {"id": "s-audit", "name": "雄关广场", "district": w.district}
    return w.send("POST", f"/v1/stations/{w.station}/sites", json=body), w.station, "site", "create"


def _patch_site(w: Walk) -> Any:
    r = w.send("PATCH", f"/v1/stations/{w.station}/sites/s-audit", json={"address": "东门"})
    return r, w.station, "site", "update"


def _delete_site(w: Walk) -> Any:
    return w.send("DELETE", f"/v1/stations/{w.station}/sites/s-audit"), w.station, "site", "update"


def _post_site_need(w: Walk) -> Any:
    body = {**NEED, "id": "n-s-audit", "priority": 3, "volunteers_max": 3}
    r = w.send("POST", f"/v1/stations/{w.station}/sites/s-audit/needs", json=body)
    return r, w.station, "need", "create"


def _patch_site_need(w: Walk) -> Any:
    r = w.send("PATCH", f"/v1/stations/{w.station}/sites/s-audit/needs/n-s-audit", json={"volunteers_max": 4})
    return r, w.station, "need", "update"


def _delete_site_need(w: Walk) -> Any:
    r = w.send("DELETE", f"/v1/stations/{w.station}/sites/s-audit/needs/n-s-audit")
    return r, w.station, "need", "update"


def _put_csv(name: str, entity: str, text: Callable[[Walk], str]) -> Step:
    def step(w: Walk) -> Any:
        r = w.city.client.put(
            f"/v1/stations/{w.station}/{name}.csv",
            content=text(w),
            headers={**w.city.headers(w.station), "Content-Type": "text/csv"},
        )
        return r, w.station, entity, "create"

    return step


def _generate(w: Walk) -> Any:
    r = w.send("POST", f"/v1/stations/{w.station}/plans", json={"week_start": WEEK})
    if r.status_code == 202:
        w.made["first"] = w.city.wait(r.json()["id"], w.station)
    return r, w.station, "planversion", "create"


def _changes(w: Walk) -> Any:
    first = w.made["first"]
    volunteer = sorted({a["volunteer"] for a in first["plan"]["assignments"]})[0]
    r = w.send(
        "POST",
        f"/v1/plans/{first['id']}/changes",
        json={"format": 1, "volunteers_withdrawn": [{"volunteer": volunteer}]},
    )
    if r.status_code == 202:
        w.made["second"] = w.city.wait(r.json()["id"], w.station)
    return r, w.station, "planversion", "create"


def _publish(w: Walk) -> Any:
    # The re-solve is published (and its messages written); the revert after it re-announces the first.
    return w.send("POST", f"/v1/plans/{w.made['second']['id']}/publish"), w.station, "planversion", "update"


def _revert(w: Walk) -> Any:
    return w.send("POST", f"/v1/plans/{w.made['second']['id']}/revert"), w.station, "planversion", "update"


def _record(w: Walk) -> Any:
    plan_id = w.made["first"]["id"]
    with Session(w.city.engine) as db:
        row = db.exec(select(PlanAssignment).where(PlanAssignment.plan_id == plan_id)).first()
        assert row is not None
        assignment = row.id
    listed = w.send("GET", f"/v1/plans/{plan_id}").json()
    session = next(a for a in listed["assignments"] if a["id"] == assignment)["sessions"][0]
    body = {"assignment_id": assignment, "served_on": session["date"], "slot": session["slot"], "hours": 1}
    w.made["served"] = (row.volunteer_id, session["date"])
    return w.send("POST", "/v1/records", json=body), w.station, "servicerecord", "create"


def _swap(w: Walk) -> Any:
    plan_id = w.made["first"]["id"]  # current again after the revert
    listed = w.send("GET", f"/v1/plans/{plan_id}").json()
    a = next(a for a in listed["assignments"] if a["standins"])
    body = {"assignment_id": a["id"], "volunteer": a["standins"][0]["volunteer"]}
    return w.send("POST", f"/v1/plans/{plan_id}/swap", json=body), w.station, "planversion", "create"


def _cancel_plan(w: Walk) -> Any:
    # A solve cancelled at once: queued (cancelled there) or just claimed (asked to stop).
    for _ in range(5):
        r = w.send("POST", f"/v1/stations/{w.station}/plans", json={"week_start": "2026-12-14"})
        assert r.status_code == 202, r.text
        cancelled = w.send("DELETE", f"/v1/plans/{r.json()['id']}")
        if cancelled.status_code != 409:  # it finished first: try again
            break
    return cancelled, w.station, "planversion", "update"


def _simulate(w: Walk) -> Any:
    body = {"scenario": "baseline", "runs": 1, "week_start": WEEK}
    r = w.send("POST", f"/v1/stations/{w.station}/simulations", json=body)
    return r, w.station, "simulation", "create"


def _cancel_simulation(w: Walk) -> Any:
    for _ in range(5):
        body = {"scenario": "baseline", "runs": 10, "week_start": WEEK}
        r = w.send("POST", f"/v1/stations/{w.station}/simulations", json=body)
        assert r.status_code == 202, r.text
        cancelled = w.send("DELETE", f"/v1/simulations/{r.json()['id']}")
        if cancelled.status_code != 409:
            break
    return cancelled, w.station, "simulation", "update"


def _solve(w: Walk) -> Any:
    return w.send("POST", "/v1/solve", station=None, json=load_example_doc()), None, "planversion", "create"


def _post_token(w: Walk) -> Any:
    r = w.send("POST", "/v1/tokens", station=None, json={"station_id": w.station, "label": "审计测试"})
    if r.status_code == 201:
        w.made["token"] = r.json()
    return r, None, "token", "create"


def _delete_token(w: Walk) -> Any:
    return w.send("DELETE", f"/v1/tokens/{w.made['token']['id']}", station=None), None, "token", "update"


REFUSED_URL = "http://127.0.0.1:9/linli"
"""A receiver nobody runs (the discard port): the service's dispatcher fails to reach it, quietly."""


def _post_webhook(w: Walk) -> Any:
    r = w.send("POST", f"/v1/stations/{w.station}/webhooks", json={"name": "短信网关", "url": REFUSED_URL})
    if r.status_code == 201:
        w.made["webhook"] = r.json()
    return r, w.station, "webhookendpoint", "create"


def _retry_delivery(w: Walk) -> Any:
    # The walk's publication wrote the messages after its endpoint was made: one of them, failed.
    fan_out(w.city.engine)
    with w.city.engine.begin() as conn:  # the dispatcher's own columns: no audit entry needed
        conn.execute(sa.update(Delivery).values(state="failed", last_error="HTTP 500"))
    with Session(w.city.engine) as s:
        delivery = s.exec(select(Delivery)).first()
        assert delivery is not None
    return w.send("POST", f"/v1/deliveries/{delivery.id}/retry"), w.station, "delivery", "update"


def _delete_webhook(w: Walk) -> Any:
    r = w.send("DELETE", f"/v1/webhooks/{w.made['webhook']['id']}")
    return r, w.station, "webhookendpoint", "update"


def _calendar_volunteer(w: Walk) -> str:
    with Session(w.city.engine) as db:
        found = db.exec(
            select(Volunteer.id).where(Volunteer.station_id == w.station, Volunteer.active)
        ).first()
        assert found is not None
        return found


def _post_calendar(w: Walk) -> Any:
    r = w.send("POST", f"/v1/volunteers/{_calendar_volunteer(w)}/calendar")
    return r, w.station, "calendarfeed", "create"


def _delete_calendar(w: Walk) -> Any:
    r = w.send("DELETE", f"/v1/volunteers/{_calendar_volunteer(w)}/calendar")
    return r, w.station, "calendarfeed", "update"  # revoked: ``revoked_at`` set


WALK: dict[tuple[str, str], Step] = {
    ("post", "/v1/stations/{station_id}/volunteers"): _post_volunteer,
    ("patch", "/v1/stations/{station_id}/volunteers/{volunteer_id}"): _patch_volunteer,
    ("delete", "/v1/stations/{station_id}/volunteers/{volunteer_id}"): _delete_volunteer,
    ("post", "/v1/volunteers/{volunteer_id}/calendar"): _post_calendar,
    ("delete", "/v1/volunteers/{volunteer_id}/calendar"): _delete_calendar,
    ("post", "/v1/stations/{station_id}/beneficiaries"): _post_beneficiary,
    ("patch", "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}"): _patch_beneficiary,
    ("post", "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs"): _post_need,
    ("patch", "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}"): _patch_need,
    ("delete", "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}/needs/{need_id}"): _delete_need,
    ("delete", "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}"): _delete_beneficiary,
    ("put", "/v1/stations/{station_id}/volunteers.csv"): _put_csv(
        "volunteers",
        "volunteer",
        lambda w: f"id,district,skills,availability,max_hours\nv-csv,{w.district},life_care,mon-am,3\n",
    ),
    ("put", "/v1/stations/{station_id}/beneficiaries.csv"): _put_csv(
        "beneficiaries",
        "beneficiary",
        lambda w: f"id,category,district,priority\nb-csv,elderly,{w.district},3\n",
    ),
    ("put", "/v1/stations/{station_id}/needs.csv"): _put_csv(
        "needs",
        "need",
        lambda w: "id,beneficiary_id,service,hours,sessions,windows\nn-csv,b-csv,life_care,1,1,mon-am\n",
    ),
    ("post", "/v1/stations/{station_id}/webhooks"): _post_webhook,
    ("post", "/v1/stations/{station_id}/sites"): _post_site,
    ("patch", "/v1/stations/{station_id}/sites/{site_id}"): _patch_site,
    ("post", "/v1/stations/{station_id}/sites/{site_id}/needs"): _post_site_need,
    ("patch", "/v1/stations/{station_id}/sites/{site_id}/needs/{need_id}"): _patch_site_need,
    ("delete", "/v1/stations/{station_id}/sites/{site_id}/needs/{need_id}"): _delete_site_need,
    ("put", "/v1/stations/{station_id}/sites.csv"): _put_csv(
        "sites", "site", lambda w: f"id,name,district\ns-csv,滨河步道,{w.district}\n"
    ),
    ("delete", "/v1/stations/{station_id}/sites/{site_id}"): _delete_site,
    ("post", "/v1/stations/{station_id}/plans"): _generate,
    ("post", "/v1/plans/{plan_id}/changes"): _changes,
    ("post", "/v1/plans/{plan_id}/publish"): _publish,
    ("post", "/v1/plans/{plan_id}/revert"): _revert,
    ("post", "/v1/records"): _record,
    ("post", "/v1/plans/{plan_id}/swap"): _swap,
    ("delete", "/v1/plans/{plan_id}"): _cancel_plan,
    ("post", "/v1/stations/{station_id}/simulations"): _simulate,
    ("delete", "/v1/simulations/{simulation_id}"): _cancel_simulation,
    ("post", "/v1/solve"): _solve,
    ("post", "/v1/tokens"): _post_token,
    ("delete", "/v1/tokens/{token_id}"): _delete_token,
    ("post", "/v1/deliveries/{delivery_id}/retry"): _retry_delivery,
    ("delete", "/v1/webhooks/{webhook_id}"): _delete_webhook,
}
"""A valid request for every write route, in an order where each finds what it needs."""


def _write_routes(city: City) -> set[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = city.client.get("/openapi.json").json()["paths"]
    return {
        (method, route)
        for route, operations in paths.items()
        for method in operations
        if method in ("post", "put", "patch", "delete") and route.startswith("/v1/")
    }


def test_every_write_route_has_a_walk_case(city: City) -> None:
    """Each write route of the schema has a step in :data:`WALK` (and each step is a real route)."""
    routes = _write_routes(city)
    assert routes - set(WALK) == set(), (
        f"write routes without an audit walk step: {sorted(routes - set(WALK))}"
    )
    assert set(WALK) - routes == set(), f"walk steps of no route: {sorted(set(WALK) - routes)}"


def _walk(city: City) -> Walk:
    station = city.stations[0]
    with Session(city.engine) as s:
        district = s.exec(select(District)).first()
        assert district is not None
        tokens = {t.station_id: t.id for t in s.exec(select(Token)) if t.id is not None}
    return Walk(city, station, district.id, tokens)


def test_every_write_route_leaves_an_audit_entry(city: City) -> None:
    """THE WALK: each write route's valid request leaves an entry naming the caller's token, the
    record and the action; and no transaction on the way writes an audited table unaudited."""
    w = _walk(city)
    failures: list[str] = []
    start = _last_id(city.engine)
    with audit_guard(city.engine) as violations:
        for (method, route), step in WALK.items():
            before = _last_id(city.engine)
            r, caller, entity, action = step(w)
            assert r.status_code < 400, f"{method} {route}: {r.status_code} {r.text}"
            token_id = w.token_ids[caller]
            new = _entries(city.engine, before)
            if not any(
                e.actor_token_id == token_id
                and e.actor_kind == "api"
                and (e.entity, e.action) == (entity, action)
                for e in new
            ):
                seen = [(e.actor_kind, e.actor_token_id, e.entity, e.action) for e in new]
                failures.append(f"{method} {route}: no {entity} {action} entry by token {token_id}; {seen}")
        time.sleep(0.5)  # the cancelled jobs' workers settle their rows
    assert not failures, "\n".join(failures)
    assert violations == [], "audited tables written without an audit entry:\n" + "\n".join(violations)
    # Every write on the way had an actor: none fell back to the process's own (``system``).
    nobody = [
        (e.entity, e.entity_id, e.action) for e in _entries(city.engine, start) if e.actor_kind == "system"
    ]
    assert nobody == [], nobody
    # The jobs' own writes (a solve's claim and outcome) are the job's, without a token.
    jobs = [e for e in _entries(city.engine) if e.actor_kind == "job"]
    assert any(e.entity == "planversion" and e.changes.get("state", [None])[-1] == "done" for e in jobs)
    assert all(e.actor_token_id is None for e in jobs)
    # A read that writes (a 志愿服务证明 is issued, and kept, by a GET) is audited as well.
    volunteer, day = w.made["served"]
    before = _last_id(city.engine)
    r = w.send("GET", f"/v1/volunteers/{volunteer}/certificate.pdf", params={"from": day, "to": day})
    assert r.status_code == 200, r.text
    # A cancelled job's worker may still settle its row meanwhile (an entry of kind ``job``, under
    # load after the half second above): the GET's own entries are the others.
    issued = [
        (e.actor_token_id, e.entity, e.action, e.station_id)
        for e in _entries(city.engine, before)
        if e.actor_kind != "job"
    ]
    assert issued == [(w.token_ids[w.station], "servicecertificate", "create", w.station)]
    # Entries carry the record's station: the walk's people are the walk's station's.
    people = [e for e in _entries(city.engine) if e.entity in ("volunteer", "beneficiary", "need")]
    assert people and all(e.station_id == w.station for e in people if e.actor_kind == "api")


# ------------------------------------------------------------------------ pages, CLI, what is recorded


def _csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


def test_a_web_page_write_is_the_logged_in_token_s(city: City) -> None:
    """A volunteer added on the 人员 page: entries of kind ``web`` naming the session's token."""
    w = _walk(city)
    client = city.client
    client.cookies.clear()
    form = client.get("/login")
    r = client.post(
        "/login",
        data={"token": city.tokens[w.station], "csrf_token": _csrf_of(form.text)},
        follow_redirects=True,
    )
    csrf = _csrf_of(r.text)
    before = _last_id(city.engine)
    data = {
        "id": "vweb-audit",
        "name": "王小明",
        "district": w.district,
        "skills": ["life_care"],
        "availability": ["mon-am"],
        "max_hours": "6",
        "max_beneficiaries": "2",
        "certificates-0-kind": "first_aid",
        "certificates-0-expires": "2030-05-01",
        "csrf_token": csrf,
    }
    r = client.post(f"/s/{w.station}/people/volunteers/new", data=data, follow_redirects=False)
    assert r.status_code in (200, 303), r.text
    client.cookies.clear()
    new = _entries(city.engine, before)
    got = {(e.actor_kind, e.actor_token_id, e.entity, e.action, e.entity_id) for e in new}
    token = w.token_ids[w.station]
    assert ("web", token, "volunteer", "create", "vweb-audit") in got, got
    assert any(e.entity == "certificate" and e.actor_kind == "web" for e in new), got
    made = next(e for e in new if e.entity == "volunteer")
    assert made.station_id == w.station and made.actor_label == w.station
    assert made.changes["name"] == [None, "王小明"]


def test_a_web_import_is_the_logged_in_token_s(city: City) -> None:
    """A CSV imported on the 人员 page: one ``web`` entry per row, naming the session's token."""
    w = _walk(city)
    client = city.client
    client.cookies.clear()
    form = client.get("/login")
    r = client.post(
        "/login",
        data={"token": city.tokens[w.station], "csrf_token": _csrf_of(form.text)},
        follow_redirects=True,
    )
    csrf = _csrf_of(r.text)
    text = "id,name,district,skills,availability,max_hours\n"
    text += "".join(f"imp{i},甲{i},{w.district},life_care,mon-am,4\n" for i in range(3))
    before = _last_id(city.engine)
    r = client.post(
        f"/s/{w.station}/people/import",
        data={"kind": "volunteers", "csrf_token": csrf},
        files={"file": ("people.csv", text.encode(), "text/csv")},
    )
    client.cookies.clear()
    assert r.status_code == 200, r.text
    got = sorted(
        (e.actor_kind, e.actor_token_id, e.entity, e.entity_id, e.action)
        for e in _entries(city.engine, before)
    )
    token = w.token_ids[w.station]
    assert got == [("web", token, "volunteer", f"imp{i}", "create") for i in range(3)]


def test_a_cli_write_is_the_command_line_s(city: City, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``linli token create`` against the database: a ``cli`` entry labelled with the system user."""
    from api.audit import cli_actor
    from api.settings import get_settings
    from linli.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    before = _last_id(city.engine)
    try:
        assert main(["token", "create", "--station", city.stations[1], "--label", "站长"]) == 0
    finally:
        get_settings.cache_clear()
    new = _entries(city.engine, before)
    assert [(e.actor_kind, e.actor_label, e.actor_token_id, e.entity, e.action) for e in new] == [
        ("cli", cli_actor().label, None, "token", "create")
    ]
    assert new[0].station_id == city.stations[1]
    assert new[0].actor_label.startswith("cli:")


def test_an_update_records_the_changed_fields_only(city: City) -> None:
    """A PATCH's entry has the fields that changed, before and after; fields sent unchanged are left out."""
    w = _walk(city)
    with Session(city.engine) as s:
        v = s.exec(select(Volunteer).where(Volunteer.station_id == w.station)).first()
        assert v is not None
        vid, hours, district = v.id, v.max_hours, v.district
    before = _last_id(city.engine)
    r = w.send(
        "PATCH",
        f"/v1/stations/{w.station}/volunteers/{vid}",
        json={"max_hours": hours + 1, "district": district},
    )
    assert r.status_code == 200, r.text
    new = [e for e in _entries(city.engine, before) if e.entity == "volunteer"]
    assert len(new) == 1, new
    assert new[0].changes == {"max_hours": [hours, hours + 1]}
    assert (new[0].action, new[0].entity_id, new[0].actor_token_id) == ("update", vid, w.token_ids[w.station])


def test_a_token_s_secret_and_digest_are_never_recorded(city: City) -> None:
    """A token's entries (create, revoke) hold neither its secret nor its digest, nor its last use."""
    before = _last_id(city.engine)
    r = city.client.post("/v1/tokens", json={"label": "协调员"}, headers=city.headers(None))
    assert r.status_code == 201, r.text
    created = r.json()
    city.client.get("/v1/stations", headers={"Authorization": f"Bearer {created['secret']}"})  # last use
    assert city.client.delete(f"/v1/tokens/{created['id']}", headers=city.headers(None)).status_code == 200
    with Session(city.engine) as s:
        token = s.get(Token, created["id"])
        assert token is not None
        digest = token.digest
    new = [e for e in _entries(city.engine, before) if e.entity == "token"]
    assert [e.action for e in new] == ["create", "update"], new
    text = repr([e.changes for e in new])
    assert created["secret"] not in text and digest not in text and "digest" not in text
    assert "last_used_at" not in text
    assert set(new[1].changes) == {"revoked_at"}


def test_a_webhook_secret_is_never_recorded(city: City) -> None:
    """A webhook endpoint's entries (create, deactivate) name the caller and never hold its secret."""
    station = city.stations[0]
    before = _last_id(city.engine)
    r = city.client.post(
        f"/v1/stations/{station}/webhooks",
        json={"name": "微信网关", "url": REFUSED_URL},
        headers=city.headers(station),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert (
        city.client.delete(f"/v1/webhooks/{created['id']}", headers=city.headers(station)).status_code == 200
    )
    new = [e for e in _entries(city.engine, before) if e.entity == "webhookendpoint"]
    assert [(e.action, e.station_id) for e in new] == [("create", station), ("update", station)]
    text = repr([e.changes for e in new])
    assert created["secret"] not in text and "secret" not in text
    assert new[0].changes["url"] == [None, REFUSED_URL]
    assert set(new[1].changes) == {"active", "deactivated_at"}


# ------------------------------------------------------------------------ GET /v1/audit


def test_a_station_sees_its_own_entries_only(city: City) -> None:
    """The centre sees every entry; a station its own station's, and nothing of another station's record."""
    a, b = city.stations
    with Session(city.engine) as s:
        theirs = s.exec(select(Volunteer).where(Volunteer.station_id == b)).first()
        assert theirs is not None
        vid, hours = theirs.id, theirs.max_hours
    r = city.client.patch(
        f"/v1/stations/{b}/volunteers/{vid}", json={"max_hours": hours + 1}, headers=city.headers(b)
    )
    assert r.status_code == 200, r.text
    query = {"entity": "volunteer", "entity_id": vid}
    centre = city.client.get("/v1/audit", params=query, headers=city.headers(None))
    own = city.client.get("/v1/audit", params=query, headers=city.headers(b))
    other = city.client.get("/v1/audit", params=query, headers=city.headers(a))
    assert centre.status_code == own.status_code == other.status_code == 200
    assert [e["changes"] for e in centre.json() if e["action"] == "update"] == [
        {"max_hours": [hours, hours + 1]}
    ]
    assert own.json() == centre.json()
    assert other.json() == [] and other.headers["X-Total-Count"] == "0"
    everything = city.client.get("/v1/audit", params={"limit": 1000}, headers=city.headers(a))
    assert everything.json() and {e["station_id"] for e in everything.json()} == {a}
    all_of_centre = city.client.get("/v1/audit", params={"limit": 1000}, headers=city.headers(None)).json()
    assert {e["station_id"] for e in all_of_centre} >= {a, b}


def test_audit_paging_filters_and_bad_input(city: City) -> None:
    """limit/offset, X-Total-Count; ``from``/``to``; an unknown parameter or ``from`` after ``to``: 422."""
    h = city.headers(None)
    total = int(city.client.get("/v1/audit", params={"limit": 1}, headers=h).headers["X-Total-Count"])
    assert total > 3
    first = city.client.get("/v1/audit", params={"limit": 2}, headers=h).json()
    second = city.client.get("/v1/audit", params={"limit": 2, "offset": 2}, headers=h).json()
    assert len(first) == len(second) == 2 and first[-1]["id"] < second[0]["id"]
    assert city.client.get("/v1/audit", params={"from": "2099-01-01T00:00:00"}, headers=h).json() == []
    assert len(city.client.get("/v1/audit", params={"to": "2099-01-01T00:00:00Z"}, headers=h).json()) > 0
    for bad in ({"nope": "1"}, {"from": "2026-12-08T00:00:00", "to": "2026-12-07T00:00:00"}, {"limit": 0}):
        r = city.client.get("/v1/audit", params=bad, headers=h)
        assert r.status_code == 422, (bad, r.text)
    assert city.client.get("/v1/audit").status_code == 401


def test_the_log_is_append_only(city: City, db_url: str) -> None:
    """No route writes to /v1/audit; on PostgreSQL the database itself refuses UPDATE and DELETE."""
    paths: dict[str, dict[str, Any]] = city.client.get("/openapi.json").json()["paths"]
    audit_routes = {route: set(ops) for route, ops in paths.items() if "audit" in route}
    assert audit_routes == {"/v1/audit": {"get"}}
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert city.client.request(method, "/v1/audit", headers=city.headers(None)).status_code == 405
    if not db_url.startswith("postgresql"):
        return
    for statement in ("UPDATE auditentry SET actor_label = 'x'", "DELETE FROM auditentry"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), city.engine.begin() as conn:
            conn.execute(sa.text(statement))


def test_migration_0010_goes_down_and_up_again(db_url: str) -> None:
    """Down to 0009 drops the log (and PostgreSQL's trigger and its function); up again restores both."""
    from alembic import command

    from api.migrate import config, upgrade

    engine = sa.create_engine(db_url)
    try:
        command.downgrade(config(db_url), "0009")
        with engine.connect() as conn:
            assert "auditentry" not in sa.inspect(conn).get_table_names()
        upgrade(db_url)
        with engine.connect() as conn:
            assert "auditentry" in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_the_before_value_of_an_expired_field_is_the_stored_one(city: City) -> None:
    """A field changed without being read since the last commit (expired) still records its stored value."""
    with Session(city.engine) as s:
        v = s.exec(select(Volunteer)).first()
        assert v is not None
        vid, hours, name, station = v.id, v.max_hours, v.name, v.station_id
        s.commit()  # expires v: its fields are no longer loaded
        before = _last_id(city.engine)
        v.max_hours = hours + 1
        v.name = name
        s.add(v)
        s.commit()
    new = _entries(city.engine, before)
    assert [(e.entity_id, e.changes) for e in new] == [(vid, {"max_hours": [hours, hours + 1]})]
    assert new[0].station_id == station
