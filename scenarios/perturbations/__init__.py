"""Perturbations: each a small pure function ``(perturbation, problem, rng) -> problem``.

A scenario lists perturbations; they are applied in order to the base problem, the ``j``-th
with the generator ``numpy.random.default_rng([seed, run, j])``, so a perturbation's draws do
not depend on the others (adding a recruitment at the end leaves the earlier draws alone) nor on
which worker runs the run.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from matcher.format.schema import AnyProblem, Problem
from scenarios.perturbations.attrition import Attrition, apply_attrition
from scenarios.perturbations.availability import AvailabilityShrink, apply_availability_shrink
from scenarios.perturbations.certificates import CertificateExpiry, apply_certificate_expiry
from scenarios.perturbations.closure import Closure, apply_closure, neighbours
from scenarios.perturbations.common import Group, P
from scenarios.perturbations.demand import DemandGrowth, apply_demand_growth
from scenarios.perturbations.posts import AddPosts, apply_add_posts
from scenarios.perturbations.recruitment import PROFILES, Recruitment, apply_recruitment

__all__ = [
    "KINDS",
    "PROFILES",
    "AddPosts",
    "Attrition",
    "AvailabilityShrink",
    "CertificateExpiry",
    "Closure",
    "DemandGrowth",
    "Group",
    "Perturbation",
    "Recruitment",
    "apply",
    "district_refs",
    "neighbours",
]

Perturbation = Annotated[
    Attrition | Recruitment | DemandGrowth | CertificateExpiry | Closure | AvailabilityShrink | AddPosts,
    Field(discriminator="kind"),
]
"""One perturbation, told apart by its ``kind``."""

KINDS: tuple[str, ...] = (
    "attrition",
    "recruitment",
    "demand_growth",
    "certificate_expiry",
    "closure",
    "availability_shrink",
    "add_posts",
)


def apply(p: Perturbation, problem: AnyProblem, rng: np.random.Generator, index: int) -> AnyProblem:
    """Apply one perturbation (``add_posts`` makes a format-1 week format 2; the others keep the
    week's format).

    Parameters
    ----------
    p
        The perturbation.
    problem
        The problem so far (not modified).
    rng
        Its generator for this run.
    index
        Its position in the scenario (keeps the ids of added people unique).

    Returns
    -------
    AnyProblem
        The perturbed problem.
    """
    if isinstance(p, AddPosts):
        return apply_add_posts(p, problem, rng, index)
    if isinstance(problem, Problem):
        return _apply(p, problem, rng, index)
    return _apply(p, problem, rng, index)


def _apply(p: Perturbation, problem: P, rng: np.random.Generator, index: int) -> P:
    """Apply one perturbation that keeps the week's format."""
    match p:
        case Attrition():
            return apply_attrition(p, problem, rng)
        case Recruitment():
            return apply_recruitment(p, problem, rng, index)
        case DemandGrowth():
            return apply_demand_growth(p, problem, rng, index)
        case CertificateExpiry():
            return apply_certificate_expiry(p, problem, rng)
        case Closure():
            return apply_closure(p, problem, rng)
        case AvailabilityShrink():
            return apply_availability_shrink(p, problem, rng)
        case AddPosts():  # pragma: no cover - changes the format, applied by apply()
            raise TypeError("add_posts changes the week's format")
    raise TypeError(f"unknown perturbation {p!r}")  # pragma: no cover


def district_refs(p: Perturbation, path: str) -> list[tuple[str, str]]:
    """The district ids a perturbation names, with their field paths.

    Parameters
    ----------
    p
        The perturbation.
    path
        Its path in the scenario, e.g. ``perturbations[2]``.

    Returns
    -------
    list[tuple[str, str]]
        ``(field path, district id)`` pairs, to check against the base problem.
    """
    match p:
        case Attrition() | AvailabilityShrink():
            return p.group.district_refs(path + ".group")
        case Recruitment() | Closure():
            return [(path + ".district", p.district)]
        case DemandGrowth() | CertificateExpiry():
            return [(f"{path}.districts[{i}]", d) for i, d in enumerate(p.districts or [])]
        case AddPosts():
            return p.district_refs(path)
    return []  # pragma: no cover
