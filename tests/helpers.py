"""Shared, non-fixture helpers for the solver tests.

Everything here is written from the format document (``docs/format.md``) alone: the builders produce
exchange-format dicts, :func:`solve_and_check` runs the engine and holds every plan to the
independent checker :func:`matcher.format.validate.validate_plan`, and the rule helpers
(:func:`in_reach`, :func:`statically_eligible`, ...) re-state hard rules 2, 3, 7, 8 and 9 for
the oracles without importing any of the engine's model code.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

from matcher.format.io import parse
from matcher.format.reasons import REASON_CODES
from matcher.format.schema import DEFAULT_SLOTS, Need, Problem, Volunteer
from matcher.format.validate import continuity_of, coverage_of, validate_plan
from matcher.params import SolveParams
from matcher.solve import SolveResult, solve

Doc = dict[str, Any]

SPEC_DIR = Path(__file__).resolve().parents[1] / "examples"
"""The repository's own example documents (``examples/``): nothing is read from outside it."""
EXAMPLE_PROBLEM = SPEC_DIR / "example-problem.json"

WEEK_START = "2026-12-07"
"""A Monday; certifications must expire on or after 2026-12-13 to count."""
WEEK_START_DATE = dt.date(2026, 12, 7)


# ----------------------------------------------------------------------------- builders


def volunteer(vid: str = "v1", **fields: Any) -> Doc:
    """A volunteer dict: district d1, skill life_care, free mon-am, 10 hours."""
    doc: Doc = {
        "id": vid,
        "district": "d1",
        "skills": ["life_care"],
        "availability": ["mon-am"],
        "max_hours": 10,
    }
    doc.update(fields)
    return doc


def beneficiary(bid: str = "b1", **fields: Any) -> Doc:
    """A beneficiary dict: elderly, district d1, priority 3."""
    doc: Doc = {"id": bid, "category": "elderly", "district": "d1", "priority": 3}
    doc.update(fields)
    return doc


def need(nid: str = "n1", **fields: Any) -> Doc:
    """A need dict: b1, life_care, one 1-hour session in mon-am."""
    doc: Doc = {
        "id": nid,
        "beneficiary": "b1",
        "service": "life_care",
        "hours": 1,
        "sessions": 1,
        "windows": ["mon-am"],
    }
    doc.update(fields)
    return doc


def district(did: str = "d1", neighbors: Iterable[str] = ()) -> Doc:
    """A district dict."""
    return {"id": did, "neighbors": list(neighbors)}


def make_problem(
    *,
    volunteers: list[Doc] | None = None,
    beneficiaries: list[Doc] | None = None,
    needs: list[Doc] | None = None,
    districts: list[Doc] | None = None,
    **top: Any,
) -> Doc:
    """A tiny problem dict (one district, volunteer, beneficiary and need unless overridden).

    Keyword arguments other than the four lists set top-level fields (``reach``, ``slots``,
    ``previous`` ...).
    """
    doc: Doc = {
        "format": 1,
        "week_start": WEEK_START,
        "districts": districts if districts is not None else [district()],
        "volunteers": volunteers if volunteers is not None else [volunteer()],
        "beneficiaries": beneficiaries if beneficiaries is not None else [beneficiary()],
        "needs": needs if needs is not None else [need()],
    }
    doc.update(top)
    return copy.deepcopy(doc)


def to_problem(doc: Doc) -> Problem:
    """Validate a problem dict through JSON, as the CLI would."""
    return parse(Problem, doc, "problem")


