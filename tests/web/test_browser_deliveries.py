"""消息发送记录 in a browser: Debian's Chromium (headless, via Playwright) against a real ``linli serve``
whose own worker delivers to a real receiver on 127.0.0.1.

Log in, open 消息发送记录 from the station's tabs, add the gateway (its secret is shown once),
publish messages (:func:`webhook_support.write_messages_like_publication`, until the publication
route is merged) while the gateway does not yet have the secret: they fail (401); give the
gateway the secret, 重试 one: 已送达.  Then 停用 the gateway.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from web_server import CHROMIUM, Server, serve, station_log_in
from webhook_support import receiving, write_messages_like_publication

from api.db import make_engine

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs chromium")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    directory = tmp_path_factory.mktemp("web")
    with serve(directory) as running:
        yield running, directory


def test_add_a_gateway_see_failures_retry_and_deactivate(
    served: tuple[Server, Path], browser: Browser, tmp_path: Path
) -> None:
    server, directory = served
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    with receiving() as rx:
        station_log_in(page, server, "令牌")
        page.get_by_role("link", name="消息发送记录").click()
        expect(page.get_by_role("heading", name="消息发送记录", exact=True)).to_be_visible()
        expect(page.get_by_text("还没有接收地址")).to_be_visible()
        page.get_by_label("名称").fill("短信网关")
        page.get_by_label("地址（http 或 https）").fill(rx.url)
        page.get_by_role("button", name="添加接收地址").click()
        expect(page.get_by_text("签名密钥只显示这一次")).to_be_visible()
        secret = page.locator("#new-secret").inner_text()
        assert secret.startswith("whsec_")
        page.screenshot(path=str(tmp_path / "deliveries-secret.png"), full_page=True)
        # the gateway does not have the secret yet: it refuses every message (401), failed at once
        keys = write_messages_like_publication(
            make_engine(f"sqlite:///{directory / 'linli.sqlite'}"), server.station, 3
        )
        end = time.monotonic() + 60
        while page.locator("table.deliveries .delivery-failed").count() < 3 and time.monotonic() < end:
            time.sleep(0.5)
            page.goto(f"{server.url}/s/{server.station}/deliveries")
        expect(page.locator("table.deliveries .delivery-failed")).to_have_count(3)
        assert secret not in page.content()  # shown once only
        expect(page.get_by_text("HTTP 401").first).to_be_visible()
        assert rx.refused == 3 and not rx.delivered
        # the gateway is given the secret; 重试 one
        rx.secrets.append(secret)
        page.get_by_role("button", name="重试").first.click()
        end = time.monotonic() + 60
        while not rx.delivered and time.monotonic() < end:
            time.sleep(0.2)
        assert sum(rx.delivered.values()) == 1 and set(rx.delivered) <= set(keys)
        page.goto(f"{server.url}/s/{server.station}/deliveries")
        expect(page.locator("table.deliveries .delivery-delivered")).to_have_text("已送达")
        expect(page.locator("table.deliveries .delivery-failed")).to_have_count(2)
        expect(page.get_by_role("columnheader", name="最近结果")).to_be_visible()
        page.screenshot(path=str(tmp_path / "deliveries.png"), full_page=True)
        # 停用
        page.get_by_role("button", name="停用").click()
        expect(page).to_have_url(re.compile(rf"/s/{server.station}/deliveries$"))
        expect(page.locator("table.endpoints").get_by_text("已停用")).to_be_visible()
        page.screenshot(path=str(tmp_path / "deliveries-deactivated.png"), full_page=True)
        # the English page reads the same log
        page.goto(f"{server.url}/lang/en?next=/s/{server.station}/deliveries")
        expect(page.get_by_role("heading", name="Message deliveries", exact=True)).to_be_visible()
        expect(page.locator("table.deliveries .delivery-delivered")).to_have_text("Delivered")
    context.close()
