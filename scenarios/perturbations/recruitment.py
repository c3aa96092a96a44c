"""Recruitment: new volunteers with given skills join one district's station."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from matcher.format.bounds import Id
from matcher.format.schema import (
    DAYS,
    PERIODS,
    AnyProblem,
    Certification,
    CertificationKinds,
    ServiceCodes,
    Volunteer,
)
from scenarios.perturbations.common import STRICT, P, replace_volunteers

Profile = Literal["worker", "retiree", "student", "holiday", "any"]


def _weights(
    weekday: tuple[float, float, float], sat: tuple[float, float, float], sun: tuple[float, float, float]
) -> NDArray[np.float64]:
    by_day = {"sat": sat, "sun": sun}
    return np.array([by_day.get(d, weekday)[i] for d in DAYS for i in range(len(PERIODS))], dtype=np.float64)


#: Weights of the 21 default slots by availability profile, as in the generator: working adults
#: after work and at weekends, retirees by day, students after class and at weekends, students
#: on their summer or winter holidays by day as well, and "any" uniform.
PROFILES: dict[str, NDArray[np.float64]] = {
    "worker": _weights((0.05, 0.05, 1.0), (0.8, 0.8, 0.4), (0.8, 0.8, 0.4)),
    "retiree": _weights((1.0, 0.9, 0.3), (0.5, 0.5, 0.2), (0.5, 0.5, 0.2)),
    "student": _weights((0.02, 0.1, 0.8), (1.0, 1.0, 0.3), (1.0, 1.0, 0.3)),
    "holiday": _weights((1.0, 1.0, 0.4), (0.8, 0.8, 0.3), (0.8, 0.8, 0.3)),
    "any": np.ones(len(DAYS) * len(PERIODS), dtype=np.float64),
}


class Recruitment(BaseModel):
    """``count`` new volunteers join ``district``'s station, each able to deliver every code in
    ``skills`` and holding ``certifications`` (trained on joining); their free slots are drawn
    from an availability profile."""

    model_config = STRICT

    kind: Literal["recruitment"] = Field(description="Perturbation kind.")
    count: Annotated[int, Field(ge=0, le=10_000)] = Field(description="Number of volunteers recruited.")
    skills: ServiceCodes = Field(min_length=1, description="Service codes every recruit can deliver.")
    district: str = Field(description="District whose station they join.")
    certifications: CertificationKinds = Field(
        default_factory=list, description="Certification kinds every recruit holds, valid for a year."
    )
    availability: Profile = Field(
        default="worker",
        description="Availability profile: worker, retiree, student, holiday (students by day) or any.",
    )
    slots: tuple[Annotated[int, Field(ge=1, le=21)], Annotated[int, Field(ge=1, le=21)]] = Field(
        default=(3, 7), description="Least and most free slots a recruit has in the week."
    )
    max_hours: Annotated[float, Field(gt=0, le=60)] = Field(
        default=6.0, description="Most hours a recruit serves in the week."
    )
    max_beneficiaries: Annotated[int, Field(ge=1, le=20)] = Field(
        default=3, description="Most distinct beneficiaries a recruit serves."
    )
    id_prefix: Annotated[Id, Field(max_length=48)] = Field(
        default="recruit",
        description="Prefix of the recruits' ids (recruit-<index>-<k>): an id, short enough to extend.",
    )


def recruits(p: Recruitment, index: int, problem: AnyProblem, rng: np.random.Generator) -> list[Volunteer]:
    """Draw the recruits of one recruitment.

    Parameters
    ----------
    p
        The perturbation.
    index
        Its position in the scenario, which keeps ids unique (``recruit-<index>-<k>``).
    problem
        The problem they join (its slots and week).
    rng
        The run's generator for this perturbation.

    Returns
    -------
    list[Volunteer]
        ``p.count`` volunteers.
    """
    slots = list(problem.slot_ids)
    weights = PROFILES[p.availability]
    if len(weights) != len(slots):  # a problem with its own slot list: uniform
        weights = np.ones(len(slots), dtype=np.float64)
    low, high = sorted(p.slots)
    expires = problem.week_start + dt.timedelta(days=365)
    certs = [Certification(kind=k, expires=expires) for k in p.certifications]
    out = []
    for k in range(p.count):
        size = min(int(rng.integers(low, high + 1)), int(np.count_nonzero(weights)))
        keys = np.log(np.where(weights > 0, weights, 1e-300)) + rng.gumbel(size=len(slots))
        chosen = sorted(np.argsort(-keys, kind="stable")[:size].tolist())
        gender = "f" if rng.random() < 0.6 else "m"
        out.append(
            Volunteer(
                id=f"{p.id_prefix}-{index}-{k + 1}",
                district=p.district,
                skills=list(p.skills),
                certifications=certs,
                availability=[slots[s] for s in chosen],
                max_hours=p.max_hours,
                max_beneficiaries=p.max_beneficiaries,
                gender=gender,
            )
        )
    return out


def apply_recruitment(p: Recruitment, problem: P, rng: np.random.Generator, index: int = 0) -> P:
    """Add the recruits to the problem.

    Parameters
    ----------
    p
        The perturbation.
    problem
        The problem to perturb (not modified).
    rng
        The run's generator for this perturbation.
    index
        Position of the perturbation in its scenario (for unique ids).

    Returns
    -------
    Problem
        The problem with ``p.count`` more volunteers.
    """
    return replace_volunteers(problem, [*problem.volunteers, *recruits(p, index, problem, rng)])
