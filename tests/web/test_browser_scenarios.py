"""情景模拟 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Log in, open 情景模拟 from the tabs, pick a shipped scenario, start it with 2 runs, see its
progress, then its report with the recruit-first advice (zh-CN).
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
    with serve(tmp_path_factory.mktemp("web-scenarios")) as running:
        yield running


def test_start_a_scenario_see_progress_and_the_advice(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("link", name="情景模拟").click()
    expect(page.get_by_role("heading", name="情景模拟", exact=True)).to_be_visible()
    # pick a shipped scenario: its YAML fills the form
    page.get_by_role("link", name="使用情景“冬季志愿者流失”").click()
    yaml = page.get_by_label("情景内容（YAML 格式；其中的基准周将替换为本站的这一周）")
    expect(yaml).to_have_value(re.compile(r"^# 冬季志愿者流失.*name: winter-attrition", re.S))
    page.get_by_label("模拟次数（1–10）").fill("2")
    with page.expect_response(re.compile(r"/simulations/\d+$")) as first:
        page.get_by_role("button", name="开始模拟").click()
    # the progress page comes first (the job has not even started its solves when it is served)
    assert 'id="panel"' in first.value.text() and "取消" in first.value.text()
    expect(page).to_have_url(re.compile(r"/simulations/\d+$"))
    # HTMX polls the panel and opens the report when the runs are done
    expect(page.get_by_role("heading", name="优先招募建议")).to_be_visible(timeout=120_000)
    advice = page.locator("ol.advice li")
    assert advice.count() >= 1
    expect(advice.first).to_contain_text(re.compile(r"^招募 10 名.*覆盖率平均可提高 [\d.]+ 个百分点。$"))
    expect(page.get_by_role("heading", name="情景：冬季志愿者流失")).to_be_visible()
    expect(page.get_by_text("按服务类别")).to_be_visible()
    expect(page.get_by_text("需求未满足的原因")).to_be_visible()
    # back on the scenarios page, it is listed as done
    page.get_by_role("link", name="返回情景模拟").click()
    expect(page.get_by_role("link", name="冬季志愿者流失", exact=True)).to_be_visible()
    context.close()


def test_a_post_scenario_reports_its_group_posts(server: Server, browser: Browser, tmp_path: Path) -> None:
    """文明劝导周末 on the station's own (format-1) week: posts are added to it, solved, and the
    report shows the group posts card and the advice in Chinese (a screenshot is kept to look at)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server, "令牌")
    page.get_by_role("link", name="情景模拟").click()
    page.get_by_role("link", name="使用情景“文明劝导周末”").click()
    yaml = page.get_by_label("情景内容（YAML 格式；其中的基准周将替换为本站的这一周）")
    expect(yaml).to_have_value(re.compile(r"name: civility-weekend.*kind: add_posts", re.S))
    page.get_by_label("模拟次数（1–10）").fill("2")
    page.get_by_role("button", name="开始模拟").click()
    expect(page.get_by_role("heading", name="多人岗位")).to_be_visible(timeout=240_000)
    expect(page.get_by_role("heading", name="情景：文明劝导周末")).to_be_visible()
    expect(page.get_by_text("能开展的岗位（平均）")).to_be_visible()
    expect(page.get_by_role("heading", name="优先招募建议")).to_be_visible()
    page.screenshot(path=str(tmp_path / "post-scenario.png"), full_page=True)
    Path("/tmp/postscen-screens").mkdir(exist_ok=True)
    page.screenshot(path="/tmp/postscen-screens/post-scenario.png", full_page=True)
    context.close()
