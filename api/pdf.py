"""The 志愿服务证明 PDF (:func:`certificate_pdf`), drawn with ReportLab.

A4 portrait: the title, the centre and station, the volunteer, the period, the total hours,
the hours by programme, the star level, the table of sessions (its header repeated on every
page it runs over), the verification code with the path that checks it, and the day of issue;
every page's foot carries the code and the page number.

The Chinese is set in ``STSong-Light``, one of the CID fonts every PDF reader has (Adobe's
Asian font packs): ReportLab names it without embedding a font file, so nothing is downloaded
or installed at run time.  Text placed into a :class:`~reportlab.platypus.Paragraph` is
escaped (Paragraph reads a small XML markup: a name such as ``<b>`` or ``A&B`` must print as
written, not as markup or a parse error).
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.names import POST_PROGRAMME, POST_PROGRAMME_NAME, PROGRAMMES, SERVICES
from api.services.certificates import CertificateData

FONT = "STSong-Light"
"""ReportLab's built-in Simplified Chinese CID font (no font file)."""

CHECK_PATH = "/v1/certificates/{code}"
"""The API path that confirms a certificate's code (public, no token)."""

pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=17)
_TITLE = ParagraphStyle(
    "title", parent=_BODY, fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=4 * mm
)
_HEADING = ParagraphStyle(
    "heading", parent=_BODY, fontSize=13, leading=19, spaceBefore=4 * mm, spaceAfter=2 * mm
)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=9, leading=13)
_GRID = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 10),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
)


def _programme(code: str) -> str:
    """A programme's Chinese name (其他 for none; 多人岗位 for group posts at sites)."""
    return POST_PROGRAMME_NAME if code == POST_PROGRAMME else PROGRAMMES.get(code, code or "其他")


def _hours(value: float) -> str:
    return f"{value:g}"


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """A paragraph of plain text (escaped: no markup gets through)."""
    return Paragraph(escape(text), style)


def certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as a PDF document.

    Parameters
    ----------
    data
        What :func:`api.services.certificates.issue` gathered.

    Returns
    -------
    bytes
        The PDF file.
    """
    cert = data.certificate
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title="志愿服务证明",
        author=data.station_name,
        subject=f"{cert.period_start} - {cert.period_end}",
    )
    period = f"{cert.period_start.isoformat()} 至 {cert.period_end.isoformat()}"
    story: list[Any] = [
        _p("志愿服务证明", _TITLE),
        _p(f"{data.centre_name}　{data.station_name}" if data.centre_name else data.station_name),
        Spacer(1, 3 * mm),
        _p(
            f"兹证明志愿者 {data.volunteer_name} 于 {period} 期间在{data.station_name}参加志愿服务 "
            f"{cert.sessions} 次，累计服务 {_hours(cert.hours)} 小时。"
        ),
        _p(f"星级：{data.star_name}（截至开具之日累计服务 {_hours(data.cumulative_hours)} 小时）"),
        _p("按服务项目统计", _HEADING),
    ]
    programmes = [["服务项目", "小时"]]
    programmes += [[_programme(p), _hours(h)] for p, h in data.by_programme.items()]
    programmes.append(["合计", _hours(cert.hours)])
    table = Table(programmes, colWidths=[60 * mm, 30 * mm], hAlign="LEFT")
    table.setStyle(_GRID)
    story += [table, _p("服务记录", _HEADING)]
    if data.sessions:
        rows = [["日期", "时段", "服务项目", "服务内容", "小时"]]
        rows += [
            [
                s.day.isoformat(),
                s.when,
                _programme(s.programme) if s.programme else "",
                SERVICES.get(s.service, s.service),
                _hours(s.hours),
            ]
            for s in data.sessions
        ]
        # repeatRows: the header again on each page a long table runs onto.
        sessions = Table(rows, colWidths=[30 * mm, 28 * mm, 28 * mm, 62 * mm, 20 * mm], repeatRows=1)
        sessions.setStyle(_GRID)
        story.append(sessions)
    else:
        story.append(_p("此期间无服务记录。"))
    story += [
        Spacer(1, 8 * mm),
        _p(f"核验码：{cert.code}"),
        _p(
            f"核验方式：向{data.centre_name or '志愿服务中心'}的服务查询 "
            f"{CHECK_PATH.format(code=cert.code)}，无需登录。",
            _SMALL,
        ),
        _p("本证明不含服务对象的姓名等个人信息。", _SMALL),
        Spacer(1, 8 * mm),
        _p(f"开具单位：{data.station_name}"),
        _p(f"开具日期：{cert.issued_at.date().isoformat()}"),
    ]

    def foot(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(20 * mm, 10 * mm, f"志愿服务证明 · 核验码 {cert.code}")
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=foot, onLaterPages=foot)
    return out.getvalue()
