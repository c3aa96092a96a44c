"""The engine's plan: :class:`IndexedPlan`, array-backed, what the stages hand each other.

A stage may work on a *view* of the plan while it runs (a ``Chosen`` mapping need ->
(pair, slots) that greedy, the columns, the neighbourhoods and the CP-SAT transfer
update in place, or per-volunteer occupancy); what it takes in and hands on is an
:class:`IndexedPlan`.  The exchange format's plan is written from it only at the edge
(:func:`matcher.explain.to_format`).  Its values (coverage, continuity, the lexicographic
objective, travel and load) are computed in one place, :mod:`matcher.model.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from matcher.model.instance import Instance, IntArray
from matcher.model.pairs import Pairs

Chosen = dict[int, tuple[int, tuple[int, ...]]]
"""A stage's working view: need index -> (pair index, slot indexes)."""

Assigned = dict[int, tuple[int, tuple[int, ...]]]
"""A working view independent of any pair numbering: need index -> (volunteer index, slot indexes)."""

NONE = -1
"""The volunteer, pair or slot of a need that has none."""


class IndexedPlan:
    """A plan as arrays over the instance's needs.

    Attributes
    ----------
    needs
        The assigned needs, in the order they were given.  Working views are rebuilt in
        that order, because some searches depend on it (greedy re-matches a volunteer's
        sessions in the order it holds them; the columns' master takes volunteers in the
        order they first appear), so a round trip through the plan changes nothing.
    vol
        Per need: the volunteer index, or ``NONE``.
    pair
        Per need: the pair index in the numbering the plan was made in, or ``NONE`` (unmet,
        or a plan independent of any pair numbering, e.g. a re-solve's fixed assignments).
    slots
        Per need: its slot indexes, ``NONE``-padded to the longest need's sessions, in the
        order the sessions were placed.
    """

    __slots__ = ("needs", "pair", "slots", "vol")

    def __init__(self, needs: IntArray, vol: IntArray, pair: IntArray, slots: IntArray) -> None:
        self.needs = needs
        self.vol = vol
        self.pair = pair
        self.slots = slots

    @classmethod
    def empty(cls, inst: Instance) -> IndexedPlan:
        """No need assigned."""
        return cls.from_items(inst, ())

    @classmethod
    def from_items(cls, inst: Instance, items: Iterable[tuple[int, int, int, Sequence[int]]]) -> IndexedPlan:
        """A plan from (need, volunteer, pair or ``NONE``, slots) rows, in that order."""
        n = inst.n_needs
        width = max(1, int(inst.need_sessions.max(initial=1)))
        vol = np.full(n, NONE, dtype=np.int64)
        pair = np.full(n, NONE, dtype=np.int64)
        slots = np.full((n, width), NONE, dtype=np.int64)
        needs: list[int] = []
        for need, v, p, sl in items:
            if vol[need] != NONE:
                raise ValueError(f"need {need} assigned twice")
            needs.append(need)
            vol[need], pair[need] = v, p
            slots[need, : len(sl)] = sl
        return cls(np.array(needs, dtype=np.int64), vol, pair, slots)

    @classmethod
    def from_chosen(
        cls, inst: Instance, pairs: Pairs, chosen: Mapping[int, tuple[int, Sequence[int]]]
    ) -> IndexedPlan:
        """A plan from a working view need -> (pair, slots) over ``pairs``."""
        return cls.from_items(inst, ((n, int(pairs.vol[p]), p, sl) for n, (p, sl) in chosen.items()))

    @classmethod
    def from_pairs(cls, inst: Instance, pairs: Pairs, chosen: Mapping[int, Sequence[int]]) -> IndexedPlan:
        """A plan from chosen pairs: pair index -> slots over ``pairs``."""
        return cls.from_items(
            inst, ((int(pairs.need[p]), int(pairs.vol[p]), p, sl) for p, sl in chosen.items())
        )

    @classmethod
    def from_assigned(
        cls, inst: Instance, assigned: Mapping[int, tuple[int, Sequence[int]]], pairs: Pairs | None = None
    ) -> IndexedPlan:
        """A plan from need -> (volunteer, slots); with ``pairs``, numbered over them (every
        assignment must be one of them)."""
        index = pairs.index if pairs is not None else None
        return cls.from_items(
            inst,
            ((n, v, NONE if index is None else index[(v, n)], sl) for n, (v, sl) in assigned.items()),
        )

    def __len__(self) -> int:
        return len(self.needs)

    def __contains__(self, need: object) -> bool:
        """Whether ``need`` (an index) is assigned."""
        if not isinstance(need, int | np.integer):
            return False
        return bool(0 <= need < len(self.vol) and self.vol[need] != NONE)

    def __eq__(self, other: object) -> bool:
        """The same assignments (volunteer, pair and slot set per need), whatever their order."""
        if not isinstance(other, IndexedPlan):
            return NotImplemented
        return bool(
            np.array_equal(self.vol, other.vol)
            and np.array_equal(self.pair, other.pair)
            and np.array_equal(np.sort(self.slots, axis=1), np.sort(other.slots, axis=1))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays

    def __repr__(self) -> str:
        return f"IndexedPlan({len(self)} of {len(self.vol)} needs)"

    def slots_of(self, need: int) -> tuple[int, ...]:
        """The slots of an assigned need, in the order its sessions were placed."""
        row = self.slots[need]
        return tuple(row[row != NONE].tolist())

    def items(self) -> Iterator[tuple[int, int, int, tuple[int, ...]]]:
        """(need, volunteer, pair, slots) of each assigned need, in the plan's order."""
        for n in self.needs.tolist():
            yield n, int(self.vol[n]), int(self.pair[n]), self.slots_of(n)

    def to_chosen(self) -> Chosen:
        """The working view need -> (pair, slots), in the plan's order."""
        if len(self) and bool((self.pair[self.needs] == NONE).any()):
            raise ValueError("to_chosen: the plan has assignments without a pair index")
        return {n: (p, sl) for n, _, p, sl in self.items()}

    def to_assigned(self) -> Assigned:
        """The view need -> (volunteer, slots), in the plan's order."""
        return {n: (v, sl) for n, v, _, sl in self.items()}

    def numbered(self, pairs: Pairs) -> IndexedPlan:
        """The same assignments with their pair indexes in ``pairs``."""
        index = pairs.index
        out = self.copy()
        out.pair[self.needs] = [index[(int(self.vol[n]), n)] for n in self.needs.tolist()]
        return out

    def merged(self, other: IndexedPlan) -> IndexedPlan:
        """Both plans' assignments, ``other``'s where both assign a need (like ``dict | dict``:
        this plan's needs first, then ``other``'s new ones)."""
        out = self.copy()
        new = other.needs[~np.isin(other.needs, self.needs)]
        out.needs = np.concatenate([self.needs, new])
        out.vol[other.needs] = other.vol[other.needs]
        out.pair[other.needs] = other.pair[other.needs]
        out.slots[other.needs] = other.slots[other.needs]
        return out

    def copy(self) -> IndexedPlan:
        """An independent copy."""
        return IndexedPlan(self.needs.copy(), self.vol.copy(), self.pair.copy(), self.slots.copy())
