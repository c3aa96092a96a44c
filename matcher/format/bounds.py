"""The bounds of every value Linli accepts, declared once.

The exchange-format models (:mod:`matcher.format.schema`), the service's request models
(:mod:`api.models`), the CSV
imports (they validate rows through those request models) and the CLI (it parses through
:func:`matcher.format.io.parse`) all take their limits from here, so an absurd value is refused
where it enters, with a message naming the field and the limit, and never reaches the
engine's arithmetic (``max_hours`` 1e308 once made every plan of its station fail with an
``OverflowError``) or the database (an integer of 10**20 does not fit a column).

``docs/format.md`` ("Bounds and ids") lists every bound with its reason; keep the two in step.

Ids
    1-64 characters: a Unicode letter or digit (``str.isalnum``), then letters, digits,
    ``_``, ``-``, ``.`` or ``+``.  So no blank, no control character, no quote, and no
    ``=``, ``+``, ``-`` or ``@`` first (a spreadsheet would run the id as a formula).
    Chinese ids (``熊关``) are ids; ``+`` is allowed after the first character because the
    scenario tool names copies of a beneficiary ``b0001+g0.1``.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# ------------------------------------------------------------------------ limits

ID_MAX_LENGTH = 64
"""Longest id: the service's key columns hold 64 characters."""
NAME_MAX_LENGTH = 100
"""Longest name of a volunteer or beneficiary (a Chinese name is 2-4 characters; a
transliterated foreign name rarely passes 50)."""

HOURS_IN_A_WEEK = 168
"""Most ``max_hours`` of a volunteer: 7 x 24, the hours in a week."""
SESSION_HOURS_MAX = 12
"""Most hours of one session of a need.  A session takes one slot (a morning, an
afternoon or an evening); twelve hours is half a day, more than any one slot, and a
mistyped ``20`` for ``2.0`` is caught rather than planned."""
SESSIONS_MAX = 7
"""Most sessions of a need in a week: one a day."""
MAX_BENEFICIARIES_MAX = 50
"""Most ``max_beneficiaries`` of a volunteer: fifty distinct people in a week is already a
full-time social worker's case load; more is a typo."""
PRIORITY_MIN = 1
PRIORITY_MAX = 5
"""A beneficiary's priority, 1-5 (5 the most vulnerable)."""
RATING_MIN = 1
RATING_MAX = 5
"""A beneficiary's rating of a service record: 1-5 stars."""
RECORD_HOURS_MAX = 24
"""Most hours of one service record: one day's."""
HOURS_BEFORE_MAX = 100_000
"""Most hours served before Linli kept records: 40 hours a week for 48 years."""
TIME_LIMIT_MAX_S = 86_400
"""Longest ``time_limit_s`` of a problem: a day (the service caps its own solves lower)."""

LATITUDE_MAX = 90
LONGITUDE_MAX = 180
"""Coordinates: latitude -90..90, longitude -180..180, finite."""

WEEK_START_MIN = dt.date(2000, 1, 3)
"""The first Monday of 2000: Linli plans no week before it."""
WEEK_START_MAX = dt.date(2099, 12, 28)
"""The last Monday of 2099: a later week is a typo, and its dates would soon run off the
calendar (``date.max`` is 9999-12-31)."""
SERVICE_DAY_MIN = WEEK_START_MIN
SERVICE_DAY_MAX = WEEK_START_MAX + dt.timedelta(days=6)
"""A service record's day lies within some plannable week."""
EXPIRES_MIN = dt.date(1900, 1, 1)
EXPIRES_MAX = dt.date(2200, 12, 31)
"""A certificate's expiry date: 1900-2200 (certificates "valid for life" are written with
a far date such as 2199-12-31)."""

SLOTS_MAX = 168
"""Most slots in a week: one an hour (the default is 21); bounds availability and windows."""
DISTRICTS_MAX = 1_000
"""Most districts of a problem (a prefecture-level city has a few dozen sub-districts and towns)."""
CERTIFICATIONS_MAX = 30
"""Most certificates a volunteer holds (renewals of the six kinds included)."""
EXCLUDED_MAX = 1_000
"""Most volunteers excluded for one beneficiary."""
ITEMS_MAX = 100_000
"""Most volunteers, beneficiaries, needs, previous pairs (and a plan's or change set's
entries) in one document: 25 times the largest city benchmarked (4,000 volunteers)."""
COVERAGE_MAX = ITEMS_MAX * PRIORITY_MAX * SESSION_HOURS_MAX * SESSIONS_MAX
"""Most coverage a plan can claim: every need at the top priority, hours and sessions."""
SOLVE_SECONDS_MAX = 7 * 86_400
"""Most ``solve_seconds`` a plan reports: a week (a solve is limited to a day)."""
POST_VOLUNTEERS_MAX = 50
"""Most volunteers a format-2 need may ask for (``volunteers.max``): a tree-planting day of a
whole sub-district's volunteer team; more is a typo."""
SITES_MAX = ITEMS_MAX
"""Most sites of a format-2 problem."""
COVERAGE2_MAX = COVERAGE_MAX * POST_VOLUNTEERS_MAX
"""Most coverage a format-2 plan can claim: every need at the top priority, hours, sessions
and volunteers."""
REASONS_MAX = 20
"""Most reason codes of one unmet need."""
STANDINS_MAX = 20
"""Most stand-ins listed for one session of a plan (``linli solve --standins K``; default 3)."""
REASON_MAX_LENGTH = 64
"""Longest reason code."""

