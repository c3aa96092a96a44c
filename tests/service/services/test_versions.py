"""The plan-version service (:mod:`api.services.versions`) without HTTP: what each function
stores, queues and refuses, and the look-ups of the coordinators' pages.

The routes over it are tested through the API (``tests/service/test_api_plans.py``,
``tests/system/test_api_scoping.py``); here each function is called directly, on a seeded
SQLite city, with a job runner that records what it was asked to run.  Jobs are run in
this process (:func:`api.jobs.run_job`), as a worker's job process would run them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import jobs as jobs_module
from api.auth import Principal, create_token
from api.db import make_engine
from api.jobs import JobRunner
from api.models import Certificate, PlanVersion, Station, Volunteer
from api.seed import seed_demo
from api.services import versions
from api.services.errors import ConflictError
from matcher.format.errors import InputError
from matcher.format.io import parse
from matcher.format.schema import ChangeSet, Plan, Problem
from matcher.format.validate import validate_plan

WEEK = dt.date(2026, 12, 7)


class RecordingJobs(JobRunner):
    """A job runner without a worker that remembers which versions were submitted."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.submitted: list[int] = []

    def submit(self, plan_id: int) -> None:
        self.submitted.append(plan_id)


class World:
    """A seeded city: its engine, a session, the recording runner and the two stations."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session = Session(engine)
        self.jobs = RecordingJobs(engine)
        stations = list(self.session.exec(select(Station).order_by(col(Station.id))))
        self.station, self.other = stations[0], stations[1]

    def run(self, version: PlanVersion) -> PlanVersion:
        """Run the version's queued job here; returns the row as the job left it."""
        assert version.id is not None
        with self.engine.begin() as conn:
            conn.execute(
                update(PlanVersion)
                .where(col(PlanVersion.id) == version.id)
                .values(state="solving", claimed_by="test", attempts=1)
            )
        jobs_module.run_job(self.engine, version.id, "test", 1)
        self.session.expire_all()
        done = self.session.get(PlanVersion, version.id)
        assert done is not None
        return done

    def done_week(self) -> PlanVersion:
        """The station's week generated and solved."""
        version = self.run(versions.generate(self.session, self.jobs, self.station, WEEK))
        assert version.state == "done", version.error
        return version


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A seeded two-station city on SQLite with short solves."""
    from api_support import database_url

    from api.settings import get_settings

    monkeypatch.setenv("LINLI_SOLVE_TIME_LIMIT", "2")
    monkeypatch.setenv("LINLI_MAX_TIME_LIMIT", "60")
    get_settings.cache_clear()
    for url in database_url("sqlite", tmp_path):
        engine = make_engine(url)
        with Session(engine) as session:
            seed_demo(session, 24, 18, 2, seed=3)
        w = World(engine)
        try:
            yield w
        finally:
            w.session.close()
            engine.dispose()
    get_settings.cache_clear()


def _versions(w: World) -> list[PlanVersion]:
    w.session.expire_all()
    return list(w.session.exec(select(PlanVersion).order_by(col(PlanVersion.id))))


# ------------------------------------------------------------------------ generate, current


def test_generate_stores_a_queued_version_and_submits_it(world: World) -> None:
    """Each generation of a week is its next version, queued and submitted; the newest is current."""
    w = world
    first = versions.generate(w.session, w.jobs, w.station, WEEK)
    second = versions.generate(w.session, w.jobs, w.station, WEEK)
    assert (first.version, second.version) == (1, 2)
    assert (first.state, first.station_id, first.week_start) == ("queued", w.station.id, WEEK)
    assert w.jobs.submitted == [first.id, second.id]
    problem = parse(Problem, first.problem, "problem")  # stored as a valid format-1 problem
    assert problem.week_start == WEEK and problem.time_limit_s == 2
    assert versions.current_version(w.session, w.station.id, WEEK) == second
    assert not versions.is_current(w.session, first) and versions.is_current(w.session, second)
    assert versions.current_version(w.session, w.other.id, WEEK) is None
    public = versions.describe(w.session, first)
    assert (public.id, public.current, public.version, public.plan) == (first.id, False, 1, None)


def test_generate_of_data_that_make_no_valid_problem_stores_nothing(world: World) -> None:
    """Stored data out of the format's bounds: InputError naming the field, nothing queued."""
    w = world
    volunteer = w.session.exec(select(Volunteer).where(Volunteer.station_id == w.station.id)).first()
    assert volunteer is not None
    volunteer.minor = False  # scheduled whatever the consent
    w.session.add(volunteer)
    w.session.add(Certificate(volunteer_id=volunteer.id, kind="first_aid", expires=dt.date(1, 1, 1)))
    w.session.commit()
    with pytest.raises(InputError, match=r"^volunteers\[\d+\]\.certifications\[\d+\]\.expires: "):
        versions.generate(w.session, w.jobs, w.station, WEEK)
    assert _versions(w) == [] and w.jobs.submitted == []


