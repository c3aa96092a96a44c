"""Fixtures shared by the tests (builders live in ``helpers.py``, ``api_support.py`` and
``web/web_server.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Doc, load_example_doc, to_problem
from helpers import make_problem as _make_problem

from matcher.format.schema import Problem


@pytest.fixture
def example_doc() -> Doc:
    """The example problem (``examples/example-problem.json``) as a fresh dict."""
    return load_example_doc()


@pytest.fixture
def example_problem(example_doc: Doc) -> Problem:
    """The example problem, validated."""
    return to_problem(example_doc)


@pytest.fixture
def make_problem() -> Callable[..., Doc]:
    """Builder of tiny problem dicts: ``make_problem(volunteers=[...], reach="same", ...)``."""

    def build(**overrides: Any) -> Doc:
        return _make_problem(**overrides)

    return build


# ------------------------------------------------------------------------ service (api/)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database, once on SQLite and once on PostgreSQL.

    For a test that asks for ``city`` too, it holds the city already: a copy of a database seeded
    once per test process (``city`` then seeds nothing), so both name the same database.
    """
    from api_support import DEMO, database_url

    yield from database_url(request.param, tmp_path, DEMO if "city" in request.fixturenames else None)


@pytest.fixture
def city(db_url: str) -> Iterator[Any]:
    """A seeded demo city (2 stations) behind a TestClient, with a token per station and the centre."""
    from api_support import seeded_city

    yield from seeded_city(db_url)


# ------------------------------------------------------------------------ web pages in a browser (web/)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, headless, one per test module (nothing is
    downloaded: ``make browser`` installs it; the browser test modules skip without it)."""
    from playwright.sync_api import sync_playwright
    from web_server import CHROMIUM

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()
