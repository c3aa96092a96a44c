"""``make screenshots``: every page of the web app, desktop and phone-sized, as PNG files.

Runs a real ``linli serve`` on a seeded demo city (SQLite in a temp dir) and Debian's
Chromium; writes ``<page>-desktop.png`` and ``<page>-phone.png`` (Chinese), the main pages
again in English (``-en``), and the grid's print view (``grid-print.png``, A4 landscape); then
服务地点 (``sites.png``, a site's page ``site.png``, a post's ``site-post.png``) and a week with a
group post (多人岗位) in the grid (``grid-posts.png``) and its unmet page (``unmet-posts.png``).
``--only=sites`` makes just those (a plan generated, nothing else).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from post_week import post_week
from sqlalchemy import create_engine
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


def generated(browser: Browser, server: Server) -> str:
    """Generate next week's plan through the page (``--only sites``); returns its progress page's path."""
    page = browser.new_context(locale="zh-CN").new_page()
    log_in(page, server.url, server.station_token)
    page.get_by_role("button", name="生成本周排班").click()
    page.wait_for_url(re.compile(r"/plans/\d+$"))
    progress = re.sub(r"^https?://[^/]+", "", page.url)
    page.wait_for_url(re.compile(r"/grid\?"), timeout=60_000)
    page.context.close()
    return progress


def shoot_sites(browser: Browser, server: Server, database: Path, out: Path, progress: str) -> None:
    """服务地点: two sites added through the form, a post at one; the list and the site's page; then
    the generated week copied two weeks on with a three-member post, its grid (``grid-posts.png``)."""
    context = browser.new_context(locale="zh-CN", viewport=SIZES["desktop"])
    page = context.new_page()
    log_in(page, server.url, server.station_token)
    s = f"{server.url}/s/{server.station}"
    for ident, name, address in (("s-plaza", "雄关广场", "雄关广场东门"), ("s-riverbank", "讨赖河河堤", "")):
        page.goto(f"{s}/sites/new")
        page.get_by_label("编号").fill(ident)
        page.get_by_label("地点名称").fill(name)
        page.get_by_label("区域").select_option(index=1)
        page.get_by_label("地址").fill(address)
        page.get_by_role("button", name="保存").click()
        page.get_by_text("已保存").wait_for()
    page.goto(f"{s}/sites/s-plaza/posts/new")
    page.get_by_label("编号").fill("n-square-sat")
    page.locator("#f-service").select_option(label="陪伴关爱")
    page.get_by_label("每次时长（小时）").fill("2")
    page.get_by_label("每周次数").fill("1")
    page.get_by_label("周六上午").check()
    page.get_by_label("周日上午").check()
    page.get_by_label("最少志愿者人数").fill("2")
    page.get_by_label("最多志愿者人数").fill("5")
    page.get_by_label("优先级").fill("4")
    page.locator("#f-lead_certifications-first_aid").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存").wait_for()
    page.screenshot(path=out / "site-post.png", full_page=True)
    page.goto(f"{s}/sites")
    page.screenshot(path=out / "sites.png", full_page=True)
    page.goto(f"{s}/sites/s-plaza")
    page.screenshot(path=out / "site.png", full_page=True)
    engine = create_engine(f"sqlite:///{database}")
    week = post_week(engine, int(progress.rsplit("/", 1)[1]))
    engine.dispose()
    page.goto(f"{s}/grid?week={week.week.isoformat()}")
    page.screenshot(path=out / "grid-posts.png")  # the post cards and the grid's first rows
    page.goto(f"{s}/unmet?week={week.week.isoformat()}")
    page.screenshot(path=out / "unmet-posts.png", full_page=True)
    context.close()


def main(out: Path, only: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp), 250, 190, 4) as server,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        if only == "sites":
            progress = generated(browser, server)
        else:
            prepared = prepare(browser, server, out)
            shoot(browser, server, out, *prepared)
            progress = prepared[1]
        # last: the sites added here would show the week pages' posts notice on the shots above
        shoot_sites(browser, server, Path(tmp) / "linli.sqlite", out, progress)
        browser.close()
    print(f"screenshots in {out}", file=sys.stderr)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--only")]
    chosen = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), "")
    main(Path(args[0] if args else "docs/screenshots"), chosen)
