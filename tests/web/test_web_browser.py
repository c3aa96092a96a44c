"""The web app in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Log in, generate a week, read the grid, switch to English, in zh-CN and in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_server import CHROMIUM, Server, serve

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web")) as running:
        yield running


def log_in(page: Page, server: Server, button: str, label: str) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    # keyboard first: the skip link, then the token field (focused on load), Enter submits
    field = page.get_by_label(label)
    expect(field).to_be_focused()
    page.keyboard.type(server.station_token)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/s/{server.station}/$"))
    del button


def test_chinese_login_generate_grid_then_english(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, server, "登录", "令牌")
    expect(page).to_have_title(re.compile("本周概览"))
    expect(page.get_by_role("heading", name="本周概览")).to_be_visible()
    page.get_by_role("button", name="生成本周排班").click()
    # the progress page polls (HTMX) and opens the plan in the grid when it is done
    expect(page.get_by_role("heading", name="正在生成排班")).to_be_visible()
    page.wait_for_url(re.compile(r"/grid\?week=\d{4}-\d\d-\d\d$"))
    expect(page.get_by_role("heading", name=re.compile("排班表"))).to_be_visible()
    grid = page.get_by_role("table")
    expect(grid.get_by_role("columnheader", name="周一")).to_be_visible()
    expect(grid.get_by_text(re.compile("上午|下午|晚上")).first).to_be_visible()
    sessions = page.locator(".session")
    assert sessions.count() > 5
    first = sessions.first.inner_text()
    assert "服务对象" in first  # whom, by name
    # the filters are labelled controls
    page.get_by_label("类别").select_option("elderly")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"category=elderly"))
    assert 0 < page.locator(".session").count() <= sessions.count()
    # on a phone the grid is a list by day
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".day-list")).to_be_visible()
    expect(page.get_by_role("table")).to_be_hidden()
    expect(page.get_by_role("heading", name="周一", exact=True)).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    # the overview has figures now
    page.get_by_role("link", name="本周概览").click()
    expect(page.get_by_text("需求覆盖率")).to_be_visible()
    expect(page.get_by_role("rowheader", name="敬老")).to_be_visible()
    # English by the switch
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    expect(page.get_by_text("Demand covered")).to_be_visible()
    page.get_by_role("link", name="Week grid").click()
    expect(page.get_by_role("table").get_by_role("columnheader", name="Mon")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert "周一" not in page.content()
    context.close()


def test_english_by_accept_language(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, server, "Log in", "Token")
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    page.get_by_role("link", name="Unmet needs").click()
    expect(page.get_by_role("heading", name="Unmet needs")).to_be_visible()
    # and back to Chinese by the switch
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name="未满足需求")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    context.close()
