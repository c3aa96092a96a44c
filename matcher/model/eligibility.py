"""Which (volunteer, need) pairs can exist at all, and why a need has none.

Rules that depend on one volunteer and one need only (2, 3, 7, 8, 9, and the static
parts of 1, 5 and 6) are applied here as vectorised filters over each need's
candidates, so the model only ever sees pairs that could be part of a valid plan.  The
filters are the ``keep`` of the rules in :data:`matcher.model.rules.RULES`.
"""

from __future__ import annotations

import numpy as np

from matcher.format.reasons import CAPACITY_TAKEN, REASON_CODES
from matcher.model.instance import BoolArray, Instance, IntArray
from matcher.model.pairs import Pairs
from matcher.model.rules import RULES, Rule, availability, skill_in_reach
from matcher.model.rules.base import Filter


def filters(rules: tuple[Rule, ...] = RULES) -> tuple[tuple[str, Filter], ...]:
    """The rules' static filters with the reason each gives, in reason-code order.

    The order matters: a candidate refused by several rules is explained by the first
    (:data:`~matcher.format.reasons.REASON_CODES` lists the codes in that order).
    """
    found: list[tuple[str, Filter]] = []
    for rule in rules:
        if rule.keep is not None and rule.code is not None:
            found.append((rule.code, rule.keep))
    found.sort(key=lambda entry: REASON_CODES.index(entry[0]))
    return tuple(found)


#: Static filters after the skill-in-reach candidate lookup (rules 2 and 7), with the reason each gives.
FILTERS = filters()


def build_pairs(inst: Instance) -> Pairs:
    """Apply every static rule and collect the surviving pairs.

    Parameters
    ----------
    inst
        The compiled problem.

    Returns
    -------
    Pairs
        Pairs in need order, then volunteer order.
    """
    candidates = skill_in_reach.Candidates(inst)
    vols: list[IntArray] = []
    needs: list[IntArray] = []
    usables: list[BoolArray] = []
    for n in range(inst.n_needs):
        if n in inst.need_fixed:
            continue  # held by a fixed assignment (re-solve): not part of the search
        cand = candidates(n)
        if len(cand) == 0:
            continue
        mask = np.ones(len(cand), dtype=bool)
        for _, keep in FILTERS:
            mask &= keep(inst, n, cand)
            if not mask.any():
                break
        chosen = cand[mask]
        if len(chosen) == 0:
            continue
        usables.append(availability.usable(inst, n, chosen))
        vols.append(chosen)
        needs.append(np.full(len(chosen), n, dtype=np.int64))
    vol = np.concatenate(vols) if vols else np.zeros(0, dtype=np.int64)
    need = np.concatenate(needs) if needs else np.zeros(0, dtype=np.int64)
    usable = np.concatenate(usables) if usables else np.zeros((0, len(inst.slots)), dtype=bool)
    return Pairs.of(inst, vol, need, usable)


def static_reasons(inst: Instance, n: int, candidates: skill_in_reach.Candidates | None = None) -> list[str]:
    """Why need ``n`` has no candidate: each candidate's first refusing rule.

    Parameters
    ----------
    inst
        The compiled problem.
    n
        Need index.
    candidates
        A shared candidate lookup (built when absent).

    Returns
    -------
    list[str]
        Reason codes in :data:`~matcher.format.reasons.REASON_CODES` order;
        ``capacity_taken`` stands for candidates that pass every static rule.
    """
    cand = (candidates or skill_in_reach.Candidates(inst))(n)
    if len(cand) == 0:
        return [skill_in_reach.CODE]
    found: set[str] = set()
    alive = np.ones(len(cand), dtype=bool)
    for code, keep in FILTERS:
        ok = keep(inst, n, cand)
        if (alive & ~ok).any():
            found.add(code)
        alive &= ok
        if not alive.any():
            break
    if alive.any():
        found.add(CAPACITY_TAKEN)
    return [code for code in REASON_CODES if code in found]
