"""Solve jobs, claimed from the database: any number of service and worker processes share them.

A job is a row in state ``queued`` of one of the job tables (:data:`KINDS`): a
:class:`~api.models.PlanVersion` (a week's plan, a re-solve, an integrator's solve) or a
:class:`~api.models.Simulation` (情景模拟: a scenario's Monte Carlo runs on a station's week,
run by :mod:`api.simulation_job`).  Both carry the queue's columns
(:class:`~api.models.QueuedJob`); one worker claims and runs both kinds.  Worker loops
(:class:`Worker`: one in each ``linli serve`` process unless ``LINLI_WORKERS=0``, and the
``linli worker`` command) claim rows with a conditional ``UPDATE … WHERE state='queued'``
(whose row count says who won, on SQLite and PostgreSQL alike), run each in its own
process and keep a lease on it while it runs.  Jobs carry ids, not documents: the job
process reads the stored problem (for a re-solve, the changed problem and the plan in
force) and writes the outcome itself, only while its claim holds.

* A worker that dies (crash, ``kill -9``, restart) stops renewing its leases; another
  worker, or the same one restarted, claims the job again once the lease ran out (at
  once when the dead worker was on this host) and re-runs it from its stored inputs,
  up to ``LINLI_JOB_ATTEMPTS`` runs in all.  A failed or cancelled job only ever writes
  its own version row, so the version a re-solve started from stays as it was.
* ``DELETE`` of a queued job marks it cancelled in one conditional ``UPDATE``; of a
  running one, it sets ``cancel_requested``, which the owning worker (in whichever
  process) reads every quarter second and answers by killing the job's process.
* A job process dies with its worker, even one killed with ``kill -9``: it asks the
  kernel for ``SIGKILL`` when its parent (the fork server, which itself exits when the
  worker's process does) ends, and arranges the same for every process it forks (the
  engine's helpers).
* Fairness: a worker prefers the oldest job (of either kind) of an owner (a station; for
  ``/v1/solve``, the token) with nothing running, and keeps one of its slots for station
  plans, whose time limit is the service's own (``LINLI_SOLVE_TIME_LIMIT``): a station's
  weekly plan never waits behind an integrator's long job or a simulation.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import importlib
import logging
import math
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from api.audit import Actor, current_actor
from api.db import SQLITE_BUSY_MS, make_engine, write_transaction
from api.models import PlanVersion, QueuedJob, Simulation, utcnow
from api.services.planning import store_plan
from matcher.format.schema import AnyPlan
from matcher.progress import Progress, ProgressCallback

if TYPE_CHECKING:  # api.delivery imports this module (its claim helpers)
    from api.delivery import Dispatcher

log = logging.getLogger("linli.jobs")

TICK_S = 0.25
"""How often a worker with running jobs reads their cancel flags (and claims)."""

POLL_S = 0.5
"""How often an idle worker looks for jobs queued by other processes."""

CANCEL_WAIT_S = 5.0
"""How long ``DELETE`` of a running job waits for its worker to stop it."""

ACTIVE = ("queued", "solving")

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


# ------------------------------------------------------------------ the job process


def run_task(
    problem: dict[str, Any],
    plan: dict[str, Any] | None = None,
    parent: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> AnyPlan:
    """Compute a plan: a solve of ``problem``, or with ``plan``, a re-solve (either format: a
    format-2 week, a station's with group posts, is solved by :func:`matcher.solve.solve_any` and
    re-solved by :func:`matcher.resolve_posts.resolve_posts`).

    For a re-solve ``problem`` is the changed problem (the change set was applied, once,
    when the version was made: see :func:`api.services.versions.apply_change_set`) and
    ``plan`` the plan in force, already checked against the problem before the changes.
    A station's re-solve runs on the station's data when the change set came: ``plan`` is
    then the part of its ``parent`` version's plan that still holds there, and
    ``changed`` is reported against ``parent`` itself.  ``on_progress`` is the engine's
    (:mod:`matcher.progress`), called in this process.
    """
    from api.services.planning import changed_needs, changed_needs2
    from matcher.format.io import parse
    from matcher.format.schema import ChangeSet, Plan, Plan2, Problem, Problem2
    from matcher.resolve import resolve_changed
    from matcher.resolve_posts import resolve_posts
    from matcher.solve import solve, solve_any

    # Stored documents are parsed like input (a row stored before a bound was added fails
    # the job naming its field); each is parsed once here.
    if problem.get("format") == 2:
        # A station's week with group posts (format 2): the engine routes it (posts model).
        parsed2 = parse(Problem2, problem, "problem")
        if plan is None:
            return solve_any(parsed2, on_progress=on_progress).plan
        # The change set is applied in the stored problem already: re-solved with none, the
        # plan in force keeps what still holds there and the rest is released and re-staffed.
        result2 = resolve_posts(
            parsed2, parse(Plan2, plan, "plan"), ChangeSet(format=1), parsed2.time_limit_s, on_progress
        )
        if parent is not None:
            before2 = (
                parse(Plan2, parent, "parent") if parent.get("format") == 2 else parse(Plan, parent, "parent")
            )
            result2 = result2.model_copy(update={"changed": changed_needs2(parsed2, before2, result2)})
        return result2
    parsed = parse(Problem, problem, "problem")
    if plan is None:
        result = solve(parsed, on_progress=on_progress).plan
    else:
        outcome = resolve_changed(parsed, parse(Plan, plan, "plan"), on_progress=on_progress)
        result = outcome.plan
        if parent is not None:
            before = parse(Plan, parent, "parent")
            result = result.model_copy(update={"changed": changed_needs(outcome.problem, before, result)})
    # Returned as the object, not JSON: the outcome is stored from it (one dump, no re-validation).
    return result


def _prctl() -> Any:
    """libc's ``prctl``, or None where there is none (not Linux)."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    except OSError:  # pragma: no cover - every platform CI runs on has a libc
        return None


