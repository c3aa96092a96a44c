"""Level 3, second term: load spread.

Hours a volunteer gives beyond half of their ``max_hours`` are penalised, which moves
work from the busiest volunteers to idle ones without a quadratic term: a convex,
piecewise-linear stand-in for "spread the load" that CP-SAT handles cheaply.
"""

from __future__ import annotations

from functools import partial

from ortools.sat.python import cp_model

from matcher.model.variables import Vars


def _excess(load_of: dict[int, int], half: int, on: set[int]) -> int:
    return max(0, sum(load for p, load in load_of.items() if p in on) - half)


def expr(v: Vars) -> cp_model.LinearExpr:
    """Sum over volunteers of scaled hours above half their ``max_hours``."""
    inst = v.inst
    terms: list[cp_model.IntVar] = []
    for vol, pairs in enumerate(v.pairs.by_vol):
        if not pairs:
            continue
        loads = [int(inst.need_load[v.pairs.need[p]]) for p in pairs]
        # Fixed assignments (re-solve) count towards the volunteer's load too.
        base = inst.vol_base_load.get(vol, 0)
        half = (int(inst.vol_cap[vol]) + base) // 2 - base
        top = min(sum(loads), int(inst.vol_cap[vol])) - half
        if top <= 0:
            continue  # this volunteer can never pass half their hours
        excess = v.model.new_int_var(0, top, f"excess{vol}")
        v.model.add(excess >= sum(load * v.x[p] for load, p in zip(loads, pairs, strict=True)) - half)
        v.derive(excess, partial(_excess, dict(zip(pairs, loads, strict=True)), half))
        terms.append(excess)
    return cp_model.LinearExpr.sum(terms)
