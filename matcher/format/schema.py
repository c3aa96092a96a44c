"""Exchange format, versions 1 and 2: problem, plan and change set.

Format 2 (:class:`Problem2`, :class:`Plan2`) adds sites and group posts (``docs/format.md``,
"Format 2"); it reuses format 1's districts, volunteers, beneficiaries and previous pairs as
they are, so a format-1 document parses, and is written, exactly as before.

The models here follow ``docs/format.md`` to the letter: unknown fields are
rejected, ids are unique within their list, and every reference (district, volunteer,
beneficiary, slot, service code, certification kind) must resolve.  A malformed
document raises :class:`pydantic.ValidationError`; :func:`matcher.format.errors.format_error`
turns the first error into the one-line message the CLI and the API print, e.g.
``needs[3].windows[1]: unknown slot 'mon-noon'``.

Numbers are strict: ``sessions`` must be a JSON integer, ``hours`` a JSON number
(never a string), booleans are ``true``/``false`` only.  Every number, date, id, string and
list is bounded (:mod:`matcher.format.bounds`, where the limits are declared once): an absurd value
such as ``max_hours`` 1e308 is refused here, naming the field and the limit, before the
engine computes with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from matcher.format.bounds import (
    CERTIFICATIONS_MAX,
    DISTRICTS_MAX,
    EXCLUDED_MAX,
    ITEMS_MAX,
    POST_VOLUNTEERS_MAX,
    REASON_MAX_LENGTH,
    REASONS_MAX,
    SITES_MAX,
    SLOTS_MAX,
    STANDINS_MAX,
    Count,
    Coverage,
    Coverage2,
    Expiry,
    Hours,
    Id,
    Latitude,
    Longitude,
    MaxBeneficiaries,
    Name,
    PostVolunteers,
    Priority,
    Seconds,
    SessionHours,
    Sessions,
    TimeLimit,
    WeekStart,
)

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS: tuple[str, ...] = ("am", "pm", "eve")
DEFAULT_SLOTS: tuple[str, ...] = tuple(f"{d}-{p}" for d in DAYS for p in PERIODS)

#: Service codes by programme (FORMAT.md, "Services"); any code may serve any category.
SERVICES_BY_PROGRAMME: dict[str, tuple[str, ...]] = {
    "elderly": (
        "life_care",
        "health_care",
        "emotional_support",
        "emergency_aid",
        "legal_aid",
        "recreation",
    ),
    "child": ("tutoring", "interest_activities", "companionship", "counseling"),
    "disabled": (
        "housekeeping",
        "rehabilitation",
        "employment_support",
        "rights_protection",
        "accessibility",
    ),
    "migrant_worker": ("job_skills", "health_check", "safety_education"),
    "community": ("civility_guidance", "environment", "culture_sports"),
}
SERVICE_CODES: frozenset[str] = frozenset(code for codes in SERVICES_BY_PROGRAMME.values() for code in codes)
CERTIFICATION_KINDS: tuple[str, ...] = (
    "first_aid",
    "health_care",
    "legal",
    "fire_safety",
    "traffic",
    "child_safeguarding",
)
CATEGORIES: tuple[str, ...] = ("elderly", "disabled", "child", "migrant_worker", "community")

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _service_code(value: str) -> str:
    if value not in SERVICE_CODES:
        raise PydanticCustomError("unknown_service", "unknown service code '{code}'", {"code": value})
    return value


def _certification_kind(value: str) -> str:
    if value not in CERTIFICATION_KINDS:
        raise PydanticCustomError(
            "unknown_certification", "unknown certification kind '{kind}'", {"kind": value}
        )
    return value


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise PydanticCustomError(
            "unknown_category",
            "unknown category '{value}' (expected one of: {expected})",
            {"value": value, "expected": ", ".join(CATEGORIES)},
        )
    return value


def distinct_ids(values: list[str]) -> list[str]:
    """Validator: a list of ids (or codes) with no value listed twice."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError("duplicate", "'{value}' is listed twice", {"value": value})
        seen.add(value)
    return values