def die_with_parent(name: str | None = None) -> None:
    """Have the kernel kill this process (``SIGKILL``) when its parent ends, and every
    process it forks when that one's parent ends; ``name`` (15 bytes kept) is shown by ``ps``.

    Python's cleanup does not run on ``kill -9``, so without this a job process, and the
    helpers the engine forks (``matcher.search.portfolio``), would run
    on to their time limit.  Linux only; elsewhere nothing happens.
    """
    prctl = _prctl()
    if prctl is None:  # pragma: no cover - not Linux
        return
    if name is not None:
        prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    parent = os.getppid()
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent ended before the request took hold
        os._exit(1)

    def arm_child() -> None:
        # The death signal is cleared on fork: each helper asks for its own.
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    os.register_at_fork(after_in_child=arm_child)


def forget_fork_server() -> None:
    """Close this job process's copy of the fork server's keep-alive pipe.

    The fork server exits when that pipe reaches EOF, i.e. when every process holding
    its write end has ended; Python hands a copy to each process it forks (so that it
    may start processes of its own), which kept the fork server, and with it every
    job, alive after a ``kill -9`` of the worker.  Without the copies, only the worker
    holds the pipe.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if server is not None and fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None


def die_with(pid: int) -> None:
    """SIGKILL this process as soon as process ``pid`` (its worker's) ends.

    The fork server, this process's parent, exits too once the worker is gone, but only
    after its interpreter's shutdown (half a second with the engine loaded): watching
    the worker itself ends the job at once.  Linux 5.3+; elsewhere the death signal of
    :func:`die_with_parent` is left.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:  # gone already
        os._exit(1)
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or an old kernel
        return

    def watch() -> None:
        mp.connection.wait([fd])  # readable once the process ended
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="linli-worker-watch", daemon=True).start()


def job_name(plan_id: int, kind: str = "plan") -> str:
    """The process name (``/proc/PID/comm``) of a job's process and its helpers."""
    return (f"linli-job-{plan_id}" if kind == "plan" else f"linli-sim-{plan_id}")[:15]


Inputs = tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]
"""A job's inputs, as :func:`run_task` takes them: problem, plan in force, parent plan."""


def _inputs(engine: Engine, plan_id: int) -> Inputs:
    """A job's stored inputs: the version's problem (for a re-solve, the changed problem);
    for a re-solve, the plan in force (a station's: what still held of the parent's plan
    for its data when the change set came; an integrator's: the parent's own) and, for a
    station's, the parent's plan."""
    with Session(engine) as session:
        version = session.get(PlanVersion, plan_id)
        if version is None:
            raise LookupError(f"plan version {plan_id} is gone")
        if version.changes is None or version.parent_id is None:
            return version.problem, None, None
        parent = session.get(PlanVersion, version.parent_id)
        if parent is None or parent.plan is None:
            raise LookupError(f"the version {plan_id} started from has no plan")
        if version.base is not None:
            return version.problem, version.base["plan"], parent.plan
        return version.problem, parent.plan, None


