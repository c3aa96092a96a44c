"""Exports and imports as coordinators' Excel meets them: formulas, encodings, byte-order marks.

* Every export (the station's volunteers, beneficiaries and needs, a plan's assignments) as
  CSV and as XLSX neutralises text a spreadsheet would run as a formula: in CSV the cell
  starts with ``'``, in XLSX it is a plain string cell (never a formula); numbers stay
  numbers; CSV export then import gives back the same data.
* CSV imports read UTF-8 (with or without a byte-order mark) and GBK/GB2312/GB18030, declared
  or not (Excel for Chinese saves GBK and declares nothing); an unknown charset or bytes that
  are no text are 422 with one line naming the encoding.
* JSON with a UTF-8 byte-order mark (Notepad writes one) is read by the CLI and the service.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from api_support import City
from helpers import make_problem
from openpyxl import load_workbook
from sqlmodel import Session

from api import csvio, tables
from api.models import Beneficiary, Need, PlanVersion, Volunteer
from linli.cli import main

WEEK = "2026-12-07"
BOM = b"\xef\xbb\xbf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TRICKY = [
    '=HYPERLINK("http://x","y")',
    "+cmd",
    "-1+2",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "'quoted",
    "<script>alert(1)</script>",
]
"""Names a spreadsheet would run (and two it would not, which must come back unchanged)."""
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM), body[:20]
    return list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"), newline="")))


def _xlsx_rows(body: bytes) -> list[list[Any]]:
    """The sheet's values, after checking that no cell is a formula and the header is bold and frozen."""
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    cells = list(sheet.iter_rows())
    assert all(cell.font.bold for cell in cells[0])
    formulas = [cell.coordinate for row in cells for cell in row if cell.data_type == "f"]
    assert formulas == []
    for row in cells:
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (cell.coordinate, cell.value)
    return [[cell.value for cell in row] for row in cells]


def _safe(text: str) -> bool:
    """Whether a spreadsheet shows ``text`` as text."""
    return not text.startswith(DANGEROUS)


# ------------------------------------------------------------------------ the writer itself


@pytest.mark.parametrize("text", [*TRICKY, "'", "''x", "", "王芳", "a=b", " =x"])
def test_neutralise_round_trips(text: str) -> None:
    """Formula-looking text gets a leading quote; restore() gives the text back exactly."""
    neutral = tables.neutralise(text)
    assert _safe(neutral)
    assert neutral == (("'" + text) if text.startswith((*DANGEROUS, "'")) else text)
    assert tables.restore(neutral) == text
    assert csvio.read_cell(csvio.write_cell(text, "text"), "text") == (text or None)


def test_csv_writer_neutralises_text_not_numbers() -> None:
    """Text cells are neutralised, header too; numbers and flags are written as imports read them."""
    body = tables.csv_bytes(
        ["=h", "n", "f", "x"],
        [["-1+2", -73.25, True, None], ["@SUM(A1)", 2.0, False, 3], ["王芳", 1e-7, 1 / 3, 10**15]],
    )
    assert body.startswith(BOM) and body.count(BOM) == 1
    assert body.endswith(b"\r\n")
    assert _csv_rows(body) == [
        ["'=h", "n", "f", "x"],
        ["'-1+2", "-73.25", "true", ""],
        ["'@SUM(A1)", "2", "false", "3"],
        ["王芳", "1e-07", "0.3333333333333333", "1000000000000000"],
    ]
    with pytest.raises(ValueError, match="nan"):
        tables.csv_bytes(["n"], [[float("nan")]])


