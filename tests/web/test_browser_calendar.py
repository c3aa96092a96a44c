"""日历订阅 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Open a volunteer of 人员, make the calendar link (shown once, with its QR code and how to subscribe),
fetch the feed it names, make it anew (confirmed: the old link answers 404), stop it; a screenshot of
the box, desktop and phone-sized, for a person to look at.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web"), volunteers=20, beneficiaries=15) as running:
        yield running


def _status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"]


def _open_volunteer(page: Page, server: Server) -> None:
    station_log_in(page, server)
    page.get_by_role("link", name="人员").click()
    page.locator("table a[href*='/people/volunteers/']").first.click()
    expect(page.get_by_role("heading", name="日历订阅")).to_be_visible()


def test_make_show_remake_and_stop_the_calendar_link(
    server: Server, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.mktemp("shots")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())  # 重新生成 / 停用链接 ask first
    _open_volunteer(page, server)
    box = page.locator("#calendar")
    expect(box).to_contain_text("尚未生成订阅链接")
    box.get_by_role("button", name="生成订阅链接").click()
    expect(box).to_contain_text("链接只显示这一次")
    link = box.get_by_label("订阅链接")
    url = link.input_value()
    assert re.fullmatch(rf"{re.escape(server.url)}/cal/[A-Za-z0-9_-]{{43}}\.ics", url), url
    expect(box.get_by_role("link", name="在本机订阅")).to_have_attribute(
        "href", "webcal://" + url.removeprefix("http://")
    )
    qr = box.locator("svg.qr")
    expect(qr).to_be_visible()
    size = qr.bounding_box()
    assert size is not None and size["width"] >= 150 and abs(size["width"] - size["height"]) < 1
    expect(box).to_contain_text("设置 › 日历 › 账户")
    expect(box).to_contain_text("安卓手机")
    expect(box).to_contain_text("手机打不开")  # served on 127.0.0.1 without LINLI_PUBLIC_URL
    box.scroll_into_view_if_needed()
    box.screenshot(path=str(shots / "calendar-box-desktop.png"))
    assert _status(url) == (200, "text/calendar; charset=utf-8")

    # Reloaded, the page says a link exists but never shows it again.
    page.goto(page.url.split("#")[0].removesuffix("/calendar"))
    expect(box).to_contain_text("已有订阅链接")
    expect(box.get_by_label("订阅链接")).to_have_count(0)
    box.get_by_role("button", name="重新生成").click()
    expect(box).to_contain_text("旧链接已失效")
    second = box.get_by_label("订阅链接").input_value()
    assert second != url and _status(url)[0] == 404 and _status(second)[0] == 200
    box.get_by_role("button", name="停用链接").click()
    expect(box).to_contain_text("订阅链接已停用")
    assert _status(second)[0] == 404
    context.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = phone.new_page()
    page.set_default_timeout(30_000)
    _open_volunteer(page, server)
    page.locator("#calendar").get_by_role("button", name="生成订阅链接").click()
    expect(page.locator("svg.qr")).to_be_visible()
    page.locator("#calendar").screenshot(path=str(shots / "calendar-box-phone.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    phone.close()
    print(f"screenshots in {shots}")