def load_example_doc() -> Doc:
    """The shared example problem as a fresh dict."""
    data: Doc = json.loads(EXAMPLE_PROBLEM.read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------------------- solve + check


def solve_and_check(
    problem: Problem | Doc,
    time_limit: float = 5,
    *,
    workers: int | None = None,
    params: SolveParams | None = None,
) -> SolveResult:
    """Solve, then hold the plan to the independent checker and the plan contract.

    Asserts that ``validate_plan`` finds nothing, that every need appears exactly once in
    assignments + unmet, that each unmet need has at least one known, distinct reason code, and
    that the result's exact figures agree with the plan.
    """
    if isinstance(problem, dict):
        problem = to_problem(problem)
    result = solve(problem, time_limit, workers=workers, params=params)
    plan = result.plan
    violations = validate_plan(problem, plan)
    assert violations == [], violations
    listed = [a.need for a in plan.assignments] + [u.need for u in plan.unmet]
    assert sorted(listed) == sorted(n.id for n in problem.needs), listed
    for u in plan.unmet:
        assert len(u.reasons) >= 1, u
        assert len(set(u.reasons)) == len(u.reasons), u
        assert set(u.reasons) <= set(REASON_CODES), u
    assert result.status == plan.status
    assert result.coverage == coverage_of(problem, (a.need for a in plan.assignments))
    assert result.continuity == continuity_of(problem, plan.assignments) == plan.objective.continuity
    assert result.coverage <= result.coverage_bound
    if result.status == "optimal":
        assert result.coverage == result.coverage_bound
    return result


def assigned(result: SolveResult) -> dict[str, str]:
    """need id -> volunteer id of the plan's assignments."""
    return {a.need: a.volunteer for a in result.plan.assignments}


def slots_of(result: SolveResult) -> dict[str, list[str]]:
    """need id -> slots of the plan's assignments."""
    return {a.need: list(a.slots) for a in result.plan.assignments}


def reasons(result: SolveResult) -> dict[str, list[str]]:
    """need id -> reason codes of the plan's unmet needs."""
    return {u.need: list(u.reasons) for u in result.plan.unmet}


# ------------------------------------------------------------------ rules from FORMAT.md


def exact(x: float) -> Fraction:
    """The decimal a JSON number was written as (``0.1`` is exactly 1/10)."""
    return Fraction(repr(float(x)))


def value_of(problem: Problem, n: Need) -> Fraction:
    """priority x hours x sessions of a need."""
    priority = next(b.priority for b in problem.beneficiaries if b.id == n.beneficiary)
    return priority * exact(n.hours) * n.sessions


def in_reach(problem: Problem, vol_district: str, ben_district: str) -> bool:
    """Rule 7: same district, or (reach adjacent) a neighbour listed on either side."""
    if vol_district == ben_district:
        return True
    if problem.reach == "same":
        return False
    for d in problem.districts:
        if d.id == vol_district and ben_district in d.neighbors:
            return True
        if d.id == ben_district and vol_district in d.neighbors:
            return True
    return False


def statically_eligible(problem: Problem, v: Volunteer, n: Need) -> bool:
    """Rules 2, 7, 8, 9 and the single-need parts of 1, 3, 5 and 6 for one pair."""
    ben = next(b for b in problem.beneficiaries if b.id == n.beneficiary)
    if n.service not in v.skills:
        return False
    deadline = problem.week_start + dt.timedelta(days=6)
    for kind in n.requires:
        if not any(c.kind == kind and c.expires >= deadline for c in v.certifications):
            return False
    if not in_reach(problem, v.district, ben.district):
        return False
    if v.minor and not n.minor_ok:
        return False
    if ben.volunteer_gender is not None and v.gender != ben.volunteer_gender:
        return False
    if v.id in ben.excluded_volunteers:
        return False
    if len(usable_slots(problem, v, n)) < n.sessions:
        return False
    if exact(n.hours) * n.sessions > exact(v.max_hours):
        return False
    return v.max_beneficiaries >= 1


def usable_slots(problem: Problem, v: Volunteer, n: Need) -> list[str]:
    """Slots in both the need's windows and the volunteer's availability, in week order."""
    both = set(n.windows) & set(v.availability)
    return [s for s in problem.slot_ids if s in both]


# ------------------------------------------------------------------- random small problems

SERVICES = ("life_care", "tutoring", "housekeeping")
CERT_KINDS = ("first_aid", "health_care")
HOURS = (0.5, 1, 1.5, 2, 2.5)
MAX_HOURS = (0, 1.5, 2, 3, 3, 4.5, 4.5, 6, 7.5)
CATEGORIES = ("elderly", "disabled", "child", "migrant_worker", "community")


def random_problem(
    rng: random.Random,
    *,
    volunteers: int,
    needs: int,
    beneficiaries: int | None = None,
    n_slots: int | None = None,
    max_sessions: int = 3,
) -> Problem:
    """A random, valid, deliberately tight small problem.

    A few districts (random symmetric-or-one-sided neighbours, random reach), three services,
    two certification kinds with expiry dates around the week's deadline (some expired, some on
    the boundary), minors, gender requests and volunteers without a gender, exclusions,
    fractional hours, small ``max_hours`` / ``max_beneficiaries`` and few shared slots, so that
    rules 4-6 actually bind.

    Parameters
    ----------
    rng
        Source of randomness (seed it for reproducible tests).
    volunteers, needs
        How many of each.
    beneficiaries
        How many beneficiaries (default: about two needs each).
    n_slots
        Custom slot list of this length (``s0`` ...); ``None`` uses the default 21 slots but
        draws windows and availability from the first few days only.
    max_sessions
        Largest ``sessions`` of a need.
    """
    n_ben = beneficiaries if beneficiaries is not None else max(1, (needs + 1) // 2)
    if n_slots is None:
        slots: list[str] = list(DEFAULT_SLOTS[: rng.choice((4, 5, 6))])
        custom: list[str] | None = None
    else:
        slots = [f"s{i}" for i in range(n_slots)]
        custom = slots
    n_d = rng.choice((1, 1, 2, 2, 3))
    dists = [f"d{i}" for i in range(n_d)]
    district_docs = [district(d) for d in dists]
    for i in range(n_d):
        for j in range(i + 1, n_d):
            if rng.random() < 0.7:
                # one side only, or both: neighbours are symmetric either way
                side = rng.choice(("i", "j", "both"))
                if side in ("i", "both"):
                    district_docs[i]["neighbors"].append(dists[j])
                if side in ("j", "both"):
                    district_docs[j]["neighbors"].append(dists[i])
    deadline = WEEK_START_DATE + dt.timedelta(days=6)

    vols: list[Doc] = []
    for i in range(volunteers):
        certs = []
        for kind in CERT_KINDS:
            if rng.random() < 0.6:
                offset = rng.choice((-30, -1, 0, 0, 1, 60))  # -1 is expired, 0 is the boundary
                certs.append({"kind": kind, "expires": (deadline + dt.timedelta(days=offset)).isoformat()})
        doc = volunteer(
            f"v{i}",
            district=rng.choice(dists),
            skills=rng.sample(SERVICES, rng.choice((1, 2, 2, 3, 3))),
            certifications=certs,
            availability=rng.sample(slots, rng.randint(len(slots) // 2 + 1, len(slots))),
            max_hours=rng.choice(MAX_HOURS),
            max_beneficiaries=rng.choice((0, 1, 1, 2, 2, 3, 3)),
        )
        if rng.random() < 0.15:
            doc["minor"] = True
        g = rng.random()
        if g < 0.4:
            doc["gender"] = "f"
        elif g < 0.8:
            doc["gender"] = "m"
        vols.append(doc)

    bens: list[Doc] = []
    for i in range(n_ben):
        doc = beneficiary(
            f"b{i}",
            category=rng.choice(CATEGORIES),
            district=rng.choice(dists),
            priority=rng.randint(1, 5),
        )
        if rng.random() < 0.15:
            doc["volunteer_gender"] = rng.choice(("f", "m"))
        if vols and rng.random() < 0.15:
            doc["excluded_volunteers"] = [rng.choice(vols)["id"]]
        bens.append(doc)

    need_docs: list[Doc] = []
    for i in range(needs):
        sessions = min(max_sessions, rng.choice((1, 1, 2, 2, 3)))
        windows = rng.sample(slots, min(len(slots), rng.randint(sessions, sessions + 2)))
        if rng.random() < 0.1:  # occasionally fewer windows than sessions
            windows = windows[: sessions - 1] or windows
        doc = need(
            f"n{i}",
            beneficiary=rng.choice(bens)["id"],
            service=rng.choice(SERVICES),
            hours=rng.choice(HOURS),
            sessions=sessions,
            windows=windows,
        )
        if rng.random() < 0.25:
            doc["requires"] = [rng.choice(CERT_KINDS)]
        if rng.random() < 0.5:
            doc["minor_ok"] = True
        need_docs.append(doc)

    doc = make_problem(
        volunteers=vols,
        beneficiaries=bens,
        needs=need_docs,
        districts=district_docs,
        reach=rng.choice(("same", "adjacent", "adjacent", "adjacent")),
    )
    if custom is not None:
        doc["slots"] = custom
    # Last week's pairs: mostly pairs that could serve again (so continuity is a real choice),
    # sometimes any pair at all.
    draft = to_problem(doc)
    servable = sorted(
        {
            (v.id, n.beneficiary)
            for n in draft.needs
            for v in draft.volunteers
            if statically_eligible(draft, v, n)
        }
    )
    previous: list[Doc] = []
    for _ in range(rng.randint(0, 4)):
        if servable and rng.random() < 0.75:
            vid, bid = rng.choice(servable)
        elif vols:
            vid, bid = rng.choice(vols)["id"], rng.choice(bens)["id"]
        else:
            continue
        previous.append({"volunteer": vid, "beneficiary": bid})
    doc["previous"] = previous
    return to_problem(doc)