IdList = Annotated[list[Id], Field(max_length=ITEMS_MAX), AfterValidator(distinct_ids)]
"""A list of ids, each named once (FORMAT.md: ids are unique within their list)."""
SlotList = Annotated[list[Id], Field(max_length=SLOTS_MAX), AfterValidator(distinct_ids)]
"""A list of slots, each named once: at most the most slots a week may have."""
ServiceCode = Annotated[str, Field(strict=True), AfterValidator(_service_code)]
CertificationKind = Annotated[str, Field(strict=True), AfterValidator(_certification_kind)]
ServiceCodes = Annotated[
    list[ServiceCode], Field(max_length=len(SERVICE_CODES)), AfterValidator(distinct_ids)
]
CertificationKinds = Annotated[
    list[CertificationKind], Field(max_length=len(CERTIFICATION_KINDS)), AfterValidator(distinct_ids)
]
Category = Annotated[str, Field(strict=True), AfterValidator(_category)]
Location = tuple[Latitude, Longitude]
"""``[lat, lon]`` in degrees, each finite and within its range."""
Gender = Literal["f", "m"]


def reference_error(path: str, detail: str) -> PydanticCustomError:
    """Build the error raised by cross-reference checks.

    Parameters
    ----------
    path
        Field path in the document, e.g. ``needs[3].windows[1]``.
    detail
        What is wrong with it, e.g. ``unknown slot 'mon-noon'``.

    Returns
    -------
    PydanticCustomError
        An error whose context carries the path, so that
        :func:`matcher.format.errors.format_error` prints ``path: detail``.
    """
    return PydanticCustomError("reference", "{path}: {detail}", {"path": path, "detail": detail})


def check_unique(ids: Iterable[str], path: str, suffix: str = ".id") -> None:
    """Raise a reference error naming the first repeated id in ``ids``.

    Parameters
    ----------
    ids
        Ids in document order.
    path
        Path of the list, e.g. ``volunteers``; items are named ``path[i]`` + ``suffix``.
    suffix
        ``".id"`` for lists of objects, ``""`` for lists of plain ids.
    """
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise reference_error(f"{path}[{i}]{suffix}", f"duplicate id '{ident}'")
        seen.add(ident)


def check_members(values: Sequence[str], known: Iterable[str] | set[str], path: str, what: str) -> None:
    """Raise a reference error for the first value not in ``known``.

    Parameters
    ----------
    values
        The referenced ids, in document order.
    known
        The ids that exist.
    path
        Path of the list, e.g. ``needs[3].windows``; items are named ``path[i]``.
    what
        Noun for the message, e.g. ``slot``.
    """
    known_set = known if isinstance(known, set | frozenset) else set(known)
    for i, value in enumerate(values):
        if value not in known_set:
            raise reference_error(f"{path}[{i}]", f"unknown {what} '{value}'")


class District(BaseModel):
    """A district of the city and its neighbours (symmetric: one side listing suffices)."""

    model_config = _STRICT

    id: Id = Field(description="District id, unique in the problem.")
    neighbors: Annotated[IdList, Field(max_length=DISTRICTS_MAX)] = Field(
        description="Ids of neighbouring districts."
    )


class Certification(BaseModel):
    """A certificate held by a volunteer."""

    model_config = _STRICT

    kind: CertificationKind = Field(description="Certification kind, e.g. 'first_aid'.")
    expires: Expiry = Field(
        description="ISO date; counts for the week only if on or after week_start + 6 days."
    )