# ------------------------------------------------------------------------ numbers and dates

Limit = int | float | dt.date


def _show(value: object) -> str:
    """A limit or value as the messages print it: ``168``, ``0.5``, ``2000-01-03``."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Within:
    """``Annotated`` metadata: the value lies in ``low`` .. ``high``, inclusive.

    Used on ``int``, ``float`` and ``date`` fields.  Out of bounds (NaN and infinities
    included, for floats) raises an error whose message gives the limit and its reason,
    e.g. ``must be at most 168 (the hours in a week)``; the JSON schema gets ``minimum``
    and ``maximum`` (for numbers) so that clients see the bounds too.

    Parameters
    ----------
    low
        Least value allowed.
    high
        Greatest value allowed.
    why
        The reason for ``high`` (printed with it), e.g. ``the hours in a week``.
    low_open
        ``low`` itself is refused (``hours`` must be greater than 0).
    """

    low: Limit
    high: Limit
    why: str = ""
    low_open: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        if isinstance(self.low, dt.date):
            out["description"] = (
                out.get("description", "") + f" From {_show(self.low)} to {_show(self.high)}."
            ).strip()
        else:
            out["exclusiveMinimum" if self.low_open else "minimum"] = self.low
            out["maximum"] = self.high
        return out

    def check(self, value: Any) -> Any:
        """Validator: ``value`` if within the bounds, else a ``bounds`` error."""
        if isinstance(value, float) and math.isnan(value):
            raise PydanticCustomError(
                "bounds", "must be a number from {low} to {high}, not NaN", self._context()
            )
        if value > self.high:  # +inf too
            why = f" ({self.why})" if self.why else ""
            raise PydanticCustomError("bounds", "must be at most {high}" + why, self._context())
        if value < self.low or (self.low_open and value == self.low):
            if isinstance(self.low, dt.date):
                raise PydanticCustomError("bounds", "must be on or after {low}", self._context())
            word = "greater than" if self.low_open else "at least"
            raise PydanticCustomError("bounds", "must be " + word + " {low}", self._context())
        return value

    def _context(self) -> dict[str, str]:
        return {"low": _show(self.low), "high": _show(self.high)}


def _monday(value: dt.date) -> dt.date:
    if value.weekday() != 0:
        raise PydanticCustomError("monday", "must be a Monday")
    return value


Hours = Annotated[float, Field(strict=True), Within(0, HOURS_IN_A_WEEK, "the hours in a week")]
"""A volunteer's ``max_hours``: 0-168."""
SessionHours = Annotated[
    float, Field(strict=True), Within(0, SESSION_HOURS_MAX, "half a day: a session takes one slot", True)
]
"""Hours of one session of a need: more than 0, at most 12."""
Sessions = Annotated[int, Field(strict=True), Within(1, SESSIONS_MAX, "one a day")]
"""Sessions of a need in a week: 1-7."""
MaxBeneficiaries = Annotated[
    int, Field(strict=True), Within(0, MAX_BENEFICIARIES_MAX, "distinct people a volunteer serves in a week")
]
"""A volunteer's ``max_beneficiaries``: 0-50."""
Priority = Annotated[int, Field(strict=True), Within(PRIORITY_MIN, PRIORITY_MAX, "5 is the most vulnerable")]
"""A beneficiary's priority: 1-5."""
Rating = Annotated[int, Field(strict=True), Within(RATING_MIN, RATING_MAX, "five stars")]
"""A service record's rating: 1-5."""
RecordHours = Annotated[
    float, Field(strict=True), Within(0, RECORD_HOURS_MAX, "the hours in a day", low_open=True)
]
"""Hours of one service record: more than 0, at most 24."""
HoursBefore = Annotated[
    float, Field(strict=True), Within(0, HOURS_BEFORE_MAX, "40 hours a week for 48 years")
]
"""Hours a volunteer served before Linli kept records: 0-100,000."""
TimeLimit = Annotated[
    float, Field(strict=True), Within(0, TIME_LIMIT_MAX_S, "a day, in seconds", low_open=True)
]
"""A problem's ``time_limit_s``: more than 0, at most 86,400."""
Latitude = Annotated[float, Field(strict=True), Within(-LATITUDE_MAX, LATITUDE_MAX, "the North Pole")]
"""Latitude in degrees: -90..90."""
Longitude = Annotated[float, Field(strict=True), Within(-LONGITUDE_MAX, LONGITUDE_MAX, "the antimeridian")]
"""Longitude in degrees: -180..180."""

