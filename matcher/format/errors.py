"""Input errors: one clear line naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from matcher.format.bounds import ID_PATTERN, id_problem

# Friendlier wording for pydantic's most common error types.
_MESSAGES: dict[str, str] = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
}


class InputError(ValueError):
    """A document that breaks the exchange format.

    Parameters
    ----------
    message
        One line, starting with the field path: ``needs[3].windows[1]: unknown slot 'mon-noon'``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def format_location(loc: Sequence[str | int]) -> str:
    """Render a pydantic error location as ``needs[3].windows[1]``.

    Parameters
    ----------
    loc
        Location tuple from a pydantic error.

    Returns
    -------
    str
        The dotted path with list indexes in brackets.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_service_code()]",):  # pragma: no cover - pydantic internals
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def format_error(error: ValidationError, document: str | None = None) -> str:
    """Turn the first error of a validation failure into one line.

    Parameters
    ----------
    error
        The pydantic validation error.
    document
        Optional prefix for errors that concern the whole document (e.g. ``problem``).

    Returns
    -------
    str
        ``path: message``, e.g. ``needs[3].hours: Input should be greater than 0``.
    """
    return format_error_details(dict(error.errors(include_url=False)[0]), document)


def format_error_details(first: dict[str, Any], document: str | None = None) -> str:
    """One line for one pydantic error dict (``type``, ``loc``, ``msg``, ``ctx``).

    Also used by the API for request-body errors, after it strips the ``body`` prefix.
    """
    ctx = first.get("ctx") or {}
    if first["type"] == "reference":
        return f"{ctx['path']}: {ctx['detail']}"
    # Tagged unions and Annotated validators add non-field parts to loc; keep fields and indexes.
    loc = [p for p in first["loc"] if isinstance(p, int) or not _is_internal(str(p))]
    path = format_location(loc)
    message = _MESSAGES.get(first["type"], first["msg"])
    if first["type"] == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        message = id_problem(str(first.get("input", "")))
    elif first["type"] in ("too_long", "string_too_long") and "max_length" in ctx:
        unit = "characters" if first["type"] == "string_too_long" else "items"
        message = f"must have at most {ctx['max_length']} {unit}"
    if first["type"] == "json_invalid":
        message = f"invalid JSON ({ctx.get('error', first['msg'])})"
    if not path:
        path = document or "document"
    return f"{path}: {message}"


def _is_internal(part: str) -> bool:
    return "[" in part or "(" in part or part in {"int", "float", "str", "bool"}
