"""Level 1: coverage, the priority-weighted hours covered (FORMAT.md "Objective")."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.model.variables import Vars


def expr(v: Vars) -> cp_model.LinearExpr:
    """Sum of ``priority x hours x sessions x scale`` over chosen pairs (exact integers)."""
    values = v.inst.need_value[v.pairs.need].tolist()
    return cp_model.LinearExpr.weighted_sum(v.x, values)
