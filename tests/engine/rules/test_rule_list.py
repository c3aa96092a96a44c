"""The list of rules itself: every rule declared consistently, checked by the validator, and
the stages' guards (which rules greedy and column generation can hold) derived from it."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from helpers import make_problem, to_problem

from matcher.format.reasons import REASON_CODES
from matcher.format.validate import RULE_CHECKS
from matcher.model.eligibility import FILTERS
from matcher.model.instance import Instance
from matcher.model.rules import RULES, Distinct, Rule, Scope
from matcher.search import colgen, greedy

RESOLVE_ONLY = {"move_budget"}
"""Rules of a re-solve, not of docs/format.md: the re-solve's own tests check them."""


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_is_checked_by_validate(rule: Rule) -> None:
    """Each format rule a rule object implements has a check in validate's RULE_CHECKS."""
    if not rule.numbers:
        assert rule.redundant or rule.name in RESOLVE_ONLY
    for number in rule.numbers:
        assert number in RULE_CHECKS


def test_every_format_rule_has_a_rule_and_a_check() -> None:
    """Rules 1-9 of docs/format.md: each implemented by some rule object and checked once."""
    assert set(RULE_CHECKS) == set(range(1, 10)) == {n for r in RULES for n in r.numbers}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_declares_consistent_encodings(rule: Rule) -> None:
    """Its module's RULE; a known reason code where it filters; a limit where it spans a volunteer."""
    assert importlib.import_module(f"matcher.model.rules.{rule.name}").RULE is rule
    assert rule.code is None or rule.code in REASON_CODES
    assert rule.keep is None or rule.code is not None
    if rule.scope is Scope.PAIR:
        assert rule.add is None and rule.limit is None
    if rule.scope is Scope.VOLUNTEER:
        assert rule.limit is not None or rule.redundant
    assert rule.keep is not None or rule.add is not None or rule.code is not None


def test_filters_are_the_rules_filters_in_reason_order() -> None:
    """Eligibility runs every rule's filter, in the order reasons are listed."""
    codes = {r.code for r in RULES if r.keep is not None}
    assert [code for code, _ in FILTERS] == [code for code in REASON_CODES if code in codes]


def _plain() -> Instance:
    return Instance.from_problem(to_problem(make_problem()))


def test_stages_apply_to_a_plain_solve() -> None:
    """Greedy holds every volunteer rule; column generation prices every rule of a plain solve."""
    assert greedy.applies()
    assert colgen.applies(_plain())


def test_colgen_does_not_apply_to_a_resolve() -> None:
    """Held beneficiaries (fixed assignments) and homes are not priced."""
    inst = _plain()
    mon_am = inst.slots.index("mon-am")
    assert not colgen.applies(inst.with_fixed({0: (0, (mon_am,))}))
    assert not colgen.applies(inst.with_fixed({}, homes={0: (0, None)}))


def _no(inst: Instance) -> np.ndarray:
    return np.zeros(inst.n_volunteers, dtype=np.int64)


@pytest.mark.parametrize(
    "extra",
    [
        Rule("across", (), Scope.GLOBAL, add=lambda v: None),
        Rule("unpriced", (), Scope.VOLUNTEER, add=lambda v: None),
        Rule(
            "second_distinct",
            (),
            Scope.VOLUNTEER,
            code="toy",
            keep=lambda inst, n, cand: np.ones(len(cand), dtype=bool),
            limit=Distinct(key=_no, most=_no, held=lambda i: {}),
        ),
    ],
    ids=lambda r: r.name,
)
def test_a_rule_a_stage_cannot_hold_turns_it_off(extra: Rule) -> None:
    """A new rule that pricing cannot check makes column generation step aside, not prove wrong bounds."""
    assert not colgen.applies(_plain(), (*RULES, extra))
    if extra.limit is None and extra.scope is Scope.VOLUNTEER:
        assert not greedy.applies((*RULES, extra))


def test_a_limit_needs_its_filter() -> None:
    """A budget without a filter would let a pair that cannot fit alone into pricing's columns."""
    with pytest.raises(ValueError, match="needs a filter"):
        Rule("toy", (), Scope.VOLUNTEER, limit=Distinct(key=_no, most=_no, held=lambda i: {}))
