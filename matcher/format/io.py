"""Reading and writing exchange-format documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from matcher.format.errors import InputError, format_error
from matcher.format.schema import AnyPlan, AnyProblem, ChangeSet, Plan, Plan2, Problem, Problem2

M = TypeVar("M", bound=BaseModel)

_UTF8_BOM = b"\xef\xbb\xbf"


def parse(model: type[M], data: str | bytes | dict[str, Any], document: str) -> M:
    """Validate ``data`` as ``model`` or raise :class:`InputError` with one line.

    Parameters
    ----------
    model
        :class:`Problem`, :class:`Plan` or :class:`ChangeSet`.
    data
        JSON text or an already decoded object; text may start with a UTF-8 byte-order
        mark (Windows editors such as Notepad write one), which is dropped.
    document
        Name of the document for whole-document errors (``problem``, a file name …).

    Returns
    -------
    M
        The validated document.
    """
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data.removeprefix(_UTF8_BOM))
        if isinstance(data, str):
            return model.model_validate_json(data.removeprefix("\ufeff"))
        if not isinstance(data, dict):
            raise InputError(f"{document}: expected a JSON object")
        # Round-trip through JSON so dates and numbers follow the JSON rules exactly.
        return model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise InputError(format_error(exc, document)) from None


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror})") from None


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file."""
    return parse(Problem, _read(path), str(path))


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file (schema only; see :func:`matcher.format.validate.validate_plan`)."""
    return parse(Plan, _read(path), str(path))


def load_changes(path: str | Path) -> ChangeSet:
    """Read and validate a change-set file (schema only)."""
    return parse(ChangeSet, _read(path), str(path))


def _format_of(data: str | bytes | dict[str, Any]) -> object:
    """The document's ``format`` value, or None when it cannot be read (the parse reports why)."""
    if isinstance(data, dict):
        return data.get("format")
    try:
        decoded = json.loads(
            data.removeprefix(_UTF8_BOM) if isinstance(data, bytes) else data.removeprefix("\ufeff")
        )
    except ValueError:
        return None
    return decoded.get("format") if isinstance(decoded, dict) else None


def parse_problem(data: str | bytes | dict[str, Any], document: str) -> AnyProblem:
    """Validate a problem of either format: ``"format": 2`` as :class:`Problem2`, else as format 1.

    Anything but a 2 is read as format 1, so a format-1 document (or a broken one) gets
    exactly the errors it always got.
    """
    if _format_of(data) == 2:
        return parse(Problem2, data, document)
    return parse(Problem, data, document)


def parse_plan(data: str | bytes | dict[str, Any], document: str) -> AnyPlan:
    """Validate a plan of either format (see :func:`parse_problem`)."""
    if _format_of(data) == 2:
        return parse(Plan2, data, document)
    return parse(Plan, data, document)


def load_any_problem(path: str | Path) -> AnyProblem:
    """Read and validate a problem file of either format."""
    return parse_problem(_read(path), str(path))


def load_any_plan(path: str | Path) -> AnyPlan:
    """Read and validate a plan file of either format (schema only)."""
    return parse_plan(_read(path), str(path))
