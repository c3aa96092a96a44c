"""The code's shape at one or more git revisions: largest function and file, README length.

``python -m benchmarks.structure REV [REV ...]`` extracts each revision with ``git archive``
into a temporary folder and prints, for the packages that ship (everything but tests and
benchmarks):

* the largest function or method (lines from its ``def`` to its last line);
* the largest file (lines);
* how many Python modules there are and how many lines in all;
* the README's lines and words;
* findings of ruff's complexity and size rules at the project's caps, ignoring the
  per-file exceptions (so the count is comparable between revisions).

Issue 16 reports these before and after the redesign.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

#: Folders that are not shipped code.
SKIP = ("tests", "benchmarks", "migrations", ".ci", "docs", "examples")
#: The caps of pyproject.toml's [tool.ruff.lint], passed explicitly so old revisions are judged alike.
CAPS = (
    "lint.mccabe.max-complexity=12",
    "lint.pylint.max-returns=8",
    "lint.pylint.max-branches=15",
    "lint.pylint.max-args=8",
    "lint.pylint.max-statements=60",
)


@dataclass
class Shape:
    """What one revision looks like."""

    revision: str
    largest_function: str
    largest_function_lines: int
    largest_file: str
    largest_file_lines: int
    modules: int
    lines: int
    readme_lines: int
    readme_words: int
    complexity_findings: int


def _shipped(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*.py")
        if not any(part in SKIP or part.startswith(".") for part in p.relative_to(root).parts)
    )


def _largest_function(root: Path, files: list[Path]) -> tuple[str, int]:
    best = ("", 0)
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                size = node.end_lineno - node.lineno + 1
                if size > best[1]:
                    best = (f"{path.relative_to(root)}:{node.name}", size)
    return best


def _findings(root: Path, files: list[Path]) -> int:
    cmd = [sys.executable, "-m", "ruff", "check", "--isolated", "--output-format", "json", "--exit-zero"]
    cmd += ["--select", "C901,PLR0911,PLR0912,PLR0913,PLR0915"]
    for cap in CAPS:
        cmd += ["--config", cap]
    out = subprocess.run([*cmd, *map(str, files)], capture_output=True, text=True, check=True, cwd=root)
    return len(json.loads(out.stdout))


def measure(revision: str) -> Shape:
    """Extract ``revision`` and measure it."""
    archive = subprocess.run(["git", "archive", revision], capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
        files = _shipped(root)
        sizes = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in files}
        biggest = max(sizes, key=lambda p: sizes[p])
        func, func_lines = _largest_function(root, files)
        readme = (root / "README.md").read_text(encoding="utf-8")
        return Shape(
            revision=subprocess.run(
                ["git", "rev-parse", "--short", revision], capture_output=True, text=True, check=True
            ).stdout.strip(),
            largest_function=func,
            largest_function_lines=func_lines,
            largest_file=str(biggest.relative_to(root)),
            largest_file_lines=sizes[biggest],
            modules=len(files),
            lines=sum(sizes.values()),
            readme_lines=len(readme.splitlines()),
            readme_words=len(readme.split()),
            complexity_findings=_findings(root, files),
        )


def main(argv: list[str] | None = None) -> None:
    """Print one row per revision (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("revisions", nargs="+", help="git revisions, e.g. fe4fd1b HEAD")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    shapes = [measure(r) for r in args.revisions]
    if args.json:
        print(json.dumps([asdict(s) for s in shapes], indent=2))
        return
    for s in shapes:
        print(
            f"{s.revision}: largest function {s.largest_function} ({s.largest_function_lines} lines); "
            f"largest file {s.largest_file} ({s.largest_file_lines} lines); {s.modules} modules, "
            f"{s.lines} lines; README {s.readme_lines} lines, {s.readme_words} words; "
            f"{s.complexity_findings} complexity findings at the caps"
        )


if __name__ == "__main__":
    main()
