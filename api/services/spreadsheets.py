"""CSV and XLSX for the people routes: request bodies, row validation and export responses.

CSV import is an upsert by id, all or nothing: every row is checked first, and one bad row
means 422 listing every bad row, with nothing written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response
from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError

from api import csvio, tables
from api.crud.common import taken_message
from api.models import (
    ImportErrors,
)
from matcher.format.errors import format_error_details

M = TypeVar("M", bound=BaseModel)

CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The CSV text itself, not a form upload: UTF-8 (a byte-order mark is fine) or"
        " GBK/GB18030 as Excel for Chinese saves it; declare the charset (`text/csv; charset=gbk`)"
        " or leave it to be recognised.",
    }
}

CSV_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}},
        "description": "The CSV file (UTF-8 with a byte-order mark), one row per record.",
    }
}

XLSX_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {tables.XLSX_MEDIA_TYPE: {}},
        "description": "The same rows as the CSV export, as an Excel workbook.",
    }
}

IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The station's data changed during the import; nothing was written."},
    415: {"description": "The body is not CSV text."},
    422: {"model": ImportErrors, "description": "Some rows are bad; nothing was written."},
}

NOT_CSV = ("application/json", "multipart/", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class CsvUpload:
    """A CSV request body as sent: its bytes and the charset its ``Content-Type`` declares (or None)."""

    data: bytes
    charset: str | None


async def csv_body(request: Request) -> CsvUpload:
    """The request body, which must be the CSV text itself (415 for JSON or a form upload)."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(NOT_CSV):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="content-type: send the CSV text itself as the body, with content type text/csv",
        )
    return CsvUpload(await request.body(), csvio.charset_of(content_type))


CsvBody = Annotated[CsvUpload, Depends(csv_body)]

IncludeInactive = Annotated[
    bool, Query(description="Also list deactivated records (soft-deleted with DELETE; `active` false).")
]
"""The ``?include_inactive=true`` of the people lists and exports (without it, active records only)."""


def export(
    fmt: tables.Format,
    columns: Sequence[csvio.Column],
    records: Sequence[Mapping[str, Any]],
    name: str,
    station_id: str,
) -> Response:
    """``records`` as the file ``{name}-{station_id}.csv`` or ``.xlsx`` (the columns the import reads)."""
    header = [c.name for c in columns]
    return tables.export(fmt, header, csvio.cells(columns, records), f"{name}-{station_id}", name)


def rejected(errors: list[str]) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content=ImportErrors(detail=errors[0], errors=errors).model_dump(),
    )


def read_rows(
    body: CsvUpload,
    columns: Sequence[csvio.Column],
    model: type[M],
    current: Mapping[str, Mapping[str, Any]],
    taken: Callable[[list[str]], set[str]],
    check: Callable[[M, Mapping[str, Any] | None], list[str]],
) -> tuple[list[M], list[str]]:
    """Validate every row of an import.

    Parameters
    ----------
    body
        The request body (decoded as :func:`api.csvio.decode` says).
    columns
        The file's columns.
    model
        The shape of one row; it must have a string ``id``.
    current
        The station's records by id, as ``model`` fields: a row with such an id updates
        it, and a column the header leaves out keeps the stored value.
    taken
        Which of some ids (not the station's) exist elsewhere: such a row is an error.
    check
        ``field: message`` for each reference of a valid row (and its stored version) that
        does not resolve.

    Returns
    -------
    tuple[list[M], list[str]]
        The rows as ``model``, and the errors, ``row N: field: message`` in row order
        (the header is row 1).  Only when there are no errors are the rows complete.
    """
    try:
        table = csvio.read_csv(csvio.decode(body.data, body.charset), columns)
    except csvio.CsvError as exc:
        return [], [exc.message]
    if table.errors:
        return [], table.errors
    new = sorted({r.values["id"] for r in table.rows if isinstance(r.values.get("id"), str)} - set(current))
    elsewhere = taken(new) if new else set()
    header = set(table.header)
    records: list[M] = []
    errors: list[str] = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        problems = list(row.errors)
        ident = row.values.get("id")
        before = current.get(ident) if isinstance(ident, str) else None
        if isinstance(ident, str):
            if ident in first_row:
                problems.append(f"id: '{ident}' is already on row {first_row[ident]}")
            first_row.setdefault(ident, row.number)
            if ident in elsewhere:
                problems.append(f"id: {taken_message('', ident)}")
        kept = {k: v for k, v in (before or {}).items() if k not in header}
        try:
            record = model.model_validate({**kept, **row.values})
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if not (error["loc"] and error["loc"][0] in row.failed):
                    problems.append(format_error_details(dict(error)))
        else:
            problems += check(record, before)
            records.append(record)
        errors += [f"row {row.number}: {p}" for p in problems]
    return records, errors


XLSX_MAGIC = b"PK\x03\x04"
"""The first bytes of an ``.xlsx`` file (a ZIP archive)."""


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def xlsx_upload(data: bytes) -> CsvUpload:
    """An ``.xlsx`` workbook's first sheet as the CSV upload the import services read.

    The header row holds the CSV column names; each cell becomes its text (a whole number
    without ``.0``, a date as ``YYYY-MM-DD``), so a sheet exported by :func:`export` imports
    back unchanged.  Raises :class:`api.csvio.CsvError` if ``data`` is not a readable workbook.
    """
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise csvio.CsvError("file: not a readable .xlsx workbook") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise csvio.CsvError("row 1: the file is empty (a header row is required)")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_xlsx_cell(v) for v in row])
    finally:
        book.close()
    return CsvUpload(out.getvalue().encode("utf-8"), "utf-8")
