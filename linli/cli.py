"""``linli``: the command line for coordinators and integrators.

Exit codes: 0 success, 1 an invalid plan (``validate``), 2 bad input; bad input always
prints exactly one ``error:`` line naming the field, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from matcher.errors import InputError


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line errors (``error: --time-limit: ...``)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _write(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text + "\n")
        return
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out: cannot write {out} ({exc.strerror})") from None


def cmd_solve(args: argparse.Namespace) -> int:
    """Solve a problem file and write its plan."""
    from matcher.io import load_problem
    from matcher.report import summary
    from matcher.solve import solve

    started = time.perf_counter()
    problem = load_problem(args.problem)
    # The limit counts from the start of the command: reading the file is part of it.
    limit = problem.time_limit_s if args.time_limit is None else args.time_limit
    remaining = max(0.05, limit - (time.perf_counter() - started))
    result = solve(problem, remaining, workers=args.workers)
    _write(result.plan.to_json(), args.out)
    if args.summary:
        print(summary(problem, result.plan), file=sys.stdout if args.out else sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a plan against a problem: exit 0 when valid, 1 with the violations listed."""
    from matcher.io import load_plan, load_problem
    from matcher.validate import validate_plan

    problem = load_problem(args.problem)
    plan = load_plan(args.plan)
    violations = validate_plan(problem, plan)
    for line in violations:
        print(line)
    if violations:
        print(f"invalid: {len(violations)} violation(s)", file=sys.stderr)
        return 1
    print(
        f"valid: {len(plan.assignments)} assignments, {len(plan.unmet)} unmet, "
        f"coverage {plan.objective.coverage}"
    )
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic city as a problem file."""
    from matcher.generate import generate_city

    problem = generate_city(args.volunteers, args.beneficiaries, args.districts, seed=args.seed)
    _write(problem.model_dump_json(indent=1, exclude_none=True), args.out)
    return 0


def parser() -> argparse.ArgumentParser:
    """The ``linli`` argument parser with all subcommands."""
    top = _Parser(prog="linli", description="Linli (邻里): volunteer-to-beneficiary matching.")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("solve", help="solve a problem file; the plan goes to stdout or --out")
    p.add_argument("problem", help="problem JSON (format 1)")
    p.add_argument("--out", help="write the plan here instead of stdout")
    p.add_argument(
        "--time-limit", type=_positive, help="wall-clock seconds (default: the problem's time_limit_s)"
    )
    p.add_argument("--workers", type=_count(1), help="CP-SAT search workers")
    p.add_argument("--summary", action="store_true", help="print coverage by category and district")
    p.set_defaults(run=cmd_solve)

    p = sub.add_parser("validate", help="check a plan against a problem (exit 1 when invalid)")
    p.add_argument("problem", help="problem JSON")
    p.add_argument("plan", help="plan JSON")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("generate", help="write a realistic synthetic city")
    p.add_argument("--volunteers", type=_count(0), required=True)
    p.add_argument("--beneficiaries", type=_count(0), required=True)
    p.add_argument(
        "--districts", type=_count(1), help="number of districts (default: about one per 500 volunteers)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write here instead of stdout")
    p.set_defaults(run=cmd_generate)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``linli`` console script."""
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # argument checks deeper down (e.g. the generator's)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
