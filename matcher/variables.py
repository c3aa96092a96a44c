"""The container that owns the CP-SAT variables of a Linli model."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.eligibility import Pairs
from matcher.instance import Instance


class Vars:
    """Decision literals over the eligible pairs.

    * ``x[p]``: pair ``p`` is chosen (its volunteer takes its need);
    * ``at(p, s)``: pair ``p`` holds a session in slot ``s`` (``x[p]`` itself when the
      pair has exactly ``sessions`` usable slots, so no choice is left);
    * ``serves(v, b)``: volunteer ``v`` serves beneficiary ``b`` (created on demand).
    """

    def __init__(self, model: cp_model.CpModel, inst: Instance, pairs: Pairs) -> None:
        self.model = model
        self.inst = inst
        self.pairs = pairs
        self.x: list[cp_model.IntVar] = [model.new_bool_var(f"x{p}") for p in range(len(pairs))]
        self._at: dict[tuple[int, int], cp_model.IntVar] = {}
        self._serves: dict[tuple[int, int], cp_model.IntVar] = {}
        for p, slots in enumerate(pairs.slots):
            if len(slots) == inst.need_sessions[pairs.need[p]]:
                for s in slots:
                    self._at[(p, s)] = self.x[p]
            else:
                for s in slots:
                    self._at[(p, s)] = model.new_bool_var(f"y{p}_{s}")

    def assigned(self, v: int, n: int) -> cp_model.IntVar | None:
        """Literal "volunteer ``v`` takes need ``n``", or None when the pair is ineligible."""
        p = self.pairs.index.get((v, n))
        return None if p is None else self.x[p]

    def at(self, p: int, s: int) -> cp_model.IntVar:
        """Literal "pair ``p`` holds a session in slot ``s``" (``s`` must be usable)."""
        return self._at[(p, s)]

    def serves(self, v: int, b: int) -> cp_model.IntVar:
        """Literal "volunteer ``v`` serves beneficiary ``b``", created on first use.

        Callers add the links they need: rule 6 forces it up from each pair, continuity
        forces it down to the pairs (see :mod:`matcher.objectives.continuity`).
        """
        lit = self._serves.get((v, b))
        if lit is None:
            lit = self.model.new_bool_var(f"s{v}_{b}")
            self._serves[(v, b)] = lit
        return lit
