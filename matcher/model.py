"""The Linli CP-SAT model: the hard rules and the objective terms, listed in one place.

Objective (FORMAT.md, lexicographic):

1. coverage, the priority-weighted hours covered;
2. continuity, last week's pairs kept;
3. travel and load spread.

Levels 1 and 2 are solved together as one exact lexicographic objective,
``(K + 1) x coverage + continuity`` where ``K`` is the number of previous pairs that can
be kept at all: one unit of coverage (in scaled integer units) outweighs every possible
continuity gain, so the optimum of the sum is the lexicographic optimum, and a bound
``B`` on the sum gives the coverage bound ``floor(B / (K + 1))``.  Solving them together
means a plan cut short by the time limit already prefers kept pairs.  Level 3 is a
second, shorter phase (:func:`matcher.solve.solve`) that fixes the level-1-2 value and
minimises ``scale x travel + LOAD_WEIGHT x excess hours``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from matcher.clock import Deadline
from matcher.eligibility import Pairs
from matcher.instance import Instance
from matcher.objectives import continuity, coverage, load, travel
from matcher.rules import (
    max_beneficiaries,
    max_hours,
    one_session_per_slot,
    one_volunteer,
    volunteer_value,
)
from matcher.variables import Vars

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
    primary: cp_model.LinearExpr
    """``(K + 1) x coverage + continuity``: levels 1 and 2 as one exact objective."""

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

    # hard
    one_volunteer.add(v)  # rule 1
    one_session_per_slot.add(v)  # rule 4 (rule 3 holds by construction of the slot literals)
    max_hours.add(v)  # rule 5
    max_beneficiaries.add(v)  # rule 6
    volunteer_value.add(v)  # redundant: rules 3-5 per volunteer, to tighten the LP bound

    # objective
    cov = coverage.expr(v)  # level 1
    cont, k = continuity.expr(v)  # level 2
    primary = (k + 1) * cov + cont
    # level 3: LinliModel.polish(), added only once levels 1-2 are settled
    model.maximize(primary)
    return LinliModel(model, v, cov, cont, k, primary)
