"""Fairness and durability of the job queue, measured on a real ``linli serve``.

Run ``python -m benchmarks.fairness`` from the repository root (about two minutes).  In a
temporary directory it seeds an SQLite database with ``linli seed`` (four stations),
starts ``linli serve`` on a free port with the default settings (``LINLI_SOLVE_PROCESSES``
2) and measures:

* ``baseline``: seconds from a station's ``POST /v1/stations/{id}/plans`` to its plan
  being done, with nothing else running (``--rounds`` weeks, one after the other);
* ``contended``: the same while an integrator's long job runs: ``POST /v1/solve`` of a
  city from ``linli generate`` (``--volunteers``, ``time_limit_s`` ``--time-limit``),
  submitted first and solving throughout;
* ``cancel queued``: seconds for ``DELETE`` of an integrator job that waits queued (the
  integrators' slot is taken by the long job);
* ``kill -9``: the server is killed with jobs in flight (the long job solving, a station
  plan just queued); the processes it started must end; a new server on the same
  database runs both again: how many were recovered, with how many attempts, and how
  long after the new server answered the long job was solving again.

With ``--single`` it also measures ``contended`` with ``LINLI_SOLVE_PROCESSES=1`` (no
slot kept for station plans): the station plan then waits for the long job.

The report is printed and written to ``benchmarks/results/fairness-<date>.json``
(:func:`benchmarks.results.write_result`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.results import Table, command_line, write_result

FIRST_WEEK = dt.date(2026, 12, 7)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def linli(*args: str, env: dict[str, str]) -> str:
    """Run ``linli ARGS`` with this interpreter; returns its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "linli.cli", *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something true; TimeoutError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def descendants(root: int) -> set[int]:
    """Pids of the live (not zombie) processes below ``root`` (Linux ``/proc``)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parent[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies have ended)."""
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


def name(pid: int) -> str:
    """A process's name (``/proc/PID/comm``): job processes and their helpers are ``linli-job-ID``."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class Service:
    """A ``linli serve`` subprocess and a client for it."""

    def __init__(self, env: dict[str, str], token: str, log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "linli.cli", "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )

    def up(self) -> float:
        """Wait until the API answers; returns when (``time.monotonic``)."""

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                return self.client.get("/v1/stations").status_code == 200
            except httpx.TransportError:
                return False

        until(answers, 60, "the server to answer", every=0.1)
        return time.monotonic()

    def plan(self, plan_id: int) -> dict[str, Any]:
        """A plan version's JSON."""
        body: dict[str, Any] = self.client.get(f"/v1/plans/{plan_id}").raise_for_status().json()
        return body

    def done(self, plan_id: int, timeout: float = 600) -> dict[str, Any]:
        """Poll until the version leaves queued/solving."""
        return dict(
            until(
                lambda: (b := self.plan(plan_id))["state"] not in ("queued", "solving") and b,
                timeout,
                f"plan {plan_id}",
            )
        )

    def station_plan(self, station: str, week: dt.date) -> tuple[float, dict[str, Any]]:
        """Seconds from POSTing a station's week to its plan being done, and the version."""
        began = time.monotonic()
        r = self.client.post(f"/v1/stations/{station}/plans", json={"week_start": week.isoformat()})
        r.raise_for_status()
        body = self.done(r.json()["id"])
        return time.monotonic() - began, body

    def solve(self, problem: str) -> int:
        """POST /v1/solve; the job's id."""
        r = self.client.post("/v1/solve", content=problem, headers={"Content-Type": "application/json"})
        r.raise_for_status()
        plan_id: int = r.json()["id"]
        return plan_id

    def stop(self) -> None:
        """Ctrl-C (a graceful stop), SIGKILL if it lingers."""
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def serving(env: dict[str, str], token: str, log: Path) -> Iterator[Service]:
    """A started service, stopped on exit."""
    service = Service(env, token, log)
    try:
        service.up()
        yield service
    finally:
        service.stop()


def stats(values: list[float]) -> str:
    """Median and range of some seconds."""
    middle, low, high = statistics.median(values), min(values), max(values)
    return f"median {middle:.2f} s (min {low:.2f}, max {high:.2f}; n={len(values)})"


def contended(
    service: Service, stations: list[str], problem: str, rounds: int, week: dt.date, check: bool = True
) -> list[float]:
    """Station plans while the long integrator job solves; the job is cancelled afterwards.

    With ``check``, the long job must still be solving when the last plan is done (else
    the plans did not compete with it all along).
    """
    job = service.solve(problem)
    until(lambda: service.plan(job)["state"] == "solving", 120, "the long job to start")
    waits = []
    for i in range(rounds):
        seconds, body = service.station_plan(stations[i % len(stations)], week + dt.timedelta(weeks=i))
        assert body["state"] == "done", body
        waits.append(seconds)
    still = service.plan(job)["state"]
    if check and still != "solving":
        raise RuntimeError(f"the long job was {still} before the station plans were done: raise --time-limit")
    service.client.delete(f"/v1/plans/{job}")
    return waits


COLUMNS = ["station plan, POST to done", "seconds"]


