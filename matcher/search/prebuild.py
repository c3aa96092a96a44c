"""The full model's MIP for HiGHS, as handed from the process that builds it.

At station size, where the columns' bound does not meet their plan, HiGHS proves on the
full model.  The model is built and exported in a forked process while column generation
runs (:class:`matcher.search.portfolio.MipBeside`); what comes back is a :class:`Prebuilt`: the
MIP started from the best plan (:class:`matcher.search.mip.MipInput`) and where the model keeps
its literals.
"""

from __future__ import annotations

from dataclasses import dataclass

from matcher.model.evaluate import LexObjective
from matcher.model.full import LinliModel
from matcher.search.mip import Exported, MipInput, mip_input
from matcher.search.transfer import Literals, literals_of


@dataclass
class Prebuilt:
    """What the process sends back: the MIP, its literal map and the model's levels-1-2 weights."""

    mip: MipInput
    literals: Literals
    lex: LexObjective


def prebuilt_of(lm: LinliModel, zero: list[int], exported: Exported | None = None) -> Prebuilt:
    """HiGHS's input for a built model, started from its hint, with the ``zero`` pairs fixed
    to 0 (see :func:`matcher.search.mip.mip_input`); ``exported``: the model's export if at hand."""
    mip = mip_input(lm.model, [lm.vars.x[p].index for p in zero], exported)
    return Prebuilt(mip, literals_of(lm), lm.lex)
