"""``linli``: the command line for coordinators and integrators.

Exit codes: 0 success, 1 an invalid plan (``validate``), 2 bad input; bad input always
prints exactly one ``error:`` line naming the field, never a traceback.
"""

from __future__ import annotations

import time

_IMPORTED = time.perf_counter()  # before anything else this module imports

import argparse  # noqa: E402
import contextvars  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NoReturn  # noqa: E402

from matcher.format.errors import InputError  # noqa: E402


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


def _standins(text: str) -> int:
    """``--standins K``: 1 .. the format's bound on one session's list."""
    from matcher.format.bounds import STANDINS_MAX

    value = _count(1)(text)
    if value > STANDINS_MAX:
        raise argparse.ArgumentTypeError(f"must be <= {STANDINS_MAX}, got {value}")
    return value


def _write(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text + "\n")
        return
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out: cannot write {out} ({exc.strerror})") from None


def _remaining(started: float, option: float | None, default: float) -> float:
    """Seconds left of the limit, which counts from the start of the command.

    Reading the files is part of the limit, so a coordinator's ``--time-limit 5``
    means five seconds of waiting, not five seconds of solving; so are starting Python
    and importing the solver, and writing the plan and exiting (EXIT_MARGIN_S).
    """
    limit = default if option is None else option
    margin = min(EXIT_MARGIN_S, EXIT_MARGIN_SHARE * limit)
    return max(0.05, limit - margin - (time.perf_counter() - started))


EXIT_MARGIN_S = 0.25
EXIT_MARGIN_SHARE = 0.02
"""Kept back from the limit for writing the plan and the interpreter's exit (at most
this long and this share of the limit): ``linli solve --time-limit 60`` on a
4,000-volunteer city, timed from the shell, took 60.82 s with neither the imports nor
this margin counted."""


