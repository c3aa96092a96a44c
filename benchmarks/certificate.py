"""Time to make a 志愿服务证明 for a volunteer with a year of weekly sessions.

Run ``python -m benchmarks.certificate`` from the repository root (a few seconds).  In a
temporary directory it seeds an SQLite database with the demo city (as ``linli seed``: 250
volunteers, 190 beneficiaries, 4 districts), takes the first station's real week problem
(:func:`api.services.planning.build_problem`, its size is what each plan version stores), and
stores a year of it for one volunteer: 52 finished weekly plan versions, each holding that
problem and one assignment of the volunteer to a need, with 2 or 3 sessions a week (130 in
all) recorded served.  Then, ``--repeat`` times each, it measures:

* ``records``: the same records as ``GET /v1/records?volunteer_id=…&from=…&to=…&outcome=served``
  lists them (:func:`api.services.records.list_records`): the baseline of the run;
* ``gather``: :func:`api.services.certificates.issue` for the year (the sessions, their
  programmes from each week's stored plan, the star level; the first call stores the
  certificate row, the others find it again);
* ``pdf``: :func:`api.pdf.certificate_pdf` of that;
* ``certificate``: gather and PDF together, what ``GET /v1/volunteers/{id}/certificate.pdf``
  does beyond authentication.

The collector is frozen after the setup, as ``linli serve`` freezes it once started.  It
prints the median and max of each and the median as a multiple of the baseline's, and the
PDF's pages and size, and writes ``benchmarks/results/certificate-<date>.json``
(:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from api.auth import Principal
from api.db import make_engine
from api.migrate import upgrade
from api.models import PlanAssignment, PlanVersion, ServiceRecord, Station, Volunteer
from api.pdf import certificate_pdf
from api.seed import seed_demo
from api.services import certificates, planning, records
from api.services.records import RecordFilter
from api.settings import DEFAULT_STARS
from benchmarks.results import Table, command_line, write_result

YEAR_START = dt.date(2026, 1, 5)  # a Monday
WEEKS = 52
SLOTS = (("mon-am", "wed-pm", "sat-am"), ("tue-am", "fri-pm"))
"""The volunteer's sessions of even and odd weeks: 2.5 a week, 130 in the year."""


def _year_of_sessions(session: Session) -> tuple[str, int]:
    """Store the year for one volunteer of the first station; returns their id and the session count."""
    station = session.exec(select(Station).order_by(Station.id)).first()
    assert station is not None
    problem = planning.build_problem(session, station.id, YEAR_START, 10).model_dump(mode="json")
    volunteer = problem["volunteers"][0]["id"]
    need = problem["needs"][0]
    count = 0
    for week in range(WEEKS):
        start = YEAR_START + dt.timedelta(weeks=week)
        plan = PlanVersion(
            station_id=station.id,
            week_start=start,
            state="done",
            problem=problem | {"week_start": str(start)},
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        slots = list(SLOTS[week % 2])
        assignment = PlanAssignment(plan_id=plan.id, need_id=need["id"], volunteer_id=volunteer, slots=slots)
        session.add(assignment)
        session.flush()
        assert assignment.id is not None
        for day, slot in planning.sessions_of(start, slots):
            session.add(
                ServiceRecord(
                    assignment_id=assignment.id,
                    volunteer_id=volunteer,
                    served_on=day,
                    slot=slot,
                    hours=float(need["hours"]),
                )
            )
            count += 1
    session.commit()
    return volunteer, count


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm: imports, the font's metrics, SQLite's page cache
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_demo(session, 250, 190, 4, 7)
            volunteer_id, count = _year_of_sessions(session)
        # As `linli serve` does once started: the imports' long-lived objects out of the
        # collector's way (a full collection walking them would land in one of the timings).
        gc.collect()
        gc.freeze()
        end = YEAR_START + dt.timedelta(weeks=WEEKS, days=-1)
        centre = Principal(0, None)
        where = RecordFilter(volunteer_id=volunteer_id, start=YEAR_START, end=end, outcome="served")

        with Session(engine) as session:
            volunteer = session.get(Volunteer, volunteer_id)
            assert volunteer is not None
            found = records.list_records(session, centre, where).total
            assert found == count, (found, count)
            data = certificates.issue(session, volunteer, YEAR_START, end, None, DEFAULT_STARS)
            assert len(data.sessions) == count
            pdf = certificate_pdf(data)
            timings = {
                "records": _time(lambda: records.list_records(session, centre, where), args.repeat),
                "gather": _time(
                    lambda: certificates.issue(session, volunteer, YEAR_START, end, None, DEFAULT_STARS),
                    args.repeat,
                ),
                "pdf": _time(lambda: certificate_pdf(data), args.repeat),
                "certificate": _time(
                    lambda: certificate_pdf(
                        certificates.issue(session, volunteer, YEAR_START, end, None, DEFAULT_STARS)
                    ),
                    args.repeat,
                ),
            }
        engine.dispose()
    from pypdf import PdfReader  # a dev dependency: only to count the pages

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    base = statistics.median(timings["records"])
    print(f"a year ({WEEKS} weeks) of {count} sessions; PDF {pages} pages, {len(pdf) / 1024:.0f} KiB")
    print(f"{'step':<12} {'median ms':>10} {'max ms':>8} {'x records':>10}")
    rows: list[list[str | float]] = []
    for name, ts in timings.items():
        median = statistics.median(ts)
        print(f"{name:<12} {median * 1000:>10.1f} {max(ts) * 1000:>8.1f} {median / base:>10.1f}")
        rows.append([name, round(median * 1000, 1), round(max(ts) * 1000, 1), round(median / base, 1)])
    notes = [
        f"a year ({WEEKS} weekly plan versions) of {count} served sessions of one volunteer; "
        f"the PDF: {pages} pages, {len(pdf) / 1024:.0f} KiB; {args.repeat} runs of each step",
    ]
    columns = ["step", "median ms", "max ms", "x records"]
    write_result("certificate", command_line("benchmarks.certificate", argv), [Table(columns, rows)], notes)


if __name__ == "__main__":
    main()