def test_xlsx_writer_writes_strings_never_formulas() -> None:
    """Formula-looking text is a string cell with the CSV's text; numbers are numbers; widths fit."""
    rows: list[list[tables.Cell]] = [[name, i - 0.5, i, i % 2 == 0] for i, name in enumerate(TRICKY)]
    rows.append(["王芳王芳王芳王芳王芳王芳", None, 7, None])
    rows.append(["bell\x07", 1, 2, True])
    body = tables.to_xlsx(["name", "hours", "sessions", "active"], rows, "plan")
    values = _xlsx_rows(body)
    assert values[0] == ["name", "hours", "sessions", "active"]
    for (name, hours, sessions, active), got in zip(rows, values[1:], strict=True):
        assert isinstance(name, str)
        # XML reads a carriage return back as a line feed (Excel's own line break in a cell).
        expected_name = tables.neutralise(name).replace("\x07", "\ufffd").replace("\r", "\n")
        assert got[0] == expected_name and _safe(got[0])
        assert got[1] == hours and (hours is None or isinstance(got[1], int | float))
        assert got[2] == sessions and isinstance(got[2], int)
        assert got[3] == (None if active is None else ("true" if active else "false"))
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None and sheet.title == "plan"
    assert _xlsx_rows(tables.to_xlsx(["id"], [])) == [["id"]]  # an empty station's export
    widths = [sheet.column_dimensions[letter].width for letter in "ABCD"]
    assert widths[0] >= 24 and all(8 <= w <= 62 for w in widths), widths  # 12 Chinese characters


def test_content_disposition_is_ascii_safe() -> None:
    """ASCII names as they are; others with an ASCII stand-in and the real name per RFC 5987."""
    assert tables.content_disposition("volunteers-s1.csv") == 'attachment; filename="volunteers-s1.csv"'
    header = tables.content_disposition('needs-东城"站.xlsx')
    assert header == (
        "attachment; filename=\"needs-____.xlsx\"; filename*=UTF-8''needs-%E4%B8%9C%E5%9F%8E%22%E7%AB%99.xlsx"
    )
    assert header.isascii()


# ------------------------------------------------------------------------ decoding


NAMES = "王芳,李奶奶,赵强"
RARE = "𠮷"  # in GB18030, not in GBK


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (NAMES.encode("utf-8"), None),
        (BOM + NAMES.encode("utf-8"), None),
        (BOM + NAMES.encode("utf-8"), "utf-8"),
        (BOM + NAMES.encode("utf-8"), "gbk"),  # the mark wins over a wrong declaration
        (NAMES.encode("gbk"), "gbk"),
        (NAMES.encode("gb2312"), "gb2312"),
        (NAMES.encode("gbk"), "gb18030"),
        (NAMES.encode("gbk"), None),
        ((NAMES + RARE).encode("gb18030"), None),
        ((NAMES + RARE).encode("gb18030"), "gb18030"),
    ],
)
def test_decode_reads_utf8_and_gbk(data: bytes, charset: str | None) -> None:
    """UTF-8 with or without BOM, and GBK/GB2312/GB18030 declared or recognised."""
    assert csvio.decode(data, charset).removesuffix(RARE) == NAMES


@pytest.mark.parametrize(
    ("data", "charset", "message"),
    [
        (NAMES.encode("gbk"), "utf-8", "body: not UTF-8 text (byte 0) as its charset declares"),
        (b"\x81\x30", "gbk", "body: not GBK (read as GB18030) text (byte 0) as its charset declares"),
        (NAMES.encode("utf-8"), "latin-1", "content-type: charset 'latin-1' is not supported"),
        (b"PK\x03\x04\x14\x00\x06\x00", None, "body: contains a NUL character"),
        (b"\x89PNG\r\n\x1a\n", None, "body: neither UTF-8 (byte 0) nor GBK/GB18030 text"),
        (b"\xff\xfei\x00d\x00", None, "body: neither UTF-8 (byte 0) nor GBK/GB18030 text"),
    ],
)
def test_decode_refuses_with_one_line(data: bytes, charset: str | None, message: str) -> None:
    """An unknown charset, bytes that are not text in the declared one, or no text at all."""
    with pytest.raises(csvio.CsvError) as caught:
        csvio.decode(data, charset)
    assert caught.value.message.startswith(message)
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("header", "charset"),
    [
        (None, None),
        ("text/csv", None),
        ("text/csv; charset=GBK", "gbk"),
        ('text/csv;charset="gb2312"', "gb2312"),
        ("text/csv; header=present; charset=utf-8", "utf-8"),
        ("text/csv; charset=", None),
    ],
)
def test_charset_of(header: str | None, charset: str | None) -> None:
    """The declared charset, lower case."""
    assert csvio.charset_of(header) == charset


# ------------------------------------------------------------------------ the service


def _post(city: City, station: str, path: str, body: dict[str, Any]) -> None:
    r = city.client.post(f"/v1/stations/{station}/{path}", json=body, headers=city.headers(station))
    assert r.status_code == 201, r.text