def test_list_and_week_versions(world: World) -> None:
    """station_versions: newest first, one current per week; week_versions: the finished one
    shown and a newer one still running; neither sees another station's versions."""
    w = world
    done = w.done_week()
    running = versions.generate(w.session, w.jobs, w.station, WEEK)
    other_week = versions.generate(w.session, w.jobs, w.station, WEEK + dt.timedelta(days=7))
    listed = versions.station_versions(w.session, w.station)
    assert [(p.id, p.current) for p in listed] == [
        (other_week.id, True),
        (running.id, True),
        (done.id, False),
    ]
    assert all(p.plan is None for p in listed)
    assert [p.id for p in versions.station_versions(w.session, w.station, WEEK)] == [running.id, done.id]
    assert versions.station_versions(w.session, w.other) == []
    assert versions.week_versions(w.session, w.station, WEEK) == (done, running)
    assert versions.week_versions(w.session, w.other, WEEK) == (None, None)
    versions.cancel(w.session, w.jobs, running)
    assert versions.week_versions(w.session, w.station, WEEK) == (done, None)


# ------------------------------------------------------------------------ change sets


def test_a_change_set_is_applied_once_and_its_job_re_solves_the_stored_changed_problem(world: World) -> None:
    """The next version stores the changed problem, the change set and the carried plan (not the
    problem before the changes); its job re-solves that problem and reports ``changed`` against
    the parent's plan."""
    w = world
    parent = w.done_week()
    assert parent.plan is not None
    need = parent.plan["assignments"][0]["need"]
    changes = ChangeSet.model_validate({"format": 1, "needs_cancelled": [need]})
    new = versions.apply_change_set(w.session, w.jobs, parent, changes)
    assert (new.version, new.parent_id, new.successor_of, new.state) == (2, parent.id, parent.id, "queued")
    assert w.jobs.submitted[-1] == new.id
    assert need not in {n["id"] for n in new.problem["needs"]}
    assert len(new.problem["needs"]) == len(parent.problem["needs"]) - 1
    assert new.changes == changes.model_dump(mode="json", exclude_none=True)
    assert new.base is not None and set(new.base) == {"plan"}
    assert versions.current_version(w.session, w.station.id, WEEK) == new
    solved = w.run(new)
    assert solved.state == "done", solved.error
    assert solved.plan is not None
    problem, plan = parse(Problem, solved.problem, "problem"), parse(Plan, solved.plan, "plan")
    assert validate_plan(problem, plan) == []
    assert need not in {a.need for a in plan.assignments} | {u.need for u in plan.unmet}
    diff = versions.diff(solved, parent)
    assert need in {e.need for e in diff.changed}
    assert next(e for e in diff.changed if e.need == need).after is None
    # ``changed`` is against the parent's plan: exactly the needs the diff lists, the cancelled one aside.
    assert plan.changed == [e.need for e in diff.changed if e.need != need]


def test_a_change_set_is_refused_before_anything_is_stored(world: World) -> None:
    """Not done, superseded, an unknown id or an added volunteer: nothing stored or queued."""
    w = world
    queued = versions.generate(w.session, w.jobs, w.station, WEEK)
    empty = ChangeSet.model_validate({"format": 1})
    with pytest.raises(ConflictError, match=rf"^plan {queued.id} is queued, not done$"):
        versions.apply_change_set(w.session, w.jobs, queued, empty)
    versions.cancel(w.session, w.jobs, queued)
    parent = w.done_week()
    before = (len(_versions(w)), list(w.jobs.submitted))
    unknown = ChangeSet.model_validate({"format": 1, "needs_cancelled": ["no-such-need"]})
    with pytest.raises(InputError, match=r"^needs_cancelled\[0\]"):
        versions.apply_change_set(w.session, w.jobs, parent, unknown)
    added = ChangeSet.model_validate(
        {
            "format": 1,
            "volunteers_added": [
                {
                    "id": "v-new",
                    "district": w.station.district,
                    "skills": ["life_care"],
                    "availability": ["mon-am"],
                    "max_hours": 4,
                    "max_beneficiaries": 2,
                }
            ],
        }
    )
    with pytest.raises(InputError, match=r"^volunteers_added\[0\]: a station's plan uses its registered"):
        versions.apply_change_set(w.session, w.jobs, parent, added)
    assert (len(_versions(w)), w.jobs.submitted) == before
    newer = versions.apply_change_set(w.session, w.jobs, parent, empty)
    with pytest.raises(ConflictError, match=rf"superseded by version {newer.version} \(plan {newer.id}\)"):
        versions.apply_change_set(w.session, w.jobs, parent, empty)


