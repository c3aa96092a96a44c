"""The Linli CP-SAT model: the hard rules and the objective terms, listed in one place.

Objective (FORMAT.md, lexicographic):

1. coverage, the priority-weighted hours covered;
2. continuity, last week's pairs kept;
3. travel and load spread.

Levels 1 and 2 are solved together as one exact lexicographic objective,
``(K + 1) x coverage + continuity`` where ``K`` is the number of previous pairs that can
be kept at all: one unit of coverage (in scaled integer units) outweighs every possible
continuity gain, so the optimum of the sum is the lexicographic optimum, and a bound
``B`` on the sum gives the coverage bound ``floor(B / (K + 1))``.

A re-solve (:mod:`matcher.resolve`) puts two more terms between coverage and
continuity, in this order: released assignments that stay where they were (fewest
moves), then freed needs back with their previous volunteer
(:mod:`matcher.model.objectives.home`).  The same construction nests them into one
*secondary* value of at most ``S``, and the objective is ``(S + 1) x coverage +
secondary``; without a re-solve the secondary value is just continuity.  Solving them together
means a plan cut short by the time limit already prefers kept pairs.  Level 3 is a
second, shorter phase (:func:`matcher.solve.solve`) that fixes the level-1-2 value and
minimises ``scale x travel + LOAD_WEIGHT x excess hours``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from matcher.clock import Deadline
from matcher.model.instance import Instance
from matcher.model.objectives import continuity, coverage, home, load, travel
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, coverage_units
from matcher.model.rules import RULES
from matcher.model.variables import Vars

#: Level-3 weight: one hour above half of a volunteer's max_hours costs as much as 2 km of travel.
LOAD_WEIGHT = 20


@dataclass
class LinliModel:
    """A built model with its variables and objective expressions."""

    model: cp_model.CpModel
    vars: Vars
    coverage: cp_model.LinearExpr
    """Level 1, in scaled units (``Instance.scale`` per priority-weighted hour)."""
    continuity: cp_model.LinearExpr
    """Level 2."""
    continuity_max: int
    """Previous pairs that could be kept at all (``K``)."""
    secondary: cp_model.LinearExpr
    """Everything below coverage and above travel, nested: re-solve stays and backs, continuity."""
    secondary_max: int
    """Largest value ``secondary`` can take (``S``)."""
    weights: tuple[int, int]
    """Weights of (stays, backs) inside ``secondary``; continuity has weight 1."""
    primary: cp_model.LinearExpr
    """``(S + 1) x coverage + secondary``: levels 1 and 2 as one exact objective."""

    def secondary_of(self, chosen: Chosen) -> int:
        """The ``secondary`` value of a plan (need -> (pair, slots)) of this model's pairs."""
        inst, pairs = self.vars.inst, self.vars.pairs
        where = {n: (int(pairs.vol[p]), set(slots)) for n, (p, slots) in chosen.items()}
        stays = backs = 0
        for n, (vol, slots) in inst.need_home.items():
            got = where.get(n)
            if got is None or got[0] != vol:
                continue
            if slots is None:
                backs += 1
            elif got[1] == set(slots):
                stays += 1
        served = {(vol, int(inst.need_ben[n])) for n, (vol, _) in where.items()}
        kept = len(set(inst.previous) & served)
        return self.weights[0] * stays + self.weights[1] * backs + kept

    def primary_of(self, chosen: Chosen) -> int:
        """The objective value of a plan: ``(S + 1) x coverage + secondary``."""
        covered = coverage_units(self.vars.inst, chosen)
        return (self.secondary_max + 1) * covered + self.secondary_of(chosen)

    def polish(self) -> cp_model.LinearExpr:
        """Level 3, built on demand (its terms are dead weight for levels 1-2)."""
        return self.vars.inst.scale * travel.expr(self.vars) + LOAD_WEIGHT * load.expr(self.vars)


def build(inst: Instance, pairs: Pairs, deadline: Deadline | None = None) -> LinliModel:
    """Build the CP-SAT model over the eligible pairs.

    Parameters
    ----------
    inst
        The compiled problem.
    pairs
        Its eligible pairs (rules 2, 3, 7, 8, 9 and the static parts of 1, 5, 6 already applied).
    deadline
        When building must stop; :class:`~matcher.clock.OutOfTimeError` is raised past it.

    Returns
    -------
    LinliModel
        The model, maximising ``primary``.
    """
    model = cp_model.CpModel()
    v = Vars(model, inst, pairs, deadline)

    # hard: rules 1, 4, 5, 6, the move budget, then the redundant cut (the others are filters;
    # rule 3 holds by construction of the slot literals)
    for rule in RULES:
        if rule.add is not None:
            rule.add(v)

    # objective
    cov = coverage.expr(v)  # level 1
    stays, n_stays = home.stays(v)  # level 2a (re-solve): fewest moves
    backs, n_backs = home.backs(v)  # level 2b (re-solve): freed needs back with their volunteer
    cont, k = continuity.expr(v)  # level 2c
    w_backs = k + 1
    w_stays = (n_backs + 1) * w_backs
    secondary = w_stays * stays + w_backs * backs + cont
    s_max = w_stays * n_stays + w_backs * n_backs + k
    primary = (s_max + 1) * cov + secondary
    # level 3: LinliModel.polish(), added only once levels 1-2 are settled
    model.maximize(primary)
    return LinliModel(model, v, cov, cont, k, secondary, s_max, (w_stays, w_backs), primary)
