"""Server time of the coordinators' pages, and from clicking 生成排班 to the grid.

Run ``python -m benchmarks.web_pages`` from the repository root (a few minutes).  For each
size it seeds an SQLite database in a temporary directory with ``linli seed`` (``station``:
one station of 300 volunteers; ``centre``: 4,000 volunteers in 20 stations), starts the real
server with ``linli serve``, logs in through the login page with a centre token (a session
cookie, as a browser would), generates the first station's week from its page and then
sends sequential requests, over keep-alive connections:

* ``GET /v1/stations`` (the API's cheapest authenticated read: the baseline of the run);
* the pages a coordinator reads: 本周概览 ``/s/{id}/``, 排班表 ``/s/{id}/grid``, 未满足需求
  ``/s/{id}/unmet``, 人员 (the volunteers' list, first page and a search), and the centre's
  station list ``/stations``; each row gives p50/p95/max
  and its p50 as a multiple of the baseline's.

生成排班 to the grid is timed as a browser does it (after one untimed first job, which also
pays for the job process's first solve): ``POST /s/{id}/generate`` (the form),
the progress page, its panel polled every second (as HTMX does) until it answers with
``HX-Redirect``, then the grid, once with nothing else running and once while an
integrator's city solve (``generate_city(4000, 3000)``, 60 s limit, ``POST /v1/solve``) runs
on the same service; the table gives both and their ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.api_latency import free_port, linli, start_server, stop_server, wait_for_server, wait_until
from benchmarks.results import Table, command_line, write_result
from matcher.synth.generate import generate_city

WEEK = "2026-12-07"
SIZES: dict[str, tuple[int, int, int]] = {"station": (300, 225, 1), "centre": (4000, 3000, 20)}
"""Size name -> (volunteers, beneficiaries, districts) of ``linli seed`` (a station a district)."""

PANEL_POLL_S = 1.0
"""How often the progress page's panel polls (``hx-trigger="every 1s"`` in panel.html)."""

COLUMNS = ("size", "page", "n", "p50 ms", "p95 ms", "max ms", "p50 x")
GENERATE_COLUMNS = ("size", "while", "click to grid s", "x")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Row:
    """Server times of one page (seconds)."""

    size: str
    page: str
    seconds: list[float]

    def cells(self, baseline: Row | None) -> list[Any]:
        """The table row: p50, p95 and max in ms, p50 against the baseline's."""
        ordered = sorted(self.seconds)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        ratio = None if baseline is None else round(p50 / statistics.median(baseline.seconds), 2)
        return [
            self.size,
            self.page,
            len(ordered),
            round(p50 * 1e3, 2),
            round(p95 * 1e3, 2),
            round(ordered[-1] * 1e3, 2),
            ratio,
        ]


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1)


def log_in(client: httpx.Client, token: str) -> None:
    """Log in through the login page (its CSRF token, the pasted token); the client keeps the cookie."""
    form = client.get("/login")
    form.raise_for_status()
    r = client.post("/login", data={"token": token, "csrf_token": csrf_of(form.text)})
    if r.status_code != 303:
        raise RuntimeError(f"login answered {r.status_code}")


def timed(client: httpx.Client, path: str, n: int) -> list[float]:
    """``n`` sequential GETs of ``path`` (each must answer 200); their wall times."""
    client.get(path).raise_for_status()  # warm
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path)
        out.append(time.perf_counter() - t)
        r.raise_for_status()
    return out


def generate_to_grid(client: httpx.Client, station: str) -> float:
    """Seconds from the 生成排班 click to the grid's page, polling the panel as HTMX does."""
    overview = client.get(f"/s/{station}/?week={WEEK}")
    overview.raise_for_status()
    t = time.perf_counter()
    r = client.post(f"/s/{station}/generate", data={"week": WEEK, "csrf_token": csrf_of(overview.text)})
    if r.status_code != 303:
        raise RuntimeError(f"generate answered {r.status_code}: {r.text[:300]}")
    progress = r.headers["location"]
    client.get(progress).raise_for_status()
    while True:
        panel = client.get(progress + "/panel", headers={"HX-Request": "true"})
        panel.raise_for_status()
        target = panel.headers.get("HX-Redirect")
        if target is not None:
            client.get(target).raise_for_status()
            return time.perf_counter() - t
        if 'class="state state-' in panel.text and "hx-get" not in panel.text:
            raise RuntimeError(f"the job ended without a plan: {panel.text[:300]}")
        time.sleep(PANEL_POLL_S)