def _close(
    session: Session, version: PlanVersion, state: str, plan: AnyPlan | None, error: str | None
) -> None:
    """Write a job's outcome on its row (the caller commits); a finished station plan that is now its
    week's current version is published in the same transaction if the week was
    (:func:`api.services.publication.on_new_current`)."""
    version.state = state
    version.error = error
    version.finished_at = utcnow()
    version.lease_until = None
    if plan is not None:
        store_plan(session, version, plan)
    else:
        version.successor_of = None  # the version it came from is open again
    session.add(version)
    if state == "done":
        from api.services import publication  # imported here: it imports the plan services, which import this

        publication.on_new_current(session, version)


def _close_simulation(
    session: Session, simulation: Simulation, state: str, report: dict[str, Any] | None, error: str | None
) -> None:
    """Write a simulation's outcome on its row (the caller commits)."""
    simulation.state = state
    simulation.error = error
    simulation.finished_at = utcnow()
    simulation.lease_until = None
    if report is not None:
        simulation.report = report
    session.add(simulation)


@dataclass(frozen=True)
class JobKind:
    """A kind of job the queue runs: its table, what its process runs, how its row is closed."""

    name: str
    table: type[QueuedJob]
    target: str
    """``module:function`` the job process calls with (engine, id, claim, attempt); imported there
    (so this module need not import the kinds' code)."""
    close: Callable[[Session, Any, str, Any, str | None], None]
    """Writes a final state, the outcome (or None) and the error on a row (the caller commits)."""
    cancelled_before_start: dict[str, Any]
    """Columns a queued job cancelled before it started gets besides its state."""

    def background(self, station_id: str | None) -> bool:
        """Whether a job of this kind may not take the slot kept for station plans: an integrator's
        solve (its own time limit) or a simulation (many solves)."""
        return self.name != "plan" or station_id is None

    def column(self, name: str) -> Any:
        """One of the table's columns, for queries that serve every kind."""
        return col(getattr(self.table, name))


PLAN, SIMULATION = "plan", "simulation"
KINDS: dict[str, JobKind] = {
    PLAN: JobKind(
        PLAN,
        PlanVersion,
        "api.jobs:run_job",
        _close,
        {"error": "cancelled before it started", "successor_of": None},
    ),
    SIMULATION: JobKind(
        SIMULATION,
        Simulation,
        "api.simulation_job:run_job",
        _close_simulation,
        {"error": "cancelled before it started"},
    ),
}
"""The job kinds, in the order a tie between equally old jobs is broken."""

CANCELLED_WHILE_RUNNING = "cancelled while solving"


def _claimed(session: Session, kind: JobKind, job_id: int, claim: str, attempt: int) -> Any:
    """The job's row, locked, if this claim (worker and attempt) still runs it; else None."""
    table: Any = kind.table
    return session.exec(
        select(table)
        .where(
            kind.column("id") == job_id,
            kind.column("claimed_by") == claim,
            kind.column("attempts") == attempt,
            kind.column("state") == "solving",
        )
        .with_for_update()
    ).first()


def record(
    engine: Engine,
    kind: JobKind,
    job_id: int,
    claim: str,
    attempt: int,
    state: str,
    outcome: Any = None,
    error: str | None = None,
) -> bool:
    """Write an outcome if the claim (worker and attempt) still holds; a requested cancel wins.

    Returns False when the job is no longer this claim's: its worker lost the lease, or
    it was already settled.
    """
    with Session(engine) as session:
        write_transaction(session)
        row = _claimed(session, kind, job_id, claim, attempt)
        if row is None:
            return False
        if row.cancel_requested:
            state, outcome, error = "cancelled", None, CANCELLED_WHILE_RUNNING
        kind.close(session, row, state, outcome, error)
        session.commit()
        return True


def _record(
    engine: Engine,
    plan_id: int,
    claim: str,
    attempt: int,
    state: str,
    plan: AnyPlan | None = None,
    error: str | None = None,
) -> bool:
    """:func:`record` for a plan job."""
    return record(engine, KINDS[PLAN], plan_id, claim, attempt, state, plan, error)


PROGRESS_EVERY_S = 1.0
"""Least time between two progress writes of a job (the first report and the last are written
at once): a page polling every second or two sees it move, the database gets one small
write a second per running job."""

PROGRESS_BUSY_MS = 1000
"""How long a progress write waits for SQLite's write lock before it is skipped: the solve
must not stall behind the database for a figure the next report renews."""


