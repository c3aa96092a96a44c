"""Every helper process and thread of a solve, in one place.

A solve keeps both cores busy by running work beside the main line:

* :class:`SearchBeside`: at station size, when the columns' plan falls short of their
  bound, neighbourhood search (:func:`matcher.search.lns.improve`) looks for a better plan while
  HiGHS proves on the main thread.  It runs in a forked process: on a thread it shared the
  interpreter lock with the model building and export that come before HiGHS, and slowed
  them by up to half a second at 300 volunteers.  Each plan it improves to is sent back at
  once, so the proof sees its coverage as it goes (:meth:`SearchBeside.report`) and
  stopping the search loses nothing.  Where ``fork`` is not available it runs on a thread.
* :class:`MipBeside`: the full model's MIP, built and exported in a forked process while
  column generation runs (building and exporting took about 0.65 s at 300 volunteers, all
  of it on the proof's path, while column generation leaves the other core idle).  When
  the proof needs it, the best plan and the pairs fixed to zero go over, and the process
  answers with the MIP started from that plan, then ends.  Where the columns settle
  coverage, the process is told to end and its work is dropped.
* :class:`CityBoundBeside`: at city size, the coverage bound (:func:`matcher.search.citybound.bound`)
  in a forked process while the neighbourhood search runs in this one.
* :class:`BranchBeside`: branch-and-price (:func:`matcher.search.branch.prove_coverage`) on a
  thread beside HiGHS, which leaves Python's lock while it solves.

Every forked process ends with the process that started it (:func:`end_with_parent`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from ortools.sat.python import cp_model

from matcher.clock import Deadline, OutOfTimeError
from matcher.model.evaluate import coverage_units
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.params import DEFAULTS, SolveParams
from matcher.search import branch, citybound, lns
from matcher.search.branch import BranchResult
from matcher.search.colgen import ColgenResult
from matcher.search.mip import export
from matcher.search.prebuild import Prebuilt, prebuilt_of
from matcher.search.transfer import hint

PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal a process gets when its parent dies (Linux)."""
STOP_WAIT_S = 1.0
"""How long :meth:`SearchBeside.result` waits for a stopped search to say it is done."""
JOIN_S = 1.0
"""How long :meth:`MipBeside.close` waits for the terminated process to be gone."""
TICK_S = 0.1
"""How often :meth:`BranchBeside.wait` calls its ``tick`` (the reports' interval is 0.2 s)."""


@dataclass
class Progress:
    """Coverage units of the best plan found beside HiGHS, and the bound that would settle it."""

    covered: int
    enough: int
    """A plan with this coverage is proved optimal already (by the columns' bound)."""

    def report(self, covered: int) -> bool:
        """Record a plan's coverage; True once it is enough."""
        self.covered = max(self.covered, covered)
        return self.covered >= self.enough


class SearchBeside(Progress):
    """Neighbourhood search from ``chosen`` until ``until``, or until a plan covers ``enough``
    (neighbourhoods as ``params`` says: ``lns_size``, ``lns_step_s``, ``lns_max_growth``,
    ``seed``).

    Its progress is read through :meth:`report` (which also records the caller's own
    plans), its best plan through :meth:`result`.
    """

    def __init__(
        self,
        inst: Instance,
        pairs: Pairs,
        chosen: Chosen,
        enough: int,
        until: float,
        params: SolveParams = DEFAULTS,
    ) -> None:
        super().__init__(coverage_units(inst, chosen), enough)
        self._inst = inst
        self._plan = chosen
        self.plan_units = self.covered
        """Coverage units of the best plan the search sent (:meth:`result`'s)."""
        self._done = False
        self._proc: mp.process.BaseProcess | None = None
        self._thread: threading.Thread | None = None
        deadline = Deadline(until)
        search = functools.partial(
            lns.improve,
            inst,
            pairs,
            chosen,
            deadline,
            size=params.lns_size,
            step_seconds=params.lns_step_s,
            max_growth=params.lns_max_growth,
            seed=params.seed,
            max_stall=0,
            target=enough,
        )
        # Two one-way pipes: plans come back on one, "stop" goes out on the other (a
        # multiprocessing Event can hang its setter when the search ended while waiting
        # on it).
        forking = "fork" in mp.get_all_start_methods()
        ctx = mp.get_context("fork" if forking else None)
        self._conn, plans = ctx.Pipe(duplex=False)
        halt, self._halt = ctx.Pipe(duplex=False)
        if forking:
            # what is buffered would otherwise be written twice, once by the child
            sys.stdout.flush()
            sys.stderr.flush()
            self._proc = ctx.Process(target=_search, args=(plans, halt, search), daemon=True)
            self._proc.start()
            plans.close()
            halt.close()
        else:  # pragma: no cover - every platform CI runs on can fork
            self._thread = threading.Thread(target=_search, args=(plans, halt, search), daemon=True)
            self._thread.start()

    def report(self, covered: int) -> bool:
        """Take in the plans the search sent, record ``covered``; True once it is enough."""
        self._receive(0.0)
        return super().report(covered)

    def _receive(self, timeout: float) -> None:
        """Read what the search sent, waiting up to ``timeout`` for the first message."""
        try:
            while not self._done and self._conn.poll(timeout):
                timeout = 0.0
                plan = self._conn.recv()
                if plan is None:
                    self._done = True
                else:
                    self._plan = plan
                    self.plan_units = coverage_units(self._inst, plan)
                    super().report(self.plan_units)
        except (EOFError, OSError):
            self._done = True  # the search ended without a word (killed, or failed)

    def result(self) -> Chosen:
        """Stop the search (cutting its current step short) and return its best plan."""
        with contextlib.suppress(OSError):  # the search may have ended already
            self._halt.send(True)
        end = time.perf_counter() + STOP_WAIT_S
        while not self._done and time.perf_counter() < end:
            self._receive(end - time.perf_counter())
        if self._proc is not None:
            if not self._done:
                self._proc.terminate()
            self._proc.join(1)
        elif self._thread is not None:  # pragma: no cover - see __init__
            self._thread.join()
        self._conn.close()
        self._halt.close()
        return self._plan


