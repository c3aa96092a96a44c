"""情景模拟 (web/scenario_pages.py): the shipped scenarios, the form, the progress panel, the report.

A browser test of the same flow is in ``test_browser_scenarios.py``.  Tiny: the seeded city's
stations have some thirty volunteers, and 2 runs.
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select
from test_web import WEEK, csrf_of, log_in, unlabelled

from api.main import create_app
from api.models import Simulation
from api.services.simulations import shipped
from web import i18n, labels
from web.scenario_pages import SCENARIOS

zh = i18n.translator("zh_CN")


def wait(city: Any, simulation_id: int, station: str, timeout: float = 120) -> dict[str, Any]:
    """Poll the API until the simulation leaves queued/solving."""
    end = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = city.client.get(
            f"/v1/simulations/{simulation_id}", headers=city.headers(station)
        ).json()
        if body["state"] not in ("queued", "solving") or time.monotonic() > end:
            return body
        time.sleep(0.1)


def start(client: TestClient, station: str, csrf: str, text: str, runs: str = "2") -> Any:
    return client.post(
        f"/s/{station}/scenarios",
        data={"yaml": text, "runs": runs, "week": WEEK.isoformat(), "csrf_token": csrf},
        follow_redirects=False,
    )


def simulations(city: Any) -> int:
    with Session(city.engine) as db:
        return db.exec(select(func.count(col(Simulation.id)))).one()


def test_every_shipped_scenario_has_a_title_and_description() -> None:
    assert set(SCENARIOS) == set(shipped())
    for title, description in SCENARIOS.values():
        assert zh(title) != title and zh(description) != description


def test_start_a_shipped_scenario_and_read_its_report(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    page = client.get(f"/s/{station}/scenarios?week={WEEK}")
    assert page.status_code == 200
    assert "<h1>情景模拟</h1>" in page.text and 'aria-current="page">情景模拟</a>' in page.text
    for name in shipped():
        assert zh(SCENARIOS[name][0]) in page.text and zh(SCENARIOS[name][1]) in page.text
    assert "name: winter-attrition" in page.text  # the default scenario's YAML in the textarea
    assert "还没有模拟记录" in page.text
    assert unlabelled(page.text) == [] and 'class="skip" href="#main"' in page.text
    picked = client.get(f"/s/{station}/scenarios?name=baseline")
    assert "name: baseline" in picked.text and "name: winter-attrition" not in picked.text
    r = start(client, station, csrf, shipped()["winter-attrition"])
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/simulations/(\d+)", r.headers["location"])
    assert match is not None
    sim_id = int(match.group(1))
    done = wait(city, sim_id, station)
    assert done["state"] == "done", done
    # the finished panel opens the report
    panel = client.get(f"/simulations/{sim_id}/panel", headers={"HX-Request": "true"})
    assert panel.headers["HX-Redirect"] == f"/simulations/{sim_id}"
    report = client.get(f"/simulations/{sim_id}")
    assert report.status_code == 200
    html = report.text
    assert "情景：冬季志愿者流失" in html.replace(": ", "：") or "情景: 冬季志愿者流失" in html
    for heading in ("按服务类别", "按区域", "优先招募建议", "需求未满足的原因", "平常一周"):
        assert heading in html, heading
    pct = done["report"]["total"]["coverage_pct"]
    assert f"{pct['mean']:.1f}%" in html and f"{pct['base']:.1f}%" in html
    for category in done["report"]["by_category"]:
        assert zh(labels.CATEGORIES[category]) in html
    for reason in done["report"]["unmet_reasons"]:  # in plain Chinese, never the code
        assert zh(labels.REASONS[reason["reason"]]) in html and reason["reason"] not in html
    advice = done["report"]["recruit_first"]
    assert advice
    first = advice[0]
    assert f"招募 {first['recruits']} 名" in html
    assert f"覆盖率平均可提高 {first['coverage_gain_pct_points']:.1f} 个百分点" in html
    assert zh(labels.SERVICES[first["skill"]]) in html
    assert unlabelled(html) == []
    # the scenarios page lists it
    listed = client.get(f"/s/{station}/scenarios")
    assert f'href="/simulations/{sim_id}"' in listed.text and "已完成" in listed.text
    # in English
    english = client.get(f"/simulations/{sim_id}", headers={"Accept-Language": "en"})
    assert "Whom to recruit first" in english.text and f"Recruit {first['recruits']} " in english.text
    assert "percentage points on average" in english.text
    english_list = client.get(f"/s/{station}/scenarios", headers={"Accept-Language": "en"})
    assert "Volunteers lost in winter" in english_list.text and "Ready-made scenarios" in english_list.text


def test_a_bad_scenario_stays_in_the_page_and_nothing_is_queued(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    bad = "name: x\nruns: [1, 2\n</textarea><b>bold</b>\n"
    r = start(client, station, csrf, bad)
    assert r.status_code == 422
    assert "情景无法开始模拟" in r.text and "yaml: invalid YAML (line 4" in r.text
    assert 'aria-invalid="true"' in r.text and 'role="alert"' in r.text
    assert "&lt;/textarea&gt;&lt;b&gt;bold&lt;/b&gt;" in r.text and "<b>bold</b>" not in r.text
    r = start(client, station, csrf, "name: x\nperturbations:\n  - kind: attrition\n    rate: 2\n")
    assert r.status_code == 422 and "yaml.perturbations[0].rate" in r.text
    for runs in ("abc", "0", "11"):
        r = start(client, station, csrf, shipped()["baseline"], runs)
        assert r.status_code == 422 and "模拟次数：请填写 1 到 10 之间的整数" in r.text, runs
    english = client.post(
        f"/s/{station}/scenarios",
        data={"yaml": "- a list", "runs": "2", "csrf_token": csrf},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 422 and "The scenario could not be started" in english.text
    assert simulations(city) == 0


def test_csrf_scoping_and_escaping(city: Any) -> None:
    mine, theirs = city.stations
    client = city.client
    # another station's simulation, its name a script
    csrf = log_in(client, city.tokens[theirs])
    text = "name: '<script>alert(1)</script>'\nperturbations:\n  - kind: attrition\n    rate: 0.1\n"
    r = start(client, theirs, csrf, text, runs="1")
    assert r.status_code == 303
    their_id = int(r.headers["location"].rsplit("/", 1)[1])
    wait(city, their_id, theirs)
    for path in (f"/simulations/{their_id}", f"/s/{theirs}/scenarios"):
        html = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    # without the token, or with a wrong one: refused, nothing queued
    before = simulations(city)
    for data in ({}, {"csrf_token": "wrong"}):
        r = client.post(f"/s/{theirs}/scenarios", data={"yaml": text, "runs": "1", **data})
        assert r.status_code == 403 and "表单已过期" in r.text
    r = client.post(f"/simulations/{their_id}/cancel", data={})
    assert r.status_code == 403
    assert simulations(city) == before
    # the other station sees none of it
    csrf = log_in(client, city.tokens[mine])
    for path in (f"/s/{theirs}/scenarios", f"/simulations/{their_id}", f"/simulations/{their_id}/panel"):
        r = client.get(path)
        assert r.status_code == 404 and "此页面不存在" in r.text, path
    assert client.post(f"/simulations/{their_id}/cancel", data={"csrf_token": csrf}).status_code == 404
    assert start(client, theirs, csrf, text).status_code == 404
    assert client.get("/simulations/99999999999").status_code == 404
    assert "&lt;script&gt;" not in client.get(f"/s/{mine}/scenarios").text  # not in my list
    assert simulations(city) == before


def test_a_queued_simulation_polls_and_is_cancelled(city: Any) -> None:
    """Without a worker the simulation stays queued: its panel polls, the cancel button ends it."""
    station = city.stations[0]
    city.client.app.state.jobs.shutdown()  # the city's own worker would claim it (it polls the table)
    with TestClient(create_app(city.engine, workers=False)) as client:
        csrf = log_in(client, city.tokens[station])
        r = start(client, station, csrf, shipped()["baseline"])
        assert r.status_code == 303
        sim_id = int(r.headers["location"].rsplit("/", 1)[1])
        page = client.get(f"/simulations/{sim_id}")
        assert "排队中" in page.text and 'hx-trigger="every 1s"' in page.text
        assert "正在等待空闲的计算进程" in page.text and unlabelled(page.text) == []
        panel = client.get(f"/simulations/{sim_id}/panel", headers={"HX-Request": "true"})
        assert "HX-Redirect" not in panel.headers and 'id="panel"' in panel.text and "<html" not in panel.text
        r = client.post(f"/simulations/{sim_id}/cancel", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 200 and "已取消" in r.text and "hx-trigger" not in r.text
        with Session(city.engine) as db:
            row = db.get(Simulation, sim_id)
            assert row is not None and row.state == "cancelled"
