"""The coordinators' web app (web/): login and sessions, scoping, CSRF, escaping, languages.

Browser tests (a real ``linli serve`` driven by Chromium) are in ``test_web_browser.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from api.main import create_app
from api.models import JobProgress, PlanVersion, Station, Token, Volunteer, WebhookCreate, WebhookEndpoint
from api.services import webhooks
from api.tables import XLSX_MEDIA_TYPE
from web import i18n, labels, session
from web.views import env, next_monday, week_of

os.environ.setdefault("LINLI_SECRET_KEY", "test-secret-key-for-the-web-tests-only")

WEEK = dt.date(2026, 3, 2)
ROOT = Path(__file__).resolve().parents[2]


class _Controls(HTMLParser):
    """Form controls and the ids labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a)


def unlabelled(html: str) -> list[dict[str, str | None]]:
    """Controls with neither a <label for> nor an aria-label (buttons carry their own text)."""
    parser = _Controls()
    parser.feed(html)
    return [c for c in parser.controls if c.get("id") not in parser.labelled and not c.get("aria-label")]


def csrf_of(html: str) -> str:
    """The CSRF token of a page's forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


def log_in(client: TestClient, token: str) -> str:
    """Log in with a token; returns the session's CSRF token."""
    client.cookies.clear()
    form = client.get("/login")
    r = client.post("/login", data={"token": token, "csrf_token": csrf_of(form.text)}, follow_redirects=True)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


