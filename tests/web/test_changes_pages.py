"""临时变动 (web/changes_pages.py): the form, the re-solve, the review against the API's diff, undo.

Browser tests of the same flow are in ``test_browser_changes.py``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select
from test_web import WEEK, csrf_of, generate, log_in, unlabelled

from api.models import JOB_STATES, Beneficiary, PlanVersion, Volunteer
from web import i18n, labels

zh = i18n.translator("zh_CN")


def _busiest(city: Any, plan_id: int) -> str:
    """The volunteer with the most sessions in the plan."""
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None and plan.plan is not None
        sessions: dict[str, int] = {}
        for a in plan.plan["assignments"]:
            sessions[a["volunteer"]] = sessions.get(a["volunteer"], 0) + len(a["slots"])
    return max(sorted(sessions), key=lambda v: sessions[v])


def _change(city: Any, station: str, data: dict[str, Any]) -> int:
    """Post the changes form; wait for the re-solve; returns its id."""
    r = city.client.post(f"/s/{station}/changes", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/plans/(\d+)/change", r.headers["location"])
    assert match is not None, r.headers["location"]
    plan_id = int(match.group(1))
    assert city.wait(plan_id, station)["state"] == "done"
    return plan_id


def _count(html: str, heading: str) -> int:
    match = re.search(rf"<h2>{re.escape(heading)} <span class=\"meta\">\((\d+)\)</span></h2>", html)
    assert match is not None, heading
    return int(match.group(1))


def _section(html: str, heading: str) -> str:
    start = html.index(f"<h2>{heading} ")
    end = html.find("</section>", start)
    return html[start:end]


def test_the_form_lists_the_station_s_volunteers_and_needs(city: Any) -> None:
    mine, theirs = city.stations
    client = city.client
    log_in(client, city.tokens[mine])
    empty = client.get(f"/s/{mine}/changes?week={WEEK}")
    assert empty.status_code == 200 and "本周还没有排班" in empty.text and "生成本周排班" in empty.text
    plan_id = generate(city, mine)
    form = client.get(f"/s/{mine}/changes?week={WEEK}")
    assert form.status_code == 200
    html = form.text
    assert 'aria-current="page">临时变动</a>' in html
    assert f'name="plan" value="{plan_id}"' in html and 'name="csrf_token"' in html
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None
        in_plan = {v["id"] for v in plan.problem["volunteers"]}
        ours = {v.id: v.name for v in db.exec(select(Volunteer).where(Volunteer.station_id == mine))}
        others = {v.id: v.name for v in db.exec(select(Volunteer).where(Volunteer.station_id == theirs))}
        needs = [n["id"] for n in plan.problem["needs"]]
    for vid in in_plan:
        assert f'<option value="{vid}">{ours[vid]} · ' in html  # by name
    assert not any(f'<option value="{vid}">' in html for vid in others)
    assert html.count('name="slots"') == 21
    assert all(f'value="{n}"' in html for n in needs)
    assert "周一" in html and "上午" in html
    assert any(zh(name) in html for name in labels.SERVICES.values())
    assert unlabelled(html) == []


def test_posts_without_the_csrf_token_are_refused(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    volunteer = _busiest(city, plan_id)
    client = city.client
    for data in (
        {"plan": plan_id, "volunteer": volunteer},
        {"plan": plan_id, "volunteer": volunteer, "csrf_token": "wrong"},
    ):
        r = client.post(f"/s/{station}/changes", data=data, follow_redirects=False)
        assert r.status_code == 403 and "表单已过期" in r.text
    for action in ("accept", "undo"):
        assert client.post(f"/plans/{plan_id}/{action}", data={}).status_code == 403
    with Session(city.engine) as db:
        assert len(db.exec(select(PlanVersion)).all()) == 1  # nothing was made


def test_nothing_chosen_or_no_times_is_refused(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    csrf = csrf_of(city.client.get(f"/s/{station}/changes?week={WEEK}").text)
    volunteer = _busiest(city, plan_id)
    for data, message in (
        ({}, "请选择请假的志愿者、要取消的需求，或要新增的需求"),
        ({"volunteer": volunteer, "scope": "slots"}, "请选择志愿者不能来的时段"),
        ({"volunteer": "<script>x</script>"}, "请选择本周排班中的志愿者"),
        ({"needs": "no-such-need"}, "请选择本周排班中的需求"),
    ):
        r = city.client.post(f"/s/{station}/changes", data={"plan": plan_id, "csrf_token": csrf, **data})
        assert r.status_code == 422 and message in r.text, data
        assert "<script>x" not in r.text
        assert 'role="alert"' in r.text and 'name="csrf_token"' in r.text  # back on the form
    # the choices are kept on the form
    r = city.client.post(
        f"/s/{station}/changes",
        data={"plan": plan_id, "csrf_token": csrf, "volunteer": volunteer, "scope": "slots"},
    )
    assert f'<option value="{volunteer}" selected>' in r.text
    assert 'value="slots" checked' in r.text
    with Session(city.engine) as db:
        assert len(db.exec(select(PlanVersion)).all()) == 1


def _review_matches_the_diff(city: Any, station: str, first: int, second: int, gone: str) -> str:
    """The review page's moves, newly unmet (with reasons) and newly served are the API's diff; its HTML."""
    client = city.client
    with Session(city.engine) as db:
        new = db.get(PlanVersion, second)
        assert new is not None and new.plan is not None
        now = {n["id"] for n in new.problem["needs"]}
        reasons = {u["need"]: u["reasons"] for u in new.plan["unmet"]}
    diff = client.get(
        f"/v1/plans/{second}/diff", params={"against": first}, headers=city.headers(station)
    ).json()["changed"]
    moved = [e for e in diff if e["need"] in now and e["before"] and e["after"]]
    unmet = [e for e in diff if e["need"] in now and e["before"] and not e["after"]]
    served = [e for e in diff if e["need"] in now and not e["before"] and e["after"]]
    assert moved or unmet, "the busiest volunteer's needs move or go unmet"
    assert all(e["before"]["volunteer"] == gone for e in moved + unmet)
    review = client.get(f"/plans/{second}/review")
    assert review.status_code == 200
    html: str = review.text
    assert _count(html, "谁有调整") == len(moved)
    assert _count(html, "新出现的未满足需求") == len(unmet)
    assert _count(html, "新满足的需求") == len(served)
    assert _count(html, "已取消的需求") == 1
    assert "本周全部请假" in html and "取消了 1 项需求" in html and "需求覆盖率" in html
    unmet_html = _section(html, "新出现的未满足需求")
    for e in unmet:  # each newly unmet need with its reasons in plain Chinese, never the code
        for code in reasons[e["need"]]:
            assert zh(labels.REASONS[code]) in unmet_html
            assert code not in unmet_html
    return html


def test_withdrawal_review_matches_the_api_diff_then_undo(city: Any) -> None:
    station = city.stations[0]
    first = generate(city, station)
    client = city.client
    csrf = csrf_of(client.get(f"/s/{station}/changes?week={WEEK}").text)
    gone = _busiest(city, first)
    with Session(city.engine) as db:
        row = db.get(PlanVersion, first)
        assert row is not None and row.plan is not None
        cancel = next(a["need"] for a in row.plan["assignments"] if a["volunteer"] != gone)
    data = {"plan": first, "volunteer": gone, "scope": "week", "needs": cancel, "csrf_token": csrf}
    second = _change(city, station, data)
    # the progress page polls its own panel, which opens the review (not the grid) when done
    progress = client.get(f"/plans/{second}/change")
    assert progress.status_code == 200 and f"/plans/{second}/review" in progress.text
    panel = client.get(f"/plans/{second}/change/panel", headers={"HX-Request": "true"})
    assert panel.headers["HX-Redirect"] == f"/plans/{second}/review"
    # the generate flow is unchanged: its panel opens the grid
    assert client.get(f"/plans/{first}/panel").headers["HX-Redirect"].startswith(f"/s/{station}/grid")
    with Session(city.engine) as db:
        new = db.get(PlanVersion, second)
        assert new is not None and new.plan is not None and new.parent_id == first
        assert new.changes == {
            "format": 1,
            "volunteers_withdrawn": [{"volunteer": gone}],
            "needs_cancelled": [cancel],
            "needs_added": [],
            "volunteers_added": [],
        }
    html = _review_matches_the_diff(city, station, first, second, gone)
    assert "确认" in html and "撤销" in html and unlabelled(html) == []
    # 确认 keeps it and opens the grid
    r = client.post(f"/plans/{second}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/s/{station}/grid?week={WEEK}"
    assert city.wait(second, station)["current"] is True
    # another change, some slots only, then 撤销: the version before is current again
    slots = sorted({s for a in new.plan["assignments"] for s in a["slots"] if a["volunteer"] != gone})
    other = next(a["volunteer"] for a in new.plan["assignments"] if a["volunteer"] != gone)
    third = _change(
        city,
        station,
        {"plan": second, "volunteer": other, "scope": "slots", "slots": slots[:2], "csrf_token": csrf},
    )
    with Session(city.engine) as db:
        row = db.get(PlanVersion, third)
        assert row is not None and row.changes is not None
        assert row.changes["volunteers_withdrawn"] == [{"volunteer": other, "slots": slots[:2]}]
    assert "以下时段不能来" in client.get(f"/plans/{third}/review").text
    r = client.post(f"/plans/{third}/undo", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/plans/{third}/review"
    after = client.get(f"/plans/{third}/review").text
    assert "这次变动已撤销" in after and 'action="/plans/' not in after.split("<main", 1)[1]
    assert city.wait(third, station)["state"] == "reverted"
    assert city.wait(second, station)["current"] is True
    assert "第 2 版" in client.get(f"/s/{station}/grid?week={WEEK}").text
    # undoing twice, or a version not made by a change, is refused
    assert client.post(f"/plans/{third}/undo", data={"csrf_token": csrf}).status_code == 409
    assert client.post(f"/plans/{first}/undo", data={"csrf_token": csrf}).status_code == 409
    assert client.get(f"/plans/{first}/review").status_code == 404
    # a form made on a superseded version is refused
    r = client.post(f"/s/{station}/changes", data={"plan": first, "volunteer": gone, "csrf_token": csrf})
    assert r.status_code == 409 and "superseded" in r.text
    # the form now works on version 2 again
    assert f'name="plan" value="{second}"' in client.get(f"/s/{station}/changes?week={WEEK}").text


ALL_TIMES = [
    f"{d}-{t}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for t in ("am", "pm", "eve")
]


def _urgent(city: Any, plan_id: int) -> dict[str, Any]:
    """The 新增临时需求 fields: a beneficiary of the plan, a service a volunteer of the plan gives."""
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None and plan.plan is not None
        needs = {n["id"]: n for n in plan.problem["needs"]}
        served = needs[plan.plan["assignments"][0]["need"]]
    return {
        "beneficiary": served["beneficiary"],
        "service": served["service"],
        "hours": "1.5",
        "sessions": "2",
        "windows": ALL_TIMES,
        "requires": [],
    }


def test_adding_an_urgent_need_makes_a_version_whose_problem_has_it(city: Any) -> None:
    station = city.stations[0]
    first = generate(city, station)
    client = city.client
    form = client.get(f"/s/{station}/changes?week={WEEK}").text
    csrf = csrf_of(form)
    assert "新增临时需求" in form and form.count('name="windows"') == 21 and unlabelled(form) == []
    assert zh(labels.SERVICES["life_care"]) in form and "急救" in form  # services and certificates by name
    urgent = _urgent(city, first)
    with Session(city.engine) as db:
        row = db.get(PlanVersion, first)
        assert row is not None and row.plan is not None
        cancel = next(a["need"] for a in row.plan["assignments"] if a["need"] != urgent["beneficiary"])
        name = db.exec(select(Beneficiary).where(Beneficiary.id == urgent["beneficiary"])).one().name
    assert f'<option value="{urgent["beneficiary"]}">{name}</option>' in form  # by name
    # a need added and another cancelled, in one change set
    second = _change(
        city, station, {"plan": first, "csrf_token": csrf, "needs": cancel, "minor_ok": "true", **urgent}
    )
    problem = client.get(f"/v1/plans/{second}/problem", headers=city.headers(station)).json()
    added = [n for n in problem["needs"] if n["id"].startswith("urgent-")]
    assert added == [
        {
            "id": f"urgent-{urgent['beneficiary']}-1",
            "beneficiary": urgent["beneficiary"],
            "service": urgent["service"],
            "hours": 1.5,
            "sessions": 2,
            "windows": ALL_TIMES,
            "requires": [],
            "minor_ok": True,
        }
    ]
    assert cancel not in {n["id"] for n in problem["needs"]}
    with Session(city.engine) as db:
        new = db.get(PlanVersion, second)
        assert new is not None and new.plan is not None and new.changes is not None
        assert new.changes["needs_added"] == added and new.changes["needs_cancelled"] == [cancel]
        met = {a["need"] for a in new.plan["assignments"]}
    # the review lists it: newly served, or newly unmet with its reasons
    html = client.get(f"/plans/{second}/review").text
    assert "新增临时需求：" in html and unlabelled(html) == []
    where = "新满足的需求" if added[0]["id"] in met else "新出现的未满足需求"
    assert name in _section(html, where) and zh(labels.SERVICES[urgent["service"]]) in _section(html, where)
    # another urgent need for the same beneficiary, on version 2, gets the next id
    third = _change(city, station, {"plan": second, "csrf_token": csrf, **urgent, "sessions": "1"})
    problem = client.get(f"/v1/plans/{third}/problem", headers=city.headers(station)).json()
    ids = sorted(n["id"] for n in problem["needs"] if n["id"].startswith("urgent-"))
    assert f"urgent-{urgent['beneficiary']}-2" in ids  # never the id of a need of the version it changes
    # an urgent need nobody can take is newly unmet, with its reasons (the diff does not list it:
    # it is unmet before, where it does not exist, and after)
    skills = {s for v in problem["volunteers"] for s in v["skills"]}
    rare = sorted(set(labels.SERVICES) - skills)
    data = {"service": rare[0]} if rare else {"requires": ["first_aid", "legal", "traffic", "fire_safety"]}
    fourth = _change(city, station, {"plan": third, "csrf_token": csrf, **urgent, **data})
    with Session(city.engine) as db:
        row = db.get(PlanVersion, fourth)
        assert row is not None and row.plan is not None and row.changes is not None
        need = row.changes["needs_added"][0]["id"]
        reasons = next(u["reasons"] for u in row.plan["unmet"] if u["need"] == need)
    unmet = _section(client.get(f"/plans/{fourth}/review").text, "新出现的未满足需求")
    assert name in unmet and all(zh(labels.REASONS[r]) in unmet for r in reasons)


def test_a_bad_urgent_need_is_refused_on_the_form(city: Any) -> None:
    station = city.stations[0]
    plan_id = generate(city, station)
    csrf = csrf_of(city.client.get(f"/s/{station}/changes?week={WEEK}").text)
    urgent = _urgent(city, plan_id)
    for data, message in (
        ({"hours": "0"}, "每次时长须大于 0 小时"),
        ({"hours": "13"}, "每次时长须大于 0 小时"),
        ({"hours": "nan"}, "每次时长须大于 0 小时"),
        ({"hours": "两"}, "每次时长须大于 0 小时"),
        ({"windows": []}, "请选择新增需求可以安排的时段"),
        ({"windows": ["mon-am", "noon"]}, "请选择新增需求可以安排的时段"),
        ({"windows": ["mon-am"]}, "可选时段不能少于每周次数"),
        ({"sessions": "8"}, "每周次数须为 1 至 7 次"),
        ({"service": "<script>x</script>"}, "请选择新增需求的服务项目"),
        ({"beneficiary": "no-such-person"}, "请选择本周排班中的服务对象"),
        ({"beneficiary": ""}, "请选择新增需求的服务对象"),
        ({"requires": ["flying"]}, "请从列表中选择证书"),
    ):
        r = city.client.post(
            f"/s/{station}/changes", data={"plan": plan_id, "csrf_token": csrf, **urgent, **data}
        )
        assert r.status_code == 422 and message in r.text, data
        assert "<script>x" not in r.text
        assert 'role="alert"' in r.text and 'name="csrf_token"' in r.text  # back on the form
    # the choices are kept on the form
    r = city.client.post(
        f"/s/{station}/changes",
        data={"plan": plan_id, "csrf_token": csrf, **urgent, "hours": "13", "requires": ["first_aid"]},
    )
    assert r.status_code == 422
    assert f'<option value="{urgent["beneficiary"]}" selected>' in r.text
    assert f'<option value="{urgent["service"]}" selected>' in r.text
    assert 'name="hours" min="0.5" max="12" step="0.5" value="13"' in r.text
    assert '<option value="2" selected>' in r.text
    assert r.text.count('name="windows" value="') == 21 and 'value="sun-eve" checked' in r.text
    assert 'value="first_aid" checked' in r.text
    # without the CSRF token, nothing is made
    r = city.client.post(f"/s/{station}/changes", data={"plan": plan_id, **urgent}, follow_redirects=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    with Session(city.engine) as db:
        assert len(db.exec(select(PlanVersion)).all()) == 1


def test_a_station_cannot_reach_another_station_s_changes(city: Any) -> None:
    mine, theirs = city.stations
    their_first = generate(city, theirs)
    csrf = csrf_of(city.client.get(f"/s/{theirs}/changes?week={WEEK}").text)
    their_second = _change(
        city,
        theirs,
        {"plan": their_first, "volunteer": _busiest(city, their_first), "csrf_token": csrf},
    )
    client = city.client
    csrf = log_in(client, city.tokens[mine])
    r = client.get(f"/s/{theirs}/changes?week={WEEK}")
    assert r.status_code == 404 and "此页面不存在" in r.text
    for page in ("/plans/{p}/change", "/plans/{p}/change/panel", "/plans/{p}/review"):
        assert client.get(page.format(p=their_second)).status_code == 404, page
    for action in ("accept", "undo"):
        r = client.post(f"/plans/{their_second}/{action}", data={"csrf_token": csrf})
        assert r.status_code == 404, action
    # their plan id through my station's form
    r = client.post(
        f"/s/{mine}/changes",
        data={"plan": their_second, "volunteer": "x", "csrf_token": csrf},
    )
    assert r.status_code == 404
    r = client.post(f"/s/{theirs}/changes", data={"plan": their_second, "csrf_token": csrf})
    assert r.status_code == 404
    assert city.wait(their_second, theirs)["state"] == "done"  # untouched


def test_every_job_state_has_a_name() -> None:
    assert set(labels.STATES) == set(JOB_STATES)
    assert zh(labels.STATES["reverted"]) == "已撤销"


def _marked(html: str) -> set[str]:
    """The withdrawal grid's times marked as the volunteer's sessions (by class and by label)."""
    cells = re.findall(r'<td class="assigned"><input type="checkbox" name="slots" value="([^"]+)"', html)
    labelled = re.findall(r'name="slots" value="([^"]+)"[^>]*aria-label="[^"]*（已排班）"', html)
    assert sorted(cells) == sorted(labelled)  # marked in colour and in words alike
    return set(cells)


def test_the_withdrawal_grid_marks_the_chosen_volunteer_s_sessions(city: Any) -> None:
    """选择 (a post, no JavaScript) and the HTMX grid mark exactly the volunteer's times in the plan."""
    station, theirs = city.stations
    plan_id = generate(city, station)
    volunteer = _busiest(city, plan_id)
    with Session(city.engine) as db:
        plan = db.get(PlanVersion, plan_id)
        assert plan is not None and plan.plan is not None
        assigned = {s for a in plan.plan["assignments"] if a["volunteer"] == volunteer for s in a["slots"]}
        busy = {a["volunteer"] for a in plan.plan["assignments"]}
        idle = sorted(v["id"] for v in plan.problem["volunteers"] if v["id"] not in busy)
        name = db.get(Volunteer, volunteer).name  # type: ignore[union-attr]
    assert 1 <= len(assigned) < 21
    client = city.client
    form = client.get(f"/s/{station}/changes?week={WEEK}")
    assert _marked(form.text) == set() and 'id="withdraw-legend"' not in form.text  # nobody chosen yet
    assert 'hx-get="/s/' in form.text and "<noscript><button" in form.text
    csrf = csrf_of(form.text)
    other = next(s for s in ("mon-am", "sun-eve", "wed-pm") if s not in assigned)
    chosen = {"plan": plan_id, "csrf_token": csrf, "volunteer": volunteer, "scope": "slots", "slots": [other]}
    r = client.post(f"/s/{station}/changes", data={**chosen, "choose": "true"})
    assert r.status_code == 200 and 'role="alert"' not in r.text
    assert _marked(r.text) == assigned
    assert f'value="{other}" checked' in r.text and f'<option value="{volunteer}" selected>' in r.text
    assert f"已排班：{name} 在当前排班中的时段（{len(assigned)} 个）" in r.text
    assert r.text.count('name="slots"') == 21 and unlabelled(r.text) == []
    with Session(city.engine) as db:
        assert len(db.exec(select(PlanVersion)).all()) == 1  # 选择 applies nothing
    # HTMX: the grid alone, for the volunteer chosen, the ticks kept
    r = client.get(
        f"/s/{station}/changes/slots",
        params={"plan": plan_id, "volunteer": volunteer, "slots": [other]},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="withdraw-slots">')
    assert _marked(r.text) == assigned and f'value="{other}" checked' in r.text
    assert r.text.count('name="slots"') == 21 and "<html" not in r.text
    if idle:  # a volunteer without sessions: nothing marked, and it says so
        r = client.get(f"/s/{station}/changes/slots", params={"plan": plan_id, "volunteer": idle[0]})
        assert _marked(r.text) == set() and "在当前排班中没有服务" in r.text
    for nobody in ("", "no-such-volunteer", "<script>"):
        r = client.get(f"/s/{station}/changes/slots", params={"plan": plan_id, "volunteer": nobody})
        assert r.status_code == 200 and _marked(r.text) == set() and "withdraw-legend" not in r.text
    # bad values: the error page; another station's plan or station: 404
    bad: list[dict[str, Any]] = [{"plan": "x"}, {}, {"plan": plan_id, "nope": "1"}]
    for params in [*bad, {"plan": plan_id, "volunteer": "v" * 65}]:
        assert client.get(f"/s/{station}/changes/slots", params=params).status_code == 422, params
    their_plan = generate(city, theirs)
    log_in(client, city.tokens[station])
    assert client.get(f"/s/{station}/changes/slots", params={"plan": their_plan}).status_code == 404
    assert client.get(f"/s/{theirs}/changes/slots", params={"plan": their_plan}).status_code == 404
    assert client.get(f"/s/{theirs}/changes/slots", params={"plan": plan_id}).status_code == 404
