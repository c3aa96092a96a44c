"""Neighbourhood search beside a proof, on its own core where the platform allows.

At station size, when the columns' plan falls short of their bound, HiGHS proves on the
main thread while :func:`matcher.lns.improve` looks for a better plan.  The search runs
in a forked process: on a thread it shared the interpreter lock with the model building
and export that come before HiGHS, and slowed them by up to half a second at 300
volunteers.  Each plan it improves to is sent back at once, so the proof sees its
coverage as it goes (:meth:`SearchBeside.report`) and stopping the search loses nothing.
Where ``fork`` is not available the same search runs on a thread.
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

from matcher import greedy, lns
from matcher.clock import Deadline
from matcher.eligibility import Pairs
from matcher.greedy import coverage_units
from matcher.instance import Instance

PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal a process gets when its parent dies (Linux)."""
STOP_WAIT_S = 1.0
"""How long :meth:`SearchBeside.result` waits for a stopped search to say it is done."""


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
    """Neighbourhood search from ``chosen`` until ``until``, or until a plan covers ``enough``.

    Its progress is read through :meth:`report` (which also records the caller's own
    plans), its best plan through :meth:`result`.
    """

    def __init__(
        self,
        inst: Instance,
        pairs: Pairs,
        chosen: greedy.Chosen,
        enough: int,
        until: float,
        *,
        size: int,
        seed: int,
    ) -> None:
        super().__init__(coverage_units(inst, chosen), enough)
        self._inst = inst
        self._plan = chosen
        self._done = False
        self._proc: mp.process.BaseProcess | None = None
        self._thread: threading.Thread | None = None
        deadline = Deadline(until)
        search = functools.partial(
            lns.improve, inst, pairs, chosen, deadline, size=size, seed=seed, max_stall=0, target=enough
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
                    super().report(coverage_units(self._inst, plan))
        except (EOFError, OSError):
            self._done = True  # the search ended without a word (killed, or failed)

    def result(self) -> greedy.Chosen:
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


def _search(conn: Connection, halt: Connection, improve: Callable[..., greedy.Chosen]) -> None:
    """Run ``improve`` (:func:`matcher.lns.improve` with its plan and target bound in), sending
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