def run_size(size: str, n: int, with_city: bool) -> tuple[list[list[Any]], list[list[Any]], list[str]]:
    """Seed, serve, measure one size; its page rows, its generate rows and notes."""
    volunteers, beneficiaries, districts = SIZES[size]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="linli-pages-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'linli.sqlite'}"}
        seeded = linli(
            "seed",
            "--volunteers",
            str(volunteers),
            "--beneficiaries",
            str(beneficiaries),
            "--districts",
            str(districts),
            env=env,
        )
        token = seeded.stdout.strip().splitlines()[-1]
        port = free_port()
        server = start_server(env, port, Path(tmp) / "server.log")
        try:
            base = f"http://127.0.0.1:{port}"
            bearer = {"Authorization": f"Bearer {token}"}
            with (
                httpx.Client(base_url=base, timeout=300) as pages,
                httpx.Client(base_url=base, headers=bearer, timeout=300) as api,
            ):
                wait_for_server(api, server, 60)
                stations = api.get("/v1/stations").json()
                station = stations[0]["id"]
                people = api.get(f"/v1/stations/{station}/volunteers").json()
                log_in(pages, token)
                # The first job of a server also pays for its process's first solve (lazy
                # imports, solver start-up): timed apart, then the comparable runs.
                first = generate_to_grid(pages, station)
                notes.append(f"{size}: the server's first 生成排班 to grid {first:.2f} s")
                idle = generate_to_grid(pages, station)
                note = (
                    f"{size}: {len(stations)} station(s); {station} has {len(people)} volunteers; "
                    f"生成排班 to grid {idle:.2f} s with nothing else running"
                )
                notes.append(note)
                print(f"# {note}", flush=True)
                rows = [Row(size, "GET /v1/stations (baseline)", timed(api, "/v1/stations", n))]
                for label, path in (
                    ("本周概览 /s/{id}/", f"/s/{station}/?week={WEEK}"),
                    ("排班表 /s/{id}/grid", f"/s/{station}/grid?week={WEEK}"),
                    ("未满足需求 /s/{id}/unmet", f"/s/{station}/unmet?week={WEEK}"),
                    ("人员 /s/{id}/people", f"/s/{station}/people?kind=volunteers"),
                    ("人员 search", f"/s/{station}/people?kind=volunteers&q=v01"),
                    ("站点 /stations", "/stations"),
                ):
                    rows.append(Row(size, label, timed(pages, path, n)))
                generate = [[size, "nothing else", round(idle, 2), 1.0]]
                if with_city:
                    busy = _while_city_solves(api, pages, station)
                    generate.append(
                        [size, "a 4,000-volunteer city solve", round(busy, 2), round(busy / idle, 2)]
                    )
                    notes.append(f"{size}: 生成排班 to grid {busy:.2f} s while a city solve ran")
        finally:
            stop_server(server)
    table = [row.cells(None if i == 0 else rows[0]) for i, row in enumerate(rows)]
    return table, generate, notes


def _while_city_solves(api: httpx.Client, pages: httpx.Client, station: str) -> float:
    """生成排班 to the grid while an integrator's city solve runs; the solve is cancelled after."""
    problem = generate_city(4000, 3000, seed=1, time_limit_s=60)
    r = api.post(
        "/v1/solve",
        content=problem.model_dump_json(exclude_none=True),
        headers={"Content-Type": "application/json"},
    )
    r.raise_for_status()
    job = r.json()["id"]
    wait_until(api, f"/v1/plans/{job}", lambda b: b["state"] != "queued", 120)  # solving now
    try:
        return generate_to_grid(pages, station)
    finally:
        api.delete(f"/v1/plans/{job}")


def main() -> None:
    """Print the tables and write the dated result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="station,centre", help="comma-separated: station, centre")
    parser.add_argument("--requests", type=int, default=100, help="requests per page")
    parser.add_argument("--no-city", action="store_true", help="skip 生成排班 during a city solve")
    args = parser.parse_args()
    pages: list[list[Any]] = []
    generate: list[list[Any]] = []
    notes: list[str] = []
    for size in args.sizes.split(","):
        if size not in SIZES:
            print(f"error: --sizes: unknown size {size!r} (station, centre)", file=sys.stderr)
            raise SystemExit(2)
        p, g, n = run_size(size, args.requests, with_city=not args.no_city and size == "station")
        pages += p
        generate += g
        notes += n
    for row in pages:
        print("  ".join(str(c) for c in row))
    for row in generate:
        print("  ".join(str(c) for c in row))
    write_result(
        "web_pages",
        command_line("benchmarks.web_pages"),
        [
            Table(
                COLUMNS,
                pages,
                "sequential page reads with a session cookie; p50 x: to the API baseline of the same run",
            ),
            Table(
                GENERATE_COLUMNS,
                generate,
                "POST generate, progress page, panel polled every 1 s, grid; x: to the idle run",
            ),
        ],
        notes,
    )


if __name__ == "__main__":
    main()
