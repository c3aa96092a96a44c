"""A plan inside the engine: need -> (pair, slots) over the eligible pairs, or need ->
(volunteer, slots) independent of any pair numbering; and its coverage."""

from __future__ import annotations

from matcher.model.instance import Instance

Chosen = dict[int, tuple[int, tuple[int, ...]]]
"""need index -> (pair index, slot indexes)."""

Assigned = dict[int, tuple[int, tuple[int, ...]]]
"""need index -> (volunteer index, slot indexes): a plan independent of any pair numbering."""


def coverage_units(inst: Instance, chosen: Chosen | Assigned) -> int:
    """Scaled coverage of a set of assignments (the sum of their needs' values)."""
    return sum(int(inst.need_value[n]) for n in chosen)
