"""Level 2: continuity, last week's pairs that serve at least one need together again."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.model.variables import Vars


def expr(v: Vars) -> tuple[cp_model.LinearExpr, int]:
    """Count of kept previous pairs, and how many previous pairs could be kept at all.

    A previous pair counts only if some eligible pair links the volunteer to one of the
    beneficiary's needs; its ``serves`` literal is bounded by the OR of those pairs, so
    maximising it never credits a pair that serves nothing.
    """
    lits: list[cp_model.IntVar] = []
    for vol, ben in v.inst.previous:
        pairs = v.pairs.by_vol_ben.get((vol, ben))
        if not pairs:
            continue
        lit = v.serves(vol, ben)
        v.model.add_bool_or([v.x[p] for p in pairs]).only_enforce_if(lit)
        lits.append(lit)
    return cp_model.LinearExpr.sum(lits), len(lits)
