"""A finished plan's group posts (多人岗位) as the week's pages show them: one post per need, its
members grouped by need id, and the place (site or beneficiary) every need of the plan is at.

A plan version keeps its problem and plan as JSON.  A format-1 week has a beneficiary behind
every need and one volunteer per assignment; a format-2 week (``docs/format.md``, "Format 2")
may have needs at a ``site`` asking for ``volunteers: {min, max}``, and an assignment lists
its ``volunteers``.  A post may also be stored as several one-volunteer assignments of the same
need (its ``PlanAssignment`` rows), so members are grouped by need id whatever the shape.
Pure functions of the version's JSON: no database, so the grid, its Excel and the unmet page
read the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Place:
    """Where a need is: a beneficiary (format 1's only kind) or a site (format 2)."""

    id: str
    at_site: bool
    name: str
    """The site's name from the problem; empty for a beneficiary (the pages know their names)."""
    category: str
    """The beneficiary's category; ``""`` at a site (a site belongs to no programme)."""
    district: str
    priority: int


@dataclass
class PlanPost:
    """One post of a plan: its need, place, what it asks for, and who serves it when."""

    need: str
    place: Place
    service: str
    hours: float
    sessions: int
    minimum: int
    maximum: int
    volunteers: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)

    @property
    def open(self) -> int:
        """How many more volunteers it could take (0 when full)."""
        return max(0, self.maximum - len(self.volunteers))


def bounds(need: Mapping[str, Any]) -> tuple[int, int]:
    """A need's volunteers wanted (min, max): format 2's ``volunteers`` object, else 1 and 1."""
    wanted = need.get("volunteers") or {}
    return int(wanted.get("min", 1)), int(wanted.get("max", 1))


def is_post(need: Mapping[str, Any]) -> bool:
    """Whether a need is a post: at a site, or asking for more than one volunteer (format 2's rule)."""
    return need.get("site") is not None or bounds(need)[1] > 1


def places(problem: Mapping[str, Any]) -> dict[str, Place]:
    """Every need's place, by need id (one pass over the beneficiaries and sites)."""
    bens = {b["id"]: b for b in problem["beneficiaries"]}
    sites = {s["id"]: s for s in problem.get("sites") or []}
    out = {}
    for n in problem["needs"]:
        if n.get("site") is not None:
            s = sites.get(n["site"], {"id": n["site"]})
            out[n["id"]] = Place(
                n["site"],
                True,
                s.get("name") or n["site"],
                "",
                s.get("district", ""),
                int(n.get("priority", 1)),
            )
        else:
            b = bens[n["beneficiary"]]
            out[n["id"]] = Place(b["id"], False, "", b["category"], b["district"], int(b["priority"]))
    return out


def members(assignment: Mapping[str, Any]) -> list[str]:
    """The volunteers of one assignment: format 2's ``volunteers`` list, or format 1's one ``volunteer``."""
    if "volunteers" in assignment:
        return [str(v) for v in assignment["volunteers"]]
    return [str(assignment["volunteer"])]


def plan_posts(problem: Mapping[str, Any], plan: Mapping[str, Any]) -> dict[str, PlanPost]:
    """The plan's posts that run, by need id (in the plan's order), each with its members grouped
    by need id and its slots; a plan without posts (every format-1 week) gives none."""
    needs = {n["id"]: n for n in problem["needs"]}
    where = places(problem)
    posts: dict[str, PlanPost] = {}
    for a in plan["assignments"]:
        n = needs[a["need"]]
        if not is_post(n):
            continue
        low, high = bounds(n)
        post = posts.setdefault(
            n["id"],
            PlanPost(n["id"], where[n["id"]], n["service"], n["hours"], n["sessions"], low, high),
        )
        post.volunteers += [v for v in members(a) if v not in post.volunteers]
        post.slots += [s for s in a["slots"] if s not in post.slots]
    return posts
