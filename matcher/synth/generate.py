"""Synthetic but realistic city weeks for Jiayuguan (嘉峪关), for tests and benchmarks.

:func:`generate_city` builds a schema-valid :class:`~matcher.format.schema.Problem` shaped after the
city's volunteer-service plan ("邻里守望": 邻里相伴 for the elderly, 邻里相携 for children,
邻里相帮 for migrant workers, 邻里相扶 for disabled people, community services, and the
"小小志愿者" little volunteers).  The output is a pure function of the arguments: all randomness
comes from one ``numpy.random.default_rng(seed)``.

Modelling choices, and why:

* **Districts.**  The first six are the city's real units in pinyin: the urban sub-districts
  雄关, 镜铁, 长城 and the towns 新城, 峪泉, 文殊; more are ``district-07`` ....  Centres sit on a
  jittered grid about 3 km apart around (39.80 N, 98.29 E) and neighbours are grid neighbours,
  so the graph is connected and planar with 1-4 neighbours per district (the real towns lie
  farther out; a compact grid keeps ``reach: adjacent`` meaningful).  Towns get relatively fewer
  volunteers than the urban sub-districts, as volunteers concentrate where workplaces, schools
  and the 文明单位 are, so neighbouring districts matter there.
* **Volunteers.**  Skills cluster by programme (a volunteer joins one 志愿服务队): a main
  programme, elderly care most common, 1-3 of its codes, and in ~25% of cases one code from
  another programme.  Certificates follow skills (the plan trains volunteers in 应急救护, 卫生保健,
  法律常识, 文明交通, 消防安全): nurses hold ``health_care``, emergency aiders ``first_aid`` and so
  on; ~15% of them are expired or run out before ``week_start`` + 6 days.  About one in ten is a
  minor, with light skills, 2-4 hours, 1-2 beneficiaries and almost no certificates.  Most adults
  work or study, so they are free on evenings and weekends; ~20% are retirees who are also free
  on weekday mornings and afternoons.
* **Beneficiaries and needs.**  Categories about 45% elderly, 25% children, 15% disabled, 10%
  migrant workers, 5% community; priority is skewed to the most vulnerable (solitary and very old
  people, severely disabled people and left-behind children get 4-5).  Each has 1-3 needs (about
  5 needs per 3 beneficiaries) from its programme, with windows biased by category: the elderly
  and disabled by day, children after school and at weekends, migrant workers in the evenings and
  on Sundays.  Demand is sized so that, with about 4 volunteers per 3 beneficiaries, a good
  matcher covers roughly 70-90% of priority-weighted hours: capacity binds for common services,
  certificates for medical, legal and emergency ones, availability for weekday daytime needs.
* **Continuity.**  ~25% of beneficiaries had a volunteer last week: one in their district with a
  skill one of their needs asks for (and compatible with their gender request and exclusions).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from matcher.format.schema import (
    CATEGORIES,
    CERTIFICATION_KINDS,
    DAYS,
    DEFAULT_SLOTS,
    PERIODS,
    SERVICES_BY_PROGRAMME,
    Beneficiary,
    Certification,
    ChangeSet,
    District,
    Lead,
    Need,
    Need2,
    PreviousPair,
    Problem,
    Problem2,
    Site,
    Staffing,
    Volunteer,
    Withdrawal,
)

__all__ = ["DISTRICT_NAMES", "district_name", "generate_changes", "generate_city", "generate_city_with_posts"]

#: District ids: Jiayuguan's three urban sub-districts (街道) and three towns (镇), then generic ones.
DISTRICT_NAMES: tuple[str, ...] = (
    "xiongguan",
    "jingtie",
    "changcheng",
    "xincheng",
    "yuquan",
    "wenshu",
    *(f"district-{i:02d}" for i in range(7, 21)),
)
_TOWNS = frozenset({"xincheng", "yuquan", "wenshu"})

_CENTRE = (39.80, 98.29)
_SPACING_KM = 3.0
_KM_PER_DEG_LAT = 111.0
_KM_PER_DEG_LON = 111.0 * math.cos(math.radians(_CENTRE[0]))

_Floats = NDArray[np.float64]
_Ints = NDArray[np.int64]
_Bools = NDArray[np.bool_]

# --------------------------------------------------------------------------- codes and weights

PROGRAMMES: tuple[str, ...] = tuple(SERVICES_BY_PROGRAMME)
CODES: tuple[str, ...] = tuple(c for p in PROGRAMMES for c in SERVICES_BY_PROGRAMME[p])
_CODE = {c: i for i, c in enumerate(CODES)}
_KIND = {k: i for i, k in enumerate(CERTIFICATION_KINDS)}
_SLOT_COUNT = len(DEFAULT_SLOTS)

# Main programme of adult volunteers: elder care is the largest team (敬老 is the city's first
# programme and retirees join it), children's services second (teachers, students).
_MAIN_PROGRAMME = {
    "elderly": 0.42,
    "child": 0.22,
    "disabled": 0.14,
    "migrant_worker": 0.10,
    "community": 0.12,
}

# Relative supply of each code inside its programme: professional services (health care,
# rehabilitation, legal aid) are rarer than general ones.
_SKILL_WEIGHT = {
    "life_care": 3.0, "health_care": 1.4, "emotional_support": 3.0, "emergency_aid": 1.0,
    "legal_aid": 0.6, "recreation": 2.5,
    "tutoring": 3.0, "interest_activities": 2.0, "companionship": 2.5, "counseling": 1.0,
    "housekeeping": 3.0, "rehabilitation": 1.0, "employment_support": 1.2, "rights_protection": 0.8,
    "accessibility": 1.5,
    "job_skills": 2.0, "health_check": 1.2, "safety_education": 2.0,
    "civility_guidance": 2.0, "environment": 2.0, "culture_sports": 2.0,
}  # fmt: skip

# Little volunteers (小小志愿者) do light, supervised activities only.
_MINOR_SKILL_WEIGHT = {
    "recreation": 2.0, "environment": 2.0, "culture_sports": 2.0, "companionship": 1.5,
    "civility_guidance": 2.0, "interest_activities": 1.5,
}  # fmt: skip
#: Services light enough that a minor may take them (about half of such needs say so).
LIGHT_SERVICES: frozenset[str] = frozenset(_MINOR_SKILL_WEIGHT)

# Demand for each code inside the beneficiary's programme.
_NEED_WEIGHT = {
    "life_care": 0.30, "health_care": 0.20, "emotional_support": 0.22, "emergency_aid": 0.08,
    "legal_aid": 0.05, "recreation": 0.15,
    "tutoring": 0.40, "interest_activities": 0.20, "companionship": 0.25, "counseling": 0.15,
    "housekeeping": 0.30, "rehabilitation": 0.25, "employment_support": 0.15, "rights_protection": 0.10,
    "accessibility": 0.20,
    "job_skills": 0.40, "health_check": 0.30, "safety_education": 0.30,
    "civility_guidance": 0.35, "environment": 0.35, "culture_sports": 0.30,
}  # fmt: skip

# P(volunteer holds kind | has skill): certificates come from the training behind the skill.
_CERT_BY_SKILL: dict[str, dict[str, float]] = {
    "health_care": {"health_care": 0.70, "first_aid": 0.30},
    "rehabilitation": {"health_care": 0.65},
    "health_check": {"health_care": 0.60},
    "emergency_aid": {"first_aid": 0.85},
    "legal_aid": {"legal": 0.70},
    "rights_protection": {"legal": 0.55},
    "tutoring": {"child_safeguarding": 0.50},
    "counseling": {"child_safeguarding": 0.60},
    "companionship": {"child_safeguarding": 0.35},
    "safety_education": {"fire_safety": 0.40, "first_aid": 0.20},
    "civility_guidance": {"traffic": 0.30},
    "life_care": {"first_aid": 0.10},
}
# Certificates anyone may pick up in the city's general training drives.
_CERT_BASE_ADULT = {"first_aid": 0.08, "fire_safety": 0.04, "traffic": 0.04}
_CERT_BASE_MINOR = {"first_aid": 0.03, "traffic": 0.03}
_CERT_INVALID_SHARE = 0.15

# P(need requires kind | service[, beneficiary category]).
_REQUIRES: dict[str, dict[str, float]] = {
    "health_care": {"health_care": 0.90},
    "rehabilitation": {"health_care": 0.90},
    "health_check": {"health_care": 0.50},
    "emergency_aid": {"first_aid": 1.00},
    "legal_aid": {"legal": 1.00},
    "rights_protection": {"legal": 0.50},
}
_REQUIRES_FOR_CHILDREN = {"tutoring": 0.35, "counseling": 0.60, "companionship": 0.15}

# Priority distributions (P(1..5)) by category: the plan names 空巢/孤寡/高龄 elderly, 留守儿童 and
# severely disabled people as first concerns; migrant workers and communities rank lower.
_PRIORITY: dict[str, tuple[float, ...]] = {
    "elderly": (0.03, 0.15, 0.30, 0.27, 0.25),
    "disabled": (0.02, 0.13, 0.35, 0.28, 0.22),
    "child": (0.05, 0.25, 0.30, 0.22, 0.18),
    "migrant_worker": (0.25, 0.40, 0.25, 0.08, 0.02),
    "community": (0.40, 0.40, 0.15, 0.05, 0.00),
}
_CATEGORY_SHARE = {
    "elderly": 0.45,
    "disabled": 0.15,
    "child": 0.25,
    "migrant_worker": 0.10,
    "community": 0.05,
}


def _slot_weights(
    weekday: tuple[float, float, float], sat: tuple[float, float, float], sun: tuple[float, float, float]
) -> _Floats:
    """Weights of the 21 default slots from (am, pm, eve) weights for weekdays, Saturday, Sunday."""
    by_day = {"sat": sat, "sun": sun}
    return np.array([by_day.get(d, weekday)[i] for d in DAYS for i in range(len(PERIODS))], dtype=np.float64)


# Availability profiles: working adults after work and at weekends, retirees by day as well,
# pupils after school and at weekends.
_AVAIL_WORKER = _slot_weights((0.05, 0.05, 1.0), (0.8, 0.8, 0.4), (0.8, 0.8, 0.4))
_AVAIL_RETIREE = _slot_weights((1.0, 0.9, 0.3), (0.5, 0.5, 0.2), (0.5, 0.5, 0.2))
_AVAIL_MINOR = _slot_weights((0.01, 0.02, 0.4), (1.0, 1.0, 0.2), (1.0, 1.0, 0.2))
# Need windows by category: the elderly and disabled by day (with family at weekends), children
# after school and at weekends, migrant workers after shifts and on their Sunday off.
_WINDOWS: dict[str, _Floats] = {
    "elderly": _slot_weights((1.0, 0.9, 0.25), (0.5, 0.5, 0.15), (0.5, 0.5, 0.15)),
    "disabled": _slot_weights((0.9, 0.9, 0.4), (0.6, 0.6, 0.3), (0.6, 0.6, 0.3)),
    "child": _slot_weights((0.03, 0.12, 1.0), (1.0, 1.0, 0.3), (1.0, 1.0, 0.3)),
    "migrant_worker": _slot_weights((0.03, 0.03, 1.0), (0.05, 0.1, 0.5), (1.0, 1.0, 1.0)),
    "community": _slot_weights((0.2, 0.2, 0.5), (1.0, 1.0, 0.4), (1.0, 1.0, 0.4)),
}


def district_name(index: int) -> str:
    """Id of the ``index``-th district (0-based): a real name for the first six, else ``district-NN``."""
    return DISTRICT_NAMES[index] if index < len(DISTRICT_NAMES) else f"district-{index + 1:02d}"


# --------------------------------------------------------------------------- sampling helpers


def _top_k(rng: np.random.Generator, weights: _Floats, k: _Ints) -> _Bools:
    """Mask of ``k[i]`` columns drawn without replacement in row ``i``, proportionally to ``weights``.

    Gumbel top-k: perturb log-weights with Gumbel noise and keep each row's ``k`` largest.
    Zero weights are never drawn (unless a row has fewer positive weights than ``k``).
    """
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    order = np.argsort(-keys, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(weights.shape[1])[None, :], axis=1)
    mask: _Bools = ranks < k[:, None]
    return mask


def _choice(rng: np.random.Generator, p: Sequence[float], size: int) -> _Ints:
    """``size`` draws of indices with probabilities ``p`` (normalised)."""
    probs = np.asarray(p, dtype=np.float64)
    return rng.choice(len(probs), size=size, p=probs / probs.sum()).astype(np.int64)


def _rows(mask: _Bools, labels: Sequence[str]) -> list[list[str]]:
    """Per row of a boolean matrix, the labels of its true columns, in column order."""
    rows, cols = np.nonzero(mask)
    split = np.searchsorted(rows, np.arange(1, mask.shape[0]))
    return [[labels[c] for c in part] for part in np.split(cols, split)] if mask.shape[0] else []


def _code_weights(weights: Mapping[str, float]) -> _Floats:
    return np.array([weights.get(c, 0.0) for c in CODES], dtype=np.float64)


def _programme_matrix(weights: Mapping[str, float]) -> _Floats:
    """(programme, code) weights: each programme's codes weighted, other codes zero."""
    out = np.zeros((len(PROGRAMMES), len(CODES)))
    for p, prog in enumerate(PROGRAMMES):
        for code in SERVICES_BY_PROGRAMME[prog]:
            out[p, _CODE[code]] = weights[code]
    return out


