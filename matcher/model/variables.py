"""The container that owns the CP-SAT variables of a Linli model."""

from __future__ import annotations

from collections.abc import Callable

from ortools.sat.python import cp_model

from matcher.clock import Deadline
from matcher.model.instance import Instance
from matcher.model.pairs import Pairs


class Vars:
    """Decision literals over the eligible pairs.

    * ``x[p]``: pair ``p`` is chosen (its volunteer takes its need);
    * ``at(p, s)``: pair ``p`` holds a session in slot ``s``, created on demand (``x[p]``
      itself when the pair has exactly ``sessions`` usable slots, so no choice is left);
      only volunteers that :mod:`matcher.model.rules.one_session_per_slot` models slot by slot
      have them;
    * ``serves(v, b)``: volunteer ``v`` serves beneficiary ``b`` (created on demand).
    """

    def __init__(
        self, model: cp_model.CpModel, inst: Instance, pairs: Pairs, deadline: Deadline | None = None
    ) -> None:
        self.model = model
        self.deadline = deadline or Deadline.never()
        """Rules call ``deadline.check()`` as they go, so building never outlives the time limit."""
        self.inst = inst
        self.pairs = pairs
        self.x: list[cp_model.IntVar] = [model.new_bool_var(f"x{p}") for p in range(len(pairs))]
        self._at: dict[tuple[int, int], cp_model.IntVar] = {}
        self._serves: dict[tuple[int, int], cp_model.IntVar] = {}
        self._stay: dict[int, cp_model.IntVar | None] = {}
        self.explicit_slots: set[int] = set()
        """Volunteers whose sessions have slot literals (the others' are matched after solving)."""
        self.derived: list[tuple[cp_model.IntVar, Callable[[set[int]], int]]] = []
        """Auxiliary variables with the value each takes given the set of chosen pairs."""

    def assigned(self, v: int, n: int) -> cp_model.IntVar | None:
        """Literal "volunteer ``v`` takes need ``n``", or None when the pair is ineligible."""
        p = self.pairs.index.get((v, n))
        return None if p is None else self.x[p]

    def at(self, p: int, s: int) -> cp_model.IntVar:
        """Literal "pair ``p`` holds a session in slot ``s``" (``s`` must be usable)."""
        lit = self._at.get((p, s))
        if lit is None:
            if len(self.pairs.slots[p]) == self.inst.need_sessions[self.pairs.need[p]]:
                lit = self.x[p]
            else:
                lit = self.model.new_bool_var(f"y{p}_{s}")
            self._at[(p, s)] = lit
        return lit

    def slot_literals(self) -> dict[tuple[int, int], cp_model.IntVar]:
        """Every slot literal created so far, by (pair, slot)."""
        return self._at

    def serves(self, v: int, b: int) -> cp_model.IntVar:
        """Literal "volunteer ``v`` serves beneficiary ``b``", created on first use.

        Callers add the links they need: rule 6 forces it up from each pair, continuity
        forces it down to the pairs (see :mod:`matcher.model.objectives.continuity`).
        """
        lit = self._serves.get((v, b))
        if lit is None:
            lit = self.model.new_bool_var(f"s{v}_{b}")
            self._serves[(v, b)] = lit
            pairs = self.pairs.by_vol_ben.get((v, b), [])
            self.derive(lit, lambda on: int(any(p in on for p in pairs)))
        return lit

    def stay(self, n: int) -> cp_model.IntVar | None:
        """Literal "need ``n`` keeps its home volunteer and slots" (re-solve with moves).

        None when the home pair is not eligible any more, or has lost one of the slots:
        the need cannot stay.  The home volunteer's sessions have slot literals (it is
        :attr:`~matcher.model.instance.Instance.pinned`), so the slots can be required.
        """
        if n in self._stay:
            return self._stay[n]
        vol, slots = self.inst.need_home[n]
        p = self.pairs.index.get((vol, n))
        lit = None
        if slots is not None and p is not None and set(slots) <= set(self.pairs.slots[p]):
            lit = self.model.new_bool_var(f"stay{n}")
            self.model.add_implication(lit, self.x[p])
            for s in slots:
                self.model.add_implication(lit, self.at(p, s))
            # A hint from a plan that kept it at its home slots (greedy never moves them).
            self.derive(lit, lambda on: int(p in on))
        self._stay[n] = lit
        return lit

    def derive(self, var: cp_model.IntVar, value: Callable[[set[int]], int]) -> None:
        """Register an auxiliary variable and how to compute it from the chosen pairs.

        This is what lets :func:`matcher.solve.hint` hand CP-SAT a *complete* hint.
        """
        self.derived.append((var, value))
