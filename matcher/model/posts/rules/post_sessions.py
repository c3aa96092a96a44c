"""Rule 1 for posts: a need that runs has exactly ``sessions`` chosen windows; one that does not, none."""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``sum_w chosen[n, w] == sessions x run[n]`` for every need."""
    for n, run in pv.run.items():
        windows = pv.windows(n)
        pv.model.add(sum(pv.chosen[n, w] for w in windows) == pv.inst.needs[n].need.sessions * run)
