"""The eligible (volunteer, need) pairs, numbered, with their indexes by need, by volunteer
and by slot (built by :func:`matcher.model.eligibility.build_pairs`).

Its own module so that the model's variables and the rules that constrain them can name
the pairs without importing the eligibility filters (which import the rules).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property

import numpy as np

from matcher.model.instance import BoolArray, Instance, IntArray


class Groups:
    """Pairs grouped by need or by volunteer, stored as CSR arrays.

    ``groups[i]`` lists the pair indexes of group ``i``; :meth:`sizes` gives every
    group's size at once.  Nothing is materialised per pair, so a city's millions of
    pairs cost a few arrays, not millions of Python lists.
    """

    def __init__(self, members: IntArray, ptr: IntArray) -> None:
        self.members = members
        self.ptr = ptr

    @classmethod
    def by(cls, key: IntArray, n_groups: int) -> Groups:
        """Group indexes ``0 .. len(key) - 1`` by ``key`` (stable: ascending within a group)."""
        order = np.argsort(key, kind="stable").astype(np.int64)
        ptr = np.zeros(n_groups + 1, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=n_groups), out=ptr[1:])
        return cls(order, ptr)

    def __getitem__(self, i: int) -> list[int]:
        members: list[int] = self.members[self.ptr[i] : self.ptr[i + 1]].tolist()
        return members

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(len(self)):
            yield self[i]

    def sizes(self) -> IntArray:
        """Number of pairs in every group."""
        sizes: IntArray = np.diff(self.ptr)
        return sizes


class Slots:
    """The usable slots of each pair, from a boolean matrix ``usable[pair, slot]``."""

    def __init__(self, usable: BoolArray) -> None:
        self.usable = usable

    def __getitem__(self, p: int) -> tuple[int, ...]:
        return tuple(np.flatnonzero(self.usable[p]).tolist())

    def __len__(self) -> int:
        return len(self.usable)

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        for p in range(len(self)):
            yield self[p]


class Pairs:
    """The eligible (volunteer, need) pairs and the slots each may use.

    Pair ``p`` links volunteer ``vol[p]`` to need ``need[p]``; ``slots[p]`` lists the
    slot indexes in both the need's windows and the volunteer's availability.
    ``by_need`` and ``by_vol`` group the pairs; the per-beneficiary groupings and the
    (volunteer, need) index are built on first use (only models of station or
    neighbourhood size ask for them).
    """

    def __init__(self, inst: Instance, vol: IntArray, need: IntArray, usable: BoolArray) -> None:
        self.vol = vol
        self.need = need
        self.usable = usable
        self.slots = Slots(usable)
        self.by_need = Groups.by(need, inst.n_needs)
        self.by_vol = Groups.by(vol, inst.n_volunteers)
        self._ben = inst.need_ben[need]
        self._n_vols = inst.n_volunteers

    def __len__(self) -> int:
        return len(self.vol)

    @classmethod
    def of(cls, inst: Instance, vol: IntArray, need: IntArray, usable: BoolArray) -> Pairs:
        """The pairs ``(vol[p], need[p])`` with their usable-slot rows."""
        return cls(inst, vol, need, usable)

    def subset(self, inst: Instance, keep: IntArray) -> Pairs:
        """The pairs ``keep`` (indexes into these pairs), renumbered from 0 in that order."""
        return Pairs(inst, self.vol[keep], self.need[keep], self.usable[keep])

    @cached_property
    def by_vol_ben(self) -> dict[tuple[int, int], list[int]]:
        """Pairs by (volunteer, beneficiary)."""
        out: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        for p, (v, b) in enumerate(zip(self.vol.tolist(), self._ben.tolist(), strict=True)):
            out[(v, b)].append(p)
        return dict(out)

    @cached_property
    def bens_by_vol(self) -> list[list[int]]:
        """Distinct candidate beneficiaries of each volunteer."""
        out: list[list[int]] = [[] for _ in range(self._n_vols)]
        for v, b in self.by_vol_ben:
            out[v].append(b)
        return out

    @cached_property
    def index(self) -> dict[tuple[int, int], int]:
        """Pair index by (volunteer, need)."""
        return {(v, n): p for p, (v, n) in enumerate(zip(self.vol.tolist(), self.need.tolist(), strict=True))}