def test_an_integrator_s_plan_in_force_is_checked_in_the_request(world: World) -> None:
    """An integrator's job: queued from its body; a change set applies to its own problem, and a
    stored plan that is not valid for that problem is refused (422) before anything is queued,
    since the job only sees the changed problem."""
    from helpers import make_problem

    w = world
    with Session(w.engine) as session:
        create_token(session, None, "integrator")
    principal = Principal(token_id=1, station_id=None)
    doc = make_problem()
    doc["time_limit_s"] = 61
    with pytest.raises(InputError, match=r"^time_limit_s: 61 s exceeds the service's maximum of 60 s$"):
        versions.queue_problem(w.session, w.jobs, json.dumps(doc).encode(), principal)
    doc["time_limit_s"] = 2
    job = versions.queue_problem(w.session, w.jobs, json.dumps(doc).encode(), principal)
    assert (job.station_id, job.token_id, job.version, w.jobs.submitted) == (None, 1, 1, [job.id])
    done = w.run(job)
    assert done.state == "done" and done.plan is not None, done.error
    first = done.plan["assignments"][0]
    empty = ChangeSet.model_validate({"format": 1})
    next_one = versions.apply_change_set(w.session, w.jobs, done, empty)
    assert (next_one.version, next_one.base, next_one.problem) == (2, None, done.problem)
    assert w.run(next_one).state == "done"
    done.plan = {**done.plan, "assignments": [{**first, "slots": ["sun-eve"] * len(first["slots"])}]}
    w.session.add(done)
    w.session.commit()
    count = len(_versions(w))
    with pytest.raises(InputError, match=r"^plan: not valid for the problem: assignments\[0\]"):
        versions.apply_change_set(w.session, w.jobs, done, empty)
    assert len(_versions(w)) == count


# ------------------------------------------------------------------------ cancel, diff, export


def test_cancel_only_a_running_job(world: World) -> None:
    """A queued job is cancelled (the row says so); a cancelled or finished one is a conflict."""
    w = world
    queued = versions.generate(w.session, w.jobs, w.station, WEEK)
    cancelled = versions.cancel(w.session, w.jobs, queued)
    assert cancelled.state == "cancelled" and cancelled.error == "cancelled before it started"
    with pytest.raises(ConflictError, match=rf"^plan {queued.id} is cancelled: nothing to cancel$"):
        versions.cancel(w.session, w.jobs, cancelled)
    done = w.done_week()
    with pytest.raises(ConflictError, match="is done: nothing to cancel"):
        versions.cancel(w.session, w.jobs, done)


def test_diff_and_table_need_finished_plans(world: World) -> None:
    """A version compared with itself differs nowhere; its table has a row per need; a version
    without a plan is a conflict for both."""
    w = world
    done = w.done_week()
    assert done.plan is not None
    assert versions.diff(done, done).changed == []
    table = versions.plan_table(w.session, done)
    assert table.header == versions.PLAN_HEADER
    assert len(table.rows) == len(done.problem["needs"])
    assert table.name == f"plan-{w.station.id}-{WEEK}-v1"
    assigned = done.plan["assignments"][0]
    row = next(r for r in table.rows if r[0] == assigned["need"])
    assert (row[5], row[6], row[7]) == (assigned["volunteer"], ";".join(assigned["slots"]), "")
    queued = versions.generate(w.session, w.jobs, w.station, WEEK)
    with pytest.raises(ConflictError, match=rf"^plan {queued.id} is queued, not done$"):
        versions.diff(done, queued)
    with pytest.raises(ConflictError, match=rf"^plan {queued.id} is queued, not done$"):
        versions.plan_table(w.session, queued)


# ------------------------------------------------------------------------ the pages' look-ups


def test_names_and_stations_stay_in_scope(world: World) -> None:
    """people_names lists the station's own people only; a station sees only its own station."""
    w = world
    names = versions.people_names(w.session, w.station)
    own = set(w.session.exec(select(Volunteer.id).where(Volunteer.station_id == w.station.id)))
    assert set(names.volunteers) == own and own
    assert not set(names.volunteers) & set(versions.people_names(w.session, w.other).volunteers)
    assert not set(names.beneficiaries) & set(versions.people_names(w.session, w.other).beneficiaries)
    assert w.station.district in names.districts and w.other.district in names.districts
    assert all(name for name in names.volunteers.values())  # an empty name falls back to the id
    centre = Principal(token_id=1, station_id=None)
    assert [s.id for s in versions.visible_stations(w.session, centre)] == [w.station.id, w.other.id]
    station = Principal(token_id=2, station_id=w.other.id)
    assert [s.id for s in versions.visible_stations(w.session, station)] == [w.other.id]
