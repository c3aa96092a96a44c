"""发布 and 通知 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Log in, generate the week, see it is a draft, publish it through the confirmation (which says
how many volunteers and families will be told), read the messages and copy one; in zh-CN.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web-publication")) as running:
        yield running


def test_publish_the_week_and_copy_a_message(server: Server, browser: Browser, tmp_path: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/grid\?week=\d{4}-\d\d-\d\d$"))
    expect(page.get_by_text("草稿", exact=True)).to_be_visible()
    page.get_by_role("link", name="本周概览").click()
    page.get_by_role("link", name="发布本周安排").click()
    expect(page.get_by_role("heading", name="发布本周安排")).to_be_visible()
    count = page.locator(".confirm-count")
    expect(count).to_contain_text(re.compile(r"发布后将通知 \d+ 位志愿者和 \d+ 户服务对象家庭"))
    expect(page.locator("pre.message")).to_contain_text("【邻里志愿服务·")
    page.screenshot(path=tmp_path / "publish-confirm.png", full_page=True)
    told = [int(n) for n in re.findall(r"\d+", count.inner_text())]
    page.get_by_role("button", name="确认发布并通知").click()
    expect(page).to_have_url(re.compile(r"/messages\?week="))
    expect(page.get_by_role("heading", name="通知", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"已发布（\d{4}-\d\d-\d\d \d\d:\d\d）"))).to_be_visible()
    expect(page.get_by_role("link", name="发送记录", exact=True)).to_be_visible()
    expect(page.locator("table.messages tbody tr")).to_have_count(sum(told))
    expect(page.get_by_role("link", name="下载 CSV")).to_be_visible()
    expect(page.get_by_role("link", name="下载文本")).to_be_visible()
    first = page.get_by_role("button", name="复制").first
    first.click()
    expect(page.get_by_role("button", name="已复制").first).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("【邻里志愿服务·") and copied == page.locator("pre.message").first.inner_text()
    page.screenshot(path=tmp_path / "messages.png", full_page=True)
    # the overview shows the week as published, without the button
    page.get_by_role("link", name="本周概览").click()
    expect(page.get_by_text(re.compile(r"已发布（"))).to_be_visible()
    expect(page.get_by_role("link", name="发布本周安排")).to_have_count(0)
    page.screenshot(path=tmp_path / "overview-published.png", full_page=True)
    context.close()
