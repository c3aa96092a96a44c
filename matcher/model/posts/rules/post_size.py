"""Rule 10: a need that runs takes ``volunteers.min`` to ``volunteers.max`` volunteers; else none."""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``min x run[n] <= sum_v join[v, n] <= max x run[n]``."""
    for n, run in pv.run.items():
        pn = pv.inst.needs[n]
        k = sum(pv.join[v, n] for v in pn.eligible)
        pv.model.add(k >= pn.low * run)
        pv.model.add(k <= pn.high * run)
