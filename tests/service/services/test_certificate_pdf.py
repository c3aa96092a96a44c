"""The 志愿服务证明 PDF (api/pdf.py) alone: a long sessions table runs over pages with its header
repeated, names print as written (no markup), and the text is Chinese a reader extracts."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from api.models import ServiceCertificate
from api.pdf import certificate_pdf
from api.services.certificates import CertificateData, SessionRow, by_programme

START = dt.date(2026, 1, 5)


def _data(name: str, sessions: list[SessionRow]) -> CertificateData:
    cert = ServiceCertificate(
        code="ABCDEFGHJKMNPQRS",
        volunteer_id="v1",
        station_id="s1",
        period_start=START,
        period_end=START + dt.timedelta(days=364),
        hours=sum(s.hours for s in sessions),
        sessions=len(sessions),
        issued_at=dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC),
    )
    return CertificateData(
        cert, name, "东风社区志愿服务站", "市志愿服务中心", by_programme(sessions), 2, 320.5, sessions
    )


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_year_of_sessions_runs_over_pages_with_the_header_repeated() -> None:
    sessions = [
        SessionRow(START + dt.timedelta(days=3 * i), "mon-pm", ("elderly", "child")[i % 2], "tutoring", 1.5)
        for i in range(120)
    ]
    pages = _pages(certificate_pdf(_data("张三明", sessions)))
    assert len(pages) >= 3
    text = "\n".join(pages)
    for s in sessions:
        assert s.day.isoformat() in text
    assert all("日期" in page and "服务内容" in page for page in pages[1:-1])  # the header, again
    assert all("ABCDEFGHJKMNPQRS" in page for page in pages)  # every page's foot
    assert "敬老" in text and "爱幼" in text and "课业辅导" in text and "下午" in text
    assert "二星" in text and "开具日期：2026-12-07" in text


def test_names_print_as_written() -> None:
    for name in ("<script>alert(1)</script>", "A&B <b>粗</b>", "李&amp;"):
        text = "\n".join(_pages(certificate_pdf(_data(name, []))))
        assert name in text, text
        assert "此期间无服务记录" in text
