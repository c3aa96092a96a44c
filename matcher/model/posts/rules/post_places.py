"""Rule 6 for posts: at most ``max_beneficiaries`` distinct places per volunteer (a site counts as one)."""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``use[v, p] >= join[v, n]`` for each need ``n`` at place ``p``; ``sum_p use[v, p] <= max``."""
    by_volunteer: dict[int, dict[str, list[int]]] = {}
    for v, n in pv.join:
        by_volunteer.setdefault(v, {}).setdefault(pv.inst.needs[n].place, []).append(n)
    for v, places in by_volunteer.items():
        most = pv.inst.volunteers[v].max_beneficiaries
        if len(places) <= most:
            continue
        uses = []
        for place, needs in places.items():
            use = pv.use[v, place] = pv.model.new_bool_var(f"use[{v},{place}]")
            for n in needs:
                pv.model.add_implication(pv.join[v, n], use)
            uses.append(use)
        pv.model.add(sum(uses) <= most)