def _location(rng: np.random.Generator, centres: _Floats, district: _Ints) -> list[tuple[float, float]]:
    """Homes scattered around the district centre (sd ~1 km), ``[lat, lon]`` to 5 decimals."""
    sd_km = 0.35 * _SPACING_KM
    noise = rng.normal(0.0, sd_km, size=(len(district), 2)) / np.array([_KM_PER_DEG_LAT, _KM_PER_DEG_LON])
    pts = np.round(centres[district] + noise, 5)
    return [(float(a), float(b)) for a, b in pts]


# --------------------------------------------------------------------------- the city


def _districts(rng: np.random.Generator, count: int) -> tuple[list[District], _Floats]:
    """Districts on a jittered grid around the city centre; neighbours are grid neighbours."""
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    cells = [(i // cols, i % cols) for i in range(count)]
    jitter = rng.uniform(-0.25, 0.25, size=(count, 2))
    centres = np.empty((count, 2))
    for i, (r, c) in enumerate(cells):
        north_km = ((rows - 1) / 2 - r + jitter[i, 0]) * _SPACING_KM
        east_km = (c - (cols - 1) / 2 + jitter[i, 1]) * _SPACING_KM
        centres[i] = (_CENTRE[0] + north_km / _KM_PER_DEG_LAT, _CENTRE[1] + east_km / _KM_PER_DEG_LON)
    index = {cell: i for i, cell in enumerate(cells)}
    districts = []
    for i, (r, c) in enumerate(cells):
        near = [index[n] for n in ((r - 1, c), (r, c - 1), (r, c + 1), (r + 1, c)) if n in index]
        districts.append(District(id=district_name(i), neighbors=[district_name(j) for j in near]))
    return districts, centres


def _certifications(
    rng: np.random.Generator, skills: _Bools, minor: _Bools, week_start: dt.date
) -> list[list[Certification]]:
    """Certificates implied by skills (plus general training), ~15% expired for the week."""
    n, kinds = len(minor), len(CERTIFICATION_KINDS)
    # P(no kind k) = prod over held skills of (1 - p), computed in log space as a matrix product.
    log_miss = np.zeros((len(CODES), kinds))
    for code, by_kind in _CERT_BY_SKILL.items():
        for kind, p in by_kind.items():
            log_miss[_CODE[code], _KIND[kind]] = math.log1p(-p)
    base_adult = np.array([_CERT_BASE_ADULT.get(k, 0.0) for k in CERTIFICATION_KINDS])
    base_minor = np.array([_CERT_BASE_MINOR.get(k, 0.0) for k in CERTIFICATION_KINDS])
    from_skills = 1.0 - np.exp(skills.astype(np.float64) @ log_miss)
    p_hold = np.where(minor[:, None], base_minor, 1.0 - (1.0 - from_skills) * (1.0 - base_adult))
    holds = rng.random((n, kinds)) < p_hold
    invalid = rng.random((n, kinds)) < _CERT_INVALID_SHARE
    # Invalid (offset < 6 days): lapsed up to ~18 months ago, or (a quarter of them) running out
    # during the week itself, the case a check against week_start alone would get wrong.
    lapsed = np.where(
        rng.random((n, kinds)) < 0.25,
        rng.integers(0, 6, size=(n, kinds)),
        rng.integers(-540, 0, size=(n, kinds)),
    )
    # Valid: from the deadline itself (the boundary case) up to ~3 years ahead.
    valid = rng.integers(0, 1100, size=(n, kinds))
    offsets = np.where(invalid, lapsed, 6 + valid)
    out: list[list[Certification]] = []
    for i in range(n):
        certs = []
        for k in np.flatnonzero(holds[i]):
            expires = week_start + dt.timedelta(days=int(offsets[i, k]))
            certs.append(Certification(kind=CERTIFICATION_KINDS[k], expires=expires))
        out.append(certs)
    return out


def _volunteers(
    rng: np.random.Generator,
    count: int,
    districts: list[District],
    centres: _Floats,
    week_start: dt.date,
) -> tuple[list[Volunteer], _Ints, _Bools, list[str | None], _Bools]:
    """Volunteers; also returns their district indices, skill matrix, genders and minor flags."""
    d = len(districts)
    # Towns have fewer volunteers than the urban sub-districts; generic districts vary.
    weight = rng.uniform(0.7, 1.3, size=d) * np.array(
        [0.65 if districts[i].id in _TOWNS else 1.0 for i in range(d)]
    )
    district = _choice(rng, weight.tolist(), count)
    minor = rng.random(count) < 0.10
    retiree = ~minor & (rng.random(count) < 0.20)

    # Skills: 1-3 codes of a main programme, sometimes (~25%) one more from another programme.
    main = _choice(rng, list(_MAIN_PROGRAMME.values()), count)
    n_skills = _choice(rng, (0.35, 0.40, 0.25), count) + 1
    weights = np.where(
        minor[:, None], _code_weights(_MINOR_SKILL_WEIGHT), _programme_matrix(_SKILL_WEIGHT)[main]
    )
    skills = _top_k(rng, weights, n_skills)
    other = _programme_matrix(_SKILL_WEIGHT)
    extra_w = np.where(np.arange(len(PROGRAMMES))[None, :] == main[:, None], 0.0, 1.0) @ other
    extra_w = np.where(skills, 0.0, extra_w)
    extra = (
        _top_k(rng, extra_w, np.ones(count, dtype=np.int64)) & (~minor & (rng.random(count) < 0.25))[:, None]
    )
    skills |= extra

    certs = _certifications(rng, skills, minor, week_start)

    profile = np.where(
        minor[:, None], _AVAIL_MINOR, np.where(retiree[:, None], _AVAIL_RETIREE, _AVAIL_WORKER)
    )
    n_slots = rng.integers(3, 10, size=count)
    availability = _rows(_top_k(rng, profile, n_slots), DEFAULT_SLOTS)

    adult_hours = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
    retiree_hours = (3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
    minor_hours = (2.0, 2.5, 3.0, 4.0)
    hours = np.where(
        minor,
        np.take(minor_hours, _choice(rng, (0.35, 0.15, 0.30, 0.20), count)),
        np.where(
            retiree,
            np.take(retiree_hours, _choice(rng, (0.15, 0.25, 0.20, 0.20, 0.12, 0.08), count)),
            np.take(adult_hours, _choice(rng, (0.05, 0.19, 0.07, 0.24, 0.20, 0.12, 0.09, 0.04), count)),
        ),
    )
    max_ben = np.where(
        minor, _choice(rng, (0.5, 0.5), count) + 1, _choice(rng, (0.15, 0.35, 0.30, 0.20), count) + 1
    )
    # Some registrations leave the default of 3 implicit (unset in the model, so exclude_unset drops it).
    implicit_ben = (max_ben == 3) & (rng.random(count) < 0.5)
    g = rng.random(count)
    genders: list[str | None] = ["f" if x < 0.55 else "m" if x < 0.97 else None for x in g]
    locations = _location(rng, centres, district)
    skill_lists = _rows(skills, CODES)

    volunteers = []
    for i in range(count):
        extra_fields: dict[str, object] = {}
        if certs[i]:
            extra_fields["certifications"] = certs[i]
        if not implicit_ben[i]:
            extra_fields["max_beneficiaries"] = int(max_ben[i])
        if minor[i]:
            extra_fields["minor"] = True
        if genders[i] is not None:
            extra_fields["gender"] = genders[i]
        volunteers.append(
            Volunteer(
                id=f"v{i + 1:04d}",
                district=districts[district[i]].id,
                skills=skill_lists[i],
                availability=availability[i],
                max_hours=float(hours[i]),
                location=locations[i],
                **extra_fields,
            )
        )
    return volunteers, district, skills, genders, minor


def _needs(rng: np.random.Generator, category: _Ints, first_id: int = 1) -> tuple[list[Need], _Ints, _Ints]:
    """Needs of beneficiaries with categories ``category``; returns them, owner indices, code indices."""
    b = len(category)
    per = _choice(rng, (0.5, 0.33, 0.17), b) + 1  # 1-3 needs, about 5 per 3 beneficiaries
    # Distinct services per beneficiary from its own programme.
    prog_of_cat = np.array([PROGRAMMES.index(c) for c in CATEGORIES])
    chosen = _top_k(rng, _programme_matrix(_NEED_WEIGHT)[prog_of_cat[category]], per)
    owner, code = np.nonzero(chosen)
    owner = owner.astype(np.int64)
    code = code.astype(np.int64)
    n = len(owner)
    cat = category[owner]

    heavy = np.isin(code, [_CODE["life_care"], _CODE["housekeeping"]])
    hours_idx = np.where(
        heavy, _choice(rng, (0.25, 0.20, 0.35, 0.20), n), _choice(rng, (0.45, 0.20, 0.28, 0.07), n)
    )
    hours = np.take((1.0, 1.5, 2.0, 3.0), hours_idx)
    sessions = _choice(rng, (0.50, 0.35, 0.15), n) + 1
    n_windows = np.maximum(rng.integers(3, 9, size=n), sessions)
    window_w = np.stack([_WINDOWS[c] for c in CATEGORIES])[cat]
    windows = _rows(_top_k(rng, window_w, n_windows), DEFAULT_SLOTS)

    u_req = rng.random((n, len(CERTIFICATION_KINDS)))
    u_minor = rng.random(n)
    child = CATEGORIES.index("child")
    needs = []
    for i in range(n):
        service = CODES[code[i]]
        p_req = dict(_REQUIRES.get(service, {}))
        if cat[i] == child and service in _REQUIRES_FOR_CHILDREN:
            p_req["child_safeguarding"] = _REQUIRES_FOR_CHILDREN[service]
        requires = [k for k in CERTIFICATION_KINDS if u_req[i, _KIND[k]] < p_req.get(k, 0.0)]
        extra_fields: dict[str, object] = {}
        if requires:
            extra_fields["requires"] = requires
        elif service in LIGHT_SERVICES and u_minor[i] < 0.5:
            extra_fields["minor_ok"] = True
        needs.append(
            Need(
                id=f"n{first_id + i:05d}",
                beneficiary=f"b{owner[i] + 1:04d}",
                service=service,
                hours=float(hours[i]),
                sessions=int(sessions[i]),
                windows=windows[i],
                **extra_fields,
            )
        )
    return needs, owner, code


def _beneficiaries(
    rng: np.random.Generator,
    b_count: int,
    districts: list[District],
    centres: _Floats,
    vols: list[Volunteer],
    v_district: _Ints,
) -> tuple[list[Beneficiary], _Ints, _Ints, _Bools, dict[int, str]]:
    """Beneficiaries; also returns their district and category indices, gender requests, exclusions."""
    # District sizes vary independently of volunteer supply.
    n_d = len(districts)
    b_district = _choice(rng, rng.uniform(0.7, 1.3, size=n_d).tolist(), b_count)
    category = _choice(rng, [_CATEGORY_SHARE[c] for c in CATEGORIES], b_count)
    priority = np.empty(b_count, dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        sel = np.flatnonzero(category == c)
        priority[sel] = _choice(rng, _PRIORITY[name], len(sel)) + 1
    # Women are ~58% of the elderly; ~15% of elderly women ask for a woman volunteer.
    wants_f = (
        (category == CATEGORIES.index("elderly"))
        & (rng.random(b_count) < 0.58)
        & (rng.random(b_count) < 0.15)
    )
    b_locations = _location(rng, centres, b_district)

    # Volunteers by district, for exclusions and last week's pairs.
    by_district = [np.flatnonzero(v_district == j) for j in range(n_d)]
    excluded: dict[int, str] = {}
    if len(vols):
        u_ex = rng.random(b_count)
        u_pick = rng.random(b_count)
        for k in map(int, np.flatnonzero(u_ex < 0.03)):
            pool = by_district[b_district[k]]
            if not len(pool):  # an empty district: anyone the beneficiary has met elsewhere
                pool = np.arange(len(vols))
            excluded[k] = vols[int(pool[int(u_pick[k] * len(pool))])].id

    bens = []
    for i in range(b_count):
        extra_fields: dict[str, object] = {}
        if wants_f[i]:
            extra_fields["volunteer_gender"] = "f"
        if i in excluded:
            extra_fields["excluded_volunteers"] = [excluded[i]]
        bens.append(
            Beneficiary(
                id=f"b{i + 1:04d}",
                category=CATEGORIES[category[i]],
                district=districts[b_district[i]].id,
                priority=int(priority[i]),
                location=b_locations[i],
                **extra_fields,
            )
        )

    return bens, b_district, category, wants_f, excluded


def _check_args(
    volunteers: int, beneficiaries: int, districts: int | None, week_start: dt.date, time_limit_s: float
) -> None:
    """Raise ValueError, naming the argument, for anything out of range."""
    counts = [("volunteers", volunteers, 0), ("beneficiaries", beneficiaries, 0)]
    if districts is not None:
        counts.append(("districts", districts, 1))
    for name, value, low in counts:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name}: must be an integer, got {value!r}")
        if value < low:
            raise ValueError(f"{name}: must be >= {low}, got {value}")
    if not isinstance(week_start, dt.date) or week_start.weekday() != 0:
        raise ValueError(f"week_start: must be a Monday, got {week_start!r}")
    if not (isinstance(time_limit_s, int | float) and math.isfinite(time_limit_s) and time_limit_s > 0):
        raise ValueError(f"time_limit_s: must be a finite number > 0, got {time_limit_s!r}")


def generate_city(
    volunteers: int,
    beneficiaries: int,
    districts: int | None = None,
    seed: int = 0,
    week_start: dt.date = dt.date(2026, 12, 7),
    time_limit_s: float = 10.0,
) -> Problem:
    """Generate one realistic city week for Jiayuguan.

    Parameters
    ----------
    volunteers
        Number of volunteers (ids ``v0001`` ...), >= 0.
    beneficiaries
        Number of beneficiaries (ids ``b0001`` ...), >= 0; they get about 5 needs per 3
        (ids ``n00001`` ...).
    districts
        Number of districts, >= 1; default about one per 500 volunteers, between 1 and 20.
    seed
        Seed of ``numpy.random.default_rng``; the same arguments give the same problem.
    week_start
        The Monday of the week; certificate expiry dates are drawn relative to it.
    time_limit_s
        Solver time limit written into the problem.

    Returns
    -------
    Problem
        A validated problem with ``reach: adjacent`` and the default 21 slots.

    Raises
    ------
    ValueError
        If an argument is out of range; the message starts with the argument's name.
    """
    _check_args(volunteers, beneficiaries, districts, week_start, time_limit_s)
    n_d = int(districts) if districts is not None else min(20, max(1, round(volunteers / 500)))
    rng = np.random.default_rng(seed)

    district_list, centres = _districts(rng, n_d)
    vols, v_district, v_skills, v_gender, v_minor = _volunteers(
        rng, int(volunteers), district_list, centres, week_start
    )

    bens, b_district, category, wants_f, excluded = _beneficiaries(
        rng, int(beneficiaries), district_list, centres, vols, v_district
    )
    needs, owner, code = _needs(rng, category)
    previous = _previous(
        rng, b_district, wants_f, excluded, owner, code, vols, v_district, v_skills, v_gender, v_minor
    )

    return Problem(
        format=1,
        week_start=week_start,
        districts=district_list,
        reach="adjacent",
        volunteers=vols,
        beneficiaries=bens,
        needs=needs,
        previous=previous,
        time_limit_s=float(time_limit_s),
    )


def _previous(
    rng: np.random.Generator,
    b_district: _Ints,
    wants_f: _Bools,
    excluded: dict[int, str],
    owner: _Ints,
    code: _Ints,
    vols: list[Volunteer],
    v_district: _Ints,
    v_skills: _Bools,
    v_gender: list[str | None],
    v_minor: _Bools,
) -> list[PreviousPair]:
    """Last week's pairs for ~25% of beneficiaries: an adult in their district with a needed skill."""
    b_count = len(b_district)
    if not len(vols) or not b_count:
        return []
    # Candidate adults per (district, code).
    n_d = int(max(b_district.max(initial=0), v_district.max(initial=0))) + 1
    adult = ~v_minor
    pools: dict[tuple[int, int], _Ints] = {}
    for d in range(n_d):
        in_d = adult & (v_district == d)
        for c in range(len(CODES)):
            pools[d, c] = np.flatnonzero(in_d & v_skills[:, c])
    starts = np.searchsorted(owner, np.arange(b_count + 1))
    pick = rng.random(b_count) < 0.25
    u = rng.random((b_count, 4))
    out = []
    for i in map(int, np.flatnonzero(pick)):
        codes = code[starts[i] : starts[i + 1]]
        if not len(codes):
            continue
        codes = np.roll(codes, int(u[i, 0] * len(codes)))  # start from a random need
        for c in codes:
            pool = pools[int(b_district[i]), int(c)]
            if wants_f[i]:
                pool = pool[[v_gender[j] == "f" for j in pool]] if len(pool) else pool
            if i in excluded:
                pool = pool[[vols[j].id != excluded[i] for j in pool]] if len(pool) else pool
            if len(pool):
                v = int(pool[int(u[i, 1] * len(pool))])
                out.append(PreviousPair(volunteer=vols[v].id, beneficiary=f"b{i + 1:04d}"))
                break
    return out


def generate_changes(
    problem: Problem,
    *,
    withdraw: float = 0.05,
    partial: float = 0.0,
    cancel: float = 0.0,
    add: int = 0,
    seed: int = 0,
) -> ChangeSet:
    """Generate a realistic change set for a problem: the day's cancellations.

    Parameters
    ----------
    problem
        The problem the change set applies to.
    withdraw
        Fraction of volunteers withdrawn for the whole week (ill, travelling).
    partial
        Fraction of volunteers withdrawn from one to three of their available slots.
    cancel
        Fraction of needs cancelled.
    add
        Number of urgent needs added, for beneficiaries drawn at random (ids ``n-new-1`` …).
    seed
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ChangeSet
        A change set that :func:`matcher.format.changes.apply_changes` accepts for ``problem``.
    """
    for name, value in (("withdraw", withdraw), ("partial", partial), ("cancel", cancel)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name}: must be between 0 and 1, got {value}")
    if add < 0 or (add and not problem.beneficiaries):
        raise ValueError(f"add: cannot add {add} needs to a problem with no beneficiaries")
    rng = np.random.default_rng(seed)
    vols = problem.volunteers
    order = rng.permutation(len(vols))
    n_whole = round(withdraw * len(vols))
    n_part = min(len(vols) - n_whole, round(partial * len(vols)))
    withdrawn = [Withdrawal(volunteer=vols[i].id) for i in order[:n_whole]]
    for i in order[n_whole : n_whole + n_part]:
        free = vols[i].availability
        if free:
            k = int(rng.integers(1, min(3, len(free)) + 1))
            slots = sorted(rng.choice(len(free), size=k, replace=False).tolist())
            withdrawn.append(Withdrawal(volunteer=vols[i].id, slots=[free[s] for s in slots]))
    n_cancel = round(cancel * len(problem.needs))
    cancelled = [problem.needs[i].id for i in sorted(rng.choice(len(problem.needs), n_cancel, replace=False))]
    added: list[Need] = []
    if add:
        who = rng.integers(0, len(problem.beneficiaries), size=3 * add)
        category = np.array([CATEGORIES.index(problem.beneficiaries[b].category) for b in who])
        drawn, owner, _ = _needs(rng, category)
        for i, need in enumerate(drawn[:add]):
            added.append(
                need.model_copy(
                    update={"id": f"n-new-{i + 1}", "beneficiary": problem.beneficiaries[who[owner[i]]].id}
                )
            )
    return ChangeSet(format=1, volunteers_withdrawn=withdrawn, needs_cancelled=cancelled, needs_added=added)


# ------------------------------------------------------------------------ format 2: posts

#: Post templates: (kind of site, its name, service, hours, windows, lead, minor_ok, priority range).
#: Shaped after the city plan's group programmes: 文明劝导 at squares and crossroads, 网吧义务巡逻
#: near schools, 关爱山川河流 on the rivers, health checks at construction sites for migrant workers.
_POST_KINDS: tuple[
    tuple[str, str, str, float, tuple[str, ...], tuple[str, ...], bool, tuple[int, int]], ...
] = (
    ("square", "广场", "civility_guidance", 2.0, ("sat-am", "sat-pm", "sun-am", "sun-pm"), (), True, (2, 3)),
    (
        "crossroads",
        "路口",
        "civility_guidance",
        1.5,
        ("mon-eve", "wed-eve", "fri-eve", "sat-am"),
        ("traffic",),
        False,
        (2, 4),
    ),
    ("school", "学校周边", "safety_education", 2.0, ("tue-eve", "thu-eve", "sat-pm"), (), False, (3, 4)),
    ("river", "河道", "environment", 3.0, ("sat-am", "sun-am", "sun-pm"), ("first_aid",), True, (2, 3)),
    (
        "construction",
        "工地",
        "health_check",
        2.0,
        ("wed-eve", "sun-am", "sun-pm"),
        ("health_care",),
        False,
        (3, 5),
    ),
)


def generate_city_with_posts(
    volunteers: int,
    beneficiaries: int,
    districts: int | None = None,
    seed: int = 0,
    posts: float = 0.1,
    week_start: dt.date = dt.date(2026, 12, 7),
    time_limit_s: float = 10.0,
) -> Problem2:
    """The city of :func:`generate_city` (same arguments, same volunteers, beneficiaries and needs)
    as a format-2 problem with group posts added, so that about ``posts`` of its needs are posts.

    Sites are squares, crossroads, school surroundings, rivers and construction sites, a few per
    district; each post takes 2-8 volunteers (``min`` 2-3) for one or two sessions of its kind's
    windows (weekends and evenings, when most volunteers are free), with a lead for the kinds
    that need one (a 文明交通 certificate at crossroads, a first-aider on a river patrol, a nurse
    at a construction site's health check) and ``minor_ok`` for squares and rivers.  The posts are
    drawn from their own random stream, so ``posts=0`` gives exactly :func:`generate_city`'s week
    (as format 2), and the one-to-one part is the same whatever ``posts`` is.
    """
    if not (isinstance(posts, int | float) and 0 <= posts < 1):
        raise ValueError(f"posts: must be a share in [0, 1), got {posts!r}")
    city = generate_city(volunteers, beneficiaries, districts, seed, week_start, time_limit_s)
    rng = np.random.default_rng([seed, 2])  # the posts' own stream: the city is untouched
    count = round(len(city.needs) * posts / (1 - posts))
    sites: list[Site] = []
    needs = [Need2(**n.model_dump()) for n in city.needs]
    for i in range(count):
        _, name, service, hours, windows, lead, minor_ok, (low_p, high_p) = _POST_KINDS[
            int(rng.integers(len(_POST_KINDS)))
        ]
        district = city.districts[int(rng.integers(len(city.districts)))]
        site_id = f"s{len(sites) + 1:03d}"
        sites.append(Site(id=site_id, name=f"{district.id}{name}{i + 1}", district=district.id))
        low = int(rng.integers(2, 4))
        high = min(8, low + int(rng.integers(0, 6)))
        sessions = 1 if rng.random() < 0.7 else 2
        chosen = sorted(rng.choice(len(windows), size=min(len(windows), sessions + 1), replace=False))
        needs.append(
            Need2(
                id=f"p{i + 1:04d}",
                site=site_id,
                priority=int(rng.integers(low_p, high_p + 1)),
                service=service,
                hours=hours,
                sessions=sessions,
                windows=[windows[int(w)] for w in chosen],
                minor_ok=minor_ok,
                volunteers=Staffing(min=low, max=high),
                lead=Lead(certifications=list(lead)) if lead else None,
            )
        )
    return Problem2(
        format=2,
        week_start=city.week_start,
        districts=city.districts,
        reach=city.reach,
        volunteers=city.volunteers,
        beneficiaries=city.beneficiaries,
        sites=sites,
        needs=needs,
        previous=city.previous,
        time_limit_s=city.time_limit_s,
    )
