"""Rules 1 and 3 for posts: everyone on a need serves all its sessions together.

A volunteer on a need serves at ``sessions`` windows he is free at, each of them chosen:
``at[v, n, w] <= chosen[n, w]`` and ``sum_w at[v, n, w] == sessions x join[v, n]``.  As the need
has exactly ``sessions`` chosen windows (:mod:`.post_sessions`), he is at every one of them, so
``at`` is exactly ``join and chosen`` (and this form keeps the LP as tight as format 1's
per-slot assignment).  A window he is not free at is never chosen while he is on it.
"""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """Link ``join``, ``chosen`` and ``at``."""
    model = pv.model
    for (v, n), join in pv.join.items():
        sessions = pv.inst.needs[n].need.sessions
        ats = []
        for w in pv.windows(n):
            chosen = pv.chosen[n, w]
            at = pv.at.get((v, n, w))
            if at is None:  # not free there: on the need means the window is not chosen
                model.add(join + chosen <= 1)
                continue
            model.add(at <= chosen)
            ats.append(at)
        model.add(sum(ats) == sessions * join)