class Volunteer(BaseModel):
    """A registered volunteer and what they can give this week."""

    model_config = _STRICT

    id: Id = Field(description="Volunteer id, unique in the problem.")
    district: Id = Field(description="District the volunteer lives or serves in.")
    skills: ServiceCodes = Field(description="Service codes the volunteer can deliver.")
    certifications: Annotated[list[Certification], Field(max_length=CERTIFICATIONS_MAX)] = Field(
        default_factory=list, description="Certificates held, with expiry dates."
    )
    availability: SlotList = Field(description="Slots the volunteer can serve in.")
    max_hours: Hours = Field(description="Most hours served this week.")
    max_beneficiaries: MaxBeneficiaries = Field(
        default=3, description="Most distinct beneficiaries served this week."
    )
    minor: Annotated[bool, Field(strict=True)] = Field(
        default=False, description="An under-18 'little volunteer'."
    )
    gender: Gender | None = Field(default=None, description="'f', 'm' or absent.")
    location: Location | None = Field(default=None, description="[lat, lon]; used only for travel distance.")


class Beneficiary(BaseModel):
    """A person (or community) served."""

    model_config = _STRICT

    id: Id = Field(description="Beneficiary id, unique in the problem.")
    category: Category = Field(description="elderly, disabled, child, migrant_worker or community.")
    district: Id = Field(description="District the beneficiary lives in.")
    priority: Priority = Field(description="1-5; 5 is the most vulnerable.")
    volunteer_gender: Gender | None = Field(
        default=None, description="If set, only volunteers of that gender may serve."
    )
    excluded_volunteers: Annotated[IdList, Field(max_length=EXCLUDED_MAX)] = Field(
        default_factory=list, description="Volunteers never to be paired with this beneficiary."
    )
    location: Location | None = Field(default=None, description="[lat, lon].")


class Need(BaseModel):
    """One recurring service a beneficiary needs this week."""

    model_config = _STRICT

    id: Id = Field(description="Need id, unique in the problem.")
    beneficiary: Id = Field(description="The beneficiary served.")
    service: ServiceCode = Field(description="Service code; the volunteer must have it in skills.")
    hours: SessionHours = Field(description="Hours per session (may be fractional).")
    sessions: Sessions = Field(description="Sessions per week, in distinct slots.")
    windows: SlotList = Field(description="Slots in which a session may take place.")
    requires: CertificationKinds = Field(
        default_factory=list, description="Certification kinds the volunteer must hold, valid for the week."
    )
    minor_ok: Annotated[bool, Field(strict=True)] = Field(
        default=False, description="Whether a minor volunteer may take it."
    )


class PreviousPair(BaseModel):
    """A volunteer-beneficiary pair from last week's plan."""

    model_config = _STRICT

    volunteer: Id = Field(description="Volunteer id.")
    beneficiary: Id = Field(description="Beneficiary id.")


