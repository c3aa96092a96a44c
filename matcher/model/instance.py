"""A problem compiled to integer indexes and numpy arrays, ready for the model.

Hours are exact: every ``hours`` and ``max_hours`` is read as a decimal fraction
(``1.5`` is 3/2) and the whole problem is scaled by the least common denominator
``scale`` so that CP-SAT works on integers and coverage is never rounded away.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from matcher.format.errors import InputError
from matcher.format.hours import cap_units, exact, read_below
from matcher.format.schema import CERTIFICATION_KINDS, Problem

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

Home = tuple[int, tuple[int, ...] | None]
"""A need's preferred volunteer and, if it must keep them too, its slots."""

GENDER_CODES: dict[str | None, int] = {None: 0, "f": 1, "m": 2}

#: Largest common denominator of hours we accept; beyond it coefficients could overflow int64.
MAX_SCALE = 10**6


@dataclass
class Instance:
    """Integer view of a :class:`~matcher.format.schema.Problem`.

    Attributes hold one entry per volunteer (``vol_*``), beneficiary (``ben_*``),
    need (``need_*``) or slot, in document order.
    """

    problem: Problem
    slots: tuple[str, ...]
    scale: int
    """Common denominator of all hours: hour quantities are stored multiplied by it."""
    reach: BoolArray
    """``reach[d_volunteer, d_beneficiary]``: a volunteer of the first may serve the second."""
    vol_district: IntArray
    vol_avail: BoolArray
    vol_skill: dict[str, BoolArray]
    vol_cert: BoolArray
    """``vol_cert[v, k]``: volunteer holds certification kind ``k`` valid for the week."""
    vol_cap: IntArray
    """``max_hours`` x scale, exact."""
    vol_max_ben: IntArray
    vol_minor: BoolArray
    vol_gender: IntArray
    vol_loc: FloatArray
    ben_district: IntArray
    ben_priority: IntArray
    ben_gender: IntArray
    ben_excluded: list[frozenset[int]]
    ben_loc: FloatArray
    need_ben: IntArray
    need_service: list[str]
    need_sessions: IntArray
    need_load: IntArray
    """Hours x sessions x scale: what the need takes from a volunteer's ``max_hours``."""
    need_value: IntArray
    """Priority x hours x sessions x scale: the need's contribution to coverage."""
    need_win: BoolArray
    need_requires: list[IntArray]
    need_minor_ok: BoolArray
    previous: list[tuple[int, int]]
    """Distinct (volunteer, beneficiary) pairs of last week."""
    vol_index: dict[str, int] = field(repr=False)
    ben_index: dict[str, int] = field(repr=False)
    need_index: dict[str, int] = field(repr=False)
    slot_index: dict[str, int] = field(repr=False)

    # Re-solve (see :meth:`with_fixed`); a plain solve leaves these empty.
    need_fixed: frozenset[int] = frozenset()
    """Needs held by fixed assignments: they get no pairs and stay out of the search."""
    vol_held: dict[int, frozenset[int]] = field(default_factory=dict, repr=False)
    """Beneficiaries a volunteer already serves through fixed assignments (rule 6)."""
    vol_base_load: dict[int, int] = field(default_factory=dict, repr=False)
    """Scaled hours of a volunteer's fixed assignments (already taken out of ``vol_cap``)."""
    need_home: dict[int, Home] = field(default_factory=dict, repr=False)
    """Where a need would rather be: its volunteer, and its slots (None: any slots)."""
    move_budget: int | None = None
    """Most needs with a home slot set that may leave it (None: no limit)."""

    @property
    def n_volunteers(self) -> int:
        """Number of volunteers."""
        return len(self.vol_district)

    @property
    def n_needs(self) -> int:
        """Number of needs."""
        return len(self.need_ben)

    def coverage(self, value_units: int) -> Fraction:
        """Convert scaled coverage units back to priority-weighted hours."""
        return Fraction(value_units, self.scale)

    def ben_room(self, v: int) -> int:
        """Further distinct beneficiaries volunteer ``v`` may take (rule 6)."""
        return int(self.vol_max_ben[v]) - len(self.vol_held.get(v, ()))

    @property
    def pinned(self) -> frozenset[int]:
        """Volunteers whose sessions must keep exact slots: homes with a slot set."""
        return frozenset(vol for vol, slots in self.need_home.values() if slots is not None)

    def with_fixed(
        self,
        fixed: Mapping[int, tuple[int, tuple[int, ...]]],
        homes: Mapping[int, Home] | None = None,
        move_budget: int | None = None,
    ) -> Instance:
        """The same week with some assignments fixed: what is left to plan around them.

        Parameters
        ----------
        fixed
            need -> (volunteer, slots) of assignments that must stay as they are; they
            must keep every hard rule together.
        homes
            need -> (volunteer, slots or None): a preference for the open needs (see
            :mod:`matcher.model.objectives.home`).
        move_budget
            Most needs whose home has a slot set that may leave it.

        Returns
        -------
        Instance
            Fixed needs have no pairs; their volunteers' hours and slots are taken out
            of ``vol_cap`` and ``vol_avail``, their beneficiaries count towards rule 6,
            and previous pairs they already serve leave ``previous``.
        """
        cap = self.vol_cap.copy()
        avail = self.vol_avail.copy()
        held: dict[int, set[int]] = {}
        base: dict[int, int] = {}
        for n, (v, slots) in fixed.items():
            load = int(self.need_load[n])
            cap[v] -= load
            base[v] = base.get(v, 0) + load
            avail[v, list(slots)] = False
            held.setdefault(v, set()).add(int(self.need_ben[n]))
        if (cap < 0).any():
            raise ValueError("fixed assignments exceed a volunteer's max_hours")
        return dataclasses.replace(
            self,
            vol_cap=cap,
            vol_avail=avail,
            need_fixed=frozenset(fixed),
            vol_held={v: frozenset(b) for v, b in held.items()},
            vol_base_load=base,
            previous=[(v, b) for v, b in self.previous if b not in held.get(v, ())],
            need_home=dict(homes or {}),
            move_budget=move_budget,
        )

    @classmethod
    def from_problem(cls, problem: Problem) -> Instance:
        """Compile a validated problem.

        Parameters
        ----------
        problem
            A problem that passed schema validation (all references resolve).

        Returns
        -------
        Instance
            Arrays indexed by volunteer, beneficiary, need and slot position.
        """
        slots = problem.slot_ids
        slot_index = {s: i for i, s in enumerate(slots)}
        n_slots = len(slots)
        districts = {d.id: i for i, d in enumerate(problem.districts)}
        n_d = len(districts)
        reach = np.eye(n_d, dtype=bool)
        if problem.reach == "adjacent":
            for i, d in enumerate(problem.districts):
                for other in d.neighbors:
                    reach[i, districts[other]] = reach[districts[other], i] = True

        hours = [exact(n.hours) for n in problem.needs]
        caps = [exact(v.max_hours) for v in problem.volunteers]
        scale = 1
        fields = [f"needs[{i}].hours" for i in range(len(hours))]
        fields += [f"volunteers[{i}].max_hours" for i in range(len(caps))]
        for name, q in zip(fields, (*hours, *caps), strict=True):
            scale = math.lcm(scale, q.denominator)
            if scale > MAX_SCALE:
                # Only reachable by mixing many unrelated fractions of an hour.
                raise InputError(
                    f"{name}: {float(q)} h cannot be combined exactly with the other hours "
                    f"(common denominator above {MAX_SCALE})"
                )

        vols = problem.volunteers
        below = read_below(n.hours for n in problem.needs)
        n_v = len(vols)
        vol_index = {v.id: i for i, v in enumerate(vols)}
        vol_avail = np.zeros((n_v, n_slots), dtype=bool)
        vol_skill: dict[str, BoolArray] = {}
        vol_cert = np.zeros((n_v, len(CERTIFICATION_KINDS)), dtype=bool)
        kind_index = {k: i for i, k in enumerate(CERTIFICATION_KINDS)}
        deadline = problem.certification_deadline
        for i, v in enumerate(vols):
            vol_avail[i, [slot_index[s] for s in v.availability]] = True
            for skill in v.skills:
                vol_skill.setdefault(skill, np.zeros(n_v, dtype=bool))[i] = True
            for c in v.certifications:
                if c.expires >= deadline:
                    vol_cert[i, kind_index[c.kind]] = True

        bens = problem.beneficiaries
        ben_index = {b.id: i for i, b in enumerate(bens)}
        needs = problem.needs
        n_n = len(needs)
        need_ben = np.array([ben_index[n.beneficiary] for n in needs], dtype=np.int64)
        ben_priority = np.array([b.priority for b in bens], dtype=np.int64)
        need_sessions = np.array([n.sessions for n in needs], dtype=np.int64)
        need_load = np.array(
            [int(h * n.sessions * scale) for h, n in zip(hours, needs, strict=True)], dtype=np.int64
        )
        need_win = np.zeros((n_n, n_slots), dtype=bool)
        for i, n in enumerate(needs):
            need_win[i, [slot_index[s] for s in n.windows]] = True

        previous = sorted({(vol_index[p.volunteer], ben_index[p.beneficiary]) for p in problem.previous})

        def locations(items: list[object]) -> FloatArray:
            out = np.full((len(items), 2), np.nan)
            for i, item in enumerate(items):
                loc = getattr(item, "location", None)
                if loc is not None:
                    out[i] = loc
            return out

        return cls(
            problem=problem,
            slots=slots,
            scale=scale,
            reach=reach,
            vol_district=np.array([districts[v.district] for v in vols], dtype=np.int64),
            vol_avail=vol_avail,
            vol_skill=vol_skill,
            vol_cert=vol_cert,
            # Rule 5 as the validator adds the written decimals (matcher.format.hours.cap_units).
            vol_cap=np.array([cap_units(v.max_hours, scale, below) for v in vols], dtype=np.int64),
            vol_max_ben=np.array([v.max_beneficiaries for v in vols], dtype=np.int64),
            vol_minor=np.array([v.minor for v in vols], dtype=bool),
            vol_gender=np.array([GENDER_CODES[v.gender] for v in vols], dtype=np.int64),
            vol_loc=locations(list(vols)),
            ben_district=np.array([districts[b.district] for b in bens], dtype=np.int64),
            ben_priority=ben_priority,
            ben_gender=np.array([GENDER_CODES[b.volunteer_gender] for b in bens], dtype=np.int64),
            ben_excluded=[frozenset(vol_index[x] for x in b.excluded_volunteers) for b in bens],
            ben_loc=locations(list(bens)),
            need_ben=need_ben,
            need_service=[n.service for n in needs],
            need_sessions=need_sessions,
            need_load=need_load,
            need_value=need_load * ben_priority[need_ben] if n_n else need_load,
            need_win=need_win,
            need_requires=[
                np.array(sorted({kind_index[k] for k in n.requires}), dtype=np.int64) for n in needs
            ],
            need_minor_ok=np.array([n.minor_ok for n in needs], dtype=bool),
            previous=previous,
            vol_index=vol_index,
            ben_index=ben_index,
            need_index={n.id: i for i, n in enumerate(needs)},
            slot_index=slot_index,
        )
