"""Builders shared by the engine's tests: compiled oracle problems, plans to validate, brute-force pricing,
and each hard rule alone (its filter, its model constraint, its greedy and pricing limits)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
from helpers import (
    Doc,
    beneficiary,
    make_problem,
    to_problem,
    volunteer,
)
from oracles import mip_optimum, small_problem
from ortools.sat.python import cp_model

from matcher.clock import Deadline
from matcher.explain import to_format
from matcher.format.schema import Plan, Problem
from matcher.model.eligibility import build_pairs
from matcher.model.evaluate import LexObjective
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, IndexedPlan
from matcher.model.rules import Rule
from matcher.model.rules.skill_in_reach import Candidates
from matcher.model.slotting import match_slots
from matcher.model.variables import Vars
from matcher.params import SolveParams
from matcher.search import colgen, greedy
from matcher.search.transfer import hint, hinted_objective

Demand = tuple[int, tuple[int, ...]]


DEFAULTS = SolveParams()


def compiled(seed: int) -> tuple[Problem, Instance, Pairs]:
    """A small oracle problem with its compiled instance and eligible pairs."""
    problem = small_problem(seed)
    inst = Instance.from_problem(problem)
    return problem, inst, build_pairs(inst)


def plan_of(problem: Problem, chosen: Chosen) -> Plan:
    """A format-1 plan for a set of assignments, to run the validator on it."""
    inst = Instance.from_problem(problem)
    pairs = build_pairs(inst)
    units = sum(int(inst.need_value[n]) for n in chosen)
    total = sum(int(v) for v in inst.need_value)
    return to_format(inst, IndexedPlan.from_chosen(inst, pairs, chosen), max(units, total), 0.0)


def coverage_master(seed: int) -> tuple[Problem, Instance, Pairs, colgen.ColgenResult, int]:
    """A small oracle problem, its converged coverage-only master and its optimal coverage units."""
    problem, inst, pairs = compiled(seed)
    weight = LexObjective.of_columns(inst, pairs).weight
    cg = colgen.prove(inst, pairs, greedy.fill(inst, pairs), weight, Deadline.after(20))
    master = cg.coverage_master(inst, pairs, -1, 10**9, Deadline.after(20))
    assert master is not None and master.bound is not None
    return problem, inst, pairs, master, int(mip_optimum(problem).coverage * inst.scale)


def brute_price(vol: colgen.Volunteer, lam: np.ndarray) -> float:
    """``max(0, max_S value(S) - lam(S))`` over every subset of a volunteer's items."""
    best = 0.0
    n = len(vol.pairs)
    for size in range(1, n + 1):
        for items in itertools.combinations(range(n), size):
            if sum(vol.load[i] for i in items) > vol.cap or len({vol.ben[i] for i in items}) > vol.max_ben:
                continue
            if match_slots([(vol.sessions[i], vol.slots[i]) for i in items]) is None:
                continue
            best = max(best, vol.worth(list(items)) - sum(float(lam[vol.need[i]]) for i in items))
    return best


def small_volunteers(seeds: range, most: int) -> Iterator[tuple[Instance, Pairs, int, np.random.Generator]]:
    """Each volunteer with 1 to ``most`` eligible pairs in the small oracle problems, with a generator."""
    for seed in seeds:
        inst = Instance.from_problem(small_problem(seed))
        pairs = build_pairs(inst)
        rng = np.random.default_rng(seed)
        for v in range(inst.n_volunteers):
            if 0 < len(pairs.by_vol[v]) <= most:
                yield inst, pairs, v, rng


def level3(inst: Instance, pairs: Pairs, chosen: Chosen) -> tuple[int, int]:
    """(secondary value, travel-and-load value) of a plan, read off the full model."""
    lm = build(inst, pairs)
    lm.model.minimize(lm.polish())
    hint(lm, chosen)
    return lm.secondary_of(chosen), round(hinted_objective(lm.model))


def two_volunteer_problem(previous_far: bool) -> Problem:
    """One need, a near and a far volunteer (the far one first, so greedy takes it)."""
    doc = make_problem(
        volunteers=[
            volunteer("far", location=[39.90, 98.40]),
            volunteer("near", location=[39.80, 98.29]),
        ],
        beneficiaries=[beneficiary("b1", location=[39.80, 98.30])],
        previous=[{"volunteer": "far", "beneficiary": "b1"}] if previous_far else [],
    )
    return to_problem(doc)


# ------------------------------------------------------------------------ one rule alone

Take = list[tuple[str, str]]
"""Assignments by ids: (volunteer, need)."""


def compile_doc(doc: Doc) -> tuple[Instance, Pairs]:
    """A problem dict compiled, with its eligible pairs (every filter applied)."""
    inst = Instance.from_problem(to_problem(doc))
    return inst, build_pairs(inst)


def _pair_indexes(inst: Instance, pairs: Pairs, take: Take) -> list[int]:
    vols = {v.id: i for i, v in enumerate(inst.problem.volunteers)}
    needs = {n.id: i for i, n in enumerate(inst.problem.needs)}
    return [pairs.index[(vols[v], needs[n])] for v, n in take]


def kept(rule: Rule, doc: Doc, need_id: str = "n1") -> dict[str, bool]:
    """The rule's filter alone on a need's candidates (volunteers in reach with its skill): id -> kept."""
    assert rule.keep is not None
    inst = Instance.from_problem(to_problem(doc))
    n = [x.id for x in inst.problem.needs].index(need_id)
    cand = Candidates(inst)(n)
    mask = rule.keep(inst, n, cand)
    return {
        inst.problem.volunteers[v].id: bool(ok) for v, ok in zip(cand.tolist(), mask.tolist(), strict=True)
    }


def model_allows(rule: Rule, doc: Doc, take: Take) -> bool:
    """Whether the rule's constraint alone admits exactly the assignments ``take``.

    A tiny CP-SAT model over the eligible pairs with only this rule posted and every pair
    literal fixed (chosen for ``take``, not chosen otherwise): feasible or infeasible.
    """
    assert rule.add is not None
    inst, pairs = compile_doc(doc)
    model = cp_model.CpModel()
    v = Vars(model, inst, pairs)
    rule.add(v)
    on = set(_pair_indexes(inst, pairs, take))
    for p, x in enumerate(v.x):
        model.add(x == int(p in on))
    status = cp_model.CpSolver().solve(model)
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def greedy_allows(rule: Rule, doc: Doc, take: Take) -> bool:
    """Whether the greedy fill's occupancy, with only this rule's limit (and slots), takes ``take``."""
    inst, pairs = compile_doc(doc)
    occ = greedy.Occupancy(inst, pairs, rules=(rule,))
    for p in _pair_indexes(inst, pairs, take):
        placement = occ.placement(p)
        if placement is None:
            return False
        occ.take(p, placement)
    return True


def priced(doc: Doc, volunteer_id: str = "v1") -> set[str]:
    """The needs of the best set column generation's pricing finds for a volunteer, with no multipliers.

    Every item is worth its coverage, so the best set is the most coverage the volunteer's
    limits let them take.
    """
    inst, pairs = compile_doc(doc)
    v = [x.id for x in inst.problem.volunteers].index(volunteer_id)
    vol = colgen.Volunteer(inst, pairs, v, 1, set())
    _, best = vol.price(np.zeros(inst.n_needs), Deadline.never())
    return {inst.problem.needs[vol.need[i]].id for i in best}
