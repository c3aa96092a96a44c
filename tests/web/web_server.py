"""A real ``linli serve`` for the browser tests and ``make screenshots``: SQLite in a temp dir, seeded.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make browser``), driven by
Playwright for Python; nothing is downloaded at run time (never ``playwright install``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"
BIN = Path(sys.executable).parent


@dataclass
class Server:
    """A running service: its base URL, the stations' and the centre's tokens."""

    url: str
    station: str
    station_token: str
    centre_token: str


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _linli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "linli"), *args], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


@contextmanager
def serve(
    directory: Path, volunteers: int = 60, beneficiaries: int = 45, districts: int = 2
) -> Iterator[Server]:
    """``linli seed``, ``linli token create`` and ``linli serve`` on a free port, stopped on exit."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{directory / 'linli.sqlite'}",
        "LINLI_SECRET_KEY_FILE": str(directory / "secret-key"),
        "LINLI_SOLVE_TIME_LIMIT": "5",
    }
    env.pop("LINLI_SECRET_KEY", None)  # the key is generated on first start
    centre = _linli(
        env,
        "seed",
        "--volunteers",
        str(volunteers),
        "--beneficiaries",
        str(beneficiaries),
        "--districts",
        str(districts),
    )
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        station = str(conn.execute(text("SELECT id FROM station ORDER BY id")).scalars().first())
    engine.dispose()
    token = _linli(env, "token", "create", "--station", station, "--label", "browser test")
    port = free_port()
    log = (directory / "serve.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "linli"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > end:
                    raise RuntimeError((directory / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield Server(url, station, token, centre)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def station_log_in(page: Page, server: Server, label: str | None = None) -> None:
    """Log in with the station's token from ``/`` (which sends to ``/login``): into the field
    labelled ``label``, or the token field whatever the page's language; the station's overview opens."""
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    field = page.get_by_label(label) if label is not None else page.locator("input[type=password]")
    field.fill(server.station_token)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/s/{server.station}/$"))
