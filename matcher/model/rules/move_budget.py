"""Re-solve with ``--allow-moves K``: at most ``K`` released assignments may move.

A released assignment (a kept one the re-solve may change) moves when its volunteer or
its slots differ from the plan in force; one that can no longer stay where it was (its
home pair lost a slot) always counts as a move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from matcher.model.instance import Instance
from matcher.model.rules.base import Rule, Scope

if TYPE_CHECKING:
    from matcher.model.variables import Vars


def add(v: Vars) -> None:
    """Stays of the released assignments >= released - K."""
    budget = v.inst.move_budget
    if budget is None:
        return
    released = [n for n, (_, slots) in v.inst.need_home.items() if slots is not None]
    lits = [lit for n in released if (lit := v.stay(n)) is not None]
    if len(released) - budget > len(lits):
        # Released assignments are valid where they are, so each can stay.
        raise ValueError(f"move budget {budget}: {len(released) - len(lits)} released needs cannot stay")
    v.model.add(cp_model.LinearExpr.sum(lits) >= len(released) - budget)


def binds(inst: Instance) -> bool:
    """A budget is set and some released assignment has slots to keep (else ``add`` posts nothing)."""
    return inst.move_budget is not None and bool(inst.pinned)


RULE = Rule("move_budget", (), Scope.GLOBAL, add=add, binds=binds)