def progress_fields(report: Progress) -> dict[str, Any]:
    """A progress report as stored on the row (:class:`api.models.JobProgress`: shares of
    demand, for clients that do not know the problem's priority weights)."""
    bound, gap = report.bound_share, report.gap
    return {
        "elapsed_s": round(report.elapsed_s, 3),
        "stage": report.stage,
        "coverage": report.coverage_share,
        "bound": bound,
        "gap": gap,
        "proved": report.proved,
    }


class ProgressStore:
    """The job process's ``on_progress``: writes the engine's reports on the job's row.

    At most one write every ``every_s`` seconds (the first report and the last, ``done``,
    always), and only while this claim holds (the same condition as the outcome's write, so
    a job claimed again elsewhere is not overwritten by a stale run).  A write that fails
    (the database busy or gone) is logged and skipped, never raised into the solve.
    """

    def __init__(
        self, engine: Engine, plan_id: int, claim: str, attempt: int, every_s: float = PROGRESS_EVERY_S
    ) -> None:
        self.engine, self.plan_id, self.claim, self.attempt = engine, plan_id, claim, attempt
        self.every_s = every_s
        self.written = 0
        self._last = -math.inf

    def __call__(self, report: Progress) -> None:
        now = time.monotonic()
        if self.written and report.stage != "done" and now - self._last < self.every_s:
            return
        self._last = now
        if write_progress(
            self.engine, KINDS[PLAN], self.plan_id, self.claim, self.attempt, progress_fields(report)
        ):
            self.written += 1


def write_progress(
    engine: Engine, kind: JobKind, job_id: int, claim: str, attempt: int, progress: dict[str, Any]
) -> bool:
    """Store a running job's progress on its row, only while this claim holds (the same condition
    as the outcome's write, so a job claimed again elsewhere is not overwritten by a stale run).

    A write that fails (the database busy or gone) is logged and skipped (False), never raised
    into the job: the next report renews the figure.
    """
    query = (
        update(kind.table)
        .where(
            kind.column("id") == job_id,
            kind.column("claimed_by") == claim,
            kind.column("attempts") == attempt,
            kind.column("state") == "solving",
        )
        .values(progress=progress)
    )
    try:
        with engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {PROGRESS_BUSY_MS}")
            try:
                conn.execute(query)
            finally:
                if sqlite:  # the outcome's write, on a pooled connection, waits as long as ever
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
    except SQLAlchemyError as exc:
        log.warning("%s %s: progress not stored (%s)", kind.name, job_id, type(exc).__name__)
        return False
    return True


def run_job(engine: Engine, plan_id: int, claim: str, attempt: int) -> None:
    """Run a claimed job here: read its inputs by its id, compute (storing its progress on the
    row as it goes), write the outcome if the claim holds."""
    try:
        plan = run_task(*_inputs(engine, plan_id), on_progress=ProgressStore(engine, plan_id, claim, attempt))
    except Exception as exc:  # reported to the client as the job's error
        _record(engine, plan_id, claim, attempt, "failed", error=f"{type(exc).__name__}: {exc}")
    else:
        _record(engine, plan_id, claim, attempt, "done", plan=plan)


def job_main(url: str, plan_id: int, claim: str, attempt: int, worker_pid: int, kind: str = PLAN) -> None:
    """A job process: its kind's target (:func:`run_job` for a plan; runs forked from the fork server)."""
    forget_fork_server()
    die_with_parent(job_name(plan_id, kind))
    die_with(worker_pid)
    module, _, function = KINDS[kind].target.partition(":")
    target: Callable[[Engine, int, str, int], None] = getattr(importlib.import_module(module), function)
    engine = make_engine(url)
    current_actor.set(Actor("job", None, job_name(plan_id, kind)))  # the outcome's writes, in the audit log
    try:
        target(engine, plan_id, claim, attempt)
    finally:
        engine.dispose()


PRELOAD = ["api.jobs", "matcher.solve", "matcher.resolve"]
"""Modules the fork server imports once, so a job starts in milliseconds, not seconds.  (Not the
simulations' module: a simulation imports the scenarios when it starts, a fraction of a second
of its many solves, and the worker's start, which every plan job may wait for, stays as it was.)"""


