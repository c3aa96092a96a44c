"""Rule 10: a need that runs takes ``volunteers.min`` to ``volunteers.max`` volunteers; else none.

Posted twice: on the need (``min x run <= sum_v join <= max x run``) and on each window
(``min x chosen <= sum_v at <= max x chosen``), which holds in every plan (everyone on the need
is at each chosen window) and tightens the LP bound of a post.
"""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``min x run[n] <= sum_v join[v, n] <= max x run[n]``, and per window with ``chosen``."""
    at_window: dict[tuple[int, str], list[object]] = {}
    for (_, n, w), at in pv.at.items():
        at_window.setdefault((n, w), []).append(at)
    for n, run in pv.run.items():
        pn = pv.inst.needs[n]
        k = sum(pv.join[v, n] for v in pn.eligible)
        pv.model.add(k >= pn.low * run)
        pv.model.add(k <= pn.high * run)
        for w in pv.windows(n):
            here = sum(at_window.get((n, w), []))  # type: ignore[arg-type]
            chosen = pv.chosen[n, w]
            pv.model.add(here >= pn.low * chosen)
            pv.model.add(here <= pn.high * chosen)
