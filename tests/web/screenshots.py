"""``make screenshots``: every page of the web app, desktop and phone-sized, as PNG files.

Runs a real ``linli serve`` on a seeded demo city (SQLite in a temp dir) and Debian's
Chromium; writes ``<page>-desktop.png`` and ``<page>-phone.png`` (Chinese), the main pages
again in English (``-en``), and the grid's print view (``grid-print.png``, A4 landscape).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from web_server import CHROMIUM, Server, serve

SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}
ENGLISH = ("overview", "grid", "unmet", "records", "review", "people", "simulation")


def log_in(page: Page, url: str, token: str) -> None:
    page.goto(url + "/login")
    field = page.get_by_label(re.compile("令牌|Token"))
    field.fill(token)
    field.press("Enter")
    page.wait_for_load_state()


def prepare(browser: Browser, server: Server, out: Path) -> tuple[str, str, str, str]:
    """Generate next week's plan through the page, publish it (its confirmation shot on the way),
    make a volunteer's calendar link (shot while shown: it is shown once), then withdraw a volunteer
    (临时变动), then run a scenario (情景模拟, 2 runs); returns the week, the generate job's progress
    page's path, the change's review page's path and the simulation's report's path."""
    page = browser.new_context(locale="zh-CN").new_page()
    log_in(page, server.url, server.station_token)
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/plans/\d+$"))
    progress = re.sub(r"^https?://[^/]+", "", page.url)
    page.wait_for_url(re.compile(r"/grid\?"), timeout=60_000)
    week = page.url.rsplit("=", 1)[1]
    page.get_by_role("link", name="本周概览").click()
    page.get_by_role("link", name="发布本周安排").click()
    page.screenshot(path=out / "publish-desktop.png", full_page=True)
    page.get_by_role("button", name="确认发布并通知").click()
    page.goto(f"{server.url}/s/{server.station}/people?kind=volunteers")
    page.locator("table.list a[href*='/people/volunteers/']").first.click()
    page.get_by_role("button", name="生成订阅链接").click()
    page.screenshot(path=out / "volunteer-calendar-desktop.png", full_page=True)
    page.goto(f"{server.url}/s/{server.station}/grid?week={week}")
    page.get_by_role("link", name="临时变动").click()
    page.get_by_label("志愿者", exact=True).select_option(index=1)
    page.get_by_role("button", name="按这些变动重新排班").click()
    page.wait_for_url(re.compile(r"/plans/\d+/review$"), timeout=60_000)
    review = re.sub(r"^https?://[^/]+", "", page.url)
    page.get_by_role("link", name="情景模拟").click()
    page.get_by_label("模拟次数（1–10）").fill("2")
    page.get_by_role("button", name="开始模拟").click()
    page.get_by_role("heading", name="优先招募建议").wait_for(timeout=120_000)
    simulation = re.sub(r"^https?://[^/]+", "", page.url)
    page.context.close()
    return week, progress, review, simulation


def shoot(
    browser: Browser, server: Server, out: Path, week: str, progress: str, review: str, simulation: str
) -> None:
    s = f"/s/{server.station}"
    pages = {
        "overview": f"{s}/?week={week}",
        "grid": f"{s}/grid?week={week}",
        "grid-filtered": f"{s}/grid?week={week}&category=elderly",
        "unmet": f"{s}/unmet?week={week}",
        "records": f"{s}/records?week={week}",
        "people": f"{s}/people?kind=volunteers",
        "people-form": f"{s}/people/volunteers/new",
        "people-beneficiaries": f"{s}/people?kind=beneficiaries",
        "messages": f"{s}/messages?week={week}",
        "deliveries": f"{s}/deliveries",
        "progress": progress,
        "changes": f"{s}/changes?week={week}",
        "review": review,
        "scenarios": f"{s}/scenarios?week={week}",
        "simulation": simulation,
        "empty-week": f"{s}/?week=2027-01-04",
        "not-found": "/s/no-such-station/",
    }
    for size, viewport in SIZES.items():
        for lang in ("zh-CN", "en-US"):
            suffix = size if lang == "zh-CN" else f"{size}-en"
            context = browser.new_context(locale=lang, viewport=viewport)
            page = context.new_page()
            page.goto(server.url + "/login")
            page.screenshot(path=out / f"login-{suffix}.png", full_page=True)
            if lang == "zh-CN":  # the centre's choice of station
                log_in(page, server.url, server.centre_token)
                page.screenshot(path=out / f"stations-{suffix}.png", full_page=True)
                page.context.clear_cookies()
            log_in(page, server.url, server.station_token)
            for name, path in pages.items():
                if lang == "zh-CN" or name in ENGLISH:
                    page.goto(server.url + path)
                    if name == "changes":  # a volunteer chosen: their times marked ● (HTMX swaps the grid)
                        page.locator("#c-volunteer").select_option(index=1)
                        page.locator("#withdraw-legend").wait_for()
                    page.screenshot(path=out / f"{name}-{suffix}.png", full_page=True)
                    if (
                        name == "grid" and lang == "zh-CN" and size == "desktop"
                    ):  # a session's 备选 unfolded, then its 换人确认
                        listed = page.locator("details.standins").filter(has=page.locator("form.swap")).first
                        listed.locator("summary").click()
                        listed.scroll_into_view_if_needed()
                        page.screenshot(path=out / f"grid-standins-{suffix}.png")
                        listed.locator("form.swap").first.evaluate("form => form.submit()")  # GET: the page
                        page.get_by_role("heading", name="换人确认").wait_for()
                        page.screenshot(path=out / f"swap-{suffix}.png", full_page=True)
            if size == "desktop" and lang == "zh-CN":
                page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
                page.goto(server.url + pages["grid"])
                page.emulate_media(media="print")
                page.screenshot(path=out / "grid-print.png", full_page=True)
            context.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp), 250, 190, 4) as server,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        shoot(browser, server, out, *prepare(browser, server, out))
        browser.close()
    print(f"screenshots in {out}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