def job_context() -> mp.context.ForkServerContext | mp.context.SpawnContext:
    """Processes for jobs: forked from a single-threaded fork server that has the engine loaded.

    Forking the service itself would copy its threads' locks; spawning a fresh
    interpreter per job costs a second or two of imports.  The fork server exits when
    the process that started it ends (it reads EOF on a pipe only that process holds),
    which is what ends a job (:func:`die_with_parent`) after a ``kill -9``.  Where there
    is no fork server (not on Linux), spawn.
    """
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - not Linux
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _ready() -> None:
    """A job process that does nothing: its start says the fork server has loaded the engine."""


def warm_up() -> None:
    """Start the fork server now and wait until it has imported the engine (seconds on a busy
    machine), not at the first job.

    ``forkserver.ensure_running`` returns as soon as the server process exists; its preload runs
    after, and the first ``Process.start`` waits for it.  Waiting there, inside the worker loop,
    held up the renewal of the first job's lease: on a loaded machine the lease ran out and
    another worker claimed the job a second time.  So one empty process is started here, before
    the loop claims anything.
    """
    ctx = job_context()
    if isinstance(ctx, mp.context.ForkServerContext):
        proc = ctx.Process(target=_ready, name="linli-warm-up")
        proc.start()
        proc.join()


# ------------------------------------------------------------------ the worker loop


def say_ready(name: str) -> None:
    """Print on stderr that worker ``name`` now claims jobs: its fork server is warm (seconds
    after start on a busy machine), which tells an operator, or a test, when jobs will run."""
    print(f"job worker {name}: ready, claiming jobs", file=sys.stderr, flush=True)


