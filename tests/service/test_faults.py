"""Fault injection on real service processes: ``kill -9`` mid-solve, two processes sharing jobs, cancels.

Each test starts ``linli serve`` (and ``linli worker``) as subprocesses on 127.0.0.1 with
a free port, on a database seeded here, and drives them over HTTP.  Processes are found
in ``/proc``: a server's descendants (its fork server, job processes and the engine's
helpers) are recorded before it is killed and must all be gone (or zombies) soon after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import database_url
from sqlmodel import Session, select

from api.auth import create_token
from api.db import make_engine
from api.models import PlanVersion
from api.seed import seed_demo
from matcher.format.io import parse
from matcher.format.schema import Plan, Problem
from matcher.format.validate import validate_plan
from matcher.synth.generate import generate_city

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

CLI = "import sys; from linli.cli import main; sys.exit(main())"
"""``linli`` run by this interpreter (the console script need not be on PATH)."""


# ------------------------------------------------------------------ processes


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> set[tuple[int, int]]:
    """(pid, start time) of every live process below ``root``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z":
                children.setdefault(stat[1], []).append(int(entry.name))
    found: set[tuple[int, int]] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        stat = _stat(pid)
        if stat is not None:
            found.add((pid, stat[2]))
            todo.extend(children.get(pid, []))
    return found


def running(processes: set[tuple[int, int]]) -> set[int]:
    """Those of ``processes`` still running (a zombie has ended; a reused pid is another process)."""
    alive = set()
    for pid, started in processes:
        stat = _stat(pid)
        if stat is not None and stat[0] != "Z" and stat[2] == started:
            alive.add(pid)
    return alive


def comm(pid: int) -> str:
    """A process's name (``ps``'s COMMAND): a job process and its helpers are ``linli-job-ID``."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    """A TCP port nobody listens on (for a moment)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Service:
    """A ``linli serve`` or ``linli worker`` subprocess."""

    proc: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        """The API's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextlib.contextmanager
def started(db: str, tmp: Path, args: list[str], token: str | None = None, **env: str) -> Iterator[Service]:
    """Run ``linli ARGS`` on database ``db``; for ``serve``, wait until the API answers; and
    until its job worker (unless ``LINLI_WORKERS=0``) or ``linli worker``'s says it claims jobs."""
    port = free_port() if args[0] == "serve" else None
    argv = [sys.executable, "-c", CLI, *args] + (["--port", str(port)] if port else [])
    log = tmp / f"{args[0]}-{time.monotonic_ns()}.log"
    environ = {**os.environ, "DATABASE_URL": db, "LINLI_JOB_LEASE": "3", **env}
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=environ)
    service = Service(proc, log, port)
    try:
        if port is not None:

            def ready() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"linli serve exited: {log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    r = httpx.get(f"{service.url}/v1/stations", headers=_auth(token), timeout=2)
                    return r.status_code == 200
                return False

            until(ready, 60, "the server to answer", every=0.2)
        if args[0] == "worker" or env.get("LINLI_WORKERS") != "0":
            # A job worker's fork server warms up first (seconds on a loaded machine): jobs
            # posted before that all go to the other process, not what a test of sharing wants.
            warm = b"ready, claiming jobs"
            until(lambda: warm in log.read_bytes(), 60, "the job worker to be ready", every=0.2)
        yield service
    finally:
        service.stop()


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def seeded(url: str) -> str:
    """Seed a small city into the database at ``url``; returns a centre token."""
    engine = make_engine(url)
    with Session(engine) as session:
        seed_demo(session, 40, 30, 2, seed=3)
        token = create_token(session, None, "centre")
    engine.dispose()
    return token


