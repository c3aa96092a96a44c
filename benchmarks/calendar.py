"""Time to build a volunteer's calendar feed (``GET /cal/<secret>.ics``), which is built at each request.

Run ``python -m benchmarks.calendar`` from the repository root (a few seconds).  In a temporary
directory it seeds an SQLite database with the demo city (as ``linli seed``: 250 volunteers, 190
beneficiaries, 4 districts), takes the first station's real week problem
(:func:`api.services.planning.build_problem`: its size is what each plan version stores), and stores
every week the feed shows (4 weeks back to 8 ahead, 13 weeks) twice: a published version and a newer
draft, each holding that problem and one assignment per volunteer of the problem, the measured
volunteer's with 3 sessions a week (39 in the feed).  Then, ``--repeat`` times each, it measures:

* ``volunteer``: reading the volunteer as ``GET /v1/stations/{id}/volunteers/{vid}`` does
  (:func:`api.crud.volunteers.read_volunteers`): the baseline of the run;
* ``sessions``: :func:`api.services.calendars.volunteer_sessions` (the published versions, the
  volunteer's assignments, the needs of their problems, the beneficiaries);
* ``render``: :func:`api.services.calendars.render`, the iCalendar document of those sessions;
* ``feed``: :func:`api.services.calendars.feed_ics`, the link's digest looked up and both, what
  the feed route does beyond the ETag.

The collector is frozen after the setup, as ``linli serve`` freezes it once started.  It prints the
median and max of each and the median as a multiple of the baseline's, and the document's size,
and writes ``benchmarks/results/calendar-<date>.json`` (:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from api.crud.volunteers import read_volunteers
from api.models import PlanAssignment, PlanVersion, Station, Volunteer
from api.services import calendars, planning
from benchmarks import service_setup as bench
from benchmarks.results import Table, command_line, write_result

TODAY = dt.date(2026, 12, 9)
SLOTS = ["mon-am", "wed-pm", "sat-am"]
"""The measured volunteer's sessions each week."""
PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _weeks(session: Session) -> tuple[str, str, int]:
    """Store the feed's weeks for the first station; returns its id, the volunteer's and the sessions."""
    station = session.exec(select(Station).order_by(col(Station.id))).first()
    assert station is not None
    first, last = calendars.window(TODAY)
    problem = planning.build_problem(session, station.id, first, 10).model_dump(mode="json")
    volunteers = [v["id"] for v in problem["volunteers"]]
    needs = problem["needs"]
    measured = volunteers[0]
    week, count = first, 0
    while week <= last:
        for number, published in ((1, PUBLISHED), (2, None)):  # the published version and a newer draft
            plan = PlanVersion(
                station_id=station.id,
                week_start=week,
                version=number,
                state="done",
                problem=problem | {"week_start": str(week)},
                published_at=published,
            )
            session.add(plan)
            session.flush()
            assert plan.id is not None
            for i, volunteer in enumerate(volunteers):
                slots = SLOTS if volunteer == measured else [needs[i % len(needs)]["windows"][0]]
                need = needs[i % len(needs)]["id"]
                session.add(
                    PlanAssignment(plan_id=plan.id, need_id=need, volunteer_id=volunteer, slots=slots)
                )
        count += len(SLOTS)
        week += dt.timedelta(weeks=1)
    session.commit()
    return station.id, measured, count


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    repeat = bench.repeat_option(__doc__, argv, 30)
    with bench.demo_database() as engine:
        with Session(engine) as session:
            bench.seed_city(session)
            station_id, volunteer_id, count = _weeks(session)
            volunteer = session.get(Volunteer, volunteer_id)
            assert volunteer is not None
            _feed, secret = calendars.issue_link(session, volunteer)
        bench.freeze_collector()
        original = calendars.local_today
        calendars.local_today = lambda: TODAY  # the window of the stored weeks, whatever today is
        try:
            with Session(engine) as session:
                volunteer = session.get(Volunteer, volunteer_id)
                station = session.get(Station, station_id)
                assert volunteer is not None and station is not None
                weeks = len(calendars.published_versions(session, station_id, *calendars.window(TODAY)))
                sessions = calendars.volunteer_sessions(session, volunteer, TODAY)
                assert len(sessions) == count, (len(sessions), count)
                where = calendars.station_label(session, station)
                document = calendars.render(volunteer, station, where, sessions)
                feed = calendars.feed_ics(session, secret)
                assert feed == document
                timings = {
                    "volunteer": bench.time_calls(
                        lambda: read_volunteers(session, station_id, volunteer_id), repeat
                    ),
                    "sessions": bench.time_calls(
                        lambda: calendars.volunteer_sessions(session, volunteer, TODAY), repeat
                    ),
                    "render": bench.time_calls(
                        lambda: calendars.render(volunteer, station, where, sessions), repeat
                    ),
                    "feed": bench.time_calls(lambda: calendars.feed_ics(session, secret), repeat),
                }
        finally:
            calendars.local_today = original
    size = f"{len(document) / 1024:.1f} KiB"
    print(f"{count} sessions in {weeks} published weeks (and as many newer drafts); .ics {size}")
    columns, rows = bench.step_table(timings, "volunteer", width=10, digits=2)
    notes = [
        f"{count} sessions of one volunteer in {weeks} published weekly versions (each with a newer draft), "
        f"each version holding the station's whole week problem; the .ics: {size}; "
        f"{repeat} runs of each step",
    ]
    write_result("calendar", command_line("benchmarks.calendar", argv), [Table(columns, rows)], notes)


if __name__ == "__main__":
    main()