def end_with_parent() -> None:
    """In a helper process: be sent SIGTERM when the process that started it dies (Linux).

    A cancelled service job is terminated by signal, which skips the clean-up that would
    stop its helpers; without this they would run on to their deadline.
    """
    if not sys.platform.startswith("linux"):  # pragma: no cover - elsewhere they run out their time
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    parent = mp.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the call
        os._exit(0)


def _search(conn: Connection, halt: Connection, improve: Callable[..., Chosen]) -> None:
    """Run ``improve`` (:func:`matcher.search.lns.improve` with its plan and target bound in), sending
    each better plan, then ``None`` when it ends."""
    if threading.current_thread() is threading.main_thread():
        end_with_parent()  # a process of its own (on a thread it ends with the caller anyway)
    current: list[cp_model.CpSolver] = []
    stopping = threading.Event()
    finished = threading.Event()

    def started(solver: cp_model.CpSolver) -> None:
        current[:] = [solver]

    def watch() -> None:
        # Told to stop (or the caller gone): cut the running step short, and any step
        # that starts after.
        with contextlib.suppress(EOFError, OSError):
            halt.recv()
        stopping.set()
        while not finished.is_set():
            if current:
                current[-1].stop_search()
            finished.wait(0.01)

    threading.Thread(target=watch, daemon=True).start()
    try:
        improve(stop=lambda covered: stopping.is_set(), on_step=started, on_gain=conn.send)
    finally:
        finished.set()
        with contextlib.suppress(OSError):  # the caller may have stopped listening
            conn.send(None)
            conn.close()


class MipBeside:
    """Build the full model of ``inst`` over ``pairs`` in a forked process, by ``until``.

    Use :meth:`available` first: without ``fork`` there is no process and the caller
    builds the model itself.
    """

    @staticmethod
    def available() -> bool:
        """Whether the platform can fork (every platform CI runs on can)."""
        return "fork" in mp.get_all_start_methods()

    def __init__(self, inst: Instance, pairs: Pairs, until: float) -> None:
        ctx = mp.get_context("fork")
        self._conn, theirs = ctx.Pipe()
        # what is buffered would otherwise be written twice, once by the child
        sys.stdout.flush()
        sys.stderr.flush()
        self._proc = ctx.Process(target=_serve, args=(theirs, inst, pairs, until), daemon=True)
        self._proc.start()
        theirs.close()

    def request(
        self, chosen: Chosen, zero: list[int], until: float, tick: Callable[[], None] | None = None
    ) -> Prebuilt | None:
        """The MIP started from ``chosen`` with the ``zero`` pairs fixed to 0 (see
        :func:`matcher.search.mip.mip_input`), waiting until ``until`` at most; None if the
        process could not build or export the model in time.  Ends the process.  ``tick``:
        called every ``TICK_S`` while waiting (a progress heartbeat)."""
        try:
            self._conn.send((chosen, zero))
            if tick is not None:
                while not self._conn.poll(max(0.0, min(TICK_S, until - time.perf_counter()))):
                    if time.perf_counter() >= until:
                        break
                    tick()
            if self._conn.poll(max(0.0, until - time.perf_counter())):
                got = self._conn.recv()
                return got if isinstance(got, Prebuilt) else None
        except (EOFError, OSError):
            pass  # the process ended without a word (killed, or failed)
        finally:
            self.close()
        return None

    def close(self) -> None:
        """End the process (its model is not needed, or no longer): at once, since it
        may be in the middle of building, which it would not interrupt to read a message."""
        self._conn.close()
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(JOIN_S)


def _serve(conn: Connection, inst: Instance, pairs: Pairs, until: float) -> None:
    """In the forked process: build and export the model, then answer one request."""
    end_with_parent()
    try:
        lm = build(inst, pairs, Deadline(until))
        exported = export(lm.model)
    except (OutOfTimeError, NotImplementedError):
        lm = None  # the caller falls back to building the model itself
    try:
        request = conn.recv()
    except (EOFError, OSError):
        return
    with contextlib.suppress(OSError):
        if request is None or lm is None:
            conn.send(None)
            return
        chosen, zero = request
        hint(lm, chosen)
        conn.send(prebuilt_of(lm, zero, exported))