class Problem(BaseModel):
    """One station's or one city's week: who can serve, who needs what."""

    model_config = _STRICT

    format: Literal[1] = Field(description="Always 1.")
    week_start: WeekStart = Field(description="ISO date of the Monday the plan is for.")
    slots: SlotList | None = Field(
        default=None, description="The week's slots in order; default the 21 slots mon-am .. sun-eve."
    )
    districts: Annotated[list[District], Field(max_length=DISTRICTS_MAX)] = Field(
        description="Every district, with neighbours."
    )
    reach: Literal["same", "adjacent"] = Field(
        default="adjacent", description="Serve in the same district only, or also in neighbouring ones."
    )
    volunteers: Annotated[list[Volunteer], Field(max_length=ITEMS_MAX)] = Field(
        description="Volunteers available this week."
    )
    beneficiaries: Annotated[list[Beneficiary], Field(max_length=ITEMS_MAX)] = Field(
        description="People served."
    )
    needs: Annotated[list[Need], Field(max_length=ITEMS_MAX)] = Field(
        description="Services needed this week."
    )
    previous: Annotated[list[PreviousPair], Field(max_length=ITEMS_MAX)] = Field(
        default_factory=list, description="Last week's volunteer-beneficiary pairs."
    )
    time_limit_s: TimeLimit = Field(default=10.0, description="Wall-clock limit for the solver, seconds.")

    @property
    def slot_ids(self) -> tuple[str, ...]:
        """The week's slots in order (the default 21 when ``slots`` is absent)."""
        return DEFAULT_SLOTS if self.slots is None else tuple(self.slots)

    @property
    def certification_deadline(self) -> dt.date:
        """Earliest expiry date that still counts for the week (``week_start`` + 6 days)."""
        return self.week_start + dt.timedelta(days=6)

    @model_validator(mode="after")
    def _check_references(self) -> Problem:
        slots = set(self.slot_ids)
        check_unique((d.id for d in self.districts), "districts")
        check_unique((v.id for v in self.volunteers), "volunteers")
        check_unique((b.id for b in self.beneficiaries), "beneficiaries")
        check_unique((n.id for n in self.needs), "needs")
        districts = {d.id for d in self.districts}
        for i, d in enumerate(self.districts):
            check_members(d.neighbors, districts, f"districts[{i}].neighbors", "district")
        volunteers = {v.id for v in self.volunteers}
        for i, v in enumerate(self.volunteers):
            check_volunteer_references(v, f"volunteers[{i}]", districts, slots)
        beneficiaries = {b.id for b in self.beneficiaries}
        for i, b in enumerate(self.beneficiaries):
            path = f"beneficiaries[{i}]"
            if b.district not in districts:
                raise reference_error(path + ".district", f"unknown district '{b.district}'")
            check_members(b.excluded_volunteers, volunteers, path + ".excluded_volunteers", "volunteer")
        for i, n in enumerate(self.needs):
            check_need_references(n, f"needs[{i}]", beneficiaries, slots)
        for i, p in enumerate(self.previous):
            if p.volunteer not in volunteers:
                raise reference_error(f"previous[{i}].volunteer", f"unknown volunteer '{p.volunteer}'")
            if p.beneficiary not in beneficiaries:
                raise reference_error(f"previous[{i}].beneficiary", f"unknown beneficiary '{p.beneficiary}'")
        return self


def check_volunteer_references(v: Volunteer, path: str, districts: set[str], slots: set[str]) -> None:
    """Check that a volunteer's district and availability exist in the problem."""
    if v.district not in districts:
        raise reference_error(path + ".district", f"unknown district '{v.district}'")
    check_members(v.availability, slots, path + ".availability", "slot")


def check_need_references(n: Need, path: str, beneficiaries: set[str], slots: set[str]) -> None:
    """Check that a need's beneficiary and windows exist in the problem."""
    if n.beneficiary not in beneficiaries:
        raise reference_error(path + ".beneficiary", f"unknown beneficiary '{n.beneficiary}'")
    check_members(n.windows, slots, path + ".windows", "slot")


# --------------------------------------------------------------------------- plan

Amount = Coverage
"""A non-negative JSON number, kept an integer when written as one (bounded)."""


class Standins(BaseModel):
    """The ranked stand-ins (备选志愿者) of one session of an assignment (optional, on request)."""

    model_config = _STRICT

    slot: Id = Field(description="The session's slot (one of the assignment's slots).")
    volunteers: Annotated[IdList, Field(max_length=STANDINS_MAX)] = Field(
        description="Volunteers who could take this session as the plan stands, best first."
    )


class Assignment(BaseModel):
    """A need taken by one volunteer in ``sessions`` distinct slots."""

    model_config = _STRICT

    need: Id = Field(description="The need taken.")
    volunteer: Id = Field(description="The volunteer who takes it.")
    slots: Annotated[list[Id], Field(max_length=SLOTS_MAX)] = Field(description="The slots of its sessions.")
    standins: Annotated[list[Standins], Field(max_length=SLOTS_MAX)] | None = Field(
        default=None,
        description="Optional, only when asked for (linli solve --standins K): each session's ranked "
        "stand-ins. Absent from a plan by default.",
    )


