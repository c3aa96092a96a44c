"""Rule 11: a need with a ``lead`` runs only with a volunteer on it who holds all of the lead."""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``sum_{v holds the lead} join[v, n] >= run[n]``."""
    for n, run in pv.run.items():
        pn = pv.inst.needs[n]
        if pn.need.lead is None:
            continue
        pv.model.add(sum(pv.join[v, n] for v in sorted(pn.leads)) >= run)
