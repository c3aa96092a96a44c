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
import sqlalchemy as sa
from api_support import City
from helpers import load_example_doc
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.audit import AUDITED, LOGGED_KEY
from api.models import AuditEntry, District, PlanAssignment, Token, Volunteer

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
    return w.send("POST", "/v1/records", json=body), w.station, "servicerecord", "create"


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


WALK: dict[tuple[str, str], Step] = {
    ("post", "/v1/stations/{station_id}/volunteers"): _post_volunteer,
    ("patch", "/v1/stations/{station_id}/volunteers/{volunteer_id}"): _patch_volunteer,
    ("delete", "/v1/stations/{station_id}/volunteers/{volunteer_id}"): _delete_volunteer,
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
    ("post", "/v1/stations/{station_id}/plans"): _generate,
    ("post", "/v1/plans/{plan_id}/changes"): _changes,
    ("post", "/v1/plans/{plan_id}/revert"): _revert,
    ("post", "/v1/records"): _record,
    ("delete", "/v1/plans/{plan_id}"): _cancel_plan,
    ("post", "/v1/stations/{station_id}/simulations"): _simulate,
    ("delete", "/v1/simulations/{simulation_id}"): _cancel_simulation,
    ("post", "/v1/solve"): _solve,
    ("post", "/v1/tokens"): _post_token,
    ("delete", "/v1/tokens/{token_id}"): _delete_token,
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
    # Entries carry the record's station: the walk's people are the walk's station's.
    people = [e for e in _entries(city.engine) if e.entity in ("volunteer", "beneficiary", "need")]
    assert people and all(e.station_id == w.station for e in people if e.actor_kind == "api")
