"""服务地点 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

A coordinator opens 服务地点, adds a site (a bad field first: its Chinese error by the field),
adds a post at it (volunteers 2-5, priority, a first-aider to lead) and finds both listed; then a
finished week with a three-member post shows it in the grid as one card.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from post_week import post_week
from sqlalchemy import create_engine
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    directory = tmp_path_factory.mktemp("web")
    with serve(directory, volunteers=30, beneficiaries=20) as running:
        yield running, directory


def test_a_coordinator_adds_a_site_and_a_post(served: tuple[Server, Path], browser: Browser) -> None:
    server, _directory = served
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server)
    page.get_by_role("link", name="服务地点", exact=True).click()
    expect(page.get_by_role("heading", name="服务地点")).to_be_visible()
    expect(page.get_by_text("还没有服务地点")).to_be_visible()
    page.get_by_role("link", name="添加服务地点").click()
    # Not s-square: the demo seed has that site at its last station, and site ids are city-wide.
    page.get_by_label("编号").fill("s-plaza")
    page.get_by_label("区域").select_option(index=1)
    page.get_by_label("地址").fill("雄关广场东门")
    page.get_by_role("button", name="保存").click()  # no name: refused by its field, the rest kept
    expect(page.locator("#e-name")).to_contain_text("地点名称：必填")
    expect(page.get_by_label("地址")).to_have_value("雄关广场东门")
    page.get_by_label("地点名称").fill("雄关广场")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_text("此地点还没有岗位")).to_be_visible()
    # a post at the site
    page.get_by_role("link", name="添加岗位").click()
    expect(page.get_by_role("heading", name=re.compile("多人岗位 · 雄关广场"))).to_be_visible()
    page.get_by_label("编号").fill("n-square-sat")
    page.locator("#f-service").select_option(label="陪伴关爱")
    page.get_by_label("每次时长（小时）").fill("2")
    page.get_by_label("每周次数").fill("1")
    page.get_by_label("周六上午").check()
    page.get_by_label("最少志愿者人数").fill("2")
    page.get_by_label("最多志愿者人数").fill("5")
    page.get_by_label("优先级").fill("4")
    page.locator("#f-lead_certifications-first_aid").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_label("最多志愿者人数")).to_have_value("5")
    page.get_by_role("link", name="返回列表").click()  # back to the site: its posts below its form
    row = page.get_by_role("row", name=re.compile("n-square-sat"))
    expect(row).to_contain_text("2-5 人")
    expect(row).to_contain_text("急救")
    page.get_by_role("link", name="全部服务地点").click()
    site = page.get_by_role("row", name=re.compile("s-plaza"))
    expect(site).to_contain_text("雄关广场")
    expect(site.locator("td").nth(5)).to_have_text("1")  # one post
    context.close()


def test_the_grid_shows_a_three_member_post(served: tuple[Server, Path], browser: Browser) -> None:
    server, directory = served
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    station_log_in(page, server)
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/plans/\d+$"))
    plan_id = int(page.url.rsplit("/", 1)[1])
    page.wait_for_url(re.compile(r"/grid\?"))
    engine = create_engine(f"sqlite:///{directory / 'linli.sqlite'}")
    week = post_week(engine, plan_id)
    engine.dispose()
    page.goto(f"{server.url}/s/{server.station}/grid?week={week.week.isoformat()}")
    card = page.locator("li.post-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("雄关广场")
    expect(card).to_contain_text("3/5 人")
    expect(card).to_contain_text("还可再加 2 人")
    for _vid, name in week.members:
        expect(card.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator(".grid .session.cat-post")).to_have_count(3)  # in each member's row
    card.get_by_role("link", name=week.members[0][1]).click()  # a member's own page
    expect(page).to_have_url(re.compile(rf"/volunteers/{re.escape(week.members[0][0])}$"))
    page.goto(f"{server.url}/s/{server.station}/unmet?week={week.week.isoformat()}")
    expect(page.get_by_role("row", name=re.compile("讨赖河河堤"))).to_contain_text("至少需要 4 人")
    context.close()
