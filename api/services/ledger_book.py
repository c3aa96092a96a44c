"""The year ledger's workbook (年度台账.xlsx): four sheets written from one
:class:`~api.models.ledger.Ledger`.

- 汇总: the stations' totals of the year (one row per station, and 合计), served hours by
  programme and month, and the coverage of demand by week;
- 服务记录: every session with a current record, one row each;
- 志愿者: every volunteer with the year's hours, cumulative hours and star level, 表彰候选
  marking those who reached a new star level this year;
- 服务对象: the roster of beneficiaries, with category and district in Chinese.

The workbook is a Chinese form (its headers are Chinese whatever the coordinator's page
language).  Every text cell goes through :func:`api.tables.xlsx_text`, the exports' one
neutraliser, and is stored as a string cell, so a name such as ``=HYPERLINK(…)`` shows as
text and never runs; numbers are numbers (hours with two decimals), days are dates.  Every
sheet has a bold frozen header row, column widths fitted to the text, and prints landscape (a page
header naming the ledger and sheet, a footer numbering the pages), one page wide.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from api.models.ledger import Ledger, LedgerStation
from api.services.ledger import CENTRE, programme_name
from api.tables import display_width, xlsx_text

Value = str | int | float | bool | dt.date | None

HOURS_FORMAT = "0.00"
SHARE_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"

OUTCOMES = {
    "served": "已服务",
    "no_show": "未到",
    "cancelled_by_volunteer": "志愿者取消",
    "cancelled_by_beneficiary": "服务对象取消",
}
STATES = {"queued": "排队中", "solving": "求解中", "done": "已完成"}
STARS = ("暂无星级", "一星", "二星", "三星", "四星", "五星")

SUMMARY_HEADER = (
    "站点编号",
    "站点",
    "活跃志愿者",
    "服务对象(已服务)",
    "服务记录",
    "已服务",
    "未到",
    "志愿者取消",
    "服务对象取消",
    "服务时长(小时)",
)
SESSION_HEADER = (
    "记录编号",
    "站点编号",
    "服务日期",
    "时段",
    "志愿者编号",
    "志愿者",
    "服务对象编号",
    "服务对象",
    "项目",
    "服务内容",
    "结果",
    "时长(小时)",
    "评分",
    "备注",
)
VOLUNTEER_HEADER = (
    "志愿者编号",
    "姓名",
    "站点编号",
    "已服务次数",
    "未到",
    "志愿者取消",
    "本年时长(小时)",
    "累计时长(小时)",
    "年初星级",
    "年末星级",
    "表彰候选",
)
BENEFICIARY_HEADER = (
    "服务对象编号",
    "姓名",
    "站点编号",
    "类别",
    "所在社区",
    "优先级",
    "在册",
    "已服务次数",
    "受助时长(小时)",
)
MONTHS_HEADER = ("项目", *(f"{m}月" for m in range(1, 13)), "合计")
COVERAGE_HEADER = ("站点编号", "周(周一)", "版本", "状态", "需求覆盖率", "已证明最优", "差距")

_MIN_WIDTH = 6
_MAX_WIDTH = 50
_MEASURED_ROWS = 500
_BOLD = Font(bold=True)


def _text(value: Value) -> str:
    """The text a cell shows, to fit its column's width."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return f"{value:.2f}"
    return xlsx_text(value or "")


class _Sheet:
    """A sheet of a write-only workbook: rows kept as values until :meth:`finish`, which sets the
    column widths (a write-only sheet takes them before its first row), then streams the rows.

    Write-only: a year of a centre is hundreds of thousands of rows, which openpyxl's ordinary
    worksheets hold as styled cell objects; streamed, each row's cells live only while written.
    """

    def __init__(self, book: Workbook, title: str, heading: str) -> None:
        self.sheet = book.create_sheet(title)
        # Printed pages say what they are: the ledger and the sheet, and the page of how many.
        self.sheet.oddHeader.center.text = f"{heading} · &A"
        self.sheet.oddFooter.center.text = "第 &P 页,共 &N 页"
        self.rows: list[tuple[Sequence[Value], dict[int, str] | None, bool]] = []
        self.widths: dict[int, int] = {}

    def write(
        self, values: Sequence[Value], formats: dict[int, str] | None = None, bold: bool = False
    ) -> None:
        """Append one row; ``formats``: column index (0-based) to number format."""
        # Widths come from the first rows (and every header): enough to fit the columns, and
        # measuring every cell's text of a long sheet would cost more than writing it.
        if len(self.rows) < _MEASURED_ROWS or bold:
            for column, value in enumerate(values, start=1):
                if value is not None:
                    self.widths[column] = max(self.widths.get(column, 0), display_width(_text(value)))
        self.rows.append((values, formats, bold))

    def header(self, names: Sequence[str]) -> None:
        """Append a bold header row."""
        self.write(names, bold=True)

    def _cells(
        self, values: Sequence[Value], formats: dict[int, str] | None, bold: bool
    ) -> list[Cell | None]:
        cells: list[Cell | None] = []
        for column, value in enumerate(values):
            if value is None:
                cells.append(None)
                continue
            if isinstance(value, bool):
                cell = WriteOnlyCell(self.sheet, value="是" if value else "否")
                cell.data_type = "s"
            elif isinstance(value, int | float | dt.date):
                # A day is stored as a datetime at midnight: Excel keeps days as such serial numbers.
                stored = dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else value
                cell = WriteOnlyCell(self.sheet, value=stored)
                fmt = DATE_FORMAT if isinstance(value, dt.date) else (formats or {}).get(column)
                if fmt is not None:
                    cell.number_format = fmt
            else:
                cell = WriteOnlyCell(self.sheet, value=xlsx_text(value))
                cell.data_type = "s"  # never a formula, whatever openpyxl would guess from the text
            if bold:
                cell.font = _BOLD
            cells.append(cell)
        return cells

    def finish(self, freeze: str | None = "A2") -> None:
        """Column widths, the frozen header, the page setup (landscape, one page wide), then the rows."""
        for column, width in self.widths.items():
            letter = get_column_letter(column)
            self.sheet.column_dimensions[letter].width = min(max(width, _MIN_WIDTH), _MAX_WIDTH) + 2
        if freeze is not None:
            self.sheet.freeze_panes = freeze
            self.sheet.print_title_rows = "1:1"
        self.sheet.page_setup.orientation = "landscape"
        self.sheet.page_setup.fitToWidth = 1
        self.sheet.page_setup.fitToHeight = 0
        self.sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        for values, formats, bold in self.rows:
            self.sheet.append(self._cells(values, formats, bold))
        self.rows = []