class Unmet(BaseModel):
    """A need no volunteer took, with why."""

    model_config = _STRICT

    need: Id = Field(description="The need left unmet.")
    reasons: list[Annotated[str, Field(strict=True, min_length=1, max_length=REASON_MAX_LENGTH)]] = Field(
        min_length=1, max_length=REASONS_MAX, description="Stable reason codes (see matcher.format.reasons)."
    )


class Objective(BaseModel):
    """The objective values of a plan."""

    model_config = _STRICT

    coverage: Amount = Field(
        description="Priority-weighted hours covered: sum of priority x hours x sessions."
    )
    coverage_bound: Amount = Field(description="Proved upper bound on coverage.")
    continuity: Count = Field(description="Previous pairs that serve at least one need together again.")


class Plan(BaseModel):
    """The engine's answer: who serves which need when, and what stays unmet."""

    model_config = _STRICT

    format: Literal[1] = Field(description="Always 1.")
    status: Literal["optimal", "feasible"] = Field(
        description="'optimal' when coverage is proved optimal, else 'feasible'."
    )
    assignments: Annotated[list[Assignment], Field(max_length=ITEMS_MAX)] = Field(
        description="Assigned needs."
    )
    unmet: Annotated[list[Unmet], Field(max_length=ITEMS_MAX)] = Field(
        description="Needs left unmet, each with reasons."
    )
    objective: Objective = Field(description="Objective values.")
    solve_seconds: Seconds = Field(description="Wall-clock seconds spent.")
    changed: IdList | None = Field(
        default=None, description="Re-solve only: needs whose volunteer or slots changed."
    )

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise as format-1 JSON (``changed`` only when set)."""
        return self.model_dump_json(indent=indent, exclude_none=True)


# ---------------------------------------------------------------------- change set


class Withdrawal(BaseModel):
    """A volunteer withdrawn for the whole week, or for some slots only."""

    model_config = _STRICT

    volunteer: Id = Field(description="The volunteer withdrawn.")
    slots: SlotList | None = Field(default=None, description="Slots withdrawn; absent means the whole week.")


class ChangeSet(BaseModel):
    """Cancellations and additions applied to a problem before a re-solve."""

    model_config = _STRICT

    format: Literal[1] = Field(description="Always 1.")
    volunteers_withdrawn: Annotated[list[Withdrawal], Field(max_length=ITEMS_MAX)] = Field(
        default_factory=list, description="Withdrawals."
    )
    needs_cancelled: IdList = Field(default_factory=list, description="Ids of needs cancelled.")
    needs_added: Annotated[list[Need], Field(max_length=ITEMS_MAX)] = Field(
        default_factory=list, description="New needs."
    )
    volunteers_added: Annotated[list[Volunteer], Field(max_length=ITEMS_MAX)] = Field(
        default_factory=list, description="New volunteers."
    )

    @model_validator(mode="after")
    def _check_unique(self) -> ChangeSet:
        check_unique((n.id for n in self.needs_added), "needs_added")
        check_unique((v.id for v in self.volunteers_added), "volunteers_added")
        return self


# ---------------------------------------------------------------------- format 2


class Site(BaseModel):
    """A place where group posts are held: a square, a crossroads, a school gate, a river bank."""

    model_config = _STRICT

    id: Id = Field(description="Site id, unique in the problem (and distinct from every beneficiary id).")
    name: Name = Field(description="What coordinators call it, e.g. '人民广场'.")
    district: Id = Field(description="District the site lies in (reach is counted from it).")
    location: Location | None = Field(default=None, description="[lat, lon].")


class Staffing(BaseModel):
    """How many volunteers a need takes together: at least ``min`` for it to run, at most ``max``."""

    model_config = _STRICT

    min: PostVolunteers = Field(default=1, description="Fewest volunteers with whom the post runs.")
    max: PostVolunteers = Field(default=1, description="Most volunteers the post takes.")

    @model_validator(mode="after")
    def _check_order(self) -> Staffing:
        if self.min > self.max:
            raise PydanticCustomError(
                "staffing", "min {low} is more than max {high}", {"low": self.min, "high": self.max}
            )
        return self


class Lead(BaseModel):
    """What at least one volunteer on a post must hold (all of it, the same volunteer)."""

    model_config = _STRICT

    certifications: CertificationKinds = Field(
        default_factory=list, description="Certification kinds, valid for the week."
    )
    skills: ServiceCodes = Field(default_factory=list, description="Service codes.")

    @model_validator(mode="after")
    def _check_not_empty(self) -> Lead:
        if not self.certifications and not self.skills:
            raise PydanticCustomError("lead", "a lead names at least one certification or skill", {})
        return self


class Need2(BaseModel):
    """A format-2 need: a beneficiary's service, or a post at a site, for one or more volunteers."""

    model_config = _STRICT

    id: Id = Field(description="Need id, unique in the problem.")
    beneficiary: Id | None = Field(default=None, description="The beneficiary served (or give a site).")
    site: Id | None = Field(default=None, description="The site of the post (or give a beneficiary).")
    priority: Priority | None = Field(
        default=None, description="1-5, for a need at a site only (a beneficiary's need takes its priority)."
    )
    service: ServiceCode = Field(description="Service code; every volunteer on it must have it in skills.")
    hours: SessionHours = Field(description="Hours per session (may be fractional).")
    sessions: Sessions = Field(description="Sessions per week, in distinct slots, served by all together.")
    windows: SlotList = Field(description="Slots in which a session may take place.")
    requires: CertificationKinds = Field(
        default_factory=list, description="Certification kinds every volunteer on it must hold."
    )
    minor_ok: Annotated[bool, Field(strict=True)] = Field(
        default=False, description="Whether minors may serve it (on a group post, only beside an adult)."
    )
    volunteers: Staffing = Field(default_factory=Staffing, description="{min, max} volunteers; default 1/1.")
    lead: Lead | None = Field(default=None, description="What at least one volunteer on it must hold.")

    @model_validator(mode="after")
    def _check_place(self) -> Need2:
        if (self.beneficiary is None) == (self.site is None):
            raise PydanticCustomError("place", "a need names exactly one of beneficiary and site", {})
        if self.site is not None and self.priority is None:
            raise PydanticCustomError("priority", "a need at a site gives its priority (1-5)", {})
        if self.beneficiary is not None and self.priority is not None:
            raise PydanticCustomError(
                "priority", "a beneficiary's need takes the beneficiary's priority: leave priority out", {}
            )
        return self

    @property
    def is_post(self) -> bool:
        """Whether this need is a post (at a site, or for more than one volunteer)."""
        return self.site is not None or self.volunteers.max > 1

    @property
    def is_plain(self) -> bool:
        """Whether format 1 says the same: a beneficiary's need for one volunteer, without a lead
        (format 1 has no lead, so a one-person need with one goes to the posts model too)."""
        return not self.is_post and self.lead is None

    @property
    def place(self) -> str:
        """The beneficiary or site id (one key of rule 6's count: a site counts as one)."""
        return self.beneficiary if self.beneficiary is not None else str(self.site)


