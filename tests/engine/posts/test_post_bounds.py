"""The posts path's LP bound (:func:`matcher.search.mip.lp_dual_bound`) against the brute force.

The bound is a Lagrangian one from the LP's row multipliers, valid whatever multipliers are
used: checked here with HiGHS's duals and with arbitrary ones, on random tiny problems, never
below the brute-force optimum (:func:`oracles.brute_force_posts`, which shares nothing with the
model) and, with HiGHS's duals, never above the trivial bound (every post full).
"""

from __future__ import annotations

import math

import numpy as np
from helpers import Doc
from hypothesis import given
from hypothesis import strategies as st
from oracles import brute_force_posts
from strategies import SETTINGS, post_problems

from matcher.format.io import parse_problem
from matcher.format.schema import Problem2
from matcher.model.posts.instance import PostInstance
from matcher.model.posts.model import build
from matcher.search.mip import lagrangian_bound, lp_dual_bound, mip_input


def _setup(doc: Doc) -> tuple[PostInstance, int, object]:
    problem = parse_problem(doc, "problem")
    assert isinstance(problem, Problem2)
    inst = PostInstance.of(problem)
    pv, _, _, k = build(inst)
    return inst, k + 1, mip_input(pv.model)


def _units(bound: float, weight: int) -> int:
    """Coverage units the model objective's bound allows (as :mod:`matcher.search.posts` reads it)."""
    return math.floor(bound + 1e-6) // weight


@SETTINGS
@given(post_problems())
def test_the_lp_bound_is_never_below_the_optimum(doc: Doc) -> None:
    inst, weight, inp = _setup(doc)
    optimum = brute_force_posts(inst.problem)
    bound = lp_dual_bound(inp, 10.0)  # type: ignore[arg-type]
    assert bound is not None
    units = _units(bound, weight)
    assert units >= optimum.coverage * inst.scale
    trivial = sum(pn.unit_value * pn.high for pn in inst.needs if len(pn.eligible) >= pn.low)
    assert units <= trivial


@SETTINGS
@given(post_problems(), st.integers(0, 2**32 - 1))
def test_any_multipliers_give_a_bound(doc: Doc, seed: int) -> None:
    inst, weight, inp = _setup(doc)
    optimum = brute_force_posts(inst.problem)
    rows = inp.a.shape[0]  # type: ignore[attr-defined]
    y = np.random.default_rng(seed).uniform(-50, 50, rows)
    bound = lagrangian_bound(inp, y)  # type: ignore[arg-type]
    assert bound is not None
    assert _units(bound, weight) >= optimum.coverage * inst.scale
