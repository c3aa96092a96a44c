"""The audit log's cost: write-heavy requests with the capture on and off, in the same run.

Run ``python -m benchmarks.audit`` from the repository root (about a minute).  In a temporary
directory it seeds an SQLite database with the demo city (as ``linli seed``: 250 volunteers,
190 beneficiaries, 4 districts) and serves it with a TestClient (no job worker).  Then,
``--repeat`` times each, alternating the audit log's capture on and off (its session events
removed and added again: a switch for this measurement only, the service has none), it
measures with a station's token:

* ``csv300``: ``PUT /v1/stations/{id}/volunteers.csv`` of 300 new volunteers (each run its own
  ids, so every row is an insert: 300 volunteer entries, 300 certificate entries);
* ``patch1``: ``PATCH`` of one volunteer's ``max_hours`` (one entry);
* ``get1``: ``GET`` of that volunteer, the baseline (no write, nothing audited).

It prints the median of each with the capture on and off and their ratio, and writes
``benchmarks/results/audit-<date>.json`` (:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

import api.audit
from api.auth import create_token
from api.main import create_app
from api.models import District, Volunteer
from benchmarks.results import Table, command_line, write_result
from benchmarks.service_setup import demo_database, repeat_option, seed_city

ROWS = 300
EVENTS = (("after_flush", api.audit._after_flush), ("do_orm_execute", api.audit._bulk))


def capture(on: bool) -> None:
    """Switch the audit log's session events on or off (this benchmark's switch only)."""
    for name, fn in EVENTS:
        if on and not event.contains(OrmSession, name, fn):
            event.listen(OrmSession, name, fn)
        elif not on and event.contains(OrmSession, name, fn):
            event.remove(OrmSession, name, fn)


def _csv(district: str, run: int) -> str:
    lines = ["id,district,skills,availability,max_hours,certificates"]
    lines += [
        f"bench-{run}-{i},{district},life_care,mon-am;tue-pm,4,first_aid:2030-01-01" for i in range(ROWS)
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    repeat = repeat_option(__doc__, argv, 15)
    with demo_database() as engine:
        with Session(engine) as session:
            station = seed_city(session)[0]
            token = create_token(session, station, "bench")
            volunteer = session.exec(select(Volunteer).where(Volunteer.station_id == station)).first()
            district = session.exec(select(District)).first()
            assert volunteer is not None and district is not None
            vid, district_id = volunteer.id, district.id
        headers = {"Authorization": f"Bearer {token}"}
        runs = iter(range(10**6))
        hours = iter(range(10**6))
        with TestClient(create_app(engine, workers=False)) as client:

            def csv300() -> None:
                r = client.put(
                    f"/v1/stations/{station}/volunteers.csv",
                    content=_csv(district_id, next(runs)),
                    headers={**headers, "Content-Type": "text/csv"},
                )
                assert r.status_code == 200, r.text

            def patch1() -> None:
                body = {"max_hours": 2 + next(hours) % 5}
                r = client.patch(f"/v1/stations/{station}/volunteers/{vid}", json=body, headers=headers)
                assert r.status_code == 200, r.text

            def get1() -> None:
                assert (
                    client.get(f"/v1/stations/{station}/volunteers/{vid}", headers=headers).status_code == 200
                )

            cases: dict[str, Callable[[], None]] = {"csv300": csv300, "patch1": patch1, "get1": get1}
            times: dict[tuple[str, bool], list[float]] = {(n, on): [] for n in cases for on in (True, False)}
            for name, fn in cases.items():
                fn()  # warm
                for _ in range(repeat):
                    for on in (True, False):
                        capture(on)
                        started = time.perf_counter()
                        fn()
                        times[(name, on)].append(time.perf_counter() - started)
            capture(True)
    rows: list[list[str | float]] = []
    for name in cases:
        audited, plain = statistics.median(times[(name, True)]), statistics.median(times[(name, False)])
        rows.append([name, round(audited * 1000, 2), round(plain * 1000, 2), round(audited / plain, 2)])
    columns = ["request", "audited ms (median)", "not audited ms (median)", "ratio"]
    print(f"{'request':10} {'audited ms':>12} {'not audited ms':>16} {'ratio':>7}")
    for row in rows:
        print(f"{row[0]:10} {row[1]:12.2f} {row[2]:16.2f} {row[3]:7.2f}")
    notes = [
        f"{repeat} runs of each, the capture switched on and off alternately in the same process;",
        "csv300 writes 300 volunteer and 300 certificate entries; patch1 one entry; get1 none.",
    ]
    write_result("audit", command_line("benchmarks.audit", argv), [Table(columns, rows)], notes)


if __name__ == "__main__":
    main()