def _tricky_people(
    city: City, station: str, stored_too: bool = True
) -> tuple[dict[str, str], dict[str, str]]:
    """Volunteers and beneficiaries named as in TRICKY; ({volunteer id: name}, {beneficiary id: name}).

    The API refuses control characters in names (a tab, a CR), so those people are written
    straight into the database, as rows kept from before that rule would be (unless
    ``stored_too`` is false: then they are left out).
    """
    info = city.client.get(f"/v1/stations/{station}", headers=city.headers(station)).json()
    names = [n for n in TRICKY if stored_too or n.isprintable()]
    volunteers = {f"v-t{TRICKY.index(n)}": n for n in names}
    beneficiaries = {f"b-t{TRICKY.index(n)}": n for n in names}
    for ident, name in volunteers.items():
        body = {
            "id": ident,
            "name": name,
            "district": info["district"],
            "skills": ["life_care"],
            "availability": ["mon-am"],
            "max_hours": 4,
            "latitude": -33.5,
            "longitude": 151.25,
        }
        if name.isprintable():
            _post(city, station, "volunteers", body)
        else:
            with Session(city.engine) as session:
                session.add(Volunteer(station_id=station, **body))
                session.commit()
    for ident, name in beneficiaries.items():
        body = {"id": ident, "name": name, "category": "elderly", "district": info["district"], "priority": 3}
        if name.isprintable():
            _post(city, station, "beneficiaries", body)
        else:
            with Session(city.engine) as session:
                session.add(Beneficiary(station_id=station, **body))
                session.commit()
    return volunteers, beneficiaries


def _everything(city: City, station: str) -> dict[str, Any]:
    h = city.headers(station)
    return {
        name: city.client.get(f"/v1/stations/{station}/{name}", headers=h).json()
        for name in ("volunteers", "beneficiaries")
    }


