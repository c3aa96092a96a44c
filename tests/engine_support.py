"""Builders shared by the engine's tests: compiled oracle problems, plans to validate, brute-force pricing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
from helpers import (
    beneficiary,
    make_problem,
    to_problem,
    volunteer,
)
from oracles import mip_optimum, small_problem

from matcher.clock import Deadline
from matcher.explain import to_format
from matcher.format.schema import Plan, Problem
from matcher.model.eligibility import build_pairs
from matcher.model.evaluate import LexObjective
from matcher.model.full import build
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, IndexedPlan
from matcher.model.slotting import match_slots
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
