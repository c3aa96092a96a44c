"""CSV import and export of a station's volunteers, beneficiaries and needs.

Coordinators keep these lists in spreadsheets.  This module only turns CSV text into
typed cell values and typed values back into cells for the export writer
(:mod:`api.tables`, which writes CSV and XLSX); validation (the exchange format's
rules, references to districts, teams …) is the router's, on the values read here.

A file's columns are its model's fields (:func:`columns_of`): names, which are required and
each cell's kind come from the model; only help lines and the header's order are the CSV's.

Cells by column kind:

``text``
    As written (surrounding blanks dropped); an empty cell is an absent value.
``number``
    A decimal number such as ``3``, ``2.5`` or ``-73.25``; empty: absent.
``integer``
    A whole number such as ``3``; empty: absent.
``flag``
    ``true`` or ``false`` (also ``yes``/``no`` and ``1``/``0``, any case); empty: absent.
``list``
    Items separated by ``;`` (``mon-am;tue-pm``); empty: no items.
``certificates``
    ``kind:YYYY-MM-DD`` items separated by ``;`` (``first_aid:2027-05-01;legal:2026-12-31``);
    empty: no certificates.

An absent value takes the field's default (or is an error if the field is required).
Rows are numbered as a spreadsheet shows them: the header is row 1.  Blank rows are
skipped.  The header must name every required column; other columns may be left out (on
update, a left-out column keeps its stored value).

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are written with a leading ``'`` by the one export
writer, :mod:`api.tables` (which also writes the XLSX files), and a leading ``'`` is dropped
again on import, so export followed by import gives the same data.

Encodings: a body is read as the ``charset`` its ``Content-Type`` declares (UTF-8, or GBK,
GB2312 and GB18030, all read as GB18030, their superset); undeclared, as UTF-8 (with or
without a byte-order mark) if it is valid UTF-8, else as GB18030, which is what Excel for
Chinese saves ("CSV (逗号分隔)"), if that gives text.  A UTF-8 byte-order mark wins over a
declared charset, as in browsers (WHATWG Encoding): it cannot start a GBK file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from api import tables
from api.models import BeneficiaryCreate, NeedPublic, SiteCreate, VolunteerCreate
from matcher.format.schema import Certification

Kind = Literal["text", "number", "integer", "flag", "list", "certificates"]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_ESCAPED_KINDS = frozenset({"text", "list", "certificates"})


@dataclass(frozen=True)
class Column:
    """One column of a CSV file.

    Parameters
    ----------
    name
        Header name, the same as the field's name in the JSON API.
    kind
        How a cell is read and written (see the module docstring).
    required
        Whether the header must name this column.
    help
        One line for the documentation.
    """

    name: str
    kind: Kind
    required: bool = False
    help: str = ""


_SCALAR_KINDS: tuple[tuple[type, Kind], ...] = ((bool, "flag"), (int, "integer"), (float, "number"))


def kind_of(annotation: Any) -> Kind:
    """The column kind of a field's type: ``flag`` (bool), ``integer``, ``number`` (float), ``list``,
    ``certificates`` (a list of :class:`~matcher.format.schema.Certification`) or ``text``.

    ``Annotated`` metadata and ``| None`` are looked through (``Latitude | None`` is a number).
    """
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            break
    if get_origin(annotation) is list:
        item = kind_of(get_args(annotation)[0]) if get_args(annotation) else "text"
        return "certificates" if item == "certificates" else "list"
    if annotation is Certification:
        return "certificates"  # an item; its list is the column
    for python, kind in _SCALAR_KINDS:
        if annotation is python:
            return kind
    return "text"


def columns_of(
    model: type[BaseModel], help: Mapping[str, str], after: Mapping[str, str] | None = None
) -> tuple[Column, ...]:
    """A CSV file's columns: one per field of ``model``, in the model's order.

    The name, whether the header must name it (a required field) and the kind (from the field's
    type, :func:`kind_of`) come from the model; only the CSV's own facts are given here.

    Parameters
    ----------
    model
        The model one row is validated as.
    help
        A help line for the documentation, where the field's description does not say what a
        spreadsheet user needs (the cell's syntax with an example, what an empty cell means).
    after
        Columns placed right after another one (``{"certificates": "availability"}``), where the
        header coordinators know differs from the model's order.

    Returns
    -------
    tuple[Column, ...]
        The columns.
    """
    after = after or {}
    unknown = (set(help) | set(after) | set(after.values())) - set(model.model_fields)
    if unknown:
        raise ValueError(f"{model.__name__}: no field {sorted(unknown)} (CSV overrides of a removed field?)")
    columns = [
        Column(
            name,
            kind_of(info.rebuild_annotation()),
            info.is_required(),
            help.get(name, info.description or ""),
        )
        for name, info in model.model_fields.items()
    ]
    for name, anchor in after.items():
        moved = next(c for c in columns if c.name == name)
        columns.remove(moved)
        columns.insert(next(i for i, c in enumerate(columns) if c.name == anchor) + 1, moved)
    return tuple(columns)


_LOCATION = {
    "latitude": "Latitude, or empty (with longitude).",
    "longitude": "Longitude, or empty (with latitude).",
}

_PHONE = (
    "e.g. `13812341234` (also `+86 138 1234 1234`, `0937-6281234`); empty: none. A masked number"
    " copied from a list (`138****1234`) is refused, not stored."
)

VOLUNTEER_COLUMNS = columns_of(
    VolunteerCreate,
    {
        "id": "Volunteer id (upsert key).",
        "district": "District id.",
        "team_id": "Team of the station, or empty.",
        "group_id": "Group of that team, or empty.",
        "skills": "Service codes, e.g. `life_care;companionship`.",
        "availability": "Slots of a usual week, e.g. `mon-am;sat-pm`.",
        "certificates": "e.g. `first_aid:2027-05-01;legal:2026-12-31`.",
        "max_beneficiaries": "Most distinct beneficiaries a week (default 3).",
        "minor": "An under-18 volunteer (true/false, default false).",
        "guardian_consent": "A minor's guardian consented (default false).",
        "gender": "`f`, `m` or empty.",
        **_LOCATION,
        "hours_before": "Hours served before Linli kept records (default 0).",
        "phone": "手机号 (mobile phone), " + _PHONE,
        "wechat": "微信号 (WeChat id): 6-20 letters, digits, `_` or `-`, starting with a letter; empty: none",
        "active": "false once deactivated (default true; left out on update: unchanged).",
    },
    after={"certificates": "availability"},
)
"""Columns of ``volunteers.csv``."""

BENEFICIARY_COLUMNS = columns_of(
    BeneficiaryCreate,
    {
        "id": "Beneficiary id (upsert key).",
        "district": "District id.",
        "volunteer_gender": "`f` or `m` if only such volunteers may serve, else empty.",
        "excluded_volunteers": "Volunteer ids never to be paired, e.g. `v0012;v0040`.",
        **_LOCATION,
        "address": "地址 (address), e.g. `幸福里 3 幢 2 单元 301`; empty: none.",
        "contact_name": "联系人 (the family's contact person), e.g. `儿子 王强`; empty: none.",
        "contact_phone": "联系电话 (the contact person's phone), " + _PHONE,
        "active": "false once deactivated (default true; left out on update: unchanged).",
    },
)
"""Columns of ``beneficiaries.csv``."""

SITE_COLUMNS = columns_of(
    SiteCreate,
    {
        "id": "Site id (upsert key), e.g. `s-雄关广场`.",
        "name": "地点名称 (the site's name), e.g. `雄关广场`.",
        "district": "所在社区: district id.",
        "address": "地址 (where volunteers gather), e.g. `雄关广场东门`; empty: none.",
        **_LOCATION,
        "active": "false once deactivated (default true; left out on update: unchanged).",
    },
)
"""Columns of ``sites.csv``."""

# needs.csv rows are needs with their beneficiary: the public shape, not the create one.
NEED_COLUMNS = columns_of(
    NeedPublic,
    {
        "id": "Need id (upsert key).",
        "beneficiary_id": "The beneficiary (of this station), or empty for a need at a site.",
        "hours": "Hours per session (> 0).",
        "sessions": "Sessions a week (1-7).",
        "windows": "Slots a session may take, e.g. `mon-am;wed-am`.",
        "minor_ok": "A minor may take it (default false).",
        "active": "false once the need ended (default true).",
        "volunteers_min": "最少人数 (default 1).",
        "volunteers_max": "最多人数 (default 1; more than 1 makes it a group post).",
        "priority": "优先级 1-5 for a need at a site; empty for a beneficiary's need.",
        "lead_certifications": "带队要求: certification kinds one volunteer on it holds, e.g. `first_aid`.",
        "lead_skills": "带队要求: service codes that volunteer has, e.g. `companionship`.",
        "site_id": "The site (of this station) of a post, or empty for a beneficiary's need.",
    },
    after={"beneficiary_id": "id"},
)
"""Columns of ``needs.csv``."""


class CsvError(ValueError):
    """A body that is not CSV text at all (wrong encoding, …).

    Parameters
    ----------
    message
        One line for the client.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Row:
    """One data row as read.

    Attributes
    ----------
    number
        The row's number as a spreadsheet shows it (the header is row 1).
    values
        Typed values of the non-empty cells, and of empty ``list``/``certificates`` cells
        (as empty lists); an empty scalar cell is left out.
    errors
        ``"column: message"`` for each cell that could not be read.
    failed
        Names of the columns whose cell could not be read (left out of ``values``).
    """

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)