def city(volunteers: int, time_limit: float, seed: int = 1) -> dict[str, Any]:
    """A generated city problem that runs about its time limit (it is not proved sooner)."""
    doc = generate_city(volunteers, volunteers * 3 // 4, seed=seed).model_dump(mode="json", exclude_none=True)
    doc["time_limit_s"] = time_limit
    return doc


def row(url: str, plan_id: int) -> PlanVersion:
    """A plan version as the database holds it."""
    engine = make_engine(url)
    with Session(engine) as session:
        version = session.exec(select(PlanVersion).where(PlanVersion.id == plan_id)).one()
    engine.dispose()
    return version


def state(service: Service, token: str, plan_id: int) -> dict[str, Any]:
    """A plan version as the API shows it."""
    r = httpx.get(f"{service.url}/v1/plans/{plan_id}", headers=_auth(token), timeout=10)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def settled(service: Service, token: str, plan_id: int, timeout: float = 60) -> dict[str, Any]:
    """Poll a plan version until it leaves queued/solving."""
    return dict(
        until(
            lambda: (s := state(service, token, plan_id))["state"] not in ("queued", "solving") and s,
            timeout,
            f"plan {plan_id} to finish",
            every=0.1,
        )
    )


def post(service: Service, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a job; returns the queued version."""
    r = httpx.post(f"{service.url}{path}", json=body, headers=_auth(token), timeout=30)
    assert r.status_code == 202, r.text
    out: dict[str, Any] = r.json()
    return out


# ------------------------------------------------------------------ tests


def test_kill_9_mid_solve_reruns_the_job_once(tmp_path: Path) -> None:
    """``kill -9`` of the server during a re-solve: its processes all end, the version it
    started from is intact, and the restarted server runs the job again (attempts 2, done)."""
    with contextlib.contextmanager(database_url)("sqlite", tmp_path) as url:
        token = seeded(url)
        doc = city(600, 3)
        with started(url, tmp_path, ["serve"], token) as first:
            v1 = settled(first, token, post(first, token, "/v1/solve", doc)["id"])
            assert v1["state"] == "done", v1
            # Withdrawing half the volunteers makes a re-solve that uses its time limit.
            changes = {
                "format": 1,
                "volunteers_withdrawn": [{"volunteer": v["id"]} for v in doc["volunteers"][:300]],
            }
            v2 = post(first, token, f"/v1/plans/{v1['id']}/changes", changes)

            def job_processes() -> set[tuple[int, int]]:
                procs = descendants(first.proc.pid)
                return procs if any(comm(pid) == f"linli-job-{v2['id']}" for pid, _ in procs) else set()

            processes = until(job_processes, 30, "the re-solve's job process")
            assert row(url, v2["id"]).state == "solving"
            first.proc.kill()
            first.proc.wait(5)
            until(lambda: not running(processes), 5, "the killed server's processes to end")
        interrupted = row(url, v2["id"])
        assert (interrupted.state, interrupted.attempts) == ("solving", 1)
        kept = row(url, v1["id"])
        assert (kept.state, kept.plan) == ("done", v1["plan"])

        with started(url, tmp_path, ["serve"], token) as second:
            again = settled(second, token, v2["id"])
            assert again["state"] == "done", again
            assert row(url, v2["id"]).attempts == 2
            doc2 = httpx.get(f"{second.url}/v1/plans/{v2['id']}/problem", headers=_auth(token)).json()
            problem = parse(Problem, doc2, "problem")
            assert validate_plan(problem, parse(Plan, again["plan"], "plan")) == []
            assert state(second, token, v1["id"])["plan"] == v1["plan"]
            leftover = descendants(second.proc.pid)
        # The fork server takes half a second to exit (its interpreter's shutdown).
        until(lambda: not running(leftover), 5, "a gracefully stopped server's processes to end")


def test_two_processes_share_jobs_and_cancel_across_them(tmp_path: Path) -> None:
    """A server and a ``linli worker`` on one PostgreSQL database: four jobs, each done once,
    by both; a job running in the worker is cancelled through the server; a queued one at once."""
    with contextlib.contextmanager(database_url)("postgresql", tmp_path) as url:
        token = seeded(url)
        doc = city(300, 1)
        with (
            started(url, tmp_path, ["worker", "--processes", "2"]) as worker,
            started(url, tmp_path, ["serve"], token, LINLI_SOLVE_PROCESSES="2") as server,
        ):
            ids = [post(server, token, "/v1/solve", doc)["id"] for _ in range(4)]
            for plan_id in ids:
                assert settled(server, token, plan_id)["state"] == "done"
            rows = [row(url, plan_id) for plan_id in ids]
            assert [r.attempts for r in rows] == [1] * 4, "a job ran more than once"
            pids = {str(p.proc.pid) for p in (server, worker)}
            ran = {(r.claimed_by or "").split(":")[-2] for r in rows}
            assert ran == pids, f"jobs ran in {ran}, not in both {pids}"

            # Two long jobs: the server's integrator slot takes the first, the worker's the
            # second (each keeps a slot for station plans); a third waits, queued.
            long = city(400, 30, seed=2)
            first = post(server, token, "/v1/solve", long)["id"]
            until(lambda: row(url, first).state == "solving", 10, "the first long job to start")
            second = post(server, token, "/v1/solve", long)["id"]
            until(lambda: row(url, second).state == "solving", 10, "the second long job to start")
            assert row(url, second).claimed_by.split(":")[-2] != row(url, first).claimed_by.split(":")[-2]  # type: ignore[union-attr]
            third = post(server, token, "/v1/solve", long)["id"]
            time.sleep(1.0)  # both processes polled at least once since
            assert row(url, third).state == "queued"

            began = time.monotonic()
            r = httpx.delete(f"{server.url}/v1/plans/{third}", headers=_auth(token), timeout=10)
            queued_cancel = time.monotonic() - began
            assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
            # (The machine's two cores are busy with both long solves meanwhile.)
            assert queued_cancel < 1.0, f"cancelling a queued job took {queued_cancel:.2f} s"

            owner = second if row(url, second).claimed_by.split(":")[-2] == str(worker.proc.pid) else first  # type: ignore[union-attr]
            began = time.monotonic()
            r = httpx.delete(f"{server.url}/v1/plans/{owner}", headers=_auth(token), timeout=10)
            assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
            assert time.monotonic() - began < 5
            until(
                lambda: not any(comm(pid) == f"linli-job-{owner}" for pid, _ in descendants(worker.proc.pid)),
                3,
                "the worker's job process to end",
            )
            leftover = descendants(server.proc.pid) | descendants(worker.proc.pid)
        until(lambda: not running(leftover), 5, "the stopped processes' children to end")