def _process_started() -> float:
    """``time.perf_counter()`` when this process started (Linux), else when this module
    was imported: for the console script, the limit counts from the coordinator's
    command, the interpreter's start and the solver's imports (0.6 s) included."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        # field 22, starttime, in clock ticks since boot; fields[0] is field 3
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED
    began = time.perf_counter() - age
    # Only a command's own process: one that started long before this import (a server,
    # a test run) counts from the import.  (Start times are whole clock ticks, 10 ms.)
    return min(began, _IMPORTED) if -0.05 <= _IMPORTED - began < 5.0 else _IMPORTED


def cmd_solve(args: argparse.Namespace) -> int:
    """Solve a problem file (format 1 or 2) and write its plan (in the problem's format)."""
    from linli.progress import shown
    from matcher.format.io import load_any_problem
    from matcher.format.report import summary, summary2
    from matcher.format.schema import Problem
    from matcher.solve import solve, solve_any

    problem = load_any_problem(args.problem)
    if isinstance(problem, Problem):
        with shown(args.progress) as on_progress:
            result = solve(
                problem,
                _remaining(args.started, args.time_limit, problem.time_limit_s),
                workers=args.workers,
                on_progress=on_progress,
            )
        plan = result.plan
        if args.standins:
            from matcher.standins import standins, with_standins

            # Only when asked: the default plan is byte for byte the format-1 plan without them.
            plan = with_standins(plan, standins(problem, plan, args.standins))
        _write(plan.to_json(), args.out)
        if args.summary:
            print(summary(problem, result.plan), file=sys.stdout if args.out else sys.stderr)
        return 0
    with shown(args.progress) as on_progress:
        any_result = solve_any(
            problem,
            _remaining(args.started, args.time_limit, problem.time_limit_s),
            workers=args.workers,
            on_progress=on_progress,
        )
    plan2 = any_result.plan
    if args.standins:
        from matcher.format.schema import Plan2
        from matcher.standins_posts import standins2, with_standins2

        assert isinstance(plan2, Plan2)
        plan2 = with_standins2(plan2, standins2(problem, plan2, args.standins))
    _write(plan2.to_json(), args.out)
    if args.summary:
        print(summary2(problem, any_result.plan), file=sys.stdout if args.out else sys.stderr)  # type: ignore[arg-type]
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a plan against a problem (either format): exit 0 when valid, 1 with the violations listed."""
    from matcher.format.io import load_any_plan, load_any_problem
    from matcher.format.schema import Plan, Problem
    from matcher.format.validate import validate_plan
    from matcher.format.validate2 import validate_plan2

    problem = load_any_problem(args.problem)
    plan = load_any_plan(args.plan)
    if isinstance(problem, Problem) and isinstance(plan, Plan):
        violations = validate_plan(problem, plan)
    elif not isinstance(problem, Problem) and not isinstance(plan, Plan):
        violations = validate_plan2(problem, plan)
    else:
        raise InputError(f"{args.plan}: format {plan.format} plan for a format {problem.format} problem")
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


def cmd_resolve(args: argparse.Namespace) -> int:
    """Re-solve after a change set: keep what still holds, refill, list what changed."""
    from linli.progress import shown
    from matcher.format.io import load_any_plan, load_any_problem, load_changes
    from matcher.format.schema import Plan, Problem
    from matcher.resolve import resolve
    from matcher.resolve_posts import resolve_posts

    problem = load_any_problem(args.problem)
    plan = load_any_plan(args.plan)
    changes = load_changes(args.changes)
    if not isinstance(problem, Problem) or not isinstance(plan, Plan):
        if isinstance(problem, Problem) or isinstance(plan, Plan):
            raise InputError(f"{args.plan}: format {plan.format} plan for a format {problem.format} problem")
        with shown(args.progress) as on_progress:
            plan2 = resolve_posts(
                problem,
                plan,
                changes,
                _remaining(args.started, args.time_limit, problem.time_limit_s),
                on_progress,
            )
        _write(plan2.to_json(), args.out)
        if args.summary:
            print(
                f"{plan2.status}: coverage {plan2.objective.coverage} "
                f"(bound {plan2.objective.coverage_bound}); changed {len(plan2.changed or [])}",
                file=sys.stdout if args.out else sys.stderr,
            )
        return 0
    with shown(args.progress) as on_progress:
        result = resolve(
            problem,
            plan,
            changes,
            _remaining(args.started, args.time_limit, problem.time_limit_s),
            allow_moves=args.allow_moves,
            workers=args.workers,
            on_progress=on_progress,
        )
    _write(result.plan.to_json(), args.out)
    if args.summary:
        changed = result.plan.changed or []
        print(
            f"{result.status}: coverage {result.plan.objective.coverage} "
            f"(bound {result.plan.objective.coverage_bound}); kept {result.kept}, "
            f"freed {len(result.freed)}, moved {len(result.moved)}, changed {len(changed)}; "
            f"{result.solve_seconds:.2f} s",
            file=sys.stdout if args.out else sys.stderr,
        )
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    """Write the changed problem: a problem with a change set applied."""
    from matcher.format.changes import apply_changes
    from matcher.format.io import load_any_problem, load_changes
    from matcher.format.schema import Problem, Problem2
    from matcher.resolve_posts import apply_changes2

    problem = load_any_problem(args.problem)
    changes = load_changes(args.changes)
    changed: Problem | Problem2
    if isinstance(problem, Problem):
        changed = apply_changes(problem, changes)
    else:
        changed = apply_changes2(problem, changes)
    _write(changed.model_dump_json(indent=1, exclude_none=True), args.out)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic city as a problem file."""
    from matcher.synth.generate import generate_city, generate_city_with_posts

    if args.posts is not None:
        city = generate_city_with_posts(
            args.volunteers, args.beneficiaries, args.districts, seed=args.seed, posts=args.posts
        )
        _write(city.model_dump_json(indent=1, exclude_none=True), args.out)
        return 0
    problem = generate_city(args.volunteers, args.beneficiaries, args.districts, seed=args.seed)
    _write(problem.model_dump_json(indent=1, exclude_none=True), args.out)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run a scenario's Monte Carlo solves; write report.json, charts and summary.md to --out."""
    from scenarios.output import write_report
    from scenarios.progress import ProgressBar
    from scenarios.simulate import simulate_file

    out = Path(args.out) if args.out else Path("simulate-" + Path(args.scenario).stem)
    with ProgressBar() as bar:
        sim = simulate_file(
            args.scenario, runs=args.runs, workers=args.workers, cluster=args.cluster, progress=bar
        )
    write_report(sim.report, out)
    pct = {k: "-" if v is None else f"{v:.1f}%" for k, v in sim.report["total"]["coverage_pct"].items()}
    runs = sim.report["runs"]
    print(
        f"{sim.scenario.name}: coverage {pct['mean']} mean (p5 {pct['p5']}, p95 {pct['p95']}), "
        f"base {pct['base']}; {runs['settled']}/{runs['count']} runs settled; {sim.seconds:.1f} s; "
        f"report in {out}/"
    )
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Put scenarios side by side: each a scenario YAML (simulated now) or a simulate output directory."""
    from scenarios.output import compare_table, load_report, write_report
    from scenarios.progress import ProgressBar
    from scenarios.simulate import simulate_file

    if len(args.scenarios) < 2:
        raise InputError("scenarios: give at least two to compare")
    reports = []
    for name in args.scenarios:
        path = Path(name)
        if path.suffix in (".yaml", ".yml"):
            with ProgressBar() as bar:
                sim = simulate_file(
                    path, runs=args.runs, workers=args.workers, cluster=args.cluster, progress=bar
                )
            reports.append(sim.report)
            if args.out:
                write_report(sim.report, Path(args.out) / path.stem)
        else:
            reports.append(load_report(path))
    table = compare_table(reports)
    if args.out:
        _write(table.rstrip("\n"), str(Path(args.out) / "compare.md"))
    sys.stdout.write(table)
    return 0


def _database(command_writes: bool = True) -> str:
    """The service's database URL, migrated to the latest schema.

    ``command_writes``: this command's writes are the command line's in the audit log
    (``cli:<user>``); ``serve`` and ``worker`` say no: their requests and jobs are their own actors.
    """
    from api.migrate import upgrade
    from api.settings import get_settings

    if command_writes:
        from api.audit import cli_actor, current_actor

        current_actor.set(cli_actor())
    url = get_settings().database_url
    upgrade(url)
    return url


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate the database, then serve the coordinator API (and run jobs, unless --no-worker)."""
    import uvicorn

    from api.logs import log_config
    from api.main import create_app

    _database(command_writes=False)
    app = create_app(workers=False if args.no_worker else None)
    # The engine's libraries leave about a million long-lived objects behind their imports; a
    # full collection walking them stalls every request for ~100 ms every few seconds (page
    # and API p95/p99).  Frozen, the collector leaves them out (they live as long as the server).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level, log_config=log_config(args.log_level)
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run jobs only: claim queued plan versions and simulations from the database until SIGTERM or Ctrl-C."""
    import signal

    from api.db import make_engine
    from api.jobs import Worker, say_ready
    from api.settings import get_settings

    settings = get_settings()
    engine = make_engine(_database(command_writes=False))
    slots = args.processes or settings.solve_processes
    worker = Worker(
        engine, slots, lease=settings.job_lease, attempts=settings.job_attempts, on_ready=say_ready
    )

    def stop(_signum: int, _frame: object) -> None:
        worker.stop()  # the loop, on this thread, ends at its next wake-up

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"worker {worker.name}: {slots} solve process(es)", file=sys.stderr, flush=True)
    worker.run()
    engine.dispose()
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    """Send the outbox's webhook deliveries that are due: once (cron), or until SIGTERM or Ctrl-C."""
    import signal

    from api.db import make_engine
    from api.delivery import Dispatcher
    from api.settings import get_settings

    settings = get_settings()
    engine = make_engine(_database(command_writes=False))
    dispatcher = Dispatcher.from_settings(engine, settings)
    try:
        if args.once:
            dispatcher.drain(timeout=args.timeout)
        else:
            signal.signal(signal.SIGTERM, lambda *_: dispatcher.halt())
            signal.signal(signal.SIGINT, lambda *_: dispatcher.halt())
            dispatcher.run()
    finally:
        dispatcher.close()
        engine.dispose()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Create an API token; the secret is printed once (only its digest is stored)."""
    from sqlmodel import Session

    from api.auth import create_token
    from api.db import make_engine

    with Session(make_engine(_database())) as session:
        secret = create_token(session, None if args.centre else args.station, args.label)
    print(secret)
    return 0


def _when(moment: object) -> str:
    return "-" if moment is None else str(moment)[:19]


def cmd_token_list(args: argparse.Namespace) -> int:
    """List tokens (never their secrets): id, scope, label, created, last used, revoked."""
    from sqlmodel import Session

    from api.auth import list_tokens
    from api.db import make_engine

    with Session(make_engine(_database())) as session:
        tokens = list_tokens(session, args.station)
    print("id\tscope\tlabel\tcreated\tlast_used\trevoked")
    for t in tokens:
        scope = "centre" if t.station_id is None else f"station {t.station_id}"
        print(
            f"{t.id}\t{scope}\t{t.label}\t{_when(t.created_at)}\t{_when(t.last_used_at)}\t{_when(t.revoked_at)}"
        )
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id: from then on it gets 401."""
    from sqlmodel import Session

    from api.auth import revoke_token
    from api.db import make_engine
    from api.models import Token

    with Session(make_engine(_database())) as session:
        token = session.get(Token, args.id)
        if token is None:
            raise InputError(f"id: no token {args.id}")
        revoke_token(session, token)
    print(f"token {args.id} revoked")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Fill an empty database with a generated demo city; prints a centre token."""
    from sqlmodel import Session, select

    from api.auth import create_token
    from api.db import make_engine
    from api.models import Centre
    from api.seed import seed_demo

    with Session(make_engine(_database())) as session:
        if args.if_empty and session.exec(select(Centre)).first() is not None:
            print("the database already holds a city: not seeding", file=sys.stderr)
            return 0
        stations = seed_demo(
            session, args.volunteers, args.beneficiaries, args.districts, args.seed, posts=args.posts
        )
        secret = create_token(session, None, "demo centre token")
    print(f"seeded {len(stations)} stations: {', '.join(stations)}", file=sys.stderr)
    if not args.if_empty:
        print(secret)
    return 0


def cmd_certificate(args: argparse.Namespace) -> int:
    """Issue a volunteer's 志愿服务证明 of a period from the service database; write the PDF."""
    from sqlmodel import Session

    from api.db import make_engine
    from api.models import Station, Volunteer
    from api.pdf import certificate_pdf
    from api.services import certificates
    from api.settings import get_settings
    from matcher.format.bounds import is_id

    start = certificates.parse_day("--from", args.start)
    end = certificates.parse_day("--to", args.end)
    if start > end:
        raise InputError(f"--from: {start} is after --to ({end})")
    with Session(make_engine(_database())) as session:
        volunteer = session.get(Volunteer, args.volunteer) if is_id(args.volunteer) else None
        if volunteer is None:
            raise InputError(f"volunteer: no volunteer '{args.volunteer}'")
        if args.station is not None:
            if not is_id(args.station) or session.get(Station, args.station) is None:
                raise InputError(f"--station: no station '{args.station}'")
            if volunteer.station_id != args.station:
                raise InputError(f"volunteer: no volunteer '{args.volunteer}' at station '{args.station}'")
        out = Path(args.out)
        try:  # opened before the certificate is issued: an unwritable --out issues nothing
            out.parent.mkdir(parents=True, exist_ok=True)
            handle = out.open("wb")
        except OSError as exc:
            raise InputError(f"--out: cannot write {out} ({exc.strerror})") from None
        with handle:
            data = certificates.issue(session, volunteer, start, end, None, get_settings().star_hours)
            handle.write(certificate_pdf(data))
    cert = data.certificate
    print(
        f"{out}: certificate {cert.code}, {cert.sessions} sessions, {cert.hours:g} h "
        f"({cert.period_start} .. {cert.period_end})",
        file=sys.stderr,
    )
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    """Write a station's (or, with --centre, every station's) year ledger workbook (年度台账.xlsx)."""
    from sqlmodel import Session, col, select

    from api.db import make_engine
    from api.models import Station
    from api.services.ledger import CENTRE, YEAR_MAX, YEAR_MIN, build_ledger
    from api.services.ledger_book import workbook
    from api.settings import get_settings

    if not YEAR_MIN <= args.year <= YEAR_MAX:
        raise InputError(f"--year: must be {YEAR_MIN}-{YEAR_MAX}, got {args.year}")
    with Session(make_engine(_database())) as session:
        if args.centre:
            stations = list(session.exec(select(Station).order_by(col(Station.id))))
        else:
            station = session.get(Station, args.station)
            if station is None:
                raise InputError(f"--station: no station {args.station!r}")
            stations = [station]
        scope = CENTRE if args.centre else args.station
        ledger = build_ledger(session, stations, args.year, get_settings().star_hours, scope)
    try:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_bytes(workbook(ledger))
    except OSError as exc:
        raise InputError(f"--out: cannot write {args.out} ({exc.strerror})") from None
    print(
        f"{args.out}: {len(ledger.sessions)} sessions, {ledger.total.hours:g} h, "
        f"{len(ledger.volunteers)} volunteers, {len(ledger.beneficiaries)} beneficiaries",
        file=sys.stderr,
    )
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    """Make (--new: revoking the old one; prints it) or revoke (--revoke) a volunteer's calendar link."""
    import re

    from sqlmodel import Session

    from api.db import make_engine
    from api.models import Volunteer
    from api.services import calendars
    from api.services.errors import ConflictError
    from api.settings import PUBLIC_URL_PATTERN, get_settings
    from matcher.format.bounds import is_id

    base = args.base_url or get_settings().public_url
    if args.new and base is None:
        raise InputError(
            "--base-url: needed to print the link (or set LINLI_PUBLIC_URL), e.g. https://linli.example.org"
        )
    if base is not None and not re.match(PUBLIC_URL_PATTERN, base):
        raise InputError(f"--base-url: expected http(s)://host[/path], got {base!r}")
    with Session(make_engine(_database())) as session:
        volunteer = session.get(Volunteer, args.volunteer) if is_id(args.volunteer) else None
        if volunteer is None:
            raise InputError(f"volunteer: no volunteer '{args.volunteer}'")
        if args.revoke:
            revoked = calendars.revoke_link(session, volunteer)
            done = "revoked" if revoked else "none live: nothing to revoke"
            print(f"calendar link of {args.volunteer}: {done}")
            return 0
        try:
            _feed, secret = calendars.issue_link(session, volunteer)
        except ConflictError as exc:
            raise InputError(exc.message) from None
    assert base is not None
    url, webcal = calendars.subscription_urls(base, secret)
    print(url)
    print(
        f"the calendar link of {args.volunteer}, shown this once (an earlier link is revoked); "
        f"a phone subscribes by opening {webcal}",
        file=sys.stderr,
    )
    return 0


PROGRESS_HELP = "show the search's progress on stderr: elapsed, stage, coverage, bound and gap"


def parser() -> argparse.ArgumentParser:
    """The ``linli`` argument parser with all subcommands."""
    top = _Parser(prog="linli", description="Linli (邻里): volunteer-to-beneficiary matching.")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("solve", help="solve a problem file; the plan goes to stdout or --out")
    p.add_argument("problem", help="problem JSON (format 1 or 2)")
    p.add_argument("--out", help="write the plan here instead of stdout")
    p.add_argument(
        "--time-limit", type=_positive, help="wall-clock seconds (default: the problem's time_limit_s)"
    )
    p.add_argument("--workers", type=_count(1), help="CP-SAT search workers")
    p.add_argument("--summary", action="store_true", help="print coverage by category and district")
    p.add_argument("--progress", action="store_true", help=PROGRESS_HELP)
    p.add_argument(
        "--standins",
        type=_standins,
        metavar="K",
        help="list up to K ranked stand-ins for each session of the plan, each member of a group post "
        "(the optional 'standins' field)",
    )
    p.set_defaults(run=cmd_solve)

    p = sub.add_parser(
        "resolve", help="re-solve after cancellations: keep what still holds, list what changed"
    )
    p.add_argument("problem", help="the problem the plan in force was made for")
    p.add_argument("--plan", required=True, help="the plan in force (JSON)")
    p.add_argument("--changes", required=True, help="the change set (JSON)")
    p.add_argument("--out", help="write the new plan here instead of stdout")
    p.add_argument(
        "--time-limit", type=_positive, help="wall-clock seconds (default: the problem's time_limit_s)"
    )
    p.add_argument(
        "--allow-moves",
        type=_count(0),
        default=0,
        metavar="K",
        help="also move up to K kept assignments when that raises coverage (fewest moves first)",
    )
    p.add_argument("--workers", type=_count(1), help="CP-SAT search workers")
    p.add_argument("--summary", action="store_true", help="print kept, freed, moved and changed counts")
    p.add_argument("--progress", action="store_true", help=PROGRESS_HELP)
    p.set_defaults(run=cmd_resolve)

    p = sub.add_parser("apply", help="write the changed problem: a problem with a change set applied")
    p.add_argument("problem", help="problem JSON")
    p.add_argument("changes", help="change set JSON")
    p.add_argument("--out", help="write here instead of stdout")
    p.set_defaults(run=cmd_apply)

    p = sub.add_parser("serve", help="serve the coordinator API (DATABASE_URL, default an SQLite file)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_count(1), default=8000)
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="serve the API only: jobs wait for `linli worker` (or another server) to run them",
    )
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),  # api.logs.LEVELS (not imported before a command runs)
        default="info",
        help="how much to log (default info); people's data is never logged at any level",
    )
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("worker", help="run solve jobs only, claimed from the database (DATABASE_URL)")
    p.add_argument("--processes", type=_count(1), help="jobs run at once (default LINLI_SOLVE_PROCESSES)")
    p.set_defaults(run=cmd_worker)

    p = sub.add_parser(
        "deliver", help="send published messages to the stations' webhooks (the workers do it too)"
    )
    p.add_argument("--once", action="store_true", help="send what is due now, then exit (for cron)")
    p.add_argument(
        "--timeout", type=_positive, default=300.0, help="with --once: stop after this many seconds"
    )
    p.set_defaults(run=cmd_deliver)

    p = sub.add_parser("token", help="API tokens")
    token = p.add_subparsers(dest="token_command", required=True, parser_class=_Parser)
    p = token.add_parser("create", help="create a token for one station or for the centre; prints it once")
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--station", help="station id: the token sees only this station")
    scope.add_argument("--centre", action="store_true", help="the centre's token: sees every station")
    p.add_argument("--label", default="", help="a note on who holds it")
    p.set_defaults(run=cmd_token)
    p = token.add_parser("list", help="list tokens (ids, scopes, labels, last use; never secrets)")
    p.add_argument("--station", help="only this station's tokens")
    p.set_defaults(run=cmd_token_list)
    p = token.add_parser("revoke", help="revoke a token by id (see 'linli token list')")
    p.add_argument("id", type=_count(1), help="the token's id")
    p.set_defaults(run=cmd_token_revoke)

    p = sub.add_parser("seed", help="fill an empty service database with a demo city; prints a centre token")
    p.add_argument("--volunteers", type=_count(1), default=250)
    p.add_argument("--beneficiaries", type=_count(1), default=190)
    p.add_argument("--districts", type=_count(1), default=4)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--if-empty", action="store_true", help="do nothing if the database holds a city already")
    p.add_argument(
        "--no-posts",
        dest="posts",
        action="store_false",
        help="leave out the demo's sites and group posts (多人岗位, at the last station by id)",
    )
    p.set_defaults(run=cmd_seed)

    p = sub.add_parser(
        "certificate", help="a volunteer's 志愿服务证明 (PDF) of a period, from the service database"
    )
    p.add_argument("volunteer", metavar="VOLUNTEER", help="the volunteer's id")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="the period's first day")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="the period's last day")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="write the PDF here")
    p.add_argument("--station", help="only a volunteer of this station (as a station's token sees them)")
    p.set_defaults(run=cmd_certificate)

    p = sub.add_parser(
        "ledger", help="write a station's year ledger workbook (年度台账.xlsx) from the database"
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--station", help="the station's id")
    who.add_argument("--centre", action="store_true", help="every station, in one workbook")
    p.add_argument("--year", type=_count(1), required=True, help="the calendar year (2000-2099)")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    p.set_defaults(run=cmd_ledger)

    p = sub.add_parser(
        "calendar", help="a volunteer's calendar link (iCalendar feed for their phone): make anew or revoke"
    )
    p.add_argument("volunteer", metavar="VOLUNTEER", help="the volunteer's id")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--new", action="store_true", help="make a link (revoking the old one); prints it once")
    what.add_argument("--revoke", action="store_true", help="revoke the link: it answers 404 from now on")
    p.add_argument(
        "--base-url", metavar="URL", help="where phones reach the service (default LINLI_PUBLIC_URL)"
    )
    p.set_defaults(run=cmd_calendar)

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
    p.add_argument(
        "--posts",
        type=float,
        help="share of needs that are group posts, e.g. 0.1 (writes format 2; default: none, format 1)",
    )
    p.add_argument("--out", help="write here instead of stdout")
    p.set_defaults(run=cmd_generate)

    p = sub.add_parser(
        "simulate", help="what-if Monte Carlo runs of a scenario file (report, charts, summary)"
    )
    p.add_argument("scenario", help="scenario YAML (see scenarios/*.yaml)")
    p.add_argument("--runs", type=_count(1), help="number of runs (default: the scenario's runs)")
    p.add_argument("--workers", type=_count(1), default=1, help="local worker processes (default 1)")
    p.add_argument("--cluster", metavar="tcp://HOST:PORT", help="run on this Dask distributed scheduler")
    p.add_argument("--out", metavar="DIR", help="output directory (default: simulate-<scenario name>)")
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser("compare", help="put two scenarios side by side (YAML files or simulate output dirs)")
    p.add_argument("scenarios", nargs="+", metavar="A", help="scenario YAML, or a simulate output directory")
    p.add_argument("--runs", type=_count(1), help="number of runs for YAML scenarios")
    p.add_argument("--workers", type=_count(1), default=1, help="local worker processes (default 1)")
    p.add_argument("--cluster", metavar="tcp://HOST:PORT", help="run on this Dask distributed scheduler")
    p.add_argument("--out", metavar="DIR", help="also write compare.md (and each YAML's report) here")
    p.set_defaults(run=cmd_compare)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``linli`` console script.

    Run as the script (``argv`` None), time limits count from the process's start;
    called with arguments (from Python), from the call.
    """
    started = _process_started() if argv is None else time.perf_counter()
    args = parser().parse_args(argv)
    args.started = started
    try:
        # In a context of its own: what a command sets there (its audit actor) ends with it.
        code: int = contextvars.copy_context().run(args.run, args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # argument checks deeper down (e.g. the generator's)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
