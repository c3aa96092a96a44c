"""The lock file (``requirements.lock``, written by ``make lock``) is in step with ``pyproject.toml``.

``make run`` and ``make test`` install the locked set, so a dependency added to ``pyproject.toml``
without ``make lock`` would be missing (or unpinned) on a fresh machine. These checks read files only
(no network): every dependency named in ``pyproject.toml`` (runtime and the ``dev`` extra, and what their
extras pull in) is locked at a version its specifier allows; every package the lock holds as a direct
dependency is still named in ``pyproject.toml``; and the environment running the tests has exactly the
locked versions. ``make lock-check`` resolves again to catch the rest (it needs the package index).
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _locked() -> tuple[dict[str, str], set[str]]:
    """The lock's pins (canonical name -> version) and the packages it holds for pyproject.toml directly."""
    pins: dict[str, str] = {}
    direct: set[str] = set()
    current: str | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            current = canonicalize_name(m.group(1))
            pins[current] = m.group(2)
        elif current and line.strip().startswith("#") and "linli (pyproject.toml)" in line:
            direct.add(current)
    return pins, direct


def _declared() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    names = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return [Requirement(r) for r in names]


def test_every_declared_dependency_is_locked_at_an_allowed_version() -> None:
    pins, _ = _locked()
    problems = []
    for req in _declared():
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req} is not in requirements.lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req} is locked at {pins[name]}")
    assert not problems, "; ".join(problems) + ": run `make lock`"


def test_what_declared_extras_pull_in_is_locked() -> None:
    pins, _ = _locked()
    missing = []
    for req in _declared():
        for extra in req.extras:
            for sub in importlib.metadata.requires(req.name) or []:
                dep = Requirement(sub)
                wanted = dep.marker is not None and dep.marker.evaluate({"extra": extra})
                if wanted and canonicalize_name(dep.name) not in pins:
                    missing.append(f"{dep.name} (from {req.name}[{extra}])")
    assert not missing, f"not in requirements.lock: {missing}: run `make lock`"


def test_nothing_is_locked_for_a_dependency_pyproject_no_longer_names() -> None:
    _, direct = _locked()
    declared = {canonicalize_name(r.name) for r in _declared()}
    stale = sorted(direct - declared)
    assert not stale, f"requirements.lock holds {stale} for pyproject.toml, which names none of them"


def test_the_environment_has_the_locked_versions() -> None:
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not run from the environment `make` installs (.venv)")
    pins, _ = _locked()
    wrong = []
    for name, version in sorted(pins.items()):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name} missing (locked {version})")
            continue
        if installed != version:
            wrong.append(f"{name} {installed} (locked {version})")
    assert not wrong, f"installed versions differ from requirements.lock: {wrong}: run `make`"