class Problem2(BaseModel):
    """A format-2 week: format 1 plus sites and needs for several volunteers together."""

    model_config = _STRICT

    format: Literal[2] = Field(description="Always 2.")
    week_start: WeekStart = Field(description="ISO date of the Monday the plan is for.")
    slots: SlotList | None = Field(
        default=None, description="The week's slots in order; default the 21 slots mon-am .. sun-eve."
    )
    districts: Annotated[list[District], Field(max_length=DISTRICTS_MAX)] = Field(
        description="Every district, with neighbours."
    )
    reach: Literal["same", "adjacent"] = Field(
        default="adjacent", description="Serve in the same district only, or also in neighbouring ones."
    )
    volunteers: Annotated[list[Volunteer], Field(max_length=ITEMS_MAX)] = Field(
        description="Volunteers available this week."
    )
    beneficiaries: Annotated[list[Beneficiary], Field(max_length=ITEMS_MAX)] = Field(
        default_factory=list, description="People served."
    )
    sites: Annotated[list[Site], Field(max_length=SITES_MAX)] = Field(
        default_factory=list, description="Places of group posts."
    )
    needs: Annotated[list[Need2], Field(max_length=ITEMS_MAX)] = Field(
        description="Services and posts needed this week."
    )
    previous: Annotated[list[PreviousPair], Field(max_length=ITEMS_MAX)] = Field(
        default_factory=list, description="Last week's volunteer-beneficiary pairs."
    )
    time_limit_s: TimeLimit = Field(default=10.0, description="Wall-clock limit for the solver, seconds.")

    @property
    def slot_ids(self) -> tuple[str, ...]:
        """The week's slots in order (the default 21 when ``slots`` is absent)."""
        return DEFAULT_SLOTS if self.slots is None else tuple(self.slots)

    @property
    def certification_deadline(self) -> dt.date:
        """Earliest expiry date that still counts for the week (``week_start`` + 6 days)."""
        return self.week_start + dt.timedelta(days=6)

    @property
    def has_posts(self) -> bool:
        """Whether any need is a post (at a site, or for more than one volunteer)."""
        return any(n.is_post for n in self.needs)

    @property
    def is_plain(self) -> bool:
        """Whether every need is plain (:attr:`Need2.is_plain`): the problem is format 1's in format 2."""
        return all(n.is_plain for n in self.needs)

    def priority_of(self, need: Need2) -> int:
        """The need's priority: its own at a site, its beneficiary's otherwise."""
        if need.priority is not None:
            return need.priority
        return next(b.priority for b in self.beneficiaries if b.id == need.beneficiary)

    @model_validator(mode="after")
    def _check_references(self) -> Problem2:
        slots = set(self.slot_ids)
        check_unique((d.id for d in self.districts), "districts")
        check_unique((v.id for v in self.volunteers), "volunteers")
        check_unique((b.id for b in self.beneficiaries), "beneficiaries")
        check_unique((s.id for s in self.sites), "sites")
        check_unique((n.id for n in self.needs), "needs")
        districts = {d.id for d in self.districts}
        for i, d in enumerate(self.districts):
            check_members(d.neighbors, districts, f"districts[{i}].neighbors", "district")
        volunteers = {v.id for v in self.volunteers}
        for i, v in enumerate(self.volunteers):
            check_volunteer_references(v, f"volunteers[{i}]", districts, slots)
        beneficiaries = {b.id for b in self.beneficiaries}
        for i, b in enumerate(self.beneficiaries):
            path = f"beneficiaries[{i}]"
            if b.district not in districts:
                raise reference_error(path + ".district", f"unknown district '{b.district}'")
            check_members(b.excluded_volunteers, volunteers, path + ".excluded_volunteers", "volunteer")
        check_places(self, districts, beneficiaries, slots)
        for i, p in enumerate(self.previous):
            if p.volunteer not in volunteers:
                raise reference_error(f"previous[{i}].volunteer", f"unknown volunteer '{p.volunteer}'")
            if p.beneficiary not in beneficiaries:
                raise reference_error(f"previous[{i}].beneficiary", f"unknown beneficiary '{p.beneficiary}'")
        return self


