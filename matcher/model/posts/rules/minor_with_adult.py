"""Rule 12: a minor on a group post (``volunteers.max`` > 1) serves beside at least one adult on it.

(Rule 8, minors only on ``minor_ok`` needs, is a filter of the instance.)
"""

from __future__ import annotations

from matcher.model.posts.variables import PostVars


def add(pv: PostVars) -> None:
    """``join[minor, n] <= sum_{adult a} join[a, n]`` for each minor eligible for a group post."""
    volunteers = pv.inst.volunteers
    for n in pv.run:
        pn = pv.inst.needs[n]
        if not pn.group:
            continue
        minors = [v for v in pn.eligible if volunteers[v].minor]
        adults = [v for v in pn.eligible if not volunteers[v].minor]
        for v in minors:
            pv.model.add(pv.join[v, n] <= sum(pv.join[a, n] for a in adults))
