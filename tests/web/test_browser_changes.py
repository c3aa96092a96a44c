"""临时变动 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Log in, generate the week, withdraw a volunteer, read the review, accept; then withdraw
another for some times only and undo; in zh-CN, and the review once in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web-changes")) as running:
        yield running


def withdraw(page: Page, option: int, slots: int = 0) -> None:
    """On the 临时变动 tab: withdraw the ``option``-th volunteer (all week, or the first ``slots`` of
    the times the grid marks as theirs in the plan)."""
    page.get_by_role("link", name="临时变动").click()
    expect(page.get_by_role("heading", name="临时变动")).to_be_visible()
    page.get_by_label("志愿者", exact=True).select_option(index=option)
    if slots:
        # HTMX swaps in the grid with the volunteer's sessions marked ●
        expect(page.locator("#withdraw-legend")).to_contain_text("已排班")
        page.get_by_label("只在以下时段请假：").check()
        marked = page.locator('td.assigned input[name="slots"]').all()
        assert marked
        for box in marked[:slots]:
            box.check()
    page.get_by_role("button", name="按这些变动重新排班").click()
    # the re-solve's progress page polls (HTMX) and opens the review when it is done
    page.wait_for_url(re.compile(r"/plans/\d+/review$"))
    expect(page.get_by_role("heading", name="查看变动")).to_be_visible()


def test_withdraw_review_accept_then_undo(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/grid\?week=\d{4}-\d\d-\d\d$"))
    # a volunteer with sessions withdraws for the week
    withdraw(page, 1)
    expect(page.get_by_text("本周全部请假")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("谁有调整"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("新出现的未满足需求"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("新满足的需求"))).to_be_visible()
    expect(page.get_by_text("需求覆盖率")).to_be_visible()
    moved = page.locator("section.card").filter(has=page.get_by_role("heading", name=re.compile("谁有调整")))
    unmet = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile("新出现的未满足需求"))
    )
    assert moved.locator("tbody tr").count() + unmet.locator("tbody tr").count() > 0
    page.get_by_role("button", name="确认").click()
    expect(page).to_have_url(re.compile(r"/grid\?week="))
    expect(page.get_by_text("排班第 2 版")).to_be_visible()
    # another volunteer, some times only; then undo
    withdraw(page, 2, slots=3)
    expect(page.get_by_text(re.compile("以下时段不能来"))).to_be_visible()
    page.get_by_role("button", name="撤销").click()
    expect(page.get_by_role("status")).to_contain_text("这次变动已撤销：第 2 版重新成为本周排班")
    expect(page.get_by_role("button", name="撤销")).to_have_count(0)
    page.get_by_role("link", name="打开排班表").click()
    expect(page.get_by_text("排班第 2 版")).to_be_visible()
    # the review in English, by the switch
    page.go_back()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Review the changes")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Who moves"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("This change was undone")
    assert "谁有调整" not in page.content()
    context.close()
    # without JavaScript: 选择 shows the form again with the volunteer's sessions marked
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    station_log_in(page, server, "令牌")
    page.get_by_role("link", name="临时变动").click()
    page.get_by_label("志愿者", exact=True).select_option(index=1)
    expect(page.locator("td.assigned")).to_have_count(0)
    page.get_by_role("button", name="选择", exact=True).click()
    expect(page.locator("#withdraw-legend")).to_contain_text("已排班")
    assert page.locator("td.assigned").count() > 0
    context.close()


def test_add_an_urgent_need(server: Server, browser: Browser) -> None:
    """新增临时需求 (after the test above: the week has a plan): the review names the added need."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("link", name="临时变动").click()
    expect(page.get_by_role("group", name="新增临时需求")).to_be_visible()
    page.get_by_label("服务对象", exact=True).select_option(index=1)
    name = page.locator("#c-beneficiary option:checked").inner_text()
    page.get_by_label("每周次数").select_option("2")
    for box in page.locator('input[name="windows"]').all()[:6]:
        box.check()
    page.get_by_role("button", name="按这些变动重新排班").click()
    page.wait_for_url(re.compile(r"/plans/\d+/review$"))
    expect(page.get_by_text(re.compile(f"新增临时需求：{re.escape(name)}"))).to_be_visible()
    rows = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile("新满足的需求|新出现的未满足需求"))
    )
    expect(rows.locator("td", has_text=name).first).to_be_visible()
    context.close()
