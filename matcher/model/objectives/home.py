"""Re-solve preferences: needs that stay where they were, and freed needs going home.

A re-solve (:mod:`matcher.resolve`) gives some open needs a *home*
(:attr:`matcher.model.instance.Instance.need_home`):

* a kept assignment released for ``--allow-moves`` has its volunteer and slots: it
  *stays* when both are unchanged, and every need that does not stay is a move;
* a freed need (its assignment broke) has its previous volunteer only: it goes *back*
  to them at any slots.

Both rank just below coverage (see :mod:`matcher.model.full`): fewest moves first, then
freed needs back with their volunteer, then continuity.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.model.variables import Vars


def stays(v: Vars) -> tuple[cp_model.LinearExpr, int]:
    """Needs that keep their home volunteer and slots, and how many could."""
    lits = []
    for n, (_, slots) in v.inst.need_home.items():
        if slots is not None and (lit := v.stay(n)) is not None:
            lits.append(lit)
    return cp_model.LinearExpr.sum(lits), len(lits)


def backs(v: Vars) -> tuple[cp_model.LinearExpr, int]:
    """Freed needs served by their previous volunteer again, and how many could be."""
    lits = []
    for n, (vol, slots) in v.inst.need_home.items():
        if slots is None and (lit := v.assigned(vol, n)) is not None:
            lits.append(lit)
    return cp_model.LinearExpr.sum(lits), len(lits)
