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
from matcher.model import evaluate
from matcher.model.evaluate import LOAD_WEIGHT, LexObjective
from matcher.model.instance import Instance
from matcher.model.objectives import continuity, coverage, home, load, travel
from matcher.model.pairs import Pairs
from matcher.model.plan import Chosen, IndexedPlan
from matcher.model.rules import RULES
from matcher.model.variables import Vars


@dataclass
class LinliModel:
    """A built model with its variables and objective expressions."""

    model: cp_model.CpModel
    vars: Vars
    coverage: cp_model.LinearExpr
    """Level 1, in scaled units (``Instance.scale`` per priority-weighted hour)."""
    continuity: cp_model.LinearExpr
    """Level 2."""
    secondary: cp_model.LinearExpr
    """Everything below coverage and above travel, nested: re-solve stays and backs, continuity."""
    lex: LexObjective
    """How levels 1-2 are weighted into ``primary`` (``K``, ``S`` and the weights)."""
    primary: cp_model.LinearExpr
    """``(S + 1) x coverage + secondary``: levels 1 and 2 as one exact objective."""

    @property
    def secondary_max(self) -> int:
        """Largest value ``secondary`` can take (``S``)."""
        return self.lex.secondary_max

    def plan_of(self, chosen: Chosen) -> IndexedPlan:
        """A working view over this model's pairs as a plan."""
        return IndexedPlan.from_chosen(self.vars.inst, self.vars.pairs, chosen)

    def secondary_of(self, chosen: Chosen) -> int:
        """The ``secondary`` value of a plan (need -> (pair, slots)) of this model's pairs."""
        return evaluate.secondary(self.vars.inst, self.plan_of(chosen), self.lex)

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
    lex = LexObjective(k, n_stays, n_backs)
    secondary = lex.secondary(stays, backs, cont)
    primary = lex.primary(cov, secondary)
    # level 3: LinliModel.polish(), added only once levels 1-2 are settled
    model.maximize(primary)
    return LinliModel(model, v, cov, cont, secondary, lex, primary)