def generate(city: Any, station: str) -> int:
    """Log in as the station, generate WEEK's plan through the page, wait for it; returns its id."""
    csrf = log_in(city.client, city.tokens[station])
    r = city.client.post(
        f"/s/{station}/generate", data={"week": WEEK.isoformat(), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    plan_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert city.wait(plan_id, station)["state"] == "done"
    return plan_id


PAGES = (
    "/",
    "/stations",
    "/s/{s}/",
    "/s/{s}/grid",
    "/s/{s}/grid.xlsx",
    "/s/{s}/unmet",
    "/s/{s}/people",
    "/s/{s}/people.xlsx",
    "/s/{s}/people/import",
    "/s/{s}/people/volunteers/new",
    "/s/{s}/records",
    "/s/{s}/ledger.xlsx",
    "/s/{s}/volunteers/v1",
    "/s/{s}/volunteers/v1/certificate.pdf",
    "/plans/1",
    "/plans/1/panel",
    "/s/{s}/changes",
    "/s/{s}/changes/slots?plan=1",
    "/plans/1/change",
    "/plans/1/change/panel",
    "/plans/1/review",
    "/s/{s}/scenarios",
    "/simulations/1",
    "/simulations/1/panel",
    "/s/{s}/deliveries",
    "/s/{s}/publish",
    "/s/{s}/messages",
    "/s/{s}/messages.csv?plan=1",
    "/s/{s}/messages.txt?plan=1",
    "/s/{s}/sites",
    "/s/{s}/sites.xlsx",
    "/s/{s}/sites/import",
    "/s/{s}/sites/import/template.xlsx",
    "/s/{s}/sites/new",
    "/s/{s}/sites/s1",
    "/s/{s}/sites/s1/posts/new",
    "/s/{s}/sites/s1/posts/n1",
)
POSTS = (
    "/s/{s}/generate",
    "/plans/1/cancel",
    "/s/{s}/people/import",
    "/s/{s}/people/volunteers/new",
    "/s/{s}/people/volunteers/v1/active",
    "/s/{s}/records",
    "/s/{s}/changes",
    "/plans/1/accept",
    "/plans/1/undo",
    "/s/{s}/scenarios",
    "/simulations/1/cancel",
    "/s/{s}/deliveries/webhooks",
    "/s/{s}/deliveries/webhooks/1/deactivate",
    "/s/{s}/deliveries/1/retry",
    "/s/{s}/publish",
    "/s/{s}/sites/new",
    "/s/{s}/sites/import",
    "/s/{s}/sites/s1",
    "/s/{s}/sites/s1/active",
    "/s/{s}/sites/s1/posts/new",
    "/s/{s}/sites/s1/posts/n1",
    "/s/{s}/sites/s1/posts/n1/active",
)
PEOPLE_PAGES = (
    "/s/{s}/people",
    "/s/{s}/people.xlsx",
    "/s/{s}/people/import",
    "/s/{s}/people/volunteers/new",
    "/s/{s}/people?kind=needs",
    "/s/{s}/sites",  # 服务地点 (its own tests: tests/web/test_sites_pages.py)
    "/s/{s}/sites.xlsx",
    "/s/{s}/sites/import",
    "/s/{s}/sites/import/template.xlsx",
    "/s/{s}/sites/new",
)


def test_every_page_redirects_to_login_without_a_session(city: Any) -> None:
    station = city.stations[0]
    for page in PAGES:
        r = city.client.get(page.format(s=station), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", page
    for page in POSTS:
        r = city.client.post(page.format(s=station), data={"csrf_token": "x"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", page
    # HTMX's poll is sent to the login page too, not swapped in
    r = city.client.get("/plans/1/panel", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["HX-Redirect"] == "/login"
    # a forged or expired cookie is no session
    city.client.cookies.set(session.COOKIE, "eyJ0aWQiOjF9.forged.sig")
    assert city.client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login_cookie_flags_logout_and_bad_tokens(city: Any) -> None:
    client = city.client
    form = client.get("/login")
    assert form.status_code == 200 and "登录" in form.text
    bad = client.post("/login", data={"token": "linli_nope", "csrf_token": csrf_of(form.text)})
    assert bad.status_code == 401 and "令牌无效" in bad.text
    r = client.post(
        "/login", data={"token": city.tokens[None], "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{session.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over http here
    assert city.tokens[None] not in cookie  # the token's secret never goes into the cookie
    with Session(city.engine) as db:  # forget the login's use: the pages' use is recorded too
        for t in db.exec(select(Token)):
            t.last_used_at = None
            db.add(t)
        db.commit()
    # the centre chooses a station
    stations = client.get("/", follow_redirects=True)
    with Session(city.engine) as db:
        assert [t.last_used_at is not None for t in db.exec(select(Token)) if t.station_id is None] == [True]
    assert all(f'href="/s/{s}/"' in stations.text for s in city.stations)
    # logging out needs the CSRF token too, and ends the session
    assert client.post("/logout", data={}).status_code == 403
    out = client.post("/logout", data={"csrf_token": csrf_of(stations.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert "Max-Age=0" in out.headers["set-cookie"] or "expires" in out.headers["set-cookie"].lower()


def test_cookie_is_secure_over_https(city: Any) -> None:
    client = TestClient(city.client.app, base_url="https://testserver")
    form = client.get("/login")
    assert "Secure" in form.headers["set-cookie"]
    r = client.post(
        "/login",
        data={"token": city.tokens[city.stations[0]], "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_revoked_token_ends_its_sessions(city: Any) -> None:
    station = city.stations[0]
    log_in(city.client, city.tokens[station])
    assert city.client.get(f"/s/{station}/", follow_redirects=False).status_code == 200
    listed = city.client.get("/v1/tokens", headers=city.headers(None)).json()
    token_id = next(t["id"] for t in listed if t["station_id"] == station)
    assert city.client.delete(f"/v1/tokens/{token_id}", headers=city.headers(None)).status_code == 200
    assert city.client.get(f"/s/{station}/", follow_redirects=False).headers["location"] == "/login"


def test_posts_without_the_csrf_token_are_refused(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    # login itself (no session yet: the login page's token)
    client.cookies.clear()
    client.get("/login")
    assert client.post("/login", data={"token": city.tokens[station]}).status_code == 403
    csrf = log_in(client, city.tokens[station])
    for data in ({"week": "2026-03-02"}, {"week": "2026-03-02", "csrf_token": "wrong"}):
        r = client.post(f"/s/{station}/generate", data=data, follow_redirects=False)
        assert r.status_code == 403 and "表单已过期" in r.text
    with Session(city.engine) as db:
        assert db.exec(select(PlanVersion)).first() is None  # nothing was generated
    # a token from another session is refused too
    other = TestClient(client.app)
    other.get("/login")
    r = other.post("/login", data={"token": city.tokens[station], "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 403
    # HTMX sends it as a header
    r = client.post(
        f"/s/{station}/generate",
        data={"week": "2026-03-02"},
        headers={session.CSRF_HEADER: csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/plans/")


def test_a_station_sees_only_its_own_pages_and_plans(city: Any) -> None:
    mine, theirs = city.stations[0], city.stations[1]
    their_plan = generate(city, theirs)
    csrf = log_in(city.client, city.tokens[mine])
    client = city.client
    for page in (
        "/s/{s}/",
        "/s/{s}/grid",
        "/s/{s}/grid.xlsx",
        "/s/{s}/unmet",
        "/s/{s}/records",
        "/s/{s}/changes",
        "/s/{s}/scenarios",
        "/s/{s}/deliveries",
    ):
        r = client.get(page.format(s=theirs) + (f"?week={WEEK}" if "deliveries" not in page else ""))
        assert r.status_code == 404, page
        assert "此页面不存在" in r.text
        assert client.get(page.format(s="no-such-station")).status_code == 404
    for page in PEOPLE_PAGES:  # 人员 (its own tests: tests/web/test_people_pages.py)
        r = client.get(page.format(s=theirs))
        assert r.status_code == 404 and "此页面不存在" in r.text, page
        assert client.get(page.format(s="no-such-station")).status_code == 404
    r = client.post(f"/s/{theirs}/people/volunteers/new", data={"id": "x", "csrf_token": csrf})
    assert r.status_code == 404
    for page in ("/plans/{p}", "/plans/{p}/panel", "/plans/{p}/change", "/plans/{p}/change/panel"):
        assert client.get(page.format(p=their_plan)).status_code == 404
    for s in (mine, theirs):  # 临时变动's time grid (HTMX) of their plan
        assert client.get(f"/s/{s}/changes/slots", params={"plan": their_plan}).status_code == 404
    for action in ("accept", "undo"):
        assert client.post(f"/plans/{their_plan}/{action}", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/plans/99999999999").status_code == 404
    r = client.post(f"/s/{theirs}/generate", data={"week": WEEK.isoformat(), "csrf_token": csrf})
    assert r.status_code == 404
    r = client.post(f"/s/{theirs}/records", data={"assignment_id": "1", "csrf_token": csrf})
    assert r.status_code == 404
    assert client.post(f"/plans/{their_plan}/cancel", data={"csrf_token": csrf}).status_code == 404
    # 消息发送记录: their receivers and deliveries, through my station's pages or theirs
    their_hook = client.post(
        f"/s/{theirs}/deliveries/webhooks",
        data={"name": "x", "url": "http://127.0.0.1:9/x", "csrf_token": csrf},
    )
    assert their_hook.status_code == 404
    with Session(city.engine) as db:
        station = db.get(Station, theirs)
        assert station is not None
        endpoint, _ = webhooks.create_endpoint(
            db, station, WebhookCreate(name="x", url="http://127.0.0.1:9/x")
        )
    for s in (mine, theirs):
        r = client.post(f"/s/{s}/deliveries/webhooks/{endpoint.id}/deactivate", data={"csrf_token": csrf})
        assert r.status_code == 404
        assert client.post(f"/s/{s}/deliveries/1/retry", data={"csrf_token": csrf}).status_code == 404
    with Session(city.engine) as db:
        still = db.get(WebhookEndpoint, endpoint.id)
        assert still is not None and still.active
    # the station's token goes to its own station, never the list of stations
    assert client.get("/stations", follow_redirects=False).headers["location"] == f"/s/{mine}/"
    # the centre sees both
    log_in(client, city.tokens[None])
    assert client.get(f"/s/{theirs}/grid?week={WEEK}").status_code == 200
    assert client.get(f"/plans/{their_plan}", follow_redirects=False).status_code == 200


def test_generate_progress_grid_overview_unmet(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    client = city.client
    page = client.get(f"/plans/{plan_id}")
    assert page.status_code == 200 and "已完成" in page.text
    done = client.get(f"/plans/{plan_id}/panel", headers={"HX-Request": "true"})
    assert done.headers["HX-Redirect"] == f"/s/{station}/grid?week={WEEK}"
    overview = client.get(f"/s/{station}/?week={WEEK + dt.timedelta(days=3)}")  # any day of the week
    assert overview.status_code == 200
    assert "需求覆盖率" in overview.text and "敬老" in overview.text and "按区域" in overview.text
    assert "已证明最优" in overview.text or "距理论上限的差距" in overview.text
    grid = client.get(f"/s/{station}/grid?week={WEEK}")
    assert grid.status_code == 200 and "周一" in grid.text and "上午" in grid.text
    assert 'class="session' in grid.text
    # the filters narrow the grid; an unknown value shows nothing, not an error
    some = client.get(f"/s/{station}/grid?week={WEEK}&category=elderly")
    assert some.status_code == 200 and some.text.count('class="session') <= grid.text.count('class="session')
    assert f'href="?week={WEEK + dt.timedelta(days=7)}&amp;category=elderly"' in some.text  # kept
    none = client.get(f"/s/{station}/grid?week={WEEK}&skill=nothing")
    assert none.status_code == 200 and 'class="session' not in none.text
    unmet = client.get(f"/s/{station}/unmet?week={WEEK}")
    assert unmet.status_code == 200
    for html in (overview.text, grid.text, unmet.text, page.text, client.get("/login").text):
        assert unlabelled(html) == []  # every control has a label
        assert 'class="skip" href="#main"' in html
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None and plan.plan is not None
        codes = {c for u in plan.plan["unmet"] for c in u["reasons"]}
    for code in codes:  # every reason in plain Chinese, never its code
        assert i18n.translator("zh_CN")(labels.REASONS[code]) in unmet.text
        assert code not in unmet.text
    # a week without a plan offers to generate it
    empty = client.get(f"/s/{station}/grid?week=2026-03-16")
    assert "本周还没有排班" in empty.text and "生成本周排班" in empty.text
    assert client.get(f"/s/{station}/grid.xlsx?week=2026-03-16").status_code == 404
    # a cancel of a finished job changes nothing
    csrf = csrf_of(grid.text)
    r = client.post(f"/plans/{plan_id}/cancel", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert city.wait(plan_id, station)["state"] == "done"


def test_a_queued_job_polls_and_is_cancelled(city: Any) -> None:
    """Without a worker the job stays queued: its panel polls, the cancel button ends it."""
    station = city.stations[0]
    with TestClient(create_app(city.engine, workers=False)) as client:
        csrf = log_in(client, city.tokens[station])
        r = client.post(f"/s/{station}/generate", data={"week": WEEK.isoformat(), "csrf_token": csrf})
        assert r.status_code == 200 and "排队中" in r.text and 'hx-trigger="every 1s"' in r.text
        plan_id = int(r.url.path.rsplit("/", 1)[1])
        panel = client.get(f"/plans/{plan_id}/panel", headers={"HX-Request": "true"})
        assert "HX-Redirect" not in panel.headers and 'id="panel"' in panel.text and "<html" not in panel.text
        overview = client.get(f"/s/{station}/?week={WEEK}")
        assert "本周有一个更新的排班正在生成" in overview.text and f'href="/plans/{plan_id}"' in overview.text
        r = client.post(f"/plans/{plan_id}/cancel", data={"csrf_token": csrf})
        assert r.status_code == 200 and "已取消" in r.text and "hx-trigger" not in r.text
        with Session(city.engine) as db:
            plan = db.get(PlanVersion, plan_id)
            assert plan is not None and plan.state == "cancelled"
        assert "本周还没有排班" in client.get(f"/s/{station}/?week={WEEK}").text


def test_names_are_escaped_in_pages_and_neutralised_in_excel(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    script, formula = "<script>alert(1)</script>", '=HYPERLINK("x")'
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None and plan.plan is not None
        busy = sorted({a["volunteer"] for a in plan.plan["assignments"]})[:2]
        for vid, name in zip(busy, (script, formula), strict=True):
            v = db.get(Volunteer, vid)
            assert v is not None
            v.name = name
            db.add(v)
        db.commit()
    grid = city.client.get(f"/s/{station}/grid?week={WEEK}")
    assert script not in grid.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in grid.text
    assert "=HYPERLINK(&#34;x&#34;)" in grid.text or "=HYPERLINK(&quot;x&quot;)" in grid.text
    xlsx = city.client.get(f"/s/{station}/grid.xlsx?week={WEEK}")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'" + formula in names and script in names
    assert formula not in names
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"  # no formula anywhere
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["志愿者", "区域", "周一上午"]


def test_a_bad_query_on_any_page_is_the_error_page(city: Any) -> None:
    """An unknown query parameter, or a value of the wrong type, answers the page's error page in
    the user's language (the API under /v1 keeps its JSON 422)."""
    station = city.stations[0]
    log_in(city.client, city.tokens[station])
    client = city.client
    for page in PAGES:
        path = page.format(s=station)
        for lang, text in (("zh-CN", "此链接包含本页面无法识别的参数"), ("en", "does not take")):
            r = client.get(f"{path}?week=2026-12-07&foo=1", headers={"Accept-Language": lang})
            assert r.status_code == 422, (path, r.status_code)
            assert r.headers["content-type"].startswith("text/html"), path
            assert text in r.text and "foo" in r.text, path
    for path in ("/plans/abc", "/plans/1.5/panel"):  # not an integer: no such page
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "此页面不存在" in r.text
    r = client.post("/plans/abc/cancel", data={"csrf_token": "x"})
    assert r.status_code == 404 and "此页面不存在" in r.text
    api = client.get("/v1/stations?foo=1", headers=city.headers(station))
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
    assert api.json()["detail"] == "query.foo: unknown query parameter"


def test_language_names_come_from_the_catalogue(city: Any) -> None:
    """The switch names the other language in itself, from web.i18n, on pages of either language."""
    assert set(i18n.LANGUAGE_NAMES) == set(i18n.LANGUAGES)
    station = city.stations[0]
    log_in(city.client, city.tokens[station])
    chinese = city.client.get(f"/s/{station}/grid").text
    assert f'hreflang="en">{i18n.LANGUAGE_NAMES["en"]}</a>' in chinese and ">English</a>" in chinese
    english = city.client.get(f"/s/{station}/grid", headers={"Accept-Language": "en"}).text
    assert 'hreflang="zh-CN">中文</a>' in english
    templates = ROOT / "web" / "templates"
    for path in templates.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert '"English"' not in text and '"中文"' not in text, path


def test_language_switch_and_accept_language(city: Any) -> None:
    station = city.stations[0]
    log_in(city.client, city.tokens[station])
    client = city.client
    page = client.get(f"/s/{station}/grid")
    assert '<html lang="zh-CN">' in page.text and "排班表" in page.text
    english = client.get(f"/s/{station}/grid", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Week grid" in english.text and "排班表" not in english.text
    # the switch wins over the browser, and goes back to the page (never off the site)
    r = client.get("/lang/en", params={"next": f"/s/{station}/grid"}, follow_redirects=False)
    assert r.headers["location"] == f"/s/{station}/grid"
    assert "HttpOnly" in r.headers["set-cookie"]
    assert "Week grid" in client.get(f"/s/{station}/grid", headers={"Accept-Language": "zh-CN"}).text
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert (
            client.get("/lang/zh_CN", params={"next": target}, follow_redirects=False).headers["location"]
            == "/"
        )
    assert "排班表" in client.get(f"/s/{station}/grid").text


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "zh_CN"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh_CN"),
        (None, "fr, en;q=0.8, zh-CN;q=0.9", "zh_CN"),
        (None, "de", "zh_CN"),
        (None, "en;q=0", "zh_CN"),
        ("en", "zh-CN", "en"),
        ("zh_CN", "en", "zh_CN"),
        ("xx", "en", "en"),
    ],
)
def test_negotiate(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, header) == expected


def test_progress_panel_polls_while_running_and_stops_after() -> None:
    panel = env.get_template("panel.html")
    common: dict[str, Any] = {"_": i18n.translator("zh_CN"), "L": labels, "csrf": "tok"}
    plan = SimpleNamespace(id=5, state="solving", station_id="st", week_start=WEEK, error=None)
    html = panel.render(plan=plan, progress={"running": True, "elapsed": 3.2}, **common)
    assert 'hx-get="/plans/5/panel"' in html and 'hx-trigger="every 1s"' in html
    assert "计算中" in html and "3.2 秒" in html
    assert 'action="/plans/5/cancel"' in html and 'name="csrf_token" value="tok"' in html
    plan = SimpleNamespace(id=5, state="failed", station_id="st", week_start=WEEK, error="<b>boom</b>")
    html = panel.render(plan=plan, progress={"running": False, "elapsed": 9}, **common)
    assert "hx-get" not in html and "失败" in html and "排班未能生成" in html
    assert "&lt;b&gt;boom&lt;/b&gt;" in html and "/cancel" not in html


def test_a_fast_job_s_time_reads_in_tenths_not_zero() -> None:
    """A station plan proved in 0.4 s reads "0.4 秒" (it read "0 秒"); longer jobs in whole seconds."""
    panel = env.get_template("panel.html")
    common: dict[str, Any] = {"_": i18n.translator("zh_CN"), "L": labels, "csrf": "tok"}
    plan = SimpleNamespace(id=5, state="done", station_id="st", week_start=WEEK, error=None)
    assert "0.4 秒" in panel.render(plan=plan, progress={"running": False, "elapsed": 0.43}, **common)
    assert "13 秒" in panel.render(plan=plan, progress={"running": False, "elapsed": 12.6}, **common)


def test_progress_panel_shows_the_engine_s_latest_report() -> None:
    """While solving, the panel shows the job's stored report: coverage so far, bound, gap."""
    panel = env.get_template("panel.html")
    common: dict[str, Any] = {"_": i18n.translator("zh_CN"), "L": labels, "csrf": "tok"}
    plan = SimpleNamespace(id=5, state="solving", station_id="st", week_start=WEEK, error=None)
    report = JobProgress(elapsed_s=2.0, stage="columns", coverage=0.8125, bound=0.9, gap=0.0972, proved=False)
    html = panel.render(plan=plan, progress={"running": True, "elapsed": 2, "report": report}, **common)
    assert "目前已覆盖的需求" in html and "81.2%" in html and "90.0%" in html and "9.7%" in html
    assert 'value="0.8125"' in html
    assert "当前步骤" in html and "测算每位志愿者可行的排班" in html  # the stage, by its name
    first = JobProgress(elapsed_s=0.1, stage="start", coverage=0.5, bound=None, gap=None, proved=False)
    html = panel.render(plan=plan, progress={"running": True, "elapsed": 0, "report": first}, **common)
    assert "尚未得出" in html and "50.0%" in html
    proved = JobProgress(elapsed_s=3.0, stage="prove", coverage=0.9, bound=0.9, gap=0.0, proved=True)
    english = {**common, "_": i18n.translator("en")}
    html = panel.render(plan=plan, progress={"running": True, "elapsed": 3, "report": proved}, **english)
    assert "proved optimal" in html and "Demand covered so far" in html
    assert "Proving the best coverage" in html
    unknown = JobProgress(elapsed_s=3.0, stage="later", coverage=0.9, bound=None, gap=None, proved=False)
    html = panel.render(plan=plan, progress={"running": True, "elapsed": 3, "report": unknown}, **common)
    assert ">later<" in html  # a stage of another release: its code


def test_every_engine_stage_has_a_name() -> None:
    """Each stage the engine reports (``matcher.progress.STAGES``) is named, in Chinese too."""
    from matcher.progress import STAGES

    assert list(labels.STAGES) == list(STAGES)
    zh = i18n.translator("zh_CN")
    assert all(zh(name) != name for name in labels.STAGES.values())


def test_weeks() -> None:
    assert next_monday(dt.date(2026, 12, 6)) == dt.date(2026, 12, 7)  # a Sunday
    assert next_monday(dt.date(2026, 12, 7)) == dt.date(2026, 12, 14)  # a Monday: the week after
    assert week_of("2026-12-10") == dt.date(2026, 12, 7)
    assert week_of("not a date") == next_monday()
    assert week_of("1999-01-01") == dt.date(2000, 1, 3)


def test_every_message_has_a_chinese_translation() -> None:
    """Every id the code and templates use is in the zh_CN catalogue (``make messages`` updates it)."""
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2.ext:babel_extract")]
    used = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords={"_": None, "N_": None}
        )
        if isinstance(message, str)
    }
    assert len(used) > 100
    chinese = i18n.catalogue("zh_CN")
    missing = sorted(m for m in used if m not in chinese)
    assert not missing, f"untranslated (run `make messages` and translate): {missing}"
    # every code of the format has a name
    from matcher.format.reasons import POST_REASON_CODES
    from matcher.format.schema import CATEGORIES, DAYS, PERIODS, SERVICE_CODES

    # format 2's codes (posts) include format 1's: every code a plan can give has a name
    assert set(labels.REASONS) == set(POST_REASON_CODES)
    assert set(labels.SERVICES) == SERVICE_CODES
    assert set(labels.CATEGORIES) == set(CATEGORIES)
    assert tuple(labels.DAYS) == DAYS and tuple(labels.PERIODS) == PERIODS
    assert labels.slot_label("mon-am", i18n.translator("zh_CN")) == "周一上午"
    assert labels.slot_label("sun-eve", i18n.translator("en")) == "Sun evening"


def test_secret_key_is_generated_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINLI_SECRET_KEY", raising=False)
    monkeypatch.setenv("LINLI_SECRET_KEY_FILE", str(tmp_path / "key"))
    session.secret_key.cache_clear()
    try:
        first = session.secret_key()
        assert len(first) >= 48 and (tmp_path / "key").stat().st_mode & 0o777 == 0o600
        session.secret_key.cache_clear()
        assert session.secret_key() == first  # kept across restarts
    finally:
        session.secret_key.cache_clear()
