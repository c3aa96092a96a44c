"""Moving plans into and out of a CP-SAT model: complete hints and solution extraction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from matcher import greedy
from matcher.instance import FloatArray
from matcher.model import LinliModel
from matcher.slotting import match_slots


def hint(lm: LinliModel, chosen: greedy.Chosen) -> None:
    """Hand CP-SAT a complete assignment: every pair and slot literal set."""
    lm.model.clear_hints()  # type: ignore[no-untyped-call]
    v = lm.vars
    on = {p: set(slots) for p, slots in chosen.values()}
    for p, x in enumerate(v.x):
        lm.model.add_hint(x, p in on)
    for (p, s), lit in v.slot_literals().items():
        if lit is not v.x[p]:
            lm.model.add_hint(lit, p in on and s in on[p])
    chosen_pairs = set(on)
    for var, value in v.derived:
        lm.model.add_hint(var, value(chosen_pairs))


def hinted_objective(model: cp_model.CpModel) -> float:
    """The objective value of the model's (complete) hint, in the model's own terms."""
    proto = model.proto
    hinted = dict(zip(proto.solution_hint.vars, proto.solution_hint.values, strict=True))
    objective = proto.objective
    total = sum(coef * hinted[var] for var, coef in zip(objective.vars, objective.coeffs, strict=True))
    # CP-SAT keeps "maximise f" as "minimise -f" with scaling factor -1.
    return float((objective.scaling_factor or 1.0) * (total + objective.offset))


def extract(lm: LinliModel, solver: cp_model.CpSolver) -> greedy.Chosen:
    """Read the chosen pairs and their slots from a solved model."""
    return extract_with(lm, solver.boolean_value)


def extract_values(lm: LinliModel, values: FloatArray) -> greedy.Chosen:
    """Read the chosen pairs and their slots from a MIP solution (values by variable index)."""
    return extract_with(lm, lambda lit: bool(values[lit.index] > 0.5))


def extract_with(lm: LinliModel, is_true: Callable[[cp_model.IntVar], bool]) -> greedy.Chosen:
    """Read the chosen pairs and their slots, given the truth of each literal."""
    v = lm.vars
    out: greedy.Chosen = {}
    taken: defaultdict[int, list[int]] = defaultdict(list)
    for p, x in enumerate(v.x):
        if is_true(x):
            taken[int(v.pairs.vol[p])].append(p)
    for vol, ps in taken.items():
        if vol in v.explicit_slots:
            for p in ps:
                slots = tuple(s for s in v.pairs.slots[p] if is_true(v.at(p, s)))
                out[int(v.pairs.need[p])] = (p, slots)
            continue
        sessions = v.inst.need_sessions
        matched = match_slots([(int(sessions[v.pairs.need[p]]), v.pairs.slots[p]) for p in ps])
        if matched is None:  # pragma: no cover - the Hall cuts make this impossible
            raise RuntimeError(f"volunteer {vol}: chosen sessions do not fit their slots")
        for p, slots in zip(ps, matched, strict=True):
            out[int(v.pairs.need[p])] = (p, slots)
    return out
