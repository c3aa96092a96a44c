"""Contact details in a browser (issue 19): a volunteer's 手机号 entered on the 人员 form, masked in
the list, in full with a tap-to-call link on the person's page (a phone-sized screen too)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")

SHOTS = Path(os.environ.get("LINLI_SCREENSHOTS", "/tmp/linli-contacts-shots"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web"), volunteers=20, beneficiaries=15) as running:
        yield running


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_phone_masked_in_the_list_in_full_on_the_page(
    server: Server, browser: Browser, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server)
    ident = f"tel{width}"
    page.goto(f"{server.url}/s/{server.station}/people/volunteers/new")
    page.get_by_label("编号").fill(ident)
    page.get_by_label("姓名").fill("李四光")
    page.get_by_label("手机号").fill("139 1234 567x")
    page.get_by_label("区域").select_option(index=1)
    page.get_by_label("陪伴").check()
    page.get_by_label("周一上午").check()
    page.get_by_label("每周最多小时数").fill("4")
    page.get_by_role("button", name="保存").click()
    error = page.locator("#e-phone")
    expect(error).to_contain_text("手机号：不是有效的电话号码")
    expect(error).not_to_contain_text("567x")
    page.get_by_label("手机号").fill("139 1234 5678")
    page.get_by_label("微信号").fill("lisiguang_88")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    call = page.get_by_role("link", name="拨打 139 1234 5678")
    expect(call).to_have_attribute("href", "tel:13912345678")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"contacts-page-{width}.png"), full_page=True)
    page.get_by_role("link", name="返回列表").click()
    expect(page.get_by_text("列表中的联系方式已隐去部分")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(ident))
    expect(row).to_contain_text("139****5678")
    expect(page.locator("table.list")).not_to_contain_text("13912345678")
    expect(page.locator("table.list")).not_to_contain_text("139 1234 5678")
    page.screenshot(path=str(SHOTS / f"contacts-list-{width}.png"), full_page=width < 1000)
    # The beneficiaries' list: contact person and phone masked (the seed gives every one some).
    page.get_by_role("link", name="服务对象").click()
    expect(page.get_by_role("columnheader", name="联系电话")).to_be_visible()
    expect(page.locator("table.list")).to_contain_text("198****0001")
    expect(page.locator("table.list")).not_to_contain_text("19800000001")
    page.screenshot(path=str(SHOTS / f"contacts-beneficiaries-{width}.png"), full_page=width < 1000)
    context.close()
