"""Rule 5 for posts: a volunteer's needs' ``hours x sessions`` add up within ``max_hours``."""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``sum_n unit_hours[n] x join[v, n] <= max_hours[v]`` where it can bind."""
    by_volunteer: dict[int, list[int]] = {}
    for v, n in pv.join:
        by_volunteer.setdefault(v, []).append(n)
    for v, needs in by_volunteer.items():
        hours = [pv.inst.needs[n].unit_hours for n in needs]
        if sum(hours) > pv.inst.max_hours[v]:
            pv.model.add(
                sum(h * pv.join[v, n] for h, n in zip(hours, needs, strict=True)) <= pv.inst.max_hours[v]
            )
