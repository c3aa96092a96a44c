"""服务记录 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Log in, generate a week, open 服务记录 for that week, record one session served and one a
no-show, then the volunteer's page shows the hours and the star level (zh-CN), and in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")

STAR_NAMES = re.compile("暂无星级|一星|二星|三星|四星|五星")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web")) as running:
        yield running


def cumulative_hours(page: Page) -> float:
    return float(page.locator(".stat .value").first.inner_text())


def test_record_served_and_no_show_then_hours_and_stars(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/grid\?week=\d{4}-\d\d-\d\d$"))
    week = page.url.rsplit("=", 1)[1]
    # 服务记录 defaults to last week; open the generated week
    page.get_by_role("link", name="服务记录").click()
    expect(page.get_by_role("heading", name="服务记录")).to_be_visible()
    page.goto(f"{server.url}/s/{server.station}/records?week={week}")
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="计划时长（小时）")).to_be_visible()
    forms = page.locator("form.record-form")
    total = forms.count()
    assert total > 2
    # the first session's volunteer: their hours before
    first_row = page.locator("tbody tr").filter(has=forms.first).first
    volunteer = first_row.get_by_role("link")
    name, href = volunteer.inner_text(), volunteer.get_attribute("href")
    planned = float(first_row.locator("input[name=hours]").input_value())
    assert href is not None
    page.goto(server.url + href)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    before = cumulative_hours(page)
    page.go_back()
    # served, with the planned hours (the default)
    first_form = page.locator("form.record-form").first
    expect(first_form.locator("select")).to_have_value("served")
    first_form.get_by_role("button", name="记录").click()
    expect(page.locator("form.record-form")).to_have_count(total - 1)
    expect(page.get_by_text("已服务").first).to_be_visible()
    # a no-show
    second = page.locator("form.record-form").first
    second.locator("select").select_option("no_show")
    second.get_by_role("button", name="记录").click()
    expect(page.locator("form.record-form")).to_have_count(total - 2)
    expect(page.locator(".outcome-no_show").first).to_have_text("未到")
    # the volunteer's page: the hours grew by the session's, a star level in words and ★
    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    assert cumulative_hours(page) == pytest.approx(before + planned)
    expect(page.get_by_text("累计服务时长（小时）")).to_be_visible()
    expect(page.locator(".star-level")).to_have_text(STAR_NAMES)
    stars = page.locator(".stars").inner_text()
    assert len(stars) == 5 and set(stars) <= {"★", "☆"}
    expect(page.get_by_role("table").get_by_text("已服务").first).to_be_visible()
    expect(page.get_by_text("履约情况", exact=True)).to_be_visible()
    # 更正: the no-show was the beneficiary's cancellation; the reason is required
    page.goto(f"{server.url}/s/{server.station}/records?week={week}")
    row = page.locator("tbody tr").filter(has=page.locator(".outcome-no_show")).first
    row.get_by_text("更正", exact=True).click()
    fix = row.locator("form.correct-form")
    fix.locator("select[name=outcome]").select_option("cancelled_by_beneficiary")
    fix.locator("input[name=reason]").fill("服务对象当天住院，提前电话告知")
    fix.get_by_role("button", name="保存更正").click()
    expect(page.get_by_text("已更正：服务对象当天住院，提前电话告知")).to_be_visible()
    expect(page.locator(".outcome-cancelled_by_beneficiary").first).to_have_text("服务对象取消")
    expect(page.locator("form.record-form")).to_have_count(total - 2)
    page.goto(server.url + href)
    # in English
    page.get_by_role("link", name="English").click()
    expect(page.get_by_text("Cumulative hours")).to_be_visible()
    expect(page.locator(".star-level")).to_have_text(
        re.compile("No star yet|One star|Two stars|Three|Four|Five")
    )
    expect(page.get_by_role("link", name="Service records", exact=True)).to_be_visible()
    assert "累计" not in page.content()
    context.close()
