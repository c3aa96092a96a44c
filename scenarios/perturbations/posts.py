"""Add posts: an event week (文明劝导, 植树节, 工地义诊) adds group posts at sites to the base week.

A format-1 week becomes format 2 (its needs unchanged, one volunteer each); a format-2 week keeps
its sites and posts and gains these.  Sites are either named in the scenario (``sites``, in a
district of the base) or drawn per district (``per_district``), so a scenario applies to any
station's week whatever its districts are called.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from matcher.format.bounds import Id, Name, Priority, SessionHours, Sessions
from matcher.format.schema import (
    AnyProblem,
    CertificationKinds,
    Lead,
    Need2,
    Problem,
    Problem2,
    ServiceCode,
    Site,
    SlotList,
    Staffing,
    reference_error,
)
from scenarios.perturbations.common import STRICT


class SiteSpec(BaseModel):
    """A named site in a district of the base week."""

    model_config = STRICT

    id: Id = Field(description="Site id (kept apart from the base's ids by a prefix).")
    name: Name = Field(min_length=1, description="What coordinators call it, e.g. '人民广场'.")
    district: str = Field(description="District of the base week the site lies in.")


class PerDistrict(BaseModel):
    """Sites drawn in every district of the base week (or the listed ones)."""

    model_config = STRICT

    count: Annotated[float, Field(ge=0, le=50)] = Field(
        description="Sites per district; a fraction is drawn (1.5: one or two, two half the time)."
    )
    name: Name = Field(min_length=1, description="What a site is called, e.g. '十字路口' (numbered).")
    districts: list[str] | None = Field(
        default=None,
        description="Only these districts; default those where the week has volunteers or beneficiaries.",
    )


class PostSpec(BaseModel):
    """One kind of post, held at each of its sites: a format-2 need at a site."""

    model_config = STRICT

    id: Id = Field(description="Post id; each site's post is '<site>+<id>'.")
    sites: list[Id] | None = Field(default=None, description="Ids of sites listed under 'sites'.")
    per_district: PerDistrict | None = Field(default=None, description="Or: sites drawn per district.")
    service: ServiceCode = Field(description="Service code, e.g. civility_guidance, environment.")
    priority: Priority = Field(
        description="1-5, the post's priority (value: priority x hours x sessions x k)."
    )
    hours: SessionHours = Field(description="Hours per session.")
    sessions: Sessions = Field(default=1, description="Sessions per week, served by all together.")
    windows: Annotated[SlotList, Field(min_length=1)] = Field(description="Slots a session may take.")
    volunteers: Staffing = Field(description="{min, max} volunteers serving together.")
    lead: Lead | None = Field(default=None, description="What one volunteer on the post must hold.")
    requires: CertificationKinds = Field(
        default_factory=list, description="Certification kinds every volunteer on it must hold."
    )
    minor_ok: bool = Field(default=False, description="Little volunteers may serve it beside an adult.")

    @model_validator(mode="after")
    def _one_place(self) -> PostSpec:
        if (self.sites is None) == (self.per_district is None):
            raise ValueError("give exactly one of 'sites' and 'per_district'")
        if self.sites is not None and not self.sites:
            raise ValueError("sites: list at least one site id")
        return self


class AddPosts(BaseModel):
    """Group posts at sites join the week (the week becomes format 2)."""

    model_config = STRICT

    kind: Literal["add_posts"] = Field(description="Perturbation kind.")
    sites: list[SiteSpec] = Field(default_factory=list, description="Named sites used by the posts.")
    posts: Annotated[list[PostSpec], Field(min_length=1)] = Field(description="The posts to add.")

    @model_validator(mode="after")
    def _known_sites(self) -> AddPosts:
        ids = [s.id for s in self.sites]
        for i, s in enumerate(ids):
            if s in ids[:i]:
                raise reference_error(f"sites[{i}].id", f"{s!r} is listed twice")
        for j, post in enumerate(self.posts):
            if post.id in (q.id for q in self.posts[:j]):
                raise reference_error(f"posts[{j}].id", f"{post.id!r} is listed twice")
            for k, site in enumerate(post.sites or []):
                if site not in ids:
                    raise reference_error(
                        f"posts[{j}].sites[{k}]", f"unknown site {site!r} (list it under 'sites')"
                    )
        return self

    def district_refs(self, path: str) -> list[tuple[str, str]]:
        """District ids the perturbation names, with their field paths."""
        out = [(f"{path}.sites[{i}].district", s.district) for i, s in enumerate(self.sites)]
        for j, post in enumerate(self.posts):
            if post.per_district is not None:
                out += [
                    (f"{path}.posts[{j}].per_district.districts[{i}]", d)
                    for i, d in enumerate(post.per_district.districts or [])
                ]
        return out

    def slot_refs(self, path: str) -> list[tuple[str, str]]:
        """Slots the posts name, with their field paths (checked against the base's week)."""
        return [
            (f"{path}.posts[{j}].windows[{i}]", w)
            for j, post in enumerate(self.posts)
            for i, w in enumerate(post.windows)
        ]


def as_format2(problem: AnyProblem) -> Problem2:
    """The format-2 week saying the same as ``problem`` (a format-2 week is returned as is)."""
    if isinstance(problem, Problem2):
        return problem
    assert isinstance(problem, Problem)
    needs = [
        Need2(
            id=n.id,
            beneficiary=n.beneficiary,
            service=n.service,
            hours=n.hours,
            sessions=n.sessions,
            windows=n.windows,
            requires=n.requires,
            minor_ok=n.minor_ok,
        )
        for n in problem.needs
    ]
    return Problem2.model_construct(
        format=2,
        week_start=problem.week_start,
        slots=problem.slots,
        districts=problem.districts,
        reach=problem.reach,
        volunteers=problem.volunteers,
        beneficiaries=problem.beneficiaries,
        sites=[],
        needs=needs,
        previous=problem.previous,
        time_limit_s=problem.time_limit_s,
    )


def apply_add_posts(p: AddPosts, problem: AnyProblem, rng: np.random.Generator, index: int = 0) -> Problem2:
    """Add the posts (and their sites) to the week.

    Site ids get the prefix ``p<index>.`` and post ids are ``<site>+<post>``, so they meet no id
    of the base week.  A ``per_district`` count ``c`` gives ``floor(c)`` sites per district plus
    one with probability ``frac(c)`` (drawn in the districts' order, post by post), in the listed
    districts or, by default, in every district where the week has volunteers or beneficiaries.

    Parameters
    ----------
    p
        The perturbation.
    problem
        The week (not modified), of either format.
    rng
        The run's generator for this perturbation.
    index
        Position of the perturbation in its scenario (for unique ids).

    Returns
    -------
    Problem2
        The format-2 week with the posts.
    """
    week = as_format2(problem)
    prefix = f"p{index}."
    sites = list(week.sites)
    named = {s.id: Site(id=prefix + s.id, name=s.name, district=s.district) for s in p.sites}
    sites += named.values()
    needs = list(week.needs)
    # A station's week lists its neighbours' districts too (for reach): by default posts go only
    # where the week has people of its own.
    lived = {v.district for v in week.volunteers} | {b.district for b in week.beneficiaries}
    districts = [d.id for d in week.districts]
    for post in p.posts:
        at: list[Site] = []
        if post.sites is not None:
            at = [named[s] for s in post.sites]
        else:
            spec = post.per_district
            assert spec is not None
            whole = math.floor(spec.count)
            for d in districts:
                if d not in (lived if spec.districts is None else spec.districts):
                    continue
                n = whole + int(rng.random() < spec.count - whole)
                for k in range(n):
                    site = Site(
                        id=f"{prefix}{post.id}.{d}.{k + 1}", name=f"{d} {spec.name} {k + 1}"[:100], district=d
                    )
                    at.append(site)
            sites += at
        for site in at:
            needs.append(
                Need2(
                    id=f"{site.id}+{post.id}",
                    site=site.id,
                    priority=post.priority,
                    service=post.service,
                    hours=post.hours,
                    sessions=post.sessions,
                    windows=post.windows,
                    requires=post.requires,
                    minor_ok=post.minor_ok,
                    volunteers=post.volunteers,
                    lead=post.lead,
                )
            )
    # Built from validated parts, with ids kept apart by construction: no second validation.
    return week.model_copy(update={"sites": sites, "needs": needs})