def worker_name() -> str:
    """A name for a worker, unique across hosts and restarts: ``host:pid:nonce``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimer_is_dead(claimed_by: str | None) -> bool:
    """Whether the worker named ``claimed_by`` ran on this host and its process is gone.

    Its jobs need not wait for their leases to run out.  (A recycled pid only makes the
    job wait for its lease, as a worker on another host would.)
    """
    if claimed_by is None or not os.path.isdir("/proc/self"):
        return False
    host, _, pid = claimed_by.rpartition(":")[0].rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not os.path.exists(f"/proc/{pid}")


JobKey = tuple[str, int]
"""A job: its kind's name and its row's id (ids are per table)."""


class Claim(NamedTuple):
    """A job a worker just claimed."""

    kind: str
    id: int
    attempt: int
    background: bool
    """Not a station plan (see :meth:`JobKind.background`)."""


@dataclass
class _Running:
    """A job this worker runs: its process and the attempt it claimed."""

    proc: mp.process.BaseProcess
    attempt: int
    background: bool
    killed: str | None = None  # "cancelled", or "lost" (the claim is another's now)


@dataclass(frozen=True)
class _Row:
    """The columns of a queued or solving row a worker decides on."""

    kind: str
    id: int
    station_id: str | None
    token_id: int | None
    state: str
    attempts: int
    lease_until: dt.datetime | None
    claimed_by: str | None
    cancel_requested: bool
    created_at: dt.datetime

    @property
    def owner(self) -> tuple[str | None, int | None]:
        """Whose job: the station's, or (``/v1/solve``) the token's."""
        return (self.station_id, None) if self.station_id is not None else (None, self.token_id)

    @property
    def background(self) -> bool:
        """Not a station plan: kept out of the slot kept for station plans."""
        return KINDS[self.kind].background(self.station_id)

    def stale(self, now: dt.datetime) -> bool:
        """A solving row whose worker died: its lease ran out, or its process here is gone."""
        if self.state != "solving":
            return False
        expired = self.lease_until is None or self.lease_until < now
        return expired or claimer_is_dead(self.claimed_by)


class Worker:
    """Claims jobs from the database and runs each in its own process, ``slots`` at a time.

    Parameters
    ----------
    engine
        The service's database.
    slots
        Jobs run at once (``LINLI_SOLVE_PROCESSES``); with two or more, background jobs
        (integrators' solves, simulations) get all but one.
    lease
        Seconds a claim lasts unless renewed (every quarter of it).
    attempts
        Runs a job gets before it is failed (a run ends without an outcome when its
        worker dies).
    on_ready
        Called with the worker's name on the loop's thread once the fork server is warm,
        before the first claim (``linli serve`` and ``linli worker`` pass :func:`say_ready`).
    dispatcher
        A :class:`api.delivery.Dispatcher` (webhook deliveries) run alongside, on a thread of its
        own so that a slow receiver never holds up a plan job; started and stopped with the loop.
    """

    def __init__(
        self,
        engine: Engine,
        slots: int,
        *,
        lease: float = 15.0,
        attempts: int = 3,
        on_ready: Callable[[str], None] | None = None,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.name = worker_name()
        self._dispatcher = dispatcher
        self._on_ready = on_ready
        self._engine = engine
        self._url = engine.url.render_as_string(hide_password=False)
        self._slots = slots
        self._lease = lease
        self._attempts = attempts
        self._running: dict[JobKey, _Running] = {}
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._pipe_lock = threading.Lock()  # no write to the pipe's number once it is closed
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- control

    def start(self) -> None:
        """Run the loop on a thread of this process."""
        self._thread = threading.Thread(target=self.run, name="linli-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for jobs now (a job was just queued here, or a cancel requested)."""
        with self._pipe_lock, contextlib.suppress(BlockingIOError, OSError):  # full: awake already
            if self._wake_w >= 0:
                os.write(self._wake_w, b"\0")

    def stop(self, timeout: float = 15.0) -> None:
        """End the loop: running jobs are stopped and queued again for any worker."""
        self._stop.set()
        self.wake()
        if self._dispatcher is not None:  # now, even if the loop is still warming up
            self._dispatcher.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop: claim, watch and renew until :meth:`stop`."""
        next_poll = 0.0
        next_renew = time.monotonic() + self._lease / 4
        # This thread's writes (claims, cancels, settling a dead job) are the worker's, for the audit log.
        current_actor.set(Actor("job", None, f"worker:{self.name}"))
        if self._dispatcher is not None:
            self._dispatcher.start()
        try:
            try:
                warm_up()
            except Exception:  # the first job starts it instead (and reports what fails)
                log.exception("job worker %s: could not start the fork server", self.name)
            if self._on_ready is not None:  # the loop claims from now on
                self._on_ready(self.name)
            while not self._stop.is_set():
                woken = self._sleep(TICK_S if self._running else POLL_S)
                if self._stop.is_set():
                    break
                try:
                    self._reap()
                    if self._running:
                        self._watch()
                    if time.monotonic() >= next_renew:
                        self._renew()
                        next_renew = time.monotonic() + self._lease / 4
                    if woken or time.monotonic() >= next_poll:
                        self._claim_all()
                        next_poll = time.monotonic() + POLL_S
                except Exception:  # the database may be away for a while: try again
                    log.exception("job worker %s: database error, retrying", self.name)
                    self._stop.wait(1.0)
        finally:
            if self._dispatcher is not None:
                self._dispatcher.stop()
            self._release_all()
            with self._pipe_lock:
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_w = -1

    # ------------------------------------------------------------- internals

    def _sleep(self, timeout: float) -> bool:
        """Wait for a wake-up, a job process's end, or ``timeout``; True if woken."""
        ready = mp.connection.wait(
            [self._wake_r, *(r.proc.sentinel for r in self._running.values())], timeout
        )
        if self._wake_r not in ready:
            return False
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 512):
                pass
        return True

    def _reap(self) -> None:
        """Settle the jobs whose process ended without writing an outcome."""
        for key, job in list(self._running.items()):
            if job.proc.exitcode is None:
                continue
            job.proc.join()
            del self._running[key]
            if job.killed == "lost":
                continue
            if job.killed == "cancelled":
                self._settle(key, job.attempt, "cancelled", CANCELLED_WHILE_RUNNING)
            else:
                why = f"the solve process ended unexpectedly (exit code {job.proc.exitcode})"
                self._settle(key, job.attempt, "failed", why)

    def _settle(self, key: JobKey, attempt: int, state: str, error: str) -> None:
        """Close a job of this worker that has no outcome yet (a no-op if it has one)."""
        record(self._engine, KINDS[key[0]], key[1], self.name, attempt, state, error=error)

    def _by_kind(self) -> dict[str, list[int]]:
        """The ids of the running jobs, by kind."""
        out: dict[str, list[int]] = {}
        for kind, job_id in self._running:
            out.setdefault(kind, []).append(job_id)
        return out

    def _watch(self) -> None:
        """Kill the processes of jobs cancelled (by any process) or no longer this worker's."""
        with Session(self._engine) as session:
            rows = [
                (name, *row)
                for name, ids in self._by_kind().items()
                for row in session.execute(
                    select_columns(
                        KINDS[name].column("id"),
                        KINDS[name].column("state"),
                        KINDS[name].column("claimed_by"),
                        KINDS[name].column("attempts"),
                        KINDS[name].column("cancel_requested"),
                    ).where(KINDS[name].column("id").in_(ids))
                ).all()
            ]
        for name, job_id, state, claimed_by, attempts, cancel_requested in rows:
            job = self._running.get((name, job_id))
            if job is None or job.killed is not None or not job.proc.is_alive():
                continue
            mine = state == "solving" and claimed_by == self.name and attempts == job.attempt
            if not mine or cancel_requested:
                job.killed = "cancelled" if mine else "lost"
                job.proc.kill()  # its helpers follow (die_with_parent)
                job.proc.join(2)
        self._reap()

    def _renew(self) -> None:
        """Extend the leases of the jobs this worker runs."""
        if not self._running:
            return
        with Session(self._engine) as session:
            for name, ids in self._by_kind().items():
                kind = KINDS[name]
                session.execute(
                    update(kind.table)
                    .where(
                        kind.column("id").in_(ids),
                        kind.column("claimed_by") == self.name,
                        kind.column("state") == "solving",
                    )
                    .values(lease_until=utcnow() + dt.timedelta(seconds=self._lease))
                )
            session.commit()

    def _claim_all(self) -> None:
        """Claim jobs while slots are free, and start a process for each."""
        while len(self._running) < self._slots and not self._stop.is_set():
            claimed = self._claim_one()
            if claimed is None:
                return
            key = (claimed.kind, claimed.id)
            try:
                proc = job_context().Process(
                    target=job_main,
                    args=(self._url, claimed.id, self.name, claimed.attempt, os.getpid(), claimed.kind),
                    name=f"linli-{claimed.kind}-{claimed.id}",
                    # Not daemonic: the engine starts helper processes of its own, which a
                    # daemonic process may not have.
                    daemon=False,
                )
                proc.start()
            except Exception as exc:
                self._settle(key, claimed.attempt, "failed", f"could not start the solve process: {exc}")
                continue
            self._running[key] = _Running(proc, claimed.attempt, claimed.background)

    def _rows(self) -> list[_Row]:
        """The queued and solving rows of every kind, oldest first."""
        rows: list[_Row] = []
        with Session(self._engine) as session:
            for name, kind in KINDS.items():
                rows += [
                    _Row(name, *r)
                    for r in session.execute(
                        select_columns(
                            *(
                                kind.column(c)
                                for c in (
                                    "id",
                                    "station_id",
                                    "token_id",
                                    "state",
                                    "attempts",
                                    "lease_until",
                                    "claimed_by",
                                    "cancel_requested",
                                    "created_at",
                                )
                            )
                        )
                        .where(kind.column("state").in_(ACTIVE))
                        .order_by(kind.column("id"))
                        .limit(500)
                    ).all()
                ]
        order = list(KINDS)
        return sorted(rows, key=lambda r: (r.created_at, order.index(r.kind), r.id))

    def _claim_one(self) -> Claim | None:
        """Claim the job to run next (of any kind), or None.

        Oldest first, those of owners with nothing running before the others; while
        background jobs (integrators' solves, simulations) fill all but one slot, only
        station plans are claimed.
        """
        now = utcnow()
        rows = self._rows()
        busy = {r.owner for r in rows if r.state == "solving" and not r.stale(now)}
        background = sum(job.background for job in self._running.values())
        full = background >= max(1, self._slots - 1)
        candidates = []
        for row in rows:
            if row.state == "solving" and row.stale(now) and self._give_up(row, now):
                continue
            claimable = row.state == "queued" or row.stale(now)
            if claimable and not (full and row.background):
                candidates.append(row)
        # sorted() is stable: within each group, the oldest first
        for row in sorted(candidates, key=lambda r: r.owner in busy):
            if self._take(row, now):
                return Claim(row.kind, row.id, row.attempts + 1, row.background)
        return None

    def _give_up(self, row: _Row, now: dt.datetime) -> bool:
        """Settle a stale job that will not run again: cancelled, or out of attempts."""
        if row.cancel_requested:
            state, error = "cancelled", CANCELLED_WHILE_RUNNING
        elif row.attempts >= self._attempts:
            state = "failed"
            error = f"interrupted: its worker stopped during each of {row.attempts} attempts"
        else:
            return False
        kind = KINDS[row.kind]
        table: Any = kind.table
        with Session(self._engine) as session:
            write_transaction(session)
            job = session.exec(select(table).where(*self._unchanged(row, now)).with_for_update()).first()
            if job is not None:
                kind.close(session, job, state, None, error)
            session.commit()
        return True

    @staticmethod
    def _unchanged(row: _Row, now: dt.datetime) -> list[Any]:
        """Conditions under which the row is still as ``row`` saw it (queued, or stale)."""
        kind = KINDS[row.kind]
        conditions: list[Any] = [
            kind.column("id") == row.id,
            kind.column("state") == row.state,
            kind.column("attempts") == row.attempts,
        ]
        if row.state == "solving":
            conditions.append(kind.column("claimed_by") == row.claimed_by)
            if not claimer_is_dead(row.claimed_by):
                # Not renewed since: a slow worker that renewed keeps its job.
                conditions.append(kind.column("lease_until") < now)
        return conditions

    def _take(self, row: _Row, now: dt.datetime) -> bool:
        """Claim ``row`` if it is still as seen: one conditional UPDATE, whose row count says who won."""
        kind = KINDS[row.kind]
        with Session(self._engine) as session:
            result = session.execute(
                update(kind.table)
                .where(and_(*self._unchanged(row, now)), kind.column("cancel_requested").is_(False))
                .values(
                    state="solving",
                    claimed_by=self.name,
                    lease_until=now + dt.timedelta(seconds=self._lease),
                    attempts=row.attempts + 1,
                    started_at=now,
                )
            )
            session.commit()
            return bool(getattr(result, "rowcount", 0) == 1)

    def _release_all(self) -> None:
        """Stop every running job and queue it again (cancelled if that was asked)."""
        for job in self._running.values():
            job.proc.kill()
        for key, job in list(self._running.items()):
            job.proc.join(5)
            try:
                self._release(key, job.attempt)
            except Exception:  # shutting down: its lease runs out instead
                log.exception("job worker %s: could not release job %s", self.name, key)
        self._running.clear()

    def _release(self, key: JobKey, attempt: int) -> None:
        kind = KINDS[key[0]]
        with Session(self._engine) as session:
            write_transaction(session)
            job = _claimed(session, kind, key[1], self.name, attempt)
            if job is not None:
                if job.cancel_requested:
                    kind.close(session, job, "cancelled", None, CANCELLED_WHILE_RUNNING)
                else:
                    # Not the job's fault: this run does not count against its attempts.
                    job.state = "queued"
                    job.claimed_by = None
                    job.lease_until = None
                    job.started_at = None
                    job.attempts = attempt - 1
                    session.add(job)
            session.commit()


