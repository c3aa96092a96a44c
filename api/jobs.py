"""Solves off the request thread: each in its own process, cancellable, never blocking reads.

A solve is CPU-bound Python and C++; in a thread it would hold the GIL through the
engine's Python phases and stall every request.  Each job therefore runs in its own
process (at most ``LINLI_SOLVE_PROCESSES`` at once; the others wait ``queued``), and a
small watcher thread per job waits for its answer and writes it to the database.
``DELETE`` terminates the process.  A job that fails or is cancelled only ever writes
its own version row, so the version it started from stays as it was.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.models import PlanVersion, utcnow
from api.problem import store_plan
from matcher.format.schema import Plan

Kind = Literal["solve", "resolve"]


@dataclass(frozen=True)
class Task:
    """What a job process computes: a solve, or a re-solve of a plan in force."""

    kind: Kind
    problem: dict[str, Any]
    plan: dict[str, Any] | None = None
    changes: dict[str, Any] | None = None
    parent: dict[str, Any] | None = None
    """A station re-solve: the plan of the version it came from (``plan`` is the part of it
    carried onto the station's current data); ``changed`` is reported against this one."""


def run_task(task: Task) -> dict[str, Any]:
    """Compute a task's plan (format-1 JSON); runs in the job process."""
    from api.problem import changed_needs
    from matcher.format.io import parse
    from matcher.format.schema import ChangeSet, Problem
    from matcher.resolve import resolve
    from matcher.solve import solve

    problem = parse(Problem, task.problem, "problem")
    if task.kind == "solve":
        plan = solve(problem).plan
    else:
        assert task.plan is not None and task.changes is not None
        result = resolve(problem, parse(Plan, task.plan, "plan"), parse(ChangeSet, task.changes, "changes"))
        plan = result.plan
        if task.parent is not None:
            parent = parse(Plan, task.parent, "parent")
            plan = plan.model_copy(update={"changed": changed_needs(result.problem, parent, plan)})
    return plan.model_dump(mode="json", exclude_none=True)


def _work(conn: Connection, task: Task) -> None:
    try:
        conn.send(("ok", run_task(task)))
    except Exception as exc:  # reported to the client as the job's error
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


PRELOAD = ["api.jobs", "matcher.solve", "matcher.resolve"]
"""Modules the fork server imports once, so a job starts in milliseconds, not seconds."""


def job_context() -> mp.context.ForkServerContext | mp.context.SpawnContext:
    """Processes for jobs: forked from a single-threaded fork server that has the engine loaded.

    Forking the service itself would copy its threads' locks; spawning a fresh
    interpreter per job costs a second or two of imports.  Where there is no fork
    server (not on Linux), spawn.
    """
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class JobRunner:
    """Runs solve jobs in processes and records their outcome on their plan version."""

    def __init__(self, engine: Engine, processes: int = 1) -> None:
        self._engine = engine
        self._slots = threading.Semaphore(processes)
        self._lock = threading.Lock()
        self._running: dict[int, mp.process.BaseProcess] = {}
        self._cancelled: set[int] = set()
        self._threads: dict[int, threading.Thread] = {}
        self._closed = False

    def submit(self, plan_id: int, task: Task) -> None:
        """Queue a job for a version already committed in state ``queued``."""
        thread = threading.Thread(
            target=self._run, args=(plan_id, task), name=f"solve-{plan_id}", daemon=True
        )
        with self._lock:
            self._threads[plan_id] = thread
        thread.start()

    def cancel(self, plan_id: int) -> bool:
        """Cancel a queued or running job; False if it is not queued or running here."""
        with self._lock:
            if plan_id not in self._threads:
                return False
            self._cancelled.add(plan_id)
            proc = self._running.get(plan_id)
        if proc is not None:
            proc.terminate()
        else:
            self._finish(plan_id, "cancelled", error="cancelled before it started")
        return True

    def wait(self, plan_id: int, timeout: float | None = None) -> None:
        """Block until a job's watcher is done (tests and shutdown)."""
        with self._lock:
            thread = self._threads.get(plan_id)
        if thread is not None:
            thread.join(timeout)

    def shutdown(self) -> None:
        """Terminate every running job (their versions are marked cancelled)."""
        with self._lock:
            self._closed = True
            ids = list(self._threads)
        for plan_id in ids:
            self.cancel(plan_id)
        for plan_id in ids:
            self.wait(plan_id, 10)

    # ----------------------------------------------------------------- internals

    def _run(self, plan_id: int, task: Task) -> None:
        try:
            with self._slots:
                outcome = self._spawn_and_wait(plan_id, task)
            if outcome is not None:
                self._finish(plan_id, *outcome)
        finally:
            with self._lock:
                self._threads.pop(plan_id, None)
                self._running.pop(plan_id, None)
                self._cancelled.discard(plan_id)

    def _spawn_and_wait(
        self, plan_id: int, task: Task
    ) -> tuple[str, dict[str, Any] | None, str | None] | None:
        ctx = job_context()
        receiver, sender = ctx.Pipe(duplex=False)
        with self._lock:
            if plan_id in self._cancelled or self._closed:
                return None  # cancel() already recorded it
            # Not daemonic: the engine starts helper processes of its own (the search beside
            # a station proof, the city bound), which a daemonic process may not have.
            # shutdown() terminates running jobs, and the helpers end with their job.
            proc = ctx.Process(target=_work, args=(sender, task), name=f"linli-solve-{plan_id}", daemon=False)
            self._set_solving(plan_id)
            proc.start()
            self._running[plan_id] = proc
        sender.close()
        try:
            status, payload = receiver.recv()
        except EOFError:  # the process died without an answer: cancelled, or crashed
            status, payload = "error", f"the solve process ended unexpectedly (exit code {proc.exitcode})"
        finally:
            receiver.close()
            proc.join(5)
        with self._lock:
            cancelled = plan_id in self._cancelled
        if cancelled:
            return "cancelled", None, "cancelled while solving"
        if status == "ok":
            return "done", payload, None
        return "failed", None, str(payload)

    def _set_solving(self, plan_id: int) -> None:
        with Session(self._engine) as session:
            version = session.get(PlanVersion, plan_id)
            if version is not None:
                version.state = "solving"
                session.add(version)
                session.commit()

    def _finish(
        self, plan_id: int, state: str, plan: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with Session(self._engine) as session:
            version = session.get(PlanVersion, plan_id)
            if version is None:
                return
            version.state = state
            version.error = error
            version.finished_at = utcnow()
            if plan is not None:
                store_plan(session, version, Plan.model_validate(plan))
            else:
                version.successor_of = None  # the version it came from is open again
            session.add(version)
            session.commit()


def recover(engine: Engine) -> int:
    """Mark jobs left queued or solving by a previous run as failed; returns how many."""
    with Session(engine) as session:
        stale = session.exec(
            select(PlanVersion).where(col(PlanVersion.state).in_(("queued", "solving")))
        ).all()
        for version in stale:
            version.state = "failed"
            version.error = "interrupted: the service restarted"
            version.successor_of = None
            version.finished_at = utcnow()
            session.add(version)
        session.commit()
        return len(stale)
