"""备选志愿者 and 换人 in a browser: Debian's Chromium (headless, Playwright) against ``linli serve``.

Log in, generate the week, open a session's 备选, swap the first stand-in in with HTMX (the
browser's confirmation accepted) and see the grid come back as version 2; then once more
without JavaScript, through the confirmation page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web-standins")) as running:
        yield running


def test_swap_a_stand_in_in_with_htmx_then_without_javascript(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/grid\?week=\d{4}-\d\d-\d\d$"))
    # sessions with someone to swap in (the buttons are hidden while the list is folded)
    listed = page.locator("details.standins").filter(has=page.locator("form.swap"))
    first = listed.first
    first.locator("summary").click()
    expect(first.get_by_text("距离")).to_be_visible()
    name = first.locator(".sname").first.inner_text()
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "standins-grid.png"))  # looked at; make screenshots keeps one
    questions: list[str] = []

    def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    first.get_by_role("button", name="换人").first.click()
    expect(page.get_by_role("status")).to_contain_text("已换人：本周排班现为第 2 版。")
    expect(page).to_have_url(re.compile(r"/grid\?week=\d{4}-\d\d-\d\d&swapped=2$"))  # reload-safe
    assert questions and questions[0].startswith(f"确定让 {name} 替换"), questions
    # the new version's grid: the stand-in serves now
    expect(page.get_by_text("排班第 2 版")).to_be_visible()
    expect(page.locator("th.who .vname").filter(has_text=name)).to_have_count(1)
    context.close()

    # without JavaScript: the button opens the confirmation page, whose form posts the swap
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    station_log_in(page, server, "令牌")
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="排班表").first.click()
    first = page.locator("details.standins").filter(has=page.locator("form.swap")).first
    first.locator("summary").click()
    first.get_by_role("button", name="换人").first.click()
    expect(page.get_by_role("heading", name="换人确认")).to_be_visible()
    page.screenshot(path=str(tmp_path / "standins-confirm.png"))
    page.locator("form.swap-confirm button").first.click()
    expect(page.get_by_role("status")).to_contain_text("已换人：本周排班现为第 3 版。")
    context.close()
