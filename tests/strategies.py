"""Hypothesis strategies for valid problems (every field of the exchange format, within its
bounds), and the settings the property tests share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from helpers import (
    WEEK_START,
    WEEK_START_DATE,
    Doc,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from matcher.format.schema import DEFAULT_SLOTS

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


TIME_LIMIT = 2.0


SERVICES = ("life_care", "tutoring", "housekeeping")


KINDS = ("first_aid", "child_safeguarding")


DEADLINE = WEEK_START_DATE + dt.timedelta(days=6)


def _subset(draw: st.DrawFn, pool: list[str], min_size: int = 0) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), min_size=min_size, unique=True)) if pool else []


def _usually(draw: st.DrawFn, tenths: int) -> bool:
    """True with probability about ``tenths`` / 10, and in the simplest examples."""
    return draw(st.integers(0, 9)) < tenths


def _rarely(draw: st.DrawFn, tenths: int) -> bool:
    """True with probability about ``tenths`` / 10, and False in the simplest examples."""
    return draw(st.integers(0, 9)) >= 10 - tenths


def _maybe(draw: st.DrawFn, doc: Doc, key: str, strategy: st.SearchStrategy[Any], tenths: int = 5) -> None:
    """Set ``doc[key]`` to a drawn value (probability ``tenths`` / 10), or leave the optional field out."""
    if _rarely(draw, tenths):
        doc[key] = draw(strategy)


@st.composite
def problems(draw: st.DrawFn) -> Doc:
    """A valid format-1 problem dict with up to 5 volunteers and 7 needs."""
    doc: Doc = {"format": 1, "week_start": WEEK_START}
    if draw(st.booleans()):
        pool = list(DEFAULT_SLOTS[: draw(st.integers(3, 8))])
    else:
        doc["slots"] = [f"t{i}" for i in range(draw(st.integers(1, 6)))]
        pool = list(doc["slots"])
    district_ids = [f"d{i}" for i in range(draw(st.integers(1, 3)))]
    doc["districts"] = [
        {"id": d, "neighbors": _subset(draw, [o for o in district_ids if o != d])} for d in district_ids
    ]
    _maybe(draw, doc, "reach", st.sampled_from(["adjacent", "same"]))

    volunteers: list[Doc] = []
    for i in range(draw(st.integers(1 if _usually(draw, 9) else 0, 5))):
        v: Doc = {
            "id": f"v{i}",
            "district": draw(st.sampled_from(district_ids)),
            "skills": _subset(draw, list(SERVICES), min_size=1 if _usually(draw, 9) else 0),
            "availability": pool if _usually(draw, 4) else _subset(draw, pool, min_size=len(pool) // 2),
            "max_hours": draw(st.sampled_from([10, 4.5, 3, 2.5, 1.5, 1, 0.5, 10, 0])),
        }
        certs = draw(
            st.lists(
                st.tuples(st.sampled_from(KINDS), st.integers(-2, 3)),
                max_size=2,
            )
        )
        listed = draw(st.booleans())  # an empty certifications list, or none at all
        if certs or listed:
            v["certifications"] = [
                {"kind": k, "expires": (DEADLINE + dt.timedelta(days=off)).isoformat()} for k, off in certs
            ]
        _maybe(draw, v, "max_beneficiaries", st.sampled_from([2, 1, 3, 0]))
        _maybe(draw, v, "minor", st.booleans(), tenths=3)
        _maybe(draw, v, "gender", st.sampled_from(["f", "m"]), tenths=7)
        _maybe(draw, v, "location", st.tuples(st.floats(39.7, 39.9), st.floats(98.2, 98.4)).map(list))
        volunteers.append(v)
    doc["volunteers"] = volunteers
    vol_ids = [v["id"] for v in volunteers]
    vol_districts = sorted({v["district"] for v in volunteers})

    beneficiaries: list[Doc] = []
    for i in range(draw(st.integers(1, 4))):
        b: Doc = {
            "id": f"b{i}",
            "category": draw(
                st.sampled_from(["elderly", "disabled", "child", "migrant_worker", "community"])
            ),
            # mostly where some volunteer lives, so that reach is usually not the whole story
            "district": draw(
                st.sampled_from(vol_districts if vol_districts and _usually(draw, 7) else district_ids)
            ),
            "priority": draw(st.integers(1, 5)),
        }
        _maybe(draw, b, "volunteer_gender", st.sampled_from(["f", "m"]), tenths=2)
        excludes = _rarely(draw, 3)
        if vol_ids and excludes:
            b["excluded_volunteers"] = draw(st.lists(st.sampled_from(vol_ids), max_size=2, unique=True))
        _maybe(draw, b, "location", st.tuples(st.floats(39.7, 39.9), st.floats(98.2, 98.4)).map(list))
        beneficiaries.append(b)
    doc["beneficiaries"] = beneficiaries
    ben_ids = [b["id"] for b in beneficiaries]

    needs: list[Doc] = []
    for i in range(draw(st.integers(0 if _rarely(draw, 1) else 1, 7))):
        sessions = draw(st.sampled_from([1, 1, 2, 2, 3, 4]))
        service = draw(st.sampled_from(SERVICES))
        windows = _subset(draw, pool, min_size=min(sessions, len(pool)) if _usually(draw, 8) else 0)
        if volunteers and _usually(draw, 7):  # shaped after one volunteer, who may well take it
            anchor = draw(st.sampled_from(volunteers))
            if anchor["skills"]:
                service = draw(st.sampled_from(anchor["skills"]))
            free = [s for s in pool if s in anchor["availability"]]
            windows = list(dict.fromkeys(free[:sessions] + windows))
        n: Doc = {
            "id": f"n{i}",
            "beneficiary": draw(st.sampled_from(ben_ids)),
            "service": service,
            "hours": draw(st.sampled_from([0.1, 0.5, 1, 1.5, 2, 2.5])),
            "sessions": sessions,
            "windows": windows,
        }
        _maybe(draw, n, "requires", st.lists(st.sampled_from(KINDS), unique=True), tenths=3)
        _maybe(draw, n, "minor_ok", st.booleans())
        needs.append(n)
    doc["needs"] = needs

    if vol_ids:
        pairs = st.fixed_dictionaries(
            {"volunteer": st.sampled_from(vol_ids), "beneficiary": st.sampled_from(ben_ids)}
        )
        _maybe(draw, doc, "previous", st.lists(pairs, max_size=4))
    _maybe(draw, doc, "time_limit_s", st.sampled_from([1, 2.5, 10]))
    return doc


POST_SERVICES = ("civility_guidance", "environment", "life_care")


@st.composite
def post_problems(draw: st.DrawFn) -> Doc:
    """A valid format-2 problem dict small enough for the brute force: at most 4 volunteers,
    3 needs (posts of up to 4 volunteers, at sites or beneficiaries, some with a lead, some
    ``minor_ok``) and 4 slots."""
    pool = list(DEFAULT_SLOTS[: draw(st.integers(2, 4))])
    district_ids = [f"d{i}" for i in range(1 if _usually(draw, 6) else 2)]
    doc: Doc = {
        "format": 2,
        "week_start": WEEK_START,
        "districts": [
            {"id": d, "neighbors": _subset(draw, [o for o in district_ids if o != d])} for d in district_ids
        ],
    }
    _maybe(draw, doc, "reach", st.sampled_from(["adjacent", "same"]), tenths=3)
    volunteers: list[Doc] = []
    for i in range(draw(st.integers(1, 4)) if _rarely(draw, 2) else 4):
        v: Doc = {
            "id": f"v{i}",
            "district": draw(st.sampled_from(district_ids)),
            # mostly the shared service and the whole pool, so that teams can form
            "skills": ["civility_guidance"]
            if _usually(draw, 6)
            else _subset(draw, list(POST_SERVICES), min_size=1),
            "availability": pool if _usually(draw, 6) else _subset(draw, pool, min_size=1),
            "max_hours": draw(st.sampled_from([10, 4, 3, 2, 1.5])),
        }
        if _rarely(draw, 4):
            v["certifications"] = [
                {
                    "kind": "first_aid",
                    "expires": (DEADLINE + dt.timedelta(days=draw(st.integers(-1, 2)))).isoformat(),
                }
            ]
        _maybe(draw, v, "max_beneficiaries", st.sampled_from([1, 2, 0]), tenths=3)
        _maybe(draw, v, "minor", st.booleans(), tenths=3)
        _maybe(draw, v, "gender", st.sampled_from(["f", "m"]), tenths=3)
        volunteers.append(v)
    doc["volunteers"] = volunteers
    beneficiaries: list[Doc] = []
    for i in range(draw(st.integers(0, 2))):
        b: Doc = {
            "id": f"b{i}",
            "category": "elderly",
            "district": draw(st.sampled_from(district_ids)),
            "priority": draw(st.integers(1, 5)),
        }
        _maybe(draw, b, "volunteer_gender", st.sampled_from(["f", "m"]), tenths=2)
        if _rarely(draw, 2):
            b["excluded_volunteers"] = [draw(st.sampled_from([v["id"] for v in volunteers]))]
        beneficiaries.append(b)
    doc["beneficiaries"] = beneficiaries
    sites = [
        {"id": f"s{i}", "name": f"广场{i}", "district": draw(st.sampled_from(district_ids))}
        for i in range(draw(st.integers(0 if beneficiaries else 1, 2)))
    ]
    doc["sites"] = sites
    needs: list[Doc] = []
    for i in range(draw(st.integers(1, 3))):
        sessions = draw(st.sampled_from([1, 1, 2]))
        n: Doc = {
            "id": f"n{i}",
            "service": "civility_guidance" if _usually(draw, 6) else draw(st.sampled_from(POST_SERVICES)),
            "hours": draw(st.sampled_from([1, 1.5, 2])),
            "sessions": sessions,
            "windows": _subset(draw, pool, min_size=min(sessions, len(pool))),
        }
        if sites and (not beneficiaries or draw(st.booleans())):
            n["site"] = draw(st.sampled_from([s["id"] for s in sites]))
            n["priority"] = draw(st.integers(1, 5))
        else:
            n["beneficiary"] = draw(st.sampled_from([b["id"] for b in beneficiaries]))
        if _usually(draw, 8):
            low = draw(st.sampled_from([2, 1, 2, 3]))
            n["volunteers"] = {"min": low, "max": draw(st.integers(max(low, 2), 4))}
        if _rarely(draw, 3):
            n["lead"] = draw(st.sampled_from([{"certifications": ["first_aid"]}, {"skills": ["life_care"]}]))
        _maybe(draw, n, "minor_ok", st.booleans(), tenths=4)
        needs.append(n)
    doc["needs"] = needs
    if beneficiaries and _rarely(draw, 3):
        doc["previous"] = [{"volunteer": volunteers[0]["id"], "beneficiary": beneficiaries[0]["id"]}]
    return doc