@dataclass
class Table:
    """A CSV file as read.

    Attributes
    ----------
    header
        Column names in the header's order.
    rows
        Data rows (blank rows skipped).
    errors
        Errors of the file as a whole (``"row 1: unknown column 'x'"``); when there are
        any, ``rows`` is empty.
    """

    header: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_GB = frozenset({"gbk", "gb2312", "gb18030", "cp936", "x-gbk", "windows-936", "euc-cn"})
_UTF8_BOM = b"\xef\xbb\xbf"
# C0 controls other than tab, line feed and carriage return, and DEL: not in a text file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` header, lower case; None if there is none.

    Parameters
    ----------
    content_type
        The header's value, e.g. ``text/csv; charset="GBK"``.

    Returns
    -------
    str | None
        ``gbk`` for that example; None if the header or its charset is absent or empty.
    """
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').strip().lower() or None
    return None


def decode(body: bytes, charset: str | None = None) -> str:
    """The text of a request body (see the module docstring for the encodings read).

    Parameters
    ----------
    body
        The raw bytes.
    charset
        The charset the request declared (lower case), or None.

    Returns
    -------
    str
        The text, without a byte-order mark.

    Raises
    ------
    CsvError
        If the declared charset is not one read here, the body is not text in it (or,
        undeclared, in UTF-8 or GB18030), or it holds a NUL character (a binary file).
    """
    if charset is not None and charset not in _UTF8 | _GB:
        raise CsvError(f"content-type: charset '{charset}' is not supported (send UTF-8 or GBK)")
    if body.startswith(_UTF8_BOM) or charset in _UTF8:
        text = _strict(body, "utf-8-sig", "UTF-8")
    elif charset is not None:
        text = _strict(body, "gb18030", f"{charset.upper()} (read as GB18030)")
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _guess_gb(body, exc.start)
    if "\x00" in text:
        raise CsvError("body: contains a NUL character: not CSV text")
    return text.removeprefix(tables.BOM)


def _strict(body: bytes, codec: str, name: str) -> str:
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        raise CsvError(f"body: not {name} text (byte {exc.start}) as its charset declares") from None


def _guess_gb(body: bytes, utf8_error: int) -> str:
    """An undeclared body that is not UTF-8, as GB18030 if it reads as text."""
    refused = (
        f"body: neither UTF-8 (byte {utf8_error}) nor GBK/GB18030 text; save the sheet as"
        " 'CSV UTF-8', or declare its charset (text/csv; charset=gbk)"
    )
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        raise CsvError(refused) from None
    if "\x00" not in text and _CONTROL.search(text):
        raise CsvError(refused)
    return text


def read_csv(text: str, columns: Sequence[Column]) -> Table:
    """Read CSV text into typed cell values, collecting every error.

    Parameters
    ----------
    text
        The whole file.
    columns
        The columns the file may have.

    Returns
    -------
    Table
        The header and the rows; errors of single cells are on their rows, errors of the
        file as a whole (header, broken quoting) on the table.
    """
    by_name = {c.name: c for c in columns}
    table = Table()
    records = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for number, record in enumerate(records, start=1):
            cells = [cell.strip() for cell in record]
            if number == 1:
                names = [cell.lower() for cell in cells]
                while names and not names[-1]:  # spreadsheets may pad the header with empty cells
                    names.pop()
                table.errors.extend(f"row 1: {e}" for e in _check_header(names, by_name, columns))
                if table.errors:
                    return table
                table.header = names
                continue
            if not any(cells):
                continue
            table.rows.append(_read_row(number, cells, table.header, by_name))
    except csv.Error as exc:
        table.rows = []
        table.errors.append(f"row {number + 1}: malformed CSV ({exc})")
        return table
    if number == 0:
        table.errors.append("row 1: the file is empty (a header row is required)")
    return table


def _check_header(cells: list[str], by_name: Mapping[str, Column], columns: Sequence[Column]) -> list[str]:
    errors = []
    seen: set[str] = set()
    for cell in cells:
        if cell not in by_name:
            expected = ", ".join(c.name for c in columns)
            errors.append(f"unknown column '{cell}' (expected some of: {expected})")
        elif cell in seen:
            errors.append(f"column '{cell}' is named twice")
        seen.add(cell)
    errors.extend(f"missing column '{c.name}'" for c in columns if c.required and c.name not in seen)
    return errors


def _read_row(number: int, cells: list[str], header: list[str], by_name: Mapping[str, Column]) -> Row:
    row = Row(number)
    if any(cells[len(header) :]):
        row.errors.append(f"more cells than the header's {len(header)} columns")
    for name, cell in zip(header, cells + [""] * (len(header) - len(cells)), strict=False):
        column = by_name[name]
        try:
            value = read_cell(cell, column.kind)
        except ValueError as exc:
            row.errors.append(f"{name}: {exc}")
            row.failed.add(name)
            continue
        if value is not None:
            row.values[name] = value
    return row


def read_cell(cell: str, kind: Kind) -> Any:
    """One cell's value.

    Parameters
    ----------
    cell
        The cell's text, blanks already stripped.
    kind
        The column's kind.

    Returns
    -------
    Any
        ``str``, ``float``, ``int``, ``bool``, ``list[str]`` or, for certificates, a list
        of ``{"kind": …, "expires": …}`` dicts (the date still text); None for an empty
        scalar cell.

    Raises
    ------
    ValueError
        If the cell cannot be read as its kind; the message says why.
    """
    if kind in _ESCAPED_KINDS:
        cell = tables.restore(cell)
    if kind == "list":
        return [item.strip() for item in cell.split(";") if item.strip()]
    if kind == "certificates":
        return [_certificate(item.strip(), i) for i, item in enumerate(_items(cell))]
    if cell == "":
        return None
    if kind == "text":
        return cell
    if kind == "number":
        if not _NUMBER.fullmatch(cell):
            raise ValueError(f"not a number: '{cell}'")
        return float(cell)
    if kind == "integer":
        if not _INTEGER.fullmatch(cell):
            raise ValueError(f"not a whole number: '{cell}'")
        return int(cell)
    lowered = cell.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, not '{cell}'")


def _items(cell: str) -> list[str]:
    return [item for item in cell.split(";") if item.strip()]


def _certificate(item: str, index: int) -> dict[str, str]:
    kind, colon, expires = item.partition(":")
    if not colon or not kind.strip() or not expires.strip():
        raise ValueError(f"certificate {index + 1}: expected kind:YYYY-MM-DD, not '{item}'")
    return {"kind": kind.strip(), "expires": expires.strip()}


def cells(columns: Sequence[Column], records: Iterable[Mapping[str, Any]]) -> list[list[tables.Cell]]:
    """The rows of an export, typed for :mod:`api.tables` (which writes CSV or XLSX).

    Parameters
    ----------
    columns
        The columns, in order.
    records
        Values by column name (a missing name or None writes an empty cell); certificates
        are mappings (or objects) with ``kind`` and ``expires`` (a date or ISO text).

    Returns
    -------
    list[list[tables.Cell]]
        One list of cells per record, in the columns' order (see :func:`cell_value`).
    """
    return [[cell_value(record.get(c.name), c.kind) for c in columns] for record in records]


def cell_value(value: Any, kind: Kind) -> tables.Cell:
    """One cell's value for the export writer.

    Parameters
    ----------
    value
        The value (None: an empty cell).
    kind
        The column's kind.

    Returns
    -------
    tables.Cell
        A number for ``number`` and ``integer`` columns (an ``int`` when whole), a ``bool``
        for flags, None for None, and otherwise the text (lists joined with ``;``), not
        yet neutralised: the writer does that.
    """
    if value is None:
        return None
    if kind == "number":
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    if kind == "integer":
        return int(value)
    if kind == "flag":
        return bool(value)
    if kind == "list":
        return ";".join(str(item) for item in value)
    if kind == "certificates":
        return ";".join(f"{_get(c, 'kind')}:{_iso(_get(c, 'expires'))}" for c in value)
    return str(value)


def write_cell(value: Any, kind: Kind) -> str:
    """One cell's CSV text.

    Parameters
    ----------
    value
        The value (None: an empty cell).
    kind
        The column's kind.

    Returns
    -------
    str
        The text :func:`read_cell` reads back as ``value``.
    """
    return tables.csv_cell(cell_value(value, kind))


def _get(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def _iso(value: Any) -> str:
    return value if isinstance(value, str) else str(value.isoformat())


def describe(columns: Sequence[Column]) -> str:
    """A Markdown table of the columns, for the API documentation.

    Parameters
    ----------
    columns
        The columns.

    Returns
    -------
    str
        One row per column: name, kind, whether the header must name it, help.
    """
    lines = ["| column | kind | required | |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.kind} | {'yes' if c.required else ''} | {c.help} |" for c in columns]
    return "\n".join(lines)
