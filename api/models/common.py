"""What every model family shares: the clock, JSON list columns, and the request value types.

Bounds live once, in :mod:`matcher.format.bounds`; the types here add the service's own
rules on top (the week's slots, strict flags, a location given whole).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column
from sqlmodel import Field as TableField

from matcher.format.bounds import Id
from matcher.format.schema import DEFAULT_SLOTS, distinct_ids, reference_error


def utcnow() -> dt.datetime:
    """Timezone-aware now, in UTC."""
    return dt.datetime.now(dt.UTC)


def json_list(**kw: Any) -> Any:
    """A list column, stored as JSON (read and written whole, never queried element by element)."""
    return TableField(default_factory=list, sa_column=Column(JSON, nullable=False), **kw)


_SLOTS = frozenset(DEFAULT_SLOTS)


def _slot(value: str) -> str:
    if value not in _SLOTS:
        raise PydanticCustomError("unknown_slot", "unknown slot '{slot}'", {"slot": value})
    return value


Slot = Annotated[str, Field(strict=True), AfterValidator(_slot)]
"""One of the week's 21 slots, ``mon-am`` … ``sun-eve``."""

Slots = Annotated[list[Slot], Field(max_length=len(DEFAULT_SLOTS)), AfterValidator(distinct_ids)]

Key = Id
"""A new record's id: the exchange format's id alphabet, 1-64 characters (the tables' keys
hold 64)."""

Flag = Annotated[bool, Field(strict=True)]

FORBID = ConfigDict(extra="forbid")


def both_or_neither(latitude: float | None, longitude: float | None) -> None:
    """A location is given whole: latitude and longitude together, or neither."""
    if latitude is not None and longitude is None:
        raise reference_error("longitude", "required when latitude is given")
    if longitude is not None and latitude is None:
        raise reference_error("latitude", "required when longitude is given")
