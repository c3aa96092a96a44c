"""The constraints of the posts model, one module per rule, each posting it with ``add(vars)``.

:data:`POST_RULES` lists them in the order they are posted.  The rules about one volunteer and
one need alone (skill, certifications, reach, gender, exclusions, minors on needs not
``minor_ok``) are filters applied when the instance is compiled (:mod:`..instance`).
"""

from __future__ import annotations

from collections.abc import Callable

from matcher.model.posts.rules import (
    lead,
    minor_with_adult,
    post_hours,
    post_places,
    post_sessions,
    post_size,
    post_slots,
    post_together,
)
from matcher.model.posts.variables import PostVars

PostRule = Callable[[PostVars], None]

POST_RULES: tuple[tuple[str, PostRule], ...] = (
    ("post_sessions", post_sessions.add),  # rule 1: sessions of the windows, when it runs
    ("post_size", post_size.add),  # rule 10: min..max volunteers, none when it does not run
    ("post_together", post_together.add),  # rules 1, 3: every volunteer at every chosen window
    ("post_slots", post_slots.add),  # rule 4: one session per volunteer per slot
    ("post_hours", post_hours.add),  # rule 5
    ("post_places", post_places.add),  # rule 6: a site counts as one place
    ("lead", lead.add),  # rule 11
    ("minor_with_adult", minor_with_adult.add),  # rule 12
)
"""Every constraint of the posts model, by name."""
