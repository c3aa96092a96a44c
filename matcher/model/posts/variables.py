"""The variables of the posts model.

Per need ``n``: ``run[n]`` (it runs), ``chosen[n, w]`` for each window ``w`` at which at least
``volunteers.min`` of its eligible volunteers are free (a session there).  Per eligible
volunteer-need pair: ``join[v, n]`` (on it).  Per pair and window the volunteer is free at:
``at[v, n, w]``, which is 1 when ``join[v, n]`` and ``chosen[n, w]`` both are (rule 4 counts it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from matcher.model.posts.instance import PostInstance


@dataclass
class PostVars:
    """The model and its variables (see the module docstring)."""

    model: cp_model.CpModel
    inst: PostInstance
    run: dict[int, cp_model.IntVar] = field(default_factory=dict)
    chosen: dict[tuple[int, str], cp_model.IntVar] = field(default_factory=dict)
    join: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    """(volunteer, need) -> on it."""
    at: dict[tuple[int, int, str], cp_model.IntVar] = field(default_factory=dict)
    """(volunteer, need, slot) -> serves a session of it there."""
    use: dict[tuple[int, str], cp_model.IntVar] = field(default_factory=dict)
    """(volunteer, place) -> serves there (declared by rule 6's constraint where it binds)."""
    keep: dict[tuple[int, str], cp_model.IntVar] = field(default_factory=dict)
    """(volunteer, beneficiary) -> a previous pair kept (declared with the objective)."""

    @classmethod
    def declare(cls, model: cp_model.CpModel, inst: PostInstance) -> PostVars:
        """Declare every variable (constraints are the rules')."""
        out = cls(model, inst)
        for pn in inst.needs:
            n = pn.index
            if len(pn.eligible) < pn.low:
                continue  # it can never run: no variable at all
            out.run[n] = model.new_bool_var(f"run[{n}]")
            for w in pn.need.windows:
                if sum(1 for v in pn.eligible if w in inst.free[v]) >= pn.low:
                    out.chosen[n, w] = model.new_bool_var(f"chosen[{n},{w}]")
            for v in pn.eligible:
                out.join[v, n] = model.new_bool_var(f"join[{v},{n}]")
                for w in pn.need.windows:
                    if (n, w) in out.chosen and w in inst.free[v]:
                        out.at[v, n, w] = model.new_bool_var(f"at[{v},{n},{w}]")
        return out

    def windows(self, n: int) -> list[str]:
        """The windows of need ``n`` that have a ``chosen`` variable."""
        return [w for w in self.inst.needs[n].need.windows if (n, w) in self.chosen]
