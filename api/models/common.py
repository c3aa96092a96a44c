"""What every model family shares: the clock, JSON list columns, and the request value types.

Bounds live once, in :mod:`matcher.format.bounds`; the types here add the service's own
rules on top (the week's slots, strict flags, a location given whole).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, create_model
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column
from sqlmodel import AutoString
from sqlmodel import Field as TableField
from sqlmodel._compat import SQLModelConfig

from matcher.format.bounds import ID_MAX_LENGTH, Id
from matcher.format.schema import DEFAULT_SLOTS, distinct_ids, reference_error


def utcnow() -> dt.datetime:
    """Timezone-aware now, in UTC."""
    return dt.datetime.now(dt.UTC)


def json_list(**kw: Any) -> Any:
    """A list column, stored as JSON (read and written whole, never queried element by element)."""
    return TableField(default_factory=list, sa_column=Column(JSON, nullable=False), **kw)


PLAIN_TEXT = AutoString()
"""The column type of a text field whose request type is bounded (``Name``, ``Id``) but whose
column has always been unbounded ``VARCHAR``: ``sa_type=PLAIN_TEXT`` keeps the schema as it is."""

KEY_TEXT = AutoString(length=ID_MAX_LENGTH)
"""The column type of a record's own id: ``VARCHAR(64)`` (SQLModel does not read the length out of
the ``Id`` type's constraints, so it is given)."""

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

PHONE_PATTERN = r"^\+?[0-9][0-9 -]{4,22}[0-9]$"
WECHAT_PATTERN = r"^[A-Za-z][-_A-Za-z0-9]{5,19}$"


def _matching(pattern: str, kind: str, message: str) -> AfterValidator:
    """A check that a text matches ``pattern``, whose error names the field but never echoes the
    value (pydantic's own pattern error does not either, but says only the regular expression)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError(kind, message)
        return value

    return AfterValidator(check)


Phone = Annotated[
    str,
    Field(strict=True, min_length=6, max_length=24, json_schema_extra={"pattern": PHONE_PATTERN}),
    _matching(
        PHONE_PATTERN, "phone", "not a phone number: digits, a leading + and spaces or hyphens allowed"
    ),
]
"""A telephone number: digits, an optional leading ``+``, spaces or hyphens between
(``13812341234``, ``+86 138 1234 1234``, ``0571-8888 1234``).  Personal data: never logged,
masked in lists (:func:`api.contacts.mask_phone`); a bad one's error names the field only."""

WeChatId = Annotated[
    str,
    Field(strict=True, max_length=20, json_schema_extra={"pattern": WECHAT_PATTERN}),
    _matching(
        WECHAT_PATTERN, "wechat", "not a WeChat id: 6-20 letters, digits, _ or -, starting with a letter"
    ),
]
"""A WeChat id as WeChat allows it: 6-20 letters, digits, ``_`` or ``-``, starting with a letter."""

ADDRESS_MAX_LENGTH = 200

FORBID = SQLModelConfig(extra="forbid")
"""An unknown field is an error, not ignored (the request models).  A ``SQLModelConfig`` (from
``sqlmodel._compat``: sqlmodel does not re-export it), as the request models extend the tables'
``SQLModel`` bases, whose ``model_config`` has that type."""


def both_or_neither(latitude: float | None, longitude: float | None) -> None:
    """A location is given whole: latitude and longitude together, or neither."""
    if latitude is not None and longitude is None:
        raise reference_error("longitude", "required when latitude is given")
    if longitude is not None and latitude is None:
        raise reference_error("latitude", "required when longitude is given")


def partial(model: type[BaseModel], exclude: Collection[str] = ("id",)) -> type[BaseModel]:
    """The fields of ``model`` (but ``exclude``), each optional: the body of a PATCH.

    Each field keeps its type with every bound and validator (strict flags, ids, slots …) and
    its description, and may be left out (the default None is never validated); ``null`` is
    only taken where the field itself takes it (``team_id``, ``latitude`` …), so a required
    field cannot be cleared.  An unknown field is refused (``extra="forbid"``).
    Model validators (a location given whole) are not copied: they hold for the record the
    patch makes, which the caller validates whole with ``model`` after merging.

    Parameters
    ----------
    model
        The create model whose fields are patched.
    exclude
        Fields that cannot be changed (the id).

    Returns
    -------
    type[BaseModel]
        A model named ``{model}Patch``, to subclass (``class XUpdate(partial(XCreate))``).
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in exclude:
            continue
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = (
            annotation,
            Field(default=None, description=info.description, json_schema_extra=info.json_schema_extra),
        )
    created: type[BaseModel] = create_model(f"{model.__name__}Patch", __config__=FORBID, **fields)
    return created
