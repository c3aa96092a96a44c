"""人员 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``.

Log in, open 人员, add a volunteer, edit them (certificates too), import a file with a bad row and
read its error (zh-CN); then the import's error in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_server import CHROMIUM, Server, serve, station_log_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")

BAD_FILE = (
    "id,name,district,skills,availability,max_hours\n"
    "brow1,甲,nowhere,life_care,mon-am,4\n"
    "brow2,乙,nowhere,life_care,mon-noon,4\n"
).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("web"), volunteers=20, beneficiaries=15) as running:
        yield running


def upload(page: Page, name: str, data: bytes) -> None:
    page.locator("input[type=file]").set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})


def test_people_add_edit_import_in_chinese(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server)
    page.get_by_role("link", name="人员").click()
    expect(page.get_by_role("heading", name=re.compile("人员"))).to_be_visible()
    expect(page.get_by_role("columnheader", name="技能")).to_be_visible()
    # add a volunteer
    page.get_by_role("link", name="新增").click()
    page.get_by_label("编号").fill("browser1")
    page.get_by_label("姓名").fill("浏览器测试")
    page.get_by_label("区域").select_option(index=1)
    page.get_by_label("生活照料").check()
    page.get_by_label("周一上午").check()
    page.get_by_label("周六下午").check()
    page.get_by_label("每周最多小时数").fill("-2")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("不能小于 0")).to_be_visible()  # the error by its field, input kept
    expect(page.get_by_label("姓名")).to_have_value("浏览器测试")
    expect(page.get_by_label("周一上午")).to_be_checked()
    page.get_by_label("每周最多小时数").fill("6")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    # edit: certificates, a row at a time (再添加一个证书 needs no JavaScript), an error by its row
    page.get_by_label("姓名").fill("浏览器测试改")
    page.get_by_label("陪伴").check()
    page.get_by_label("第 1 个证书：证书种类").select_option(label="急救")
    page.get_by_label("第 1 个证书：有效期").fill("2030-05-01")
    expect(page.get_by_label("第 2 个证书：证书种类")).to_have_count(0)
    page.get_by_role("button", name="再添加一个证书").click()
    expect(page.get_by_label("第 1 个证书：有效期")).to_have_value("2030-05-01")  # kept, not saved yet
    page.get_by_label("第 2 个证书：证书种类").select_option(label="法律")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("第 2 个证书：有效期：必填")).to_be_visible()
    page.get_by_label("第 2 个证书：有效期").fill("2031-01-01")
    page.get_by_label("姓名").press("Enter")  # Enter saves (the form's default button is 保存)
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_label("第 2 个证书：有效期")).to_have_value("2031-01-01")
    expect(page.get_by_label("第 3 个证书：证书种类")).to_have_value("")  # one empty row more
    page.get_by_role("link", name="返回列表").click()
    page.get_by_label("按编号、姓名、区域或技能搜索").fill("browser1")
    page.get_by_role("button", name="搜索").click()
    row = page.get_by_role("row", name=re.compile("browser1"))
    expect(row).to_contain_text("浏览器测试改")
    expect(row).to_contain_text("陪伴")
    # import a file with bad rows: every row's problem, nothing stored
    page.get_by_role("link", name="导入 CSV 或 Excel").click()
    upload(page, "people.csv", BAD_FILE)
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("什么也没有导入"))).to_be_visible()
    problems = page.locator("table.problems")
    expect(problems.get_by_role("row", name=re.compile(r"^2 district"))).to_contain_text("没有这个区域")
    expect(problems.get_by_role("row", name=re.compile(r"^3 availability"))).to_contain_text("未知的时段")
    context.close()


def test_import_error_in_english(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    station_log_in(page, server)
    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Import CSV or Excel").click()
    upload(page, "people.csv", BAD_FILE)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Nothing was imported"))).to_be_visible()
    expect(page.get_by_text("no such district: “nowhere”").first).to_be_visible()
    context.close()