def check_places(problem: Problem2, districts: set[str], beneficiaries: set[str], slots: set[str]) -> None:
    """Check a format-2 problem's sites, and each need's beneficiary or site and windows."""
    sites = set()
    for i, site in enumerate(problem.sites):
        if site.district not in districts:
            raise reference_error(f"sites[{i}].district", f"unknown district '{site.district}'")
        if site.id in beneficiaries:
            # Rule 6 counts a site as one place beside the beneficiaries: the ids must not meet.
            raise reference_error(f"sites[{i}].id", f"'{site.id}' is also a beneficiary's id")
        sites.add(site.id)
    for i, n in enumerate(problem.needs):
        path = f"needs[{i}]"
        if n.beneficiary is not None and n.beneficiary not in beneficiaries:
            raise reference_error(path + ".beneficiary", f"unknown beneficiary '{n.beneficiary}'")
        if n.site is not None and n.site not in sites:
            raise reference_error(path + ".site", f"unknown site '{n.site}'")
        check_members(n.windows, slots, path + ".windows", "slot")


class MemberStandins(BaseModel):
    """The ranked stand-ins (备选志愿者) of one volunteer's place on a format-2 assignment (optional,
    on request): one session of a one-to-one need, or all the sessions of a group post."""

    model_config = _STRICT

    volunteer: Id = Field(description="The volunteer on the assignment whose place this is.")
    slot: Id | None = Field(
        default=None,
        description="A one-to-one need's session (one of the assignment's slots); absent on a group "
        "post, whose volunteers serve all its sessions together.",
    )
    volunteers: Annotated[IdList, Field(max_length=STANDINS_MAX)] = Field(
        description="Volunteers who could take that place as the plan stands, best first."
    )


