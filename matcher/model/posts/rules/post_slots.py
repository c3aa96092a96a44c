"""Rule 4 for posts: a volunteer serves at most one session in any one slot, across needs."""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``sum_n at[v, n, s] <= 1`` for every volunteer and slot with two or more candidates."""
    by_slot: dict[tuple[int, str], list[object]] = {}
    for (v, _, w), at in pv.at.items():
        by_slot.setdefault((v, w), []).append(at)
    for ats in by_slot.values():
        if len(ats) > 1:
            pv.model.add_at_most_one(ats)  # type: ignore[arg-type]
