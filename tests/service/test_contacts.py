"""Contact details (issue 19): masked in every list, in full on the person's own record and in the
station's own export (which imports back unchanged), never echoed by an error, masked in the audit log.

The list walk reads every GET route from the application's OpenAPI schema, so a route added
later that shows people's contact details in full fails here until it masks them
(:mod:`api.contacts`) or is the person's own record.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from api_support import City
from fastapi import FastAPI
from sqlmodel import Session, select

from api.contacts import (
    CONTACT_FIELDS,
    mask,
    mask_address,
    mask_contact_name,
    mask_name,
    mask_phone,
    mask_wechat,
    masked,
)
from api.models import (
    AuditEntry,
    Beneficiary,
    BeneficiaryListItem,
    ServiceCertificate,
    Volunteer,
    VolunteerListItem,
    VolunteerPublic,
)
from api.services import certificates, spreadsheets

# The scoping test's ids of a station for every path parameter: a route added later with a new
# parameter gets it there, and is walked here too.  (pytest puts a test file's folder on the path
# only when it collects it; mypy knows the module by this name.)
sys.path.insert(0, str(Path(__file__).parents[1] / "system"))
from test_api_scoping import PUBLIC, _ids_of_station

# ------------------------------------------------------------------------ the masks


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+86 138 1234 1234", "+86 138****1234"),
        ("+8613812341234", "+86 138****1234"),
        ("0571-8888 1234", "057*****1234"),
        ("88881234", "****1234"),
        ("1234567", "1****67"),
        ("123456", "****56"),
        ("+44 20 7946 0958", "+442*****0958"),
    ],
)
def test_mask_phone(phone: str, shown: str) -> None:
    assert mask_phone(phone) == shown
    assert mask_phone(shown) == shown  # idempotent: a list model may be given a masked value
    digits = re.sub(r"\D", "", phone)
    assert sum(c.isdigit() for c in shown) <= len(digits) - 4  # at least 4 digits hidden


def test_mask_wechat_name_contact_address() -> None:
    assert mask_wechat("wang_li_88") == "w****8"
    assert mask_name("张三明") == "张*明"
    assert certificates.mask_name is mask_name  # the certificate's mask is this one, not a copy
    assert mask_contact_name("儿子 王强") == "儿子 王*"
    assert mask_contact_name("张三明") == "张*明"
    assert mask_address("幸福里 3 幢 2 单元 301") == "幸福里 ****"
    assert mask_address("幸福里3幢2单元301") == "幸福里 ****"
    assert mask_address("幸福小区东门") == "幸 ****"  # no number: only its first quarter
    assert mask_address("3 幢 301") == "****"
    for field, value in [("address", "幸福里 3 幢"), ("contact_name", "儿子 王强"), ("wechat", "wang_li_88")]:
        assert mask(field, mask(field, value)) == mask(field, value)
    assert mask("phone", None) is None and mask("name", "张三明") == "张三明"
    assert masked({"id": "v1", "phone": "13812341234", "address": ""}) == {
        "id": "v1",
        "phone": "138****1234",
        "address": "",
    }
    assert {"phone", "wechat", "address", "contact_name", "contact_phone"} == CONTACT_FIELDS


def test_list_model_masks_whatever_it_is_given() -> None:
    item = VolunteerListItem.model_validate(
        {
            "id": "v1",
            "district": "d",
            "skills": [],
            "availability": [],
            "max_hours": 3,
            "phone": "13812341234",
            "wechat": "wang_li_88",
            "station_id": "s",
        }
    )
    assert (item.phone, item.wechat) == ("138****1234", "w****8")
    assert item.model_dump()["phone"] == "138****1234"
    # Built without validation, as the list routes build them: masked on the way out.
    built = VolunteerListItem.model_construct(id="v1", phone="13812341234", wechat="wang_li_88")
    assert built.model_dump(include={"phone", "wechat"}) == {"phone": "138****1234", "wechat": "w****8"}
    ben = BeneficiaryListItem.model_construct(id="b1", address="幸福里 3 幢", contact_name="儿子 王强")
    assert ben.model_dump(mode="json", include={"address", "contact_name"}) == {
        "address": "幸福里 ****",
        "contact_name": "儿子 王*",
    }


# ------------------------------------------------------------------------ every GET route


def contact_values(city: City) -> dict[str, list[str]]:
    """Every contact detail stored in the city, by field (the seed gives everyone some)."""
    out: dict[str, list[str]] = {f: [] for f in sorted(CONTACT_FIELDS)}
    with Session(city.engine) as session:
        for v in session.exec(select(Volunteer)):
            out["phone"] += [v.phone] if v.phone else []
            out["wechat"] += [v.wechat] if v.wechat else []
        for b in session.exec(select(Beneficiary)):
            out["address"] += [b.address] if b.address else []
            out["contact_name"] += [b.contact_name] if b.contact_name else []
            out["contact_phone"] += [b.contact_phone] if b.contact_phone else []
    assert all(out.values()), "the seed gives every kind of contact detail"
    return out


def text_of(r: httpx.Response) -> str:
    """A response's text: a workbook's sheets and strings unzipped, anything else decoded."""
    if r.content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return r.content.decode("utf-8", "replace")


OWN = {
    "/v1/stations/{station_id}/volunteers/{volunteer_id}",
    "/v1/stations/{station_id}/beneficiaries/{beneficiary_id}",
}
"""The person's own record: contact details in full (that person's only)."""

EXPORTS = {
    f"/v1/stations/{{station_id}}/{kind}.{fmt}"
    for kind in ("volunteers", "beneficiaries")
    for fmt in ("csv", "xlsx")
}
"""The station's own working files (re-imported): contact details in full, the station's only."""


def test_no_route_shows_a_full_contact_detail_but_the_persons_own(city: City) -> None:
    """Walk every GET route with a station's and the centre's token: no full contact detail
    anywhere, but on the person's own record and in the station's own export files."""
    station, other = city.stations
    ids = _ids_of_station(city, station)
    values = contact_values(city)
    everything = [v for vs in values.values() for v in vs]
    with Session(city.engine) as session:
        own_v = session.get(Volunteer, ids["volunteer_id"])
        own_b = session.get(Beneficiary, ids["beneficiary_id"])
        theirs = [
            v.phone for v in session.exec(select(Volunteer).where(Volunteer.station_id == other)) if v.phone
        ]
        assert own_v is not None and own_b is not None and own_v.phone and own_b.contact_phone
    # A certificate, so that the public check route has a real code to show.
    city.client.get(f"/v1/volunteers/{ids['volunteer_id']}/certificate.pdf", headers=city.headers(station))
    with Session(city.engine) as session:
        code = session.exec(select(ServiceCertificate.code)).first()
    paths: dict[str, dict[str, Any]] = city.client.get("/openapi.json").json()["paths"]
    walked = []
    for template, operations in paths.items():
        get = operations.get("get")
        if get is None or not template.startswith("/v1/"):
            continue
        path = template.format(code=code or "A" * 16) if template in PUBLIC else template.format(**ids)
        query = {
            p["name"]: ids[p["name"]]
            for p in get.get("parameters", [])
            if p["in"] == "query" and p["name"] in ids
        }
        for who in (station, None):
            r = city.client.get(path, params=query, headers=city.headers(who))
            assert r.status_code < 500, (template, r.text)
            text = text_of(r)
            walked.append((template, r.status_code))
            if template in OWN:
                own = (own_v.phone, own_v.wechat) if "volunteer_id" in template else (own_b.contact_phone,)
                assert all(v in text for v in own if v), (template, text[:300])
                leaked = [
                    v
                    for v in everything
                    if v in text and v not in own and v not in (own_b.address, own_b.contact_name)
                ]
            elif template in EXPORTS:
                kind = "phone" if "volunteers" in template else "contact_phone"
                if r.status_code == 200 and template.endswith(".csv"):
                    assert any(v in text for v in values[kind]), template  # the working file: in full
                leaked = [v for v in theirs if v in text]  # another station's: never
            else:
                leaked = [v for v in everything if v in text]
            assert not leaked, f"GET {template} ({'centre' if who is None else 'station'}) shows {leaked[:3]}"
    got = {t for t, _ in walked}
    for route in (
        "/v1/stations/{station_id}/volunteers",
        "/v1/stations/{station_id}/beneficiaries",
        *OWN,
        *EXPORTS,
    ):
        assert route in got, route
    # The lists show them masked (so the coordinator sees whom to call, not the number).
    listed = city.client.get(f"/v1/stations/{station}/volunteers", headers=city.headers(station)).json()
    mine = next(v for v in listed if v["id"] == own_v.id)
    assert mine["phone"] == mask_phone(own_v.phone)
    listed = city.client.get(f"/v1/stations/{station}/beneficiaries", headers=city.headers(station)).json()
    ben = next(b for b in listed if b["id"] == own_b.id)
    assert (ben["address"], ben["contact_name"], ben["contact_phone"]) == (
        mask_address(own_b.address),
        mask_contact_name(own_b.contact_name),
        mask_phone(own_b.contact_phone),
    )


def test_another_stations_contacts_are_404(city: City) -> None:
    station, other = city.stations
    theirs = _ids_of_station(city, other)
    for path in (f"volunteers/{theirs['volunteer_id']}", f"beneficiaries/{theirs['beneficiary_id']}"):
        r = city.client.get(f"/v1/stations/{other}/{path}", headers=city.headers(station))
        assert r.status_code == 404, r.text


# ------------------------------------------------------------------------ errors, audit, export


BAD_PHONE = "1381234x5678"
BAD_WECHAT = "9wxid-starts-with-a-digit"


def _volunteer(**more: Any) -> dict[str, Any]:
    return {
        "id": "vc1",
        "district": "",
        "skills": ["companionship"],
        "availability": ["mon-am"],
        "max_hours": 4,
        **more,
    }


def test_a_bad_contact_is_named_never_echoed(city: City) -> None:
    station = city.stations[0]
    with Session(city.engine) as session:
        district = session.exec(select(Volunteer.district).where(Volunteer.station_id == station)).first()
    base = f"/v1/stations/{station}/volunteers"
    for body, field in (
        (_volunteer(district=district, phone=BAD_PHONE), "phone"),
        (_volunteer(district=district, wechat=BAD_WECHAT), "wechat"),
        (_volunteer(district=district, phone="12"), "phone"),
    ):
        r = city.client.post(base, json=body, headers=city.headers(station))
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert detail.startswith(f"{field}: "), detail
        assert str(body[field]) not in r.text
    assert (
        city.client.post(
            base, json=_volunteer(district=district, phone="13812341234"), headers=city.headers(station)
        ).status_code
        == 201
    )
    r = city.client.patch(f"{base}/vc1", json={"phone": BAD_PHONE}, headers=city.headers(station))
    assert r.status_code == 422 and r.json()["detail"].startswith("phone: ") and BAD_PHONE not in r.text
    r = city.client.patch(
        f"/v1/stations/{station}/beneficiaries/{_ids_of_station_beneficiary(city, station)}",
        json={"contact_phone": BAD_PHONE},
        headers=city.headers(station),
    )
    assert (
        r.status_code == 422 and r.json()["detail"].startswith("contact_phone: ") and BAD_PHONE not in r.text
    )
    header = "id,district,skills,availability,max_hours,phone"
    csv = f"{header}\nvc2,{district},companionship,mon-am,4,{BAD_PHONE}\n"
    r = city.client.put(
        f"{base}.csv", content=csv.encode(), headers={**city.headers(station), "Content-Type": "text/csv"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        "row 2: phone: not a phone number: digits, a leading + and spaces or hyphens allowed"
    ]
    assert BAD_PHONE not in r.text


def _ids_of_station_beneficiary(city: City, station: str) -> str:
    with Session(city.engine) as session:
        found = session.exec(select(Beneficiary.id).where(Beneficiary.station_id == station)).first()
    assert found is not None
    return found


def test_audit_log_records_contacts_masked(city: City) -> None:
    station = city.stations[0]
    with Session(city.engine) as session:
        district = session.exec(select(Volunteer.district).where(Volunteer.station_id == station)).first()
    base = f"/v1/stations/{station}/volunteers"
    r = city.client.post(
        base,
        json=_volunteer(district=district, phone="13712345678", wechat="audit_wx_77"),
        headers=city.headers(station),
    )
    assert r.status_code == 201, r.text
    assert (
        city.client.patch(
            f"{base}/vc1", json={"phone": "13698765432"}, headers=city.headers(station)
        ).status_code
        == 200
    )
    ben = _ids_of_station_beneficiary(city, station)
    r = city.client.patch(
        f"/v1/stations/{station}/beneficiaries/{ben}",
        json={
            "address": "和睦里 9 幢 1 单元 909",
            "contact_name": "女儿 赵晓燕",
            "contact_phone": "13511112222",
        },
        headers=city.headers(station),
    )
    assert r.status_code == 200, r.text
    with Session(city.engine) as session:
        entries = {(e.entity, e.entity_id, e.action): e.changes for e in session.exec(select(AuditEntry))}
    created = entries[("volunteer", "vc1", "create")]
    assert created["phone"] == [None, "137****5678"] and created["wechat"] == [None, "a****7"]
    assert entries[("volunteer", "vc1", "update")]["phone"] == ["137****5678", "136****5432"]
    changed = entries[("beneficiary", ben, "update")]
    assert changed["address"][1] == "和睦里 ****"
    assert changed["contact_name"][1] == "女儿 赵*燕"
    assert changed["contact_phone"][1] == "135****2222"
    shown = city.client.get("/v1/audit", headers=city.headers(None)).text
    for value in ("13712345678", "13698765432", "audit_wx_77", "和睦里 9 幢", "赵晓燕", "13511112222"):
        assert value not in str(entries) and value not in shown


def test_export_has_full_numbers_and_imports_back_unchanged(city: City) -> None:
    """The station's own file carries full numbers (a formula-like one neutralised); importing
    it back changes nothing, and never writes a masked number over a stored one."""
    station = city.stations[0]
    vid = _first(city, Volunteer, station)
    ben = _ids_of_station_beneficiary(city, station)
    h = city.headers(station)
    assert (
        city.client.patch(
            f"/v1/stations/{station}/volunteers/{vid}", json={"phone": "+86 138 1234 1234"}, headers=h
        ).status_code
        == 200
    )
    assert (
        city.client.patch(
            f"/v1/stations/{station}/beneficiaries/{ben}", json={"contact_phone": "-8888 1234"}, headers=h
        ).status_code
        == 422
    )
    before_v = city.client.get(f"/v1/stations/{station}/volunteers/{vid}", headers=h).json()
    before_b = city.client.get(f"/v1/stations/{station}/beneficiaries/{ben}", headers=h).json()
    for kind in ("volunteers", "beneficiaries"):
        for fmt in ("csv", "xlsx"):
            exported = city.client.get(f"/v1/stations/{station}/{kind}.{fmt}", headers=h)
            assert exported.status_code == 200
            if kind == "volunteers" and fmt == "csv":
                assert (
                    "'+86 138 1234 1234" in exported.text
                )  # in full, neutralised (a leading + is a formula)
            if kind == "beneficiaries" and fmt == "csv":
                assert before_b["contact_phone"] in exported.text and before_b["address"] in exported.text
            # The API imports CSV; a workbook as the 人员 page's upload reads it.
            content = exported.content if fmt == "csv" else spreadsheets.xlsx_upload(exported.content).data
            r = city.client.put(
                f"/v1/stations/{station}/{kind}.csv",
                content=content,
                headers={**h, "Content-Type": "text/csv"},
            )
            assert r.status_code == 200, r.text
    assert city.client.get(f"/v1/stations/{station}/volunteers/{vid}", headers=h).json() == before_v
    assert city.client.get(f"/v1/stations/{station}/beneficiaries/{ben}", headers=h).json() == before_b
    # A masked number (copied from a list) is not a phone number: refused, the stored one kept.
    exported = city.client.get(f"/v1/stations/{station}/volunteers.csv", headers=h).text
    csv = exported.replace("'+86 138 1234 1234", mask_phone("+86 138 1234 1234"))
    assert csv != exported
    r = city.client.put(
        f"/v1/stations/{station}/volunteers.csv",
        content=csv.encode(),
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["errors"][0].startswith("row 2: phone: "), r.text
    assert city.client.get(f"/v1/stations/{station}/volunteers/{vid}", headers=h).json() == before_v


def _first(city: City, model: Any, station: str) -> str:
    with Session(city.engine) as session:
        found = session.exec(select(model.id).where(model.station_id == station)).first()
    assert found is not None
    return str(found)


def test_a_response_failing_its_model_is_logged_without_its_values(
    city: City, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug that makes a response fail its model (a stored row out of bounds) answers 500 and logs
    where, never the values (FastAPI's exception text holds them)."""
    app = cast(FastAPI, city.client.app)

    @app.get("/v1/test-bad-response", response_model=VolunteerPublic)
    def bad() -> dict[str, Any]:
        return {
            "id": "v1",
            "district": "d",
            "skills": [],
            "availability": [],
            "max_hours": 999,
            "phone": "x13577779999",
        }

    with caplog.at_level("DEBUG"):
        r = city.client.get("/v1/test-bad-response", headers=city.headers(None))
    assert r.status_code == 500 and "13577779999" not in r.text
    assert "test-bad-response" in caplog.text and "max_hours" in caplog.text
    assert "13577779999" not in caplog.text
