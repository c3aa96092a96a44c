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

import datetime as dt
import io

from sqlmodel import Session, select

from api.auth import Principal
from api.models import PlanAssignment, PlanVersion, ServiceRecord, Station, Volunteer
from api.pdf import certificate_pdf
from api.services import certificates, planning, records
from api.services.records import RecordFilter
from api.settings import DEFAULT_STARS
from benchmarks import service_setup as bench
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


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    repeat = bench.repeat_option(__doc__, argv, 15)
    with bench.demo_database() as engine:
        with Session(engine) as session:
            bench.seed_city(session)
            volunteer_id, count = _year_of_sessions(session)
        bench.freeze_collector()
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
                "records": bench.time_calls(lambda: records.list_records(session, centre, where), repeat),
                "gather": bench.time_calls(
                    lambda: certificates.issue(session, volunteer, YEAR_START, end, None, DEFAULT_STARS),
                    repeat,
                ),
                "pdf": bench.time_calls(lambda: certificate_pdf(data), repeat),
                "certificate": bench.time_calls(
                    lambda: certificate_pdf(
                        certificates.issue(session, volunteer, YEAR_START, end, None, DEFAULT_STARS)
                    ),
                    repeat,
                ),
            }
    from pypdf import PdfReader  # a dev dependency: only to count the pages

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"a year ({WEEKS} weeks) of {count} sessions; PDF {pages} pages, {len(pdf) / 1024:.0f} KiB")
    columns, rows = bench.step_table(timings, "records", width=12, digits=1)
    notes = [
        f"a year ({WEEKS} weekly plan versions) of {count} served sessions of one volunteer; "
        f"the PDF: {pages} pages, {len(pdf) / 1024:.0f} KiB; {repeat} runs of each step",
    ]
    write_result("certificate", command_line("benchmarks.certificate", argv), [Table(columns, rows)], notes)


if __name__ == "__main__":
    main()