Coverage = (
    Annotated[int, Field(strict=True), Within(0, COVERAGE_MAX, "every need at priority 5, 12 h x 7")]
    | Annotated[float, Field(strict=True), Within(0, COVERAGE_MAX, "every need at priority 5, 12 h x 7")]
)
"""A plan's coverage (or its bound), kept an integer when written as one: 0-42,000,000."""
Coverage2 = (
    Annotated[int, Field(strict=True), Within(0, COVERAGE2_MAX, "every need at priority 5, 12 h x 7 x 50")]
    | Annotated[
        float, Field(strict=True), Within(0, COVERAGE2_MAX, "every need at priority 5, 12 h x 7 x 50")
    ]
)
"""A format-2 plan's coverage (or its bound): 0-2,100,000,000."""
PostVolunteers = Annotated[int, Field(strict=True), Within(1, POST_VOLUNTEERS_MAX, "a whole volunteer team")]
"""``volunteers.min`` / ``volunteers.max`` of a format-2 need: 1-50."""
Count = Annotated[int, Field(strict=True), Within(0, ITEMS_MAX, "the most items of a document")]
"""A count of items, such as a plan's continuity: 0-100,000."""
Seconds = Annotated[float, Field(strict=True), Within(0, SOLVE_SECONDS_MAX, "a week")]
"""Seconds a solve took: 0-604,800."""

WeekStart = Annotated[
    dt.date,
    Within(WEEK_START_MIN, WEEK_START_MAX, "the last Monday of 2099"),
    AfterValidator(_monday),
]
"""The Monday a plan is for: 2000-01-03 .. 2099-12-28."""
ServiceDay = Annotated[dt.date, Within(SERVICE_DAY_MIN, SERVICE_DAY_MAX, "the last plannable week's Sunday")]
"""The day of a service record: within some plannable week."""
Expiry = Annotated[dt.date, Within(EXPIRES_MIN, EXPIRES_MAX, "the latest expiry date")]
"""A certificate's expiry date: 1900-01-01 .. 2200-12-31."""

# ------------------------------------------------------------------------ ids and names

ID_PATTERN = r"^[\p{L}\p{N}][\p{L}\p{N}_.+\-]*$"
"""The id alphabet as pydantic checks it (Rust regex: ``\\p{L}`` letters, ``\\p{N}`` digits)."""
ID_SCHEMA_PATTERN = r"^[^\W_][\w.+-]*$"
"""The same alphabet in the Python ``re`` dialect, for the JSON schema (``\\w`` is Unicode there)."""
ID_RULE = "an id is 1-64 letters, digits, '_', '-', '.' or '+', starting with a letter or digit"
"""The alphabet in words, for error messages."""

_ID_REST = frozenset("_.+-")

Id = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=ID_PATTERN,
        json_schema_extra={"pattern": ID_SCHEMA_PATTERN},
    ),
]
"""An id, or a reference to one (see the module docstring for the alphabet)."""


def is_id(value: str) -> bool:
    """Whether ``value`` is a well-formed id (anything else names nothing: a lookup is a 404).

    Parameters
    ----------
    value
        A candidate id, e.g. a path parameter.

    Returns
    -------
    bool
        True for 1-64 characters of the id alphabet.
    """
    return (
        0 < len(value) <= ID_MAX_LENGTH
        and value[0].isalnum()
        and all(c.isalnum() or c in _ID_REST for c in value[1:])
    )


def show_char(char: str) -> str:
    """A character for a message: ``'='`` if printable, else its code point (``U+0000``)."""
    printable = char.isprintable() and not char.isspace() and char not in "'\"\\"
    return f"'{char}'" if printable else f"U+{ord(char):04X}"


def id_problem(value: str) -> str:
    """Why ``value`` is not an id, in words (for a value that breaks :data:`ID_PATTERN`).

    Parameters
    ----------
    value
        The refused value.

    Returns
    -------
    str
        E.g. ``character 1 '=' is not allowed (an id is 1-64 letters, …)``.
    """
    for i, char in enumerate(value):
        if not (char.isalnum() or (i > 0 and char in _ID_REST)):
            return f"character {i + 1} {show_char(char)} is not allowed ({ID_RULE})"
    return f"not an id ({ID_RULE})"  # pragma: no cover - a Unicode-version difference


def _name(value: str) -> str:
    # PostgreSQL text cannot hold NUL; control characters (line breaks, escapes) in a name
    # would break the one-line logs and CSV cells that show it.
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters ({char})",
                {"char": show_char(char)},
            )
    return value


Name = Annotated[str, Field(strict=True, max_length=NAME_MAX_LENGTH), AfterValidator(_name)]
"""A person's name: at most 100 characters, no control characters (may be empty)."""
