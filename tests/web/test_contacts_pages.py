"""人员 pages and contact details (issue 19): masked in the lists, in full (with a tel: link) on
the person's page, entered with Chinese labels and errors that name the field, exported in full
in the station's own workbook."""

from __future__ import annotations

import io
import os
import re
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, select
from test_web import log_in, unlabelled

from api.contacts import mask_address, mask_contact_name, mask_phone, mask_wechat
from api.models import Beneficiary, District, Volunteer

os.environ.setdefault("LINLI_SECRET_KEY", "test-secret-key-for-the-web-tests-only")

PHONE = "13912345678"
WECHAT = "zhang_web_01"


def _district(city: Any) -> str:
    with Session(city.engine) as db:
        d = db.exec(select(District)).first()
        assert d is not None
        return d.id


def _volunteer(district: str, **more: Any) -> dict[str, Any]:
    return {
        "id": "vcontact1",
        "name": "张三明",
        "district": district,
        "skills": ["companionship"],
        "availability": ["mon-am"],
        "max_hours": "4",
        **more,
    }


def test_volunteer_contacts_form_list_and_page(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    district = _district(city)
    form = client.get(f"/s/{station}/people/volunteers/new")
    assert form.status_code == 200 and unlabelled(form.text) == []
    assert "手机号" in form.text and "微信号" in form.text and 'type="tel"' in form.text
    # A bad number: the message names the field in Chinese and does not repeat the number.
    bad = "139-1234-567x"
    r = client.post(
        f"/s/{station}/people/volunteers/new",
        data={**_volunteer(district, phone=bad, wechat="1abc"), "csrf_token": csrf},
    )
    assert r.status_code == 422
    errors = " ".join(re.findall(r'<p class="error" id="e-[^"]+">([^<]*)</p>', r.text))
    assert "手机号：不是有效的电话号码" in errors and "微信号：不是有效的微信号" in errors, errors
    assert bad not in errors and "1abc" not in errors
    with Session(city.engine) as db:
        assert db.get(Volunteer, "vcontact1") is None
    r = client.post(
        f"/s/{station}/people/volunteers/new",
        data={**_volunteer(district, phone=PHONE, wechat=WECHAT), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with Session(city.engine) as db:
        stored = db.get(Volunteer, "vcontact1")
        assert stored is not None and (stored.phone, stored.wechat) == (PHONE, WECHAT)
    # The person's page: in full, with a link a coordinator's phone dials.
    page = client.get(f"/s/{station}/people/volunteers/vcontact1")
    assert f'value="{PHONE}"' in page.text and f'value="{WECHAT}"' in page.text
    assert f'href="tel:{PHONE}"' in page.text and f"拨打 {PHONE}" in page.text
    # The list: masked, for this volunteer and every seeded one.
    listing = client.get(f"/s/{station}/people", params={"kind": "volunteers"})
    assert listing.status_code == 200 and "手机号" in listing.text
    with Session(city.engine) as db:
        vols = list(db.exec(select(Volunteer).where(Volunteer.station_id == station)))
    shown = [v for v in vols if f">{v.id}</a>" in listing.text]
    assert shown and all(v.phone for v in shown)
    for v in shown:
        assert v.phone is not None and v.phone not in listing.text, v.id
        assert mask_phone(v.phone) in listing.text
        assert v.wechat is None or v.wechat not in listing.text
    found = client.get(f"/s/{station}/people", params={"q": "vcontact1"})
    assert mask_phone(PHONE) in found.text and PHONE not in found.text
    assert mask_wechat(WECHAT) not in found.text  # the list does not show WeChat ids at all
    # The station's own workbook: in full (it imports back).
    xlsx = client.get(f"/s/{station}/people.xlsx", params={"q": "vcontact1"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[header.index("phone")] == PHONE and row[header.index("wechat")] == WECHAT


def test_beneficiary_contacts_form_list_and_page(city: Any) -> None:
    station = city.stations[0]
    client = city.client
    csrf = log_in(client, city.tokens[station])
    with Session(city.engine) as db:
        ben = db.exec(select(Beneficiary).where(Beneficiary.station_id == station)).first()
        assert ben is not None
        ident, category, district, priority = ben.id, ben.category, ben.district, ben.priority
    form = client.get(f"/s/{station}/people/beneficiaries/{ident}")
    assert form.status_code == 200 and unlabelled(form.text) == []
    assert "地址" in form.text and "联系人" in form.text and "联系电话" in form.text
    data = {
        "id": ident,
        "category": category,
        "district": district,
        "priority": str(priority),
        "address": "幸福里 3 幢 2 单元 301",
        "contact_name": "儿子 王强",
        "contact_phone": "0937-6281234",
        "csrf_token": csrf,
    }
    r = client.post(f"/s/{station}/people/beneficiaries/{ident}", data={**data, "contact_phone": "12"})
    assert r.status_code == 422 and "联系电话：至少 6 个字符" in r.text
    r = client.post(f"/s/{station}/people/beneficiaries/{ident}", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/s/{station}/people/beneficiaries/{ident}")
    assert 'value="幸福里 3 幢 2 单元 301"' in page.text and 'value="儿子 王强"' in page.text
    assert 'href="tel:09376281234"' in page.text
    listing = client.get(f"/s/{station}/people", params={"kind": "beneficiaries", "q": ident})
    assert mask_contact_name("儿子 王强") == "儿子 王*" and "儿子 王*" in listing.text
    assert mask_phone("0937-6281234") in listing.text and "6281234" not in listing.text
    assert "王强" not in listing.text and "幸福里 3 幢" not in listing.text
    assert mask_address("幸福里 3 幢 2 单元 301") not in listing.text  # the list shows no address
