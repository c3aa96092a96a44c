"""The full model's MIP, built in a forked process while column generation runs.

At station size, where the columns' bound does not meet their plan, HiGHS proves on the
full model (:mod:`matcher.solve`).  Building that model and exporting it to HiGHS's arrays
took about 0.65 s at 300 volunteers, all of it on the proof's path, while column
generation, which comes first, keeps one core busy and leaves the other idle.  So a forked
process builds and exports the model meanwhile; when the proof needs it, the best plan and
the pairs fixed to zero go over, and the process answers with the MIP started from that
plan (:class:`matcher.mip.MipInput`) and where the model keeps its literals, then ends.
Where the columns settle coverage, the process is told to end and its work is dropped.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from matcher import greedy
from matcher.beside import end_with_parent
from matcher.clock import Deadline, OutOfTimeError
from matcher.eligibility import Pairs
from matcher.instance import Instance
from matcher.mip import Exported, MipInput, export, mip_input
from matcher.model import LinliModel, build
from matcher.transfer import Literals, hint, literals_of

JOIN_S = 1.0
"""How long :meth:`MipBeside.close` waits for the terminated process to be gone."""


@dataclass
class Prebuilt:
    """What the process sends back: the MIP, its literal map and the model's ``S``."""

    mip: MipInput
    literals: Literals
    secondary_max: int


def prebuilt_of(lm: LinliModel, zero: list[int], exported: Exported | None = None) -> Prebuilt:
    """HiGHS's input for a built model, started from its hint, with the ``zero`` pairs fixed
    to 0 (see :func:`matcher.mip.mip_input`); ``exported``: the model's export if at hand."""
    mip = mip_input(lm.model, [lm.vars.x[p].index for p in zero], exported)
    return Prebuilt(mip, literals_of(lm), lm.secondary_max)


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

    def request(self, chosen: greedy.Chosen, zero: list[int], until: float) -> Prebuilt | None:
        """The MIP started from ``chosen`` with the ``zero`` pairs fixed to 0 (see
        :func:`matcher.mip.mip_input`), waiting until ``until`` at most; None if the
        process could not build or export the model in time.  Ends the process."""
        try:
            self._conn.send((chosen, zero))
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
