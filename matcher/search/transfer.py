"""Moving plans into and out of a CP-SAT model: complete hints and solution extraction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matcher.model.full import LinliModel
from matcher.model.instance import FloatArray, Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen
from matcher.model.slotting import match_slots


def hint(lm: LinliModel, chosen: Chosen) -> None:
    """Hand CP-SAT a complete assignment: every pair and slot literal set."""
    lm.model.clear_hints()  # type: ignore[no-untyped-call]
    v = lm.vars
    on = {p: set(slots) for p, slots in chosen.values()}
    values = {x.index: int(p in on) for p, x in enumerate(v.x)}
    for (p, s), lit in v.slot_literals().items():
        if lit is not v.x[p]:
            values[lit.index] = int(p in on and s in on[p])
    chosen_pairs = set(on)
    for var, value in v.derived:
        values[var.index] = value(chosen_pairs)
    # Written to the proto in one go: a call per variable took five times as long.
    proto = lm.model.proto.solution_hint
    proto.vars.extend(values.keys())
    proto.values.extend(values.values())


@dataclass
class Literals:
    """Where a model keeps its pair and slot literals: what reading a plan off the values
    of its variables needs, as plain data (a process that built the model can send it)."""

    x: list[int]
    """Variable index of each pair's literal."""
    at: dict[tuple[int, int], int]
    """(pair, slot) -> variable index, for the volunteers modelled slot by slot."""
    explicit: set[int]
    """Those volunteers."""


def literals_of(lm: LinliModel) -> Literals:
    """The literal map of a built model."""
    v = lm.vars
    return Literals(
        x=[x.index for x in v.x],
        at={key: lit.index for key, lit in v.slot_literals().items()},
        explicit=set(v.explicit_slots),
    )


def hinted_objective(model: cp_model.CpModel) -> float:
    """The objective value of the model's (complete) hint, in the model's own terms."""
    proto = model.proto
    hinted = dict(zip(proto.solution_hint.vars, proto.solution_hint.values, strict=True))
    objective = proto.objective
    total = sum(coef * hinted[var] for var, coef in zip(objective.vars, objective.coeffs, strict=True))
    # CP-SAT keeps "maximise f" as "minimise -f" with scaling factor -1.
    return float((objective.scaling_factor or 1.0) * (total + objective.offset))


def extract(lm: LinliModel, solver: cp_model.CpSolver) -> Chosen:
    """Read the chosen pairs and their slots from a solved model."""
    return extract_values(lm, np.asarray(solver.response_proto.solution))


def extract_values(lm: LinliModel, values: FloatArray) -> Chosen:
    """Read the chosen pairs and their slots from a MIP solution (values by variable index)."""
    return extract_indexed(lm.vars.inst, lm.vars.pairs, literals_of(lm), values)


def extract_indexed(inst: Instance, pairs: Pairs, lits: Literals, values: FloatArray) -> Chosen:
    """Read the chosen pairs and their slots from the values of a model's variables."""
    out: Chosen = {}
    taken: defaultdict[int, list[int]] = defaultdict(list)
    for p in np.flatnonzero(values[lits.x] > 0.5).tolist():
        taken[int(pairs.vol[p])].append(p)
    for vol, ps in taken.items():
        if vol in lits.explicit:
            for p in ps:
                slots = tuple(s for s in pairs.slots[p] if values[lits.at[(p, s)]] > 0.5)
                out[int(pairs.need[p])] = (p, slots)
            continue
        sessions = inst.need_sessions
        matched = match_slots([(int(sessions[pairs.need[p]]), pairs.slots[p]) for p in ps])
        if matched is None:  # pragma: no cover - the Hall cuts make this impossible
            raise RuntimeError(f"volunteer {vol}: chosen sessions do not fit their slots")
        for p, slots in zip(ps, matched, strict=True):
            out[int(pairs.need[p])] = (p, slots)
    return out
