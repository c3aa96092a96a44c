"""日历订阅 on a volunteer's page of 人员 (web/calendar_pages.py): make, remake and stop the link, shown
once with its QR code and how to subscribe; behind login, CSRF and the station's scope."""

from __future__ import annotations

import os
import re
from typing import Any

from sqlmodel import Session, col, select
from test_web import log_in, unlabelled

from api.models import AuditEntry, CalendarFeed, Volunteer
from web.calendar_pages import loopback_host, qr_svg

os.environ.setdefault("LINLI_SECRET_KEY", "test-secret-key-for-the-web-tests-only")

LINK = re.compile(r'value="(http://testserver/cal/[A-Za-z0-9_-]+\.ics)"')


def _volunteer(city: Any, station: str) -> str:
    with Session(city.engine) as db:
        found = db.exec(
            select(Volunteer.id).where(Volunteer.station_id == station).order_by(col(Volunteer.id))
        ).first()
        assert found is not None
        return found


def _post(city: Any, station: str, volunteer: str, csrf: str, action: str) -> Any:
    return city.client.post(
        f"/s/{station}/people/volunteers/{volunteer}/calendar", data={"action": action, "csrf_token": csrf}
    )


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_make_remake_and_stop_the_link(city: Any) -> None:
    """The box on the volunteer's page: 生成订阅链接 shows the link once (text, webcal, QR, how to
    subscribe); the page later says a link exists, never the link; 重新生成 stops the old link;
    停用 stops it; each write is the logged-in token's in the audit log."""
    station = city.stations[0]
    volunteer = _volunteer(city, station)
    csrf = log_in(city.client, city.tokens[station])
    page = city.client.get(f"/s/{station}/people/volunteers/{volunteer}")
    assert page.status_code == 200
    assert "日历订阅" in page.text and "尚未生成订阅链接" in page.text and "生成订阅链接" in page.text
    assert "停用链接</button>" not in page.text

    made = _post(city, station, volunteer, csrf, "new")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    match = LINK.search(made.text)
    assert match is not None, made.text
    url = match.group(1)
    webcal = "webcal://" + url.removeprefix("http://")
    assert f'href="{webcal}"' in made.text
    assert "<svg" in made.text and "qr" in made.text
    assert "设置 › 日历 › 账户 › 添加账户 › 其他 › 添加已订阅的日历" in made.text and "安卓手机" in made.text
    assert "链接只显示这一次" in made.text and "旧链接已失效" not in made.text
    assert "手机打不开" not in made.text  # testserver is no loopback address
    assert unlabelled(made.text) == []
    feed = city.client.get(_path(url))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")

    later = city.client.get(f"/s/{station}/people/volunteers/{volunteer}")
    assert "已有订阅链接" in later.text and url not in later.text and "<svg" not in later.text
    assert "重新生成" in later.text and "停用链接</button>" in later.text

    remade = _post(city, station, volunteer, csrf, "new")
    second = LINK.search(remade.text)
    assert second is not None and second.group(1) != url and "旧链接已失效" in remade.text
    assert city.client.get(_path(url)).status_code == 404
    assert city.client.get(_path(second.group(1))).status_code == 200

    stopped = _post(city, station, volunteer, csrf, "revoke")
    assert stopped.status_code == 200 and "订阅链接已停用" in stopped.text
    assert LINK.search(stopped.text) is None
    assert city.client.get(_path(second.group(1))).status_code == 404
    with Session(city.engine) as db:
        token = city.tokens[station]
        rows = list(db.exec(select(CalendarFeed).where(CalendarFeed.volunteer_id == volunteer)))
        entries = list(db.exec(select(AuditEntry).where(AuditEntry.entity == "calendarfeed")))
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)
    assert token not in repr(entries)
    assert {e.actor_kind for e in entries} == {"web"} and len(entries) == 4  # 2 made, 2 revoked


def test_the_qr_code_is_the_webcal_link() -> None:
    """The QR code on the page encodes the webcal:// link (segno, drawn again from the same text)."""
    webcal = "webcal://linli.example.org/cal/abc.ics"
    svg = qr_svg(webcal, "t")
    assert svg.startswith("<svg") and "viewBox" in svg and "<title>t</title>" in svg
    assert svg == qr_svg(webcal, "t") and svg != qr_svg(webcal + "x", "t")


def test_a_link_to_this_computer_is_flagged() -> None:
    """A link naming this computer (LINLI_PUBLIC_URL unset, the page opened on the server) is flagged."""
    assert loopback_host("http://127.0.0.1:8000/cal/x.ics") == "127.0.0.1"
    assert loopback_host("http://localhost/cal/x.ics") == "localhost"
    assert loopback_host("http://[::1]:8000/cal/x.ics") == "::1"
    assert loopback_host("https://linli.example.org/cal/x.ics") == ""
    assert loopback_host("http://192.168.1.20:8000/cal/x.ics") == ""


def test_csrf_scope_and_bad_action(city: Any) -> None:
    """Without the CSRF token: 403; another station's volunteer: 404; an unknown action: 422; a
    beneficiary's page has no calendar box.  Nothing is written."""
    a, b = city.stations
    theirs = _volunteer(city, b)
    mine = _volunteer(city, a)
    csrf = log_in(city.client, city.tokens[a])
    assert _post(city, a, mine, "wrong", "new").status_code == 403
    assert _post(city, a, theirs, csrf, "new").status_code == 404
    assert _post(city, b, theirs, csrf, "new").status_code == 404
    assert _post(city, a, mine, csrf, "explode").status_code == 422
    with Session(city.engine) as db:
        assert db.exec(select(CalendarFeed)).first() is None
    page = city.client.get(f"/s/{a}/people?kind=beneficiaries")
    first = re.search(rf'href="/s/{a}/people/beneficiaries/([^"?]+)"', page.text)
    assert first is not None
    assert "日历订阅" not in city.client.get(f"/s/{a}/people/beneficiaries/{first.group(1)}").text
    city.client.cookies.clear()
    logged_out = city.client.post(
        f"/s/{a}/people/volunteers/{mine}/calendar", data={"action": "new"}, follow_redirects=False
    )
    assert logged_out.status_code == 303 and logged_out.headers["location"] == "/login"