def test_people_exports_neutralise_every_formula(city: City) -> None:
    """Tricky names (and a need id written before any id rule) are text in every CSV and XLSX export."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    volunteers, beneficiaries = _tricky_people(city, station)
    with Session(city.engine) as session:
        # Stored directly: ids are the user's text too, whatever rules the API holds them to.
        session.add(
            Need(
                id="=n-1+1",
                beneficiary_id="b-t0",
                service="life_care",
                hours=1.5,
                sessions=1,
                windows=["mon-am"],
            )
        )
        session.commit()
    tricky = {"volunteers": volunteers, "beneficiaries": beneficiaries, "needs": {"=n-1+1": "=n-1+1"}}
    for name, expected in tricky.items():
        column = "id" if name == "needs" else "name"
        r = c.get(f"/v1/stations/{station}/{name}.csv", headers=h)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == f'attachment; filename="{name}-{station}.csv"'
        csv_rows = _csv_rows(r.content)
        x = c.get(f"/v1/stations/{station}/{name}.xlsx", headers=h)
        assert x.status_code == 200 and x.headers["content-type"] == XLSX
        assert x.headers["content-disposition"] == f'attachment; filename="{name}-{station}.xlsx"'
        xlsx_rows = _xlsx_rows(x.content)
        assert xlsx_rows[0] == csv_rows[0]
        at = csv_rows[0].index(column)
        for ident, text in expected.items():
            row = next(row for row in csv_rows if row[0] in (ident, tables.neutralise(ident)))
            assert row[at] == tables.neutralise(text)
            assert row[at].startswith("'") == text.startswith((*DANGEROUS, "'"))
            cells = next(cells for cells in xlsx_rows if cells[0] == row[0])
            assert cells[at] == row[at].replace("\r", "\n")  # XML's line ends
        for row in csv_rows:
            assert all(_safe(cell) or cell.lstrip("-").replace(".", "").isdigit() for cell in row), row
        if name == "volunteers":
            sheet_row = next(cells for cells in xlsx_rows if cells[0] == "v-t0")
            lat = xlsx_rows[0].index("latitude")
            assert sheet_row[lat] == -33.5 and isinstance(sheet_row[lat], float)
            assert csv_rows[[r[0] for r in csv_rows].index("v-t0")][lat] == "-33.5"


def test_csv_export_then_import_gives_the_same_data(city: City) -> None:
    """Volunteers and beneficiaries with tricky names: re-importing the export changes nothing."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    # Names with control characters are refused on import (bounds), so they cannot round-trip.
    volunteers, _ = _tricky_people(city, station, stored_too=False)
    before = _everything(city, station)
    for name in ("volunteers", "beneficiaries", "needs"):
        exported = c.get(f"/v1/stations/{station}/{name}.csv", headers=h).content
        r = c.put(
            f"/v1/stations/{station}/{name}.csv",
            content=exported,
            headers={**h, "Content-Type": "text/csv; charset=utf-8"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 0
    assert _everything(city, station) == before
    names = {v["id"]: v["name"] for v in before["volunteers"]}
    assert [names[ident] for ident in volunteers] == [n for n in TRICKY if n.isprintable()]


def test_plan_exports_neutralise_ids(city: City) -> None:
    """Need, beneficiary, service and volunteer cells of a plan's CSV and XLSX are neutralised."""
    station = city.stations[0]
    h = city.headers(station)
    r = city.client.post(f"/v1/stations/{station}/plans", json={"week_start": WEEK}, headers=h)
    plan_id = r.json()["id"]
    done = city.wait(plan_id, station)
    assert done["state"] == "done" and done["plan"]["assignments"], done
    with Session(city.engine) as session:
        # A plan whose ids and codes are formula-looking text, as data stored before any rule.
        version = session.get(PlanVersion, plan_id)
        assert version is not None and version.plan is not None
        problem, plan = copy.deepcopy(version.problem), copy.deepcopy(version.plan)
        first = plan["assignments"][0]
        need = next(n for n in problem["needs"] if n["id"] == first["need"])
        need.update(id="+n1", beneficiary="@b1", service="-1+2", hours=1.5)
        first.update(need="+n1", volunteer='=HYPERLINK("http://x","y")')
        version.problem, version.plan = problem, plan
        session.add(version)
        session.commit()
    r = city.client.get(f"/v1/plans/{plan_id}/assignments.csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8", r.text
    name = f"plan-{station}-{WEEK}-v{done['version']}"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    rows = _csv_rows(r.content)
    assert rows[0] == [
        "need",
        "beneficiary",
        "service",
        "hours",
        "sessions",
        "volunteer",
        "slots",
        "reasons",
        "assignment_id",
        "standins",
    ]
    assert len(rows) - 1 == len(plan["assignments"]) + len(plan["unmet"])
    row = next(row for row in rows if row[0] == "'+n1")
    assert row[:4] == ["'+n1", "'@b1", "'-1+2", "1.5"]
    assert row[5] == '\'=HYPERLINK("http://x","y")'
    assert all(_safe(cell) for row in rows for cell in row)
    x = city.client.get(f"/v1/plans/{plan_id}/assignments.xlsx", headers=h)
    assert x.status_code == 200 and x.headers["content-type"] == XLSX
    assert x.headers["content-disposition"] == f'attachment; filename="{name}.xlsx"'
    cells = _xlsx_rows(x.content)
    assert [c for c in cells[0]] == rows[0]
    got = next(c for c in cells if c[0] == "'+n1")
    assert got[:6] == ["'+n1", "'@b1", "'-1+2", 1.5, need["sessions"], row[5]]
    assert all(_safe(v) for c in cells for v in c if isinstance(v, str))
    assert len(cells) == len(rows)


def test_csv_imports_in_each_encoding(city: City) -> None:
    """The same sheet in UTF-8, UTF-8 with BOM, GBK (declared or not), GB2312 and GB18030 imports alike."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    district = c.get(f"/v1/stations/{station}", headers=h).json()["district"]
    cases: list[tuple[str, str, str | None]] = [
        ("utf-8", "王芳", None),
        ("utf-8-sig", "李奶奶", None),
        ("utf-8-sig", "赵强", "utf-8"),
        ("gbk", "张伟", "gbk"),
        ("gbk", "刘洋", None),  # what Excel for Chinese saves, and no charset declared
        ("gb2312", "陈静", "gb2312"),
        ("gb18030", "杨" + RARE, "gb18030"),
        ("gb18030", "黄" + RARE, None),
        ("gbk", "周杰", "GBK"),
    ]
    for i, (codec, name, charset) in enumerate(cases):
        text = (
            "id,name,district,skills,availability,max_hours\r\n"
            f"v-enc{i},{name},{district},life_care;companionship,mon-am,3\r\n"
        )
        content_type = "text/csv" + (f"; charset={charset}" if charset else "")
        r = c.put(
            f"/v1/stations/{station}/volunteers.csv",
            content=text.encode(codec),
            headers={**h, "Content-Type": content_type},
        )
        assert (r.status_code, r.json()) == (200, {"created": 1, "updated": 0}), (codec, charset, r.text)
        got = c.get(f"/v1/stations/{station}/volunteers/v-enc{i}", headers=h).json()
        assert got["name"] == name, (codec, charset)


def test_csv_imports_refuse_unknown_encodings(city: City) -> None:
    """An unknown charset, bytes not in the declared one, or no text at all: 422, nothing written."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    before = _everything(city, station)
    text = "id,name\r\nv-x,王芳\r\n"
    cases = [
        (
            text.encode("utf-8"),
            "text/csv; charset=latin-1",
            "content-type: charset 'latin-1' is not supported",
        ),
        (text.encode("gbk"), "text/csv; charset=utf-8", "body: not UTF-8 text (byte 13)"),
        (b"id,name\r\n\x81\x00\x81\x00", "text/csv", "body: neither UTF-8 (byte 9) nor GBK/GB18030 text"),
        (b"id,name\r\nv-x,\xc4\xe3\x0e", "text/csv", "body: neither UTF-8 (byte 13) nor GBK/GB18030 text"),
    ]
    for data, content_type, message in cases:
        r = c.put(
            f"/v1/stations/{station}/volunteers.csv",
            content=data,
            headers={**h, "Content-Type": content_type},
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(message), r.json()
        assert r.json()["errors"] == [r.json()["detail"]]
    assert _everything(city, station) == before


def test_json_bodies_with_a_bom(city: City) -> None:
    """A JSON body starting with a UTF-8 byte-order mark: POST volunteers and POST /v1/solve accept it."""
    station = city.stations[0]
    c, h = city.client, city.headers(station)
    info = c.get(f"/v1/stations/{station}", headers=h).json()
    volunteer = {
        "id": "v-bom",
        "name": "王芳",
        "district": info["district"],
        "skills": ["life_care"],
        "availability": ["mon-am"],
        "max_hours": 2,
    }
    for content_type in ("application/json", "application/json; charset=utf-8"):
        body = (
            BOM + json.dumps({**volunteer, "id": f"v-bom-{len(content_type)}"}, ensure_ascii=False).encode()
        )
        r = c.post(
            f"/v1/stations/{station}/volunteers", content=body, headers={**h, "Content-Type": content_type}
        )
        assert r.status_code == 201, r.text
        assert r.json()["name"] == "王芳"
    problem = BOM + json.dumps(make_problem()).encode()
    r = c.post("/v1/solve", content=problem, headers={**city.headers(), "Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    assert city.wait(r.json()["id"])["state"] == "done"


def test_cli_reads_json_files_with_a_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`linli solve`, `validate`, `resolve` and `apply` read problem, plan and change files with a BOM."""

    def bom_file(name: str, doc: dict[str, Any] | str) -> str:
        text = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
        path = tmp_path / name
        path.write_bytes(BOM + text.encode("utf-8"))
        return str(path)

    problem = bom_file("problem.json", make_problem())
    assert main(["solve", problem, "--out", str(tmp_path / "plan.json"), "--time-limit", "5"]) == 0
    plan = bom_file("plan-bom.json", (tmp_path / "plan.json").read_text(encoding="utf-8"))
    changes = bom_file("changes.json", {"format": 1, "needs_cancelled": ["n1"]})
    capsys.readouterr()
    assert main(["validate", problem, plan]) == 0
    assert capsys.readouterr().out.startswith("valid: 1 assignments")
    assert main(["resolve", problem, "--plan", plan, "--changes", changes, "--time-limit", "5"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["assignments"] == [] and resolved["unmet"] == []  # the one need was cancelled
    assert main(["apply", problem, changes]) == 0
    assert json.loads(capsys.readouterr().out)["needs"] == []