# ------------------------------------------------------------------ the routes' side


class JobRunner:
    """The service's side of the queue: wake the local worker, cancel, and (optionally) run a worker.

    Parameters
    ----------
    engine
        The service's database.
    worker
        A :class:`Worker` this process runs (``linli serve``), or None when other
        processes run the jobs (``LINLI_WORKERS=0``, ``linli serve --no-worker``).
    """

    def __init__(self, engine: Engine, worker: Worker | None = None) -> None:
        self._engine = engine
        self._worker = worker
        if worker is not None:
            worker.start()

    def submit(self, plan_id: int) -> None:
        """A version was committed ``queued``: the local worker looks now (others poll)."""
        if self._worker is not None:
            self._worker.wake()

    def cancel(self, plan_id: int, wait: float = CANCEL_WAIT_S, kind: str = PLAN) -> bool:
        """Cancel a queued or running job (a plan version, or another ``kind``'s row); False if it
        is neither.

        A queued job is cancelled at once.  A running one is asked to stop; this waits
        up to ``wait`` seconds for its worker, in whichever process, to stop it.
        """
        job_kind = KINDS[kind]
        table: Any = job_kind.table
        with Session(self._engine) as session:
            queued = session.execute(
                update(table)
                .where(job_kind.column("id") == plan_id, job_kind.column("state") == "queued")
                .values(state="cancelled", finished_at=utcnow(), **job_kind.cancelled_before_start)
            )
            session.commit()
            if getattr(queued, "rowcount", 0) == 1:
                return True
            solving = session.execute(
                update(table)
                .where(job_kind.column("id") == plan_id, job_kind.column("state") == "solving")
                .values(cancel_requested=True)
            )
            session.commit()
            if getattr(solving, "rowcount", 0) != 1:
                return False
        if self._worker is not None:
            self._worker.wake()
        end = time.monotonic() + wait
        while time.monotonic() < end:
            with Session(self._engine) as session:
                state = session.exec(select(table.state).where(job_kind.column("id") == plan_id)).first()
            if state != "solving":
                break
            time.sleep(0.05)
        return True

    def shutdown(self) -> None:
        """Stop the local worker; its running jobs go back to the queue."""
        if self._worker is not None:
            self._worker.stop()