class PostAssignment(BaseModel):
    """A format-2 need taken: its volunteers (one or more, serving together) and their common slots."""

    model_config = _STRICT

    need: Id = Field(description="The need taken.")
    volunteers: Annotated[IdList, Field(min_length=1, max_length=POST_VOLUNTEERS_MAX)] = Field(
        description="The volunteers on it, each at every one of its slots."
    )
    slots: Annotated[list[Id], Field(max_length=SLOTS_MAX)] = Field(description="The slots of its sessions.")
    places_open: Annotated[int, Field(strict=True, ge=1, le=POST_VOLUNTEERS_MAX)] | None = Field(
        default=None,
        description="A post staffed below its max: how many more volunteers would each raise its value.",
    )
    standins: (
        Annotated[list[MemberStandins], Field(max_length=max(SLOTS_MAX, POST_VOLUNTEERS_MAX))] | None
    ) = Field(
        default=None,
        description="Optional, only when asked for (linli solve --standins K): each session's ranked "
        "stand-ins (a one-to-one need), or each member's (a group post). Absent from a plan by default.",
    )


class Objective2(BaseModel):
    """The objective values of a format-2 plan (coverage counts each volunteer on a post)."""

    model_config = _STRICT

    coverage: Coverage2 = Field(
        description="Priority-weighted volunteer-hours: sum of priority x hours x sessions x volunteers."
    )
    coverage_bound: Coverage2 = Field(description="Proved upper bound on coverage.")
    continuity: Count = Field(description="Previous pairs that serve at least one need together again.")


class Plan2(BaseModel):
    """A format-2 plan: each need taken by its volunteers at common slots, or unmet with why."""

    model_config = _STRICT

    format: Literal[2] = Field(description="Always 2.")
    status: Literal["optimal", "feasible"] = Field(
        description="'optimal' when coverage is proved optimal, else 'feasible'."
    )
    assignments: Annotated[list[PostAssignment], Field(max_length=ITEMS_MAX)] = Field(
        description="Needs taken."
    )
    unmet: Annotated[list[Unmet], Field(max_length=ITEMS_MAX)] = Field(
        description="Needs left unmet, each with reasons."
    )
    objective: Objective2 = Field(description="Objective values.")
    solve_seconds: Seconds = Field(description="Wall-clock seconds spent.")
    changed: IdList | None = Field(
        default=None, description="Re-solve only: needs whose volunteers or slots changed."
    )

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise as format-2 JSON (``changed`` and ``places_open`` only when set)."""
        return self.model_dump_json(indent=indent, exclude_none=True)


AnyProblem = Problem | Problem2
"""A problem of either format."""
AnyPlan = Plan | Plan2
"""A plan of either format."""
