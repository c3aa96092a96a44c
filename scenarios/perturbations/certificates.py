"""Certificate expiry: certificates of one kind lapse without retraining."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from matcher.format.schema import CertificationKind
from scenarios.perturbations.common import STRICT, P, lapsed_date, replace_volunteers


class CertificateExpiry(BaseModel):
    """Each holder's certificate of ``kind`` lapses with probability ``rate`` (no retraining course)."""

    model_config = STRICT

    kind: Literal["certificate_expiry"] = Field(description="Perturbation kind.")
    certification: CertificationKind = Field(description="Certification kind that lapses, e.g. first_aid.")
    rate: Annotated[float, Field(ge=0, le=1)] = Field(
        default=1.0, description="Probability that a holder's certificate lapses (0-1); default 1."
    )
    districts: list[str] | None = Field(
        default=None, description="Only holders registered in these districts; default everywhere."
    )


def apply_certificate_expiry(p: CertificateExpiry, problem: P, rng: np.random.Generator) -> P:
    """Set the expiry of lapsed certificates to the day before the week starts.

    Parameters
    ----------
    p
        The perturbation.
    problem
        The problem to perturb (not modified).
    rng
        The run's generator for this perturbation.

    Returns
    -------
    Problem
        The perturbed problem; no lapsed certificate counts for its week.
    """
    lapsed = lapsed_date(problem)
    draws = rng.random(len(problem.volunteers))
    out = []
    for i, v in enumerate(problem.volunteers):
        concerned = p.districts is None or v.district in p.districts
        if not concerned or draws[i] >= p.rate or all(c.kind != p.certification for c in v.certifications):
            out.append(v)
            continue
        certs = [
            c.model_copy(update={"expires": min(c.expires, lapsed)}) if c.kind == p.certification else c
            for c in v.certifications
        ]
        out.append(v.model_copy(update={"certifications": certs}))
    return replace_volunteers(problem, out)
