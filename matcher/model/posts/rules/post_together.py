"""Rules 1 and 3 for posts: everyone on a need serves all its sessions together.

A volunteer on it must be free at every chosen window, so ``join[v, n]`` excludes each window
``v`` is not free at; ``at[v, n, w]`` is exactly ``join[v, n] and chosen[n, w]``.
"""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """Link ``join``, ``chosen`` and ``at``."""
    model = pv.model
    for (v, n), join in pv.join.items():
        for w in pv.windows(n):
            chosen = pv.chosen[n, w]
            at = pv.at.get((v, n, w))
            if at is None:  # not free there: on the need means the window is not chosen
                model.add(join + chosen <= 1)
                continue
            model.add(at <= join)
            model.add(at <= chosen)
            model.add(at >= join + chosen - 1)
