"""Read latency of the service while a city-size solve runs: a running solve never blocks reads.

Run ``python -m benchmarks.api_latency`` from the repository root (about 30 s).  In a
temporary directory it seeds an SQLite database with ``linli seed --volunteers 300
--beneficiaries 225`` (which prints a centre token), starts the real server with
``linli serve`` on a free port, generates one station's plan and waits for it, and then
sends sequential requests with httpx, over keep-alive connections:

* ``baseline``: ``--requests`` each of ``GET /v1/stations`` and ``GET /v1/plans/{id}`` (the
  station's finished plan, body included), with nothing else running;
* ``submit``: the two in turn, from a second thread, for as long as ``POST /v1/solve`` of
  ``generate_city(4000, 3000, seed=1)`` (``time_limit_s`` 60) takes to answer: its body is
  megabytes of JSON that the server parses and validates;
* ``solving``: ``--requests`` each again while that job is in state ``solving``: its
  process has CPU-bound work for the whole measurement, on a machine that may have no
  core to spare for it.

It prints p50/p95/p99/max per endpoint and phase and the ratios against the baseline, and
the job's state when measuring ended (``solving`` if every solving-phase read was made while
it ran).  Then it cancels the job with ``DELETE`` and stops the server.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.results import Table, command_line, write_result
from matcher.synth.generate import generate_city

WEEK = "2026-12-07"
READS = ("GET /v1/stations", "GET /v1/plans/{id}")
FEW = 20
"""Rows with fewer requests show no p95/p99."""


@dataclass
class Row:
    """Latencies of one endpoint in one phase (seconds)."""

    phase: str
    endpoint: str
    seconds: list[float]

    def quantile(self, q: int) -> float:
        """The ``q``-th percentile, in milliseconds."""
        return 1000 * statistics.quantiles(self.seconds, n=100, method="inclusive")[q - 1]

    def cells(self, baseline: Row | None) -> list[str | None]:
        """The cells of :meth:`render` (for the result file)."""
        few = len(self.seconds) < FEW
        p95 = None if few else f"{self.quantile(95):.2f}"
        p99 = None if few else f"{self.quantile(99):.2f}"
        out = [self.phase, self.endpoint, str(len(self.seconds)), f"{self.quantile(50):.2f}", p95, p99]
        out.append(f"{1000 * max(self.seconds):.2f}")
        if baseline is None:
            return [*out, None, None]
        p99x = None if few else f"{self.quantile(99) / baseline.quantile(99):.2f}"
        return [*out, f"{self.quantile(50) / baseline.quantile(50):.2f}", p99x]

    def render(self, baseline: Row | None) -> str:
        """Format as a table row, with the p50 and p99 ratios against ``baseline``.

        Below ``FEW`` requests the tail percentiles are not shown: they would only repeat
        the largest values.
        """
        p50, worst = self.quantile(50), 1000 * max(self.seconds)
        few = len(self.seconds) < FEW
        p95 = "-" if few else f"{self.quantile(95):.2f}"
        p99 = "-" if few else f"{self.quantile(99):.2f}"
        ratios = ""
        if baseline is not None:
            p99x = "-" if few else f"{self.quantile(99) / baseline.quantile(99):.2f}"
            ratios = f" {p50 / baseline.quantile(50):7.2f} {p99x:>7}"
        return (
            f"{self.phase:<9} {self.endpoint:<20} {len(self.seconds):>5} "
            f"{p50:8.2f} {p95:>8} {p99:>8} {worst:8.2f}{ratios}"
        )


COLUMNS = ["phase", "endpoint", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "p50 x", "p99 x"]

HEADER = (
    f"{'phase':<9} {'endpoint':<20} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    f" {'p50 x':>7} {'p99 x':>7}"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def linli(*args: str, env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the ``linli`` command line of this interpreter.

    Parameters
    ----------
    *args
        Its arguments (``seed``, ``--volunteers``, ...).
    env
        The environment (``DATABASE_URL``).
    **kwargs
        More :func:`subprocess.run` options.

    Returns
    -------
    subprocess.CompletedProcess
        The finished command, its output captured as text; it must have succeeded.
    """
    return subprocess.run(
        [sys.executable, "-m", "linli.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        **kwargs,
    )


def wait_until(client: httpx.Client, path: str, done: Any, timeout: float) -> dict[str, Any]:
    """Poll ``GET path`` until ``done(body)``; returns the last body.

    Parameters
    ----------
    client
        The service's client.
    path
        What to poll.
    done
        Predicate on the JSON body.
    timeout
        Seconds before giving up with :class:`TimeoutError`.

    Returns
    -------
    dict
        The body that satisfied ``done``.
    """
    end = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(path).raise_for_status().json()
        if done(body):
            return body
        if time.monotonic() > end:
            raise TimeoutError(f"{path}: still {body.get('state', body)} after {timeout:.0f} s")
        time.sleep(0.05)


def measure(client: httpx.Client, phase: str, paths: dict[str, str], n: int) -> list[Row]:
    """``n`` sequential requests to each endpoint, one endpoint after the other.

    Parameters
    ----------
    client
        The service's client (one keep-alive connection).
    phase
        The table's phase label.
    paths
        Endpoint label -> path.
    n
        Requests per endpoint.

    Returns
    -------
    list of Row
        One row per endpoint; every request must have answered 200.
    """
    rows = []
    for endpoint, path in paths.items():
        seconds = []
        for _ in range(n):
            t = time.perf_counter()
            r = client.get(path)
            seconds.append(time.perf_counter() - t)
            r.raise_for_status()
        rows.append(Row(phase, endpoint, seconds))
    return rows


def post(client: httpx.Client, body: str) -> httpx.Response:
    """``POST /v1/solve`` of a problem's JSON text.

    Parameters
    ----------
    client
        The service's client.
    body
        The problem, format-1 JSON.

    Returns
    -------
    httpx.Response
        The service's answer.
    """
    return client.post("/v1/solve", content=body, headers={"Content-Type": "application/json"})


def measure_while(
    client: httpx.Client, phase: str, paths: dict[str, str], going: Callable[[], bool]
) -> list[Row]:
    """Sequential requests to the endpoints in turn for as long as ``going()`` holds.

    Parameters
    ----------
    client
        The service's client (another thread may be using it too).
    phase
        The table's phase label.
    paths
        Endpoint label -> path.
    going
        Whether to send another round.

    Returns
    -------
    list of Row
        One row per endpoint (at least two requests each); every request must have answered 200.
    """
    seconds: dict[str, list[float]] = {endpoint: [] for endpoint in paths}
    while going() or min(len(v) for v in seconds.values()) < 2:
        for endpoint, path in paths.items():
            t = time.perf_counter()
            r = client.get(path)
            seconds[endpoint].append(time.perf_counter() - t)
            r.raise_for_status()
    return [Row(phase, endpoint, values) for endpoint, values in seconds.items()]


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """``linli serve`` on ``port``, its output going to ``log``.

    Parameters
    ----------
    env
        The environment (``DATABASE_URL``).
    port
        Where to listen (on 127.0.0.1).
    log
        File for the server's output.

    Returns
    -------
    subprocess.Popen
        The server process (not yet known to be ready).
    """
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "linli.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server as Ctrl-C would (its lifespan shutdown terminates running jobs).

    Parameters
    ----------
    server
        The server process.
    """
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run(n: int, volunteers: int, beneficiaries: int, seed: int, limit: float) -> None:
    """Seed, serve, measure both phases and print the table.

    Parameters
    ----------
    n
        Requests per endpoint and phase.
    volunteers, beneficiaries
        Size of the solved city (``generate_city``).
    seed
        Its seed.
    limit
        Its ``time_limit_s``.
    """
    with tempfile.TemporaryDirectory(prefix="linli-latency-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'linli.sqlite'}"}
        seeded = linli("seed", "--volunteers", "300", "--beneficiaries", "225", env=env)
        token = seeded.stdout.strip().splitlines()[-1]
        port = free_port()
        log = Path(tmp) / "server.log"
        server = start_server(env, port, log)
        finished = False
        try:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as client:
                _measure_with_server(client, server, n, volunteers, beneficiaries, seed, limit)
            finished = True
        finally:
            stop_server(server)
            if not finished:
                print(f"# the server's log:\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)


def _finished(body: dict[str, Any]) -> bool:
    return body["state"] not in ("queued", "solving")


def wait_for_server(client: httpx.Client, server: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until the server answers ``GET /v1/stations`` (raises if it exited or took too long)."""
    end = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            if client.get("/v1/stations").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > end:
            raise TimeoutError(f"the server did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def _measure_with_server(
    client: httpx.Client,
    server: subprocess.Popen[bytes],
    n: int,
    volunteers: int,
    beneficiaries: int,
    seed: int,
    limit: float,
) -> None:
    notes: list[str] = []

    def say(line: str) -> None:
        notes.append(line)
        print(f"# {line}", flush=True)

    wait_for_server(client, server, 60)
    stations = client.get("/v1/stations").json()
    station = stations[0]["id"]
    r = client.post(f"/v1/stations/{station}/plans", json={"week_start": WEEK})
    assert r.status_code == 202, r.text
    t = time.perf_counter()
    plan = wait_until(client, f"/v1/plans/{r.json()['id']}", _finished, 300)
    assert plan["state"] == "done", plan
    say(
        f"seeded 300 volunteers, 225 beneficiaries: {len(stations)} stations; {station}'s plan "
        f"(id {plan['id']}, {len(plan['plan']['assignments'])} assignments) solved in "
        f"{time.perf_counter() - t:.1f} s"
    )
    paths = dict(zip(READS, ("/v1/stations", f"/v1/plans/{plan['id']}"), strict=True))
    client.get(paths[READS[1]]).raise_for_status()  # warm
    rows = measure(client, "baseline", paths, n)

    problem = generate_city(volunteers, beneficiaries, seed=seed, time_limit_s=limit)
    body = problem.model_dump_json(exclude_none=True)
    answer: list[httpx.Response] = []
    poster = threading.Thread(target=lambda: answer.append(post(client, body)), name="post-solve")
    t = time.perf_counter()
    poster.start()
    rows += measure_while(client, "submit", paths, poster.is_alive)
    poster.join()
    posted = time.perf_counter() - t
    r = answer[0]
    assert r.status_code == 202, r.text[:500]
    job = r.json()["id"]
    t = time.perf_counter()
    wait_until(client, f"/v1/plans/{job}", lambda b: b["state"] != "queued", 60)
    say(
        f"POST /v1/solve: {volunteers} volunteers, {len(problem.needs)} needs, "
        f"{len(body) / 1e6:.1f} MB of JSON, answered 202 in {posted:.2f} s; "
        f"solving {time.perf_counter() - t:.2f} s later"
    )
    started = time.perf_counter()
    rows += measure(client, "solving", paths, n)
    measured = time.perf_counter() - started
    state = client.get(f"/v1/plans/{job}").json()["state"]
    t = time.perf_counter()
    cancelled = client.delete(f"/v1/plans/{job}")
    say(
        f"measured for {measured:.1f} s; the job was {state} at the end; DELETE answered "
        f"{cancelled.status_code} ({cancelled.json().get('state', cancelled.json())}) "
        f"in {time.perf_counter() - t:.2f} s"
    )
    print(HEADER)
    base = {r.endpoint: r for r in rows if r.phase == "baseline"}
    for row in rows:
        print(row.render(None if row.phase == "baseline" else base[row.endpoint]))
    table = [row.cells(None if row.phase == "baseline" else base[row.endpoint]) for row in rows]
    title = "sequential reads; p50 x and p99 x: ratios to the baseline phase of this run"
    write_result("api_latency", command_line("benchmarks.api_latency"), [Table(COLUMNS, table, title)], notes)


def main() -> None:
    """Print the latency table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint and phase")
    parser.add_argument("--volunteers", type=int, default=4000)
    parser.add_argument("--beneficiaries", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0, help="the solved problem's time_limit_s")
    args = parser.parse_args()
    run(args.requests, args.volunteers, args.beneficiaries, args.seed, args.time_limit)


if __name__ == "__main__":
    main()