def run(args: argparse.Namespace) -> tuple[str, list[list[str | None]], list[str]]:
    """Seed, serve, measure; returns the report (Markdown), and its table rows and notes."""
    lines = [
        f"# Job fairness and durability, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m benchmarks.fairness {' '.join(sys.argv[1:])}` on {platform.node()} "
        f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start); "
        f"long job: `linli generate --volunteers {args.volunteers}`, time_limit_s {args.time_limit:g}.",
        "",
    ]
    notes = [
        f"Long job: `linli generate --volunteers {args.volunteers}`, time_limit_s {args.time_limit:g}; "
        f"load average {os.getloadavg()[0]:.1f} at the start."
    ]
    rows: list[list[str | None]] = []
    with tempfile.TemporaryDirectory(prefix="linli-fairness-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'linli.sqlite'}"}
        token = linli("seed", env=env).strip().splitlines()[-1]
        city = Path(tmp) / "city.json"
        volunteers = str(args.volunteers)
        beneficiaries = str(args.volunteers * 3 // 4)
        linli(
            "generate",
            "--volunteers",
            volunteers,
            "--beneficiaries",
            beneficiaries,
            "--out",
            str(city),
            env=env,
        )
        doc = json.loads(city.read_text())
        doc["time_limit_s"] = args.time_limit
        problem = json.dumps(doc)
        log = Path(tmp) / "server.log"
        week = FIRST_WEEK
        try:
            with serving(env, token, log) as service:
                stations = [s["id"] for s in service.client.get("/v1/stations").json()]
                service.station_plan(stations[0], week - dt.timedelta(weeks=1))  # warm the fork server
                baseline = []
                for i in range(args.rounds):
                    seconds, _ = service.station_plan(stations[i % len(stations)], week)
                    baseline.append(seconds)
                    week += dt.timedelta(weeks=1)
                busy = contended(service, stations, problem, args.rounds, week)
                week += dt.timedelta(weeks=args.rounds)

                rows += [
                    ["alone (baseline)", stats(baseline)],
                    ["while an integrator's long job solves", stats(busy)],
                ]

                # Cancel of a queued job: the integrators' slot is taken by a long job.
                long_job = service.solve(problem)
                until(lambda: service.plan(long_job)["state"] == "solving", 120, "the long job to start")
                cancels, polls = [], []
                for _ in range(args.rounds):
                    queued = service.solve(problem)
                    began = time.monotonic()
                    assert service.plan(queued)["state"] == "queued"
                    polls.append(time.monotonic() - began)
                    began = time.monotonic()
                    r = service.client.delete(f"/v1/plans/{queued}")
                    cancels.append(time.monotonic() - began)
                    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
                rows += [
                    ["DELETE of a queued job", stats(cancels)],
                    ["(for scale: GET of that job just before)", stats(polls)],
                ]

                # kill -9 with the long job solving and a station plan just queued.
                station_job = service.client.post(
                    f"/v1/stations/{stations[0]}/plans", json={"week_start": week.isoformat()}
                ).json()["id"]
                time.sleep(0.5)
                children = descendants(service.proc.pid)
                jobs = {pid for pid in children if name(pid).startswith("linli-job-")}
                in_flight = {j: service.plan(j)["state"] for j in (long_job, station_job)}
                service.proc.kill()
                service.proc.wait()
                killed = time.monotonic()
                until(lambda: not alive(jobs), 10, "the killed server's job processes to end")
                jobs_gone = time.monotonic() - killed
                until(lambda: not alive(children), 10, "the killed server's processes to end")
                orphans_gone = time.monotonic() - killed
            with serving(env, token, log) as again:
                answering = time.monotonic()
                resumed = until(
                    lambda: again.plan(long_job)["state"] == "solving" and time.monotonic(),
                    120,
                    "the long job to run again",
                )
                station_done = again.done(station_job)
                long_row = again.plan(long_job)
                again.client.delete(f"/v1/plans/{long_job}")
        except Exception:
            print(f"# the server's log:\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
            raise
        recovered = [long_row["state"] == "solving", station_done["state"] == "done"]
        notes += [
            f"kill -9 of the server with {len(in_flight)} jobs in flight "
            f"({', '.join(f'{j}: {s}' for j, s in in_flight.items())}): its {len(jobs)} job processes "
            f"and their helpers ended within {jobs_gone:.2f} s, all {len(children)} processes it had "
            f"started (with the fork server and resource tracker) within {orphans_gone:.2f} s; after a "
            f"restart {sum(recovered)}/{len(recovered)} jobs were run again (the station plan done, "
            f"the long job solving again {resumed - answering:.2f} s after the new server answered).",
        ]
        if args.single:
            env1 = {**env, "LINLI_SOLVE_PROCESSES": "1"}
            with serving(env1, token, log) as single:
                one = contended(single, stations, problem, 1, week + dt.timedelta(weeks=1), check=False)
            notes.append(
                f"With `LINLI_SOLVE_PROCESSES=1` (no slot kept for station plans) the station plan "
                f"waited {one[0]:.2f} s for the long job."
            )
    lines += ["| " + " | ".join(COLUMNS) + " |", "|---|---|"]
    lines += [f"| {what} | {seconds} |" for what, seconds in rows]
    lines += [f"\n{note}" for note in notes[1:]]
    return "\n".join(lines) + "\n", rows, notes


def main() -> None:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=2000, help="size of the long job's city")
    parser.add_argument("--time-limit", type=float, default=60.0, help="the long job's time_limit_s")
    parser.add_argument("--rounds", type=int, default=3, help="station plans (and cancels) per measurement")
    parser.add_argument("--single", action="store_true", help="also measure with one solve process")
    args = parser.parse_args()
    report, rows, notes = run(args)
    print(report, end="")
    write_result("fairness", command_line("benchmarks.fairness"), [Table(COLUMNS, rows)], notes)


if __name__ == "__main__":
    main()