class CityBoundBeside:
    """The city bound computed in a forked process while the search runs in this one.

    The search (one CP-SAT worker per neighbourhood) leaves a core idle; the bound of the
    plan the search starts from uses it, so it costs the search nothing.  Where ``fork``
    is not available, or the core is too large, there is no bound (``result`` is None).
    """

    def __init__(
        self,
        inst: Instance,
        pairs: Pairs,
        chosen: Chosen,
        until: float,
        params: SolveParams = DEFAULTS,
        stream: bool = False,
    ) -> None:
        self._proc: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._best: int | None = None
        """The least bound received so far (with ``stream``, from the bound as it stands)."""
        self._final = False
        if "fork" not in mp.get_all_start_methods():
            return
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_bound, args=(child, inst, pairs, chosen, until, params, stream), daemon=True
        )
        self._proc.start()
        child.close()

    def poll(self) -> int | None:
        """The least bound the process has sent so far, without waiting (with ``stream``, it
        sends the bound as it stands after every pricing round: see
        :func:`matcher.search.citybound.bound`); None while none."""
        self._receive(0.0)
        return self._best

    def _receive(self, timeout: float) -> None:
        """Read what the process sent, waiting up to ``timeout`` for the final bound."""
        if self._conn is None:
            return
        end = time.perf_counter() + max(0.0, timeout)
        try:
            while not self._final and self._conn.poll(max(0.0, end - time.perf_counter())):
                final, units = self._conn.recv()
                self._final = final
                if units is not None:
                    self._best = units if self._best is None else min(self._best, units)
        except (EOFError, OSError):
            self._final = True  # the process ended without a word (killed, or failed)

    def result(self, timeout: float) -> int | None:
        """The bound in coverage units, waiting at most ``timeout`` s for the final one (the
        least received if it does not come); None if there is none."""
        if self._proc is None or self._conn is None:
            return None
        self._receive(timeout)
        self._proc.terminate()
        self._proc.join(1)
        self._conn.close()
        self._conn = None
        self._proc = None
        return self._best


def _bound(
    conn: Connection,
    inst: Instance,
    pairs: Pairs,
    chosen: Chosen,
    until: float,
    params: SolveParams,
    stream: bool = False,
) -> None:
    """In the forked process: the city bound in coverage units, sent as ``(True, units)``
    (units None if out of time); with ``stream``, each bound as it stands before it, as
    ``(False, units)``."""
    end_with_parent()
    on_bound = None if not stream else lambda units: conn.send((False, units))
    try:
        conn.send((True, citybound.bound(inst, pairs, chosen, Deadline(until), params, on_bound).units))
    except OutOfTimeError:
        conn.send((True, None))
    finally:
        conn.close()


class BranchBeside:
    """:func:`matcher.search.branch.prove_coverage` on a thread, beside HiGHS on the calling one.

    HiGHS leaves Python's lock while it solves, so the two share the process and use both
    cores; whichever settles coverage first stops the other (HiGHS through
    :meth:`settled`, read in its callback).
    """

    def __init__(
        self,
        inst: Instance,
        master: ColgenResult,
        incumbent: int,
        until: float,
        known: Callable[[], int],
        params: SolveParams = DEFAULTS,
        watched: bool = False,
    ) -> None:
        self._stop = threading.Event()
        self._done = threading.Event()
        self._result: BranchResult | None = None
        self._error: BaseException | None = None
        self.figures: tuple[int | None, int] | None = None
        """With ``watched``: the search's figures after its last node (the coverage units
        of the plan it found, None while none; the bound it proved), for the calling
        thread to report; None before the first node, and always without ``watched``."""

        def seen(found: int | None, bound: int) -> None:
            self.figures = (found, bound)  # one assignment: the calling thread reads it whole

        def run() -> None:
            try:
                self._result = branch.prove_coverage(
                    inst,
                    master,
                    incumbent,
                    Deadline(until),
                    known,
                    self._stop,
                    params=params,
                    on_node=seen if watched else None,
                )
            except BaseException as error:  # re-raised by result(), on the caller's thread
                self._error = error
            finally:
                self._done.set()

        self._thread = threading.Thread(target=run, name="linli-branch", daemon=True)
        self._thread.start()

    def wait(self, seconds: float, tick: Callable[[], None] | None = None) -> bool:
        """Wait at most ``seconds`` for the search to end; whether it settled coverage.

        ``tick``: called every ``TICK_S`` while waiting (a progress heartbeat, on the
        calling thread); None: one plain wait."""
        end = time.perf_counter() + max(0.0, seconds)
        step = seconds if tick is None else TICK_S
        while not self._done.wait(max(0.0, min(step, end - time.perf_counter()))):
            if time.perf_counter() >= end:
                break
            if tick is not None:
                tick()
        return self.settled()

    def settled(self) -> bool:
        """Whether the search has proved coverage (its result is then final)."""
        result = self._result
        return result is not None and result.proved

    def result(self) -> BranchResult | None:
        """Stop the search and return what it settled (None if it had not started a node)."""
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result