def _station_row(s: LedgerStation) -> list[Value]:
    return [
        s.station_id,
        s.name,
        s.volunteers_active,
        s.beneficiaries_served,
        s.sessions,
        s.served,
        s.no_shows,
        s.cancelled_by_volunteer,
        s.cancelled_by_beneficiary,
        s.hours,
    ]


def _summary(out: _Sheet, ledger: Ledger) -> None:
    hours = {len(SUMMARY_HEADER) - 1: HOURS_FORMAT}
    out.header(SUMMARY_HEADER)
    for station in ledger.stations:
        out.write(_station_row(station), hours)
    out.write(_station_row(ledger.total), hours, bold=True)
    out.write([])
    out.write(["服务时长(小时):按项目和月份"], bold=True)
    out.header(MONTHS_HEADER)
    month_formats = dict.fromkeys(range(1, len(MONTHS_HEADER)), HOURS_FORMAT)
    for p in ledger.hours_by_programme:
        out.write([p.name, *p.months, p.total], month_formats)
    months = [math.fsum(p.months[m] for p in ledger.hours_by_programme) for m in range(12)]
    out.write(["合计", *months, ledger.total.hours], month_formats, bold=True)
    out.write([])
    out.write(["需求覆盖:按周(每周现行排班版本)"], bold=True)
    out.header(COVERAGE_HEADER)
    for w in ledger.coverage:
        out.write(
            [
                w.station_id,
                w.week_start,
                w.version,
                STATES.get(w.state, w.state),
                w.coverage,
                w.proved,
                w.gap,
            ],
            {4: SHARE_FORMAT, 6: SHARE_FORMAT},
        )
    out.finish()


def _sessions(out: _Sheet, ledger: Ledger) -> None:
    out.header(SESSION_HEADER)
    for s in ledger.sessions:
        out.write(
            [
                s.record_id,
                s.station_id,
                s.served_on,
                s.slot,
                s.volunteer_id,
                s.volunteer_name,
                s.beneficiary_id,
                s.beneficiary_name,
                programme_name(s.programme),
                s.service,
                OUTCOMES.get(s.outcome, s.outcome),
                s.hours,
                s.rating,
                s.note,
            ],
            {11: HOURS_FORMAT},
        )
    out.finish()


def _volunteers(out: _Sheet, ledger: Ledger) -> None:
    out.header(VOLUNTEER_HEADER)
    for v in ledger.volunteers:
        out.write(
            [
                v.id,
                v.name,
                v.station_id,
                v.sessions_served,
                v.no_shows,
                v.cancelled_by_volunteer,
                v.hours_year,
                v.hours_total,
                STARS[v.stars_before],
                STARS[v.stars],
                v.award_candidate,
            ],
            {6: HOURS_FORMAT, 7: HOURS_FORMAT},
        )
    out.finish()


def _beneficiaries(out: _Sheet, ledger: Ledger) -> None:
    out.header(BENEFICIARY_HEADER)
    for b in ledger.beneficiaries:
        out.write(
            [
                b.id,
                b.name,
                b.station_id,
                b.category_name,
                b.district_name,
                b.priority,
                b.active,
                b.sessions_served,
                b.hours,
            ],
            {8: HOURS_FORMAT},
        )
    out.finish()


def workbook(ledger: Ledger) -> bytes:
    """The ``.xlsx`` file of ``ledger``: sheets 汇总, 服务记录, 志愿者 and 服务对象."""
    book = Workbook(write_only=True)
    # Header text is not a cell: no formula to neutralise, but "&" starts its codes (&A, &P).
    who = ledger.stations[0].name if ledger.scope != CENTRE and ledger.stations else "全部站点"
    heading = f"{ledger.year}年度志愿服务台账 · {who}".replace("&", "&&")
    _summary(_Sheet(book, "汇总", heading), ledger)
    _sessions(_Sheet(book, "服务记录", heading), ledger)
    _volunteers(_Sheet(book, "志愿者", heading), ledger)
    _beneficiaries(_Sheet(book, "服务对象", heading), ledger)
    book.properties.title = f"{ledger.year}年度志愿服务台账"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(ledger: Ledger) -> str:
    """The workbook's file name: ``ledger-<station>-<year>.xlsx`` (``ledger-centre-<year>.xlsx``)."""
    return f"ledger-{ledger.scope if ledger.scope != CENTRE else 'centre'}-{ledger.year}.xlsx"
