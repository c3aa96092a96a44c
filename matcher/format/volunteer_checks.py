"""The per-volunteer rules both plan checkers share: one function per rule (or per part of a rule).

Format 1 (:mod:`matcher.format.validate`) and format 2 (:mod:`matcher.format.validate2`) hold every
volunteer on every assignment to the same rules 1-9 of ``docs/format.md``; only how a plan is read
differs (one volunteer per assignment, or several on a post).  Each checker resolves its plan once
(:class:`Resolved`: its :class:`Seat` rows, the volunteers on known needs, the problem's index).
Rules 3, 4, 5 and 8 are the same to the letter in both formats: ``rule3_availability`` … stand in
both checkers' tables as they are.  Of rules 1, 2, 6 and 9 the formats share the part here
(``check_slots`` …), and word the rest their own way.  Every function appends human-readable
violations to ``out`` (location first, the rule's number last).

Like the checkers, this module re-checks a plan from the written contract alone: it imports only the
standard library, :mod:`matcher.format.schema` and :mod:`matcher.format.evaluate`, never the solver.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from matcher.format.evaluate import hours_fraction
from matcher.format.schema import District, Problem, Problem2, Volunteer


class SessionsOf(Protocol):
    """What rules 1, 5 and 8 read of a need (format 1's or format 2's)."""

    @property
    def hours(self) -> float: ...

    @property
    def sessions(self) -> int: ...

    @property
    def windows(self) -> list[str]: ...

    @property
    def minor_ok(self) -> bool: ...


@dataclass(frozen=True)
class VolunteerIndex:
    """What both checkers look up in a problem of either format (each checker's index adds its own)."""

    volunteers: dict[str, Volunteer]
    """Volunteer id -> the volunteer."""
    volunteer_position: dict[str, int]
    """Volunteer id -> its position in ``volunteers``."""
    neighbours: dict[str, set[str]]
    """District id -> its neighbours, symmetric: one side listing the other is enough."""
    slots: frozenset[str]
    """The problem's slot ids."""


def volunteer_lookups(problem: Problem | Problem2) -> dict[str, Any]:
    """The :class:`VolunteerIndex` fields of ``problem``, as keyword arguments of a checker's index."""
    return {
        "volunteers": {v.id: v for v in problem.volunteers},
        "volunteer_position": {v.id: i for i, v in enumerate(problem.volunteers)},
        "neighbours": neighbour_map(problem.districts),
        "slots": frozenset(problem.slot_ids),
    }


N = TypeVar("N")
"""What a seat carries: a need of either format, or the id of its place."""


@dataclass(frozen=True)
class Seat:
    """One known volunteer on one assignment."""

    i: int
    """The assignment's position in ``assignments``."""
    where: str
    """The location violations start with."""
    need_id: str
    slots: Sequence[str]
    volunteer: Volunteer


class Served(Protocol):
    """One known volunteer on one known need."""

    @property
    def where(self) -> str: ...

    @property
    def volunteer(self) -> Volunteer: ...

    @property
    def need(self) -> SessionsOf: ...


class Resolved(Protocol):
    """A plan as a checker resolved it against its problem."""

    @property
    def seats(self) -> Sequence[Seat]:
        """Each known volunteer on each assignment (format 1: the need may be unknown)."""
        ...

    @property
    def served(self) -> Sequence[Served]:
        """Each known volunteer on each known need."""
        ...

    @property
    def index(self) -> VolunteerIndex: ...


def neighbour_map(districts: Iterable[District]) -> dict[str, set[str]]:
    """District id -> its neighbours, symmetric: one side listing the other is enough."""
    districts = list(districts)
    neighbours: dict[str, set[str]] = {d.id: set() for d in districts}
    for district in districts:
        for other in district.neighbors:
            neighbours.setdefault(district.id, set()).add(other)
            neighbours.setdefault(other, set()).add(district.id)
    return neighbours


def by_volunteer(seats: Iterable[tuple[Volunteer, N]]) -> dict[str, list[N]]:
    """The needs of (volunteer, need) seats by volunteer id, in order of each volunteer's first seat."""
    out: dict[str, list[N]] = {}
    for volunteer, need in seats:
        out.setdefault(volunteer.id, []).append(need)
    return out


def show(x: Fraction) -> str:
    """Render an exact number briefly: ``12``, ``1.5``."""
    if x.denominator == 1:
        return str(x.numerator)
    return repr(float(x))


def volunteer_where(volunteer_id: str, position: Mapping[str, int]) -> str:
    """A volunteer's location: ``volunteers[3] ('v4')``."""
    return f"volunteers[{position[volunteer_id]}] ({volunteer_id!r})"


def valid_kinds(volunteer: Volunteer, deadline: dt.date) -> set[str]:
    """The certification kinds the volunteer holds valid for the week (expiring on or after ``deadline``)."""
    return {c.kind for c in volunteer.certifications if c.expires >= deadline}


def check_slots(
    where: str, slots: Sequence[str], known: frozenset[str], need: SessionsOf | None, out: list[str]
) -> None:
    """Rule 1 (one assignment): known slots, each once, in the need's windows, ``sessions`` of them
    (``need`` None: it is unknown, only the slots are checked)."""
    seen: set[str] = set()
    for slot in slots:
        if slot in seen:
            out.append(f"{where}: slot {slot!r} is listed more than once (rule 1)")
            continue
        seen.add(slot)
        if slot not in known:
            out.append(f"{where}: unknown slot {slot!r} (rule 1)")
        elif need is not None and slot not in need.windows:
            out.append(f"{where}: slot {slot!r} is not in the need's windows (rule 1)")
    if need is not None and len(seen) != need.sessions:
        out.append(f"{where}: {len(seen)} distinct slots for a need of {need.sessions} sessions (rule 1)")


def check_skill(where: str, service: str, volunteer: Volunteer, out: list[str]) -> None:
    """Rule 2 (its skill half): the volunteer has the need's service among their skills."""
    if service not in volunteer.skills:
        out.append(f"{where}: the volunteer lacks skill {service!r} (rule 2)")


def rule3_availability(plan: Resolved, out: list[str]) -> None:
    """Rule 3: every known slot of a seat is in its volunteer's availability."""
    for s in plan.seats:
        for slot in dict.fromkeys(s.slots):
            if slot in plan.index.slots and slot not in s.volunteer.availability:
                out.append(f"{s.where}: slot {slot!r} is not in the volunteer's availability (rule 3)")


def rule4_one_session_per_slot(plan: Resolved, out: list[str]) -> None:
    """Rule 4: a volunteer serves at most one session in any one slot, across assignments."""
    taken: dict[tuple[str, str], Seat] = {}  # (volunteer, slot) -> the first seat taking it
    for s in plan.seats:
        for slot in dict.fromkeys(s.slots):
            first = taken.setdefault((s.volunteer.id, slot), s)
            if first is not s:
                out.append(
                    f"{s.where}: slot {slot!r} is already taken by assignments[{first.i}] "
                    f"(need {first.need_id!r}) of the same volunteer (rule 4)"
                )


def rule5_max_hours(plan: Resolved, out: list[str]) -> None:
    """Rule 5: the sum of ``hours x sessions`` of each volunteer's needs within their ``max_hours``,
    exactly."""
    index = plan.index
    for volunteer_id, needs in by_volunteer((s.volunteer, s.need) for s in plan.served).items():
        total = sum((hours_fraction(n.hours) * n.sessions for n in needs), Fraction(0))
        limit = hours_fraction(index.volunteers[volunteer_id].max_hours)
        if total > limit:
            where = volunteer_where(volunteer_id, index.volunteer_position)
            out.append(f"{where}: {show(total)} hours assigned, more than max_hours {show(limit)} (rule 5)")


def check_max_places(
    places_of: Mapping[str, Iterable[str]], index: VolunteerIndex, noun: str, out: list[str]
) -> None:
    """Rule 6: at most ``max_beneficiaries`` distinct places per volunteer (``places_of``: the places
    of their assignments by volunteer id; ``noun`` names them in the message)."""
    for volunteer_id, served in places_of.items():
        places = list(dict.fromkeys(served))
        most = index.volunteers[volunteer_id].max_beneficiaries
        if len(places) > most:
            names = ", ".join(repr(p) for p in places)
            where = volunteer_where(volunteer_id, index.volunteer_position)
            out.append(
                f"{where}: serves {len(places)} distinct {noun} ({names}), more than max_beneficiaries "
                f"{most} (rule 6)"
            )


def rule8_minors(plan: Resolved, out: list[str]) -> None:
    """Rule 8: a minor takes only ``minor_ok`` needs."""
    for s in plan.served:
        if s.volunteer.minor and not s.need.minor_ok:
            out.append(f"{s.where}: the volunteer is a minor and the need is not minor_ok (rule 8)")


def check_not_excluded(
    where: str, beneficiary_id: str, excluded: Sequence[str], volunteer: Volunteer, out: list[str]
) -> None:
    """Rule 9 (its exclusion half): the volunteer is not among the beneficiary's ``excluded_volunteers``."""
    if volunteer.id in excluded:
        out.append(f"{where}: beneficiary {beneficiary_id!r} excluded this volunteer (rule 9)")
