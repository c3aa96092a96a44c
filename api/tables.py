"""The one writer of every export: a header and rows of cells, as CSV or as an Excel workbook.

Coordinators open exports in Excel, which runs a cell whose text starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return, which it drops first) as a formula: a name or
id such as ``=HYPERLINK("http://x","y")`` would become a live link, or worse.  So every text
cell of every export is *neutralised* here, in one place: such text is written with a
leading ``'``, which Excel shows as text.  Text already starting with ``'`` gets one more,
so that dropping one leading ``'`` on import (:func:`restore`, used by :mod:`api.csvio`)
gives back exactly what was stored: import(export(x)) == x.

Numbers stay numbers (``-73.25`` in a number column is a number, not a formula), and
``True``/``False`` are written ``true``/``false``, as imports read them.

CSV is UTF-8 with a byte-order mark, which is what makes Excel for Chinese read it as UTF-8
(without one it assumes GBK and shows Chinese names garbled), with ``\\r\\n`` line ends.  XLSX
cells hold the same neutralised text as the CSV (explicit string cells, never formulas), so a
workbook saved again as CSV from Excel still imports to the same data (but for control
characters, which XML cannot hold, and carriage returns, which it reads back as line feeds).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | bool | None
"""One cell's value: text, a number, a flag, or None for an empty cell."""

Format = Literal["csv", "xlsx"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: dict[Format, str] = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
"""Starts of text written with a leading ``'``: what a spreadsheet would evaluate, and the quote."""

BOM = "\ufeff"

_MIN_WIDTH = 6
_MAX_WIDTH = 60
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet will show it and never run it (a leading ``'`` if needed).

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        ``text``, with ``'`` before it if it starts with one of :data:`FORMULA_START`.
    """
    return "'" + text if text.startswith(FORMULA_START) else text


def restore(text: str) -> str:
    """The text :func:`neutralise` was given: one leading ``'`` dropped, if there is one.

    Parameters
    ----------
    text
        A cell's text as read back from an export (or typed by a coordinator: a leading
        ``'`` is also how one types ``-3`` as text in Excel).

    Returns
    -------
    str
        ``text`` without its first ``'``.
    """
    return text[1:] if text.startswith("'") else text


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot export the number {value!r}")
    # 2.0 as "2" (as a coordinator types it), but never 1e15 as sixteen digits.
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def csv_cell(value: Cell) -> str:
    """One cell's CSV text.

    Parameters
    ----------
    value
        The cell's value.

    Returns
    -------
    str
        Empty for None, ``true``/``false`` for a flag, a number's shortest exact text, and
        text neutralised (see the module docstring).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    return neutralise(value)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """CSV text (without the byte-order mark): the header row, then one line per row.

    Parameters
    ----------
    header
        Column names.
    rows
        Cells in the header's order.

    Returns
    -------
    str
        The file, with ``\\r\\n`` line ends.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The CSV file as UTF-8 with a byte-order mark (see the module docstring)."""
    return (BOM + to_csv(header, rows)).encode("utf-8")


def xlsx_text(value: str) -> str:
    """``value`` as an XLSX string cell holds it: neutralised, XML-illegal characters replaced."""
    # XML cannot hold most control characters (openpyxl refuses them): a visible stand-in.
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(value))


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: Chinese characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str = "Sheet1") -> bytes:
    """An Excel workbook of one sheet: a bold, frozen header row, then the rows.

    Parameters
    ----------
    header
        Column names.
    rows
        Cells in the header's order.
    title
        The sheet's name (at most 31 characters, none of ``[]:*?/\\``).

    Returns
    -------
    bytes
        The ``.xlsx`` file.  Text is neutralised as in CSV and stored as string cells,
        numbers as numbers, flags as ``true``/``false`` text; no cell is a formula.
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    widths = [display_width(name) for name in header]
    bold = Font(bold=True)
    for column, name in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=column, value=xlsx_text(name))
        cell.data_type = "s"
        cell.font = bold
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            if value is None:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                text = _number(value)  # also refuses NaN and infinities, as CSV does
                sheet.cell(row=row_number, column=column, value=value)
            else:
                text = ("true" if value else "false") if isinstance(value, bool) else xlsx_text(value)
                cell = sheet.cell(row=row_number, column=column, value=text)
                # Never a formula, whatever openpyxl would guess from the text.
                cell.data_type = "s"
            widths[column - 1] = max(widths[column - 1], display_width(text))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width, _MIN_WIDTH), _MAX_WIDTH) + 2
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(filename: str) -> str:
    """An ``attachment`` header naming the file, ASCII-safe.

    Parameters
    ----------
    filename
        The file's name; it may hold any characters (a station id is the user's).

    Returns
    -------
    str
        ``attachment; filename="…"`` with every character but ``A-Za-z0-9._-`` replaced
        by ``_``; if that changed the name, also ``filename*=UTF-8''…`` (RFC 5987/6266)
        with the real name, which browsers prefer.
    """
    safe = _UNSAFE_FILENAME.sub("_", filename)
    header = f'attachment; filename="{safe}"'
    if safe != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def export(
    fmt: Format, header: Sequence[str], rows: Iterable[Sequence[Cell]], name: str, title: str = "Sheet1"
) -> Response:
    """The response of an export route: the file in ``fmt`` as an attachment.

    Parameters
    ----------
    fmt
        ``csv`` or ``xlsx``.
    header
        Column names.
    rows
        Cells in the header's order.
    name
        The file's name without its extension.
    title
        The XLSX sheet's name.

    Returns
    -------
    Response
        ``text/csv; charset=utf-8`` (with a byte-order mark) or the XLSX media type, with
        a ``Content-Disposition`` naming ``name.csv`` or ``name.xlsx``.
    """
    body = csv_bytes(header, rows) if fmt == "csv" else to_xlsx(header, rows, title)
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": content_disposition(f"{name}.{fmt}")},
    )
