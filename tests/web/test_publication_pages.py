"""发布 and 通知 (web/publish_pages.py): the status on the week pages, the confirmation, publishing,
the messages with masked phones, the hand-sending downloads; station scoping and CSRF.

The browser test of the same flow is ``test_browser_publication.py``.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlmodel import Session, select
from test_web import WEEK, csrf_of, generate, log_in

from api.contacts import mask_phone
from api.models import OutboxMessage, PlanVersion, Volunteer
from api.names import SERVICES as SERVICE_NAMES
from api.services import publication
from matcher.format.schema import SERVICE_CODES
from web import i18n, labels

zh = i18n.translator("zh_CN")


def _phones(city: Any, station: str) -> None:
    with Session(city.engine) as db:
        for i, v in enumerate(db.exec(select(Volunteer).where(Volunteer.station_id == station))):
            v.phone = f"1380013{i:04d}"
            db.add(v)
        db.commit()


def test_publish_from_the_week_page_and_read_the_messages(city: Any) -> None:
    station, other = city.stations
    _phones(city, station)
    plan_id = generate(city, station)
    client = city.client
    overview = client.get(f"/s/{station}/?week={WEEK}").text
    assert "草稿" in overview and "发布本周安排" in overview
    assert f'href="/s/{station}/publish?week={WEEK}"' in overview
    grid = client.get(f"/s/{station}/grid?week={WEEK}").text
    assert "草稿" in grid  # every week page shows the status
    # the confirmation counts whom it will tell, before anything is written
    confirm = client.get(f"/s/{station}/publish?week={WEEK}")
    assert confirm.status_code == 200
    with Session(city.engine) as db:
        version = db.get(PlanVersion, plan_id)
        assert version is not None
        drafts = publication.pending_drafts(db, version)
        assert db.exec(select(OutboxMessage)).first() is None
    volunteers = sum(d.recipient_kind == "volunteer" for d in drafts)
    families = sum(d.recipient_kind == "beneficiary" for d in drafts)
    assert volunteers > 0 and families > 0
    assert f"发布后将通知 {volunteers} 位志愿者和 {families} 户服务对象家庭" in confirm.text
    assert "【邻里志愿服务·" in confirm.text  # one message as it will read
    csrf = csrf_of(confirm.text)
    # no CSRF token: refused, nothing published
    r = client.post(f"/s/{station}/publish", data={"plan": str(plan_id)}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(
        f"/s/{station}/publish", data={"plan": str(plan_id), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/s/{station}/messages?week={WEEK}"
    overview = client.get(f"/s/{station}/?week={WEEK}").text
    assert re.search(r"已发布（\d{4}-\d\d-\d\d \d\d:\d\d）", overview) and "发布本周安排</a>" not in overview
    page = client.get(f"/s/{station}/messages?week={WEEK}")
    assert page.status_code == 200
    html = page.text
    assert 'aria-current="page">通知</a>' in html
    assert html.count('class="secondary copy"') == volunteers + families
    assert f'href="/s/{station}/deliveries"' in html  # the delivery log
    assert "138****" in html and not re.search(r"1380013\d{4}", html)  # masked in the list
    link = re.search(rf'href="(/s/{station}/messages\.csv\?plan={plan_id}&amp;against=0)"', html)
    assert link is not None
    download = client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + volunteers + families
    assert any(re.fullmatch(r"1380013\d{4}", row[2]) for row in rows[1:])  # in full, for hand-sending
    text = client.get(f"/s/{station}/messages.txt?plan={plan_id}&against=0")
    assert text.status_code == 200 and text.text.count("收件人：") == volunteers + families
    # publishing again from a stale form changes nothing
    r = client.post(
        f"/s/{station}/publish", data={"plan": str(plan_id), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    with Session(city.engine) as db:
        assert len(db.exec(select(OutboxMessage)).all()) == volunteers + families
    # another station's pages and plan are 404
    for path in (
        f"/s/{other}/publish?week={WEEK}",
        f"/s/{other}/messages?week={WEEK}",
        f"/s/{other}/messages.csv?plan={plan_id}",
        f"/s/{station}/messages.txt?plan=99999",
    ):
        assert client.get(path).status_code == 404, path
    r = client.post(f"/s/{other}/publish", data={"plan": str(plan_id), "csrf_token": csrf})
    assert r.status_code == 404
    log_in(client, city.tokens[other])
    assert client.get(f"/s/{station}/messages.csv?plan={plan_id}").status_code == 404


def test_a_superseded_version_is_not_published_from_a_stale_form(city: Any) -> None:
    station = city.stations[0]
    first = generate(city, station)
    second = generate(city, station)  # generating again supersedes the first
    csrf = csrf_of(city.client.get(f"/s/{station}/publish?week={WEEK}").text)
    r = city.client.post(f"/s/{station}/publish", data={"plan": str(first), "csrf_token": csrf})
    assert r.status_code == 409 and "排班未能发布" in r.text
    assert f'name="plan" value="{second}"' in city.client.get(f"/s/{station}/publish?week={WEEK}").text


def test_the_messages_service_names_are_the_pages_chinese_names() -> None:
    """One set of Chinese names: the messages' (api.names) are the zh_CN catalogue's
    translations of the pages' labels, for every service code."""
    assert set(SERVICE_NAMES) == set(SERVICE_CODES) == set(labels.SERVICES)
    for code, name in SERVICE_NAMES.items():
        assert zh(labels.SERVICES[code]) == name, code


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"
