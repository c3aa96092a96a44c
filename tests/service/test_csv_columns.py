"""The spreadsheets' columns and the API's model family say the same thing.

The columns are derived from the models (``api.csvio.columns_of``): names, which are required
and each cell's kind.  ``api.csvio`` keeps only the CSV-only facts (a help line with an example,
the header order coordinators know).  These tests hold the derivation to the models by another
route (the JSON schema clients see), so a wrong kind, a dropped or relaxed field, or an override
naming a field that is gone fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from api import csvio
from api.models import BeneficiaryCreate, NeedPublic, SiteCreate, VolunteerCreate

# needs.csv rows are needs with their beneficiary: the public shape, not the create one.
FILES: dict[str, tuple[tuple[csvio.Column, ...], type[BaseModel]]] = {
    "volunteers": (csvio.VOLUNTEER_COLUMNS, VolunteerCreate),
    "beneficiaries": (csvio.BENEFICIARY_COLUMNS, BeneficiaryCreate),
    "needs": (csvio.NEED_COLUMNS, NeedPublic),
    "sites": (csvio.SITE_COLUMNS, SiteCreate),
}

POST_COLUMNS = [
    "volunteers_min",
    "volunteers_max",
    "priority",
    "lead_certifications",
    "lead_skills",
    "site_id",
]
"""needs.csv's columns of group posts (format 2), added after ``active`` so older sheets keep their order."""


@pytest.mark.parametrize("name", sorted(FILES))
def test_columns_are_the_models_fields(name: str) -> None:
    columns, model = FILES[name]
    assert sorted(c.name for c in columns) == sorted(model.model_fields)


@pytest.mark.parametrize("name", sorted(FILES))
def test_required_columns_are_the_models_required_fields(name: str) -> None:
    columns, model = FILES[name]
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    assert {c.name for c in columns if c.required} == required


@pytest.mark.parametrize("name", sorted(FILES))
def test_columns_are_named_once(name: str) -> None:
    columns, _ = FILES[name]
    assert len({c.name for c in columns}) == len(columns)


def _json_type(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[str, str | None]:
    """(type, item type) of a property of the JSON schema, ``null`` of an optional one dropped."""
    options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]
    assert len(options) == 1, schema
    option = options[0]
    if "$ref" in option:
        option = defs[option["$ref"].rsplit("/", 1)[1]]
    if "enum" in option:  # a Literal: text
        return "string", None
    items = option.get("items")
    if items is None:
        return option["type"], None
    return option["type"], ("object" if "$ref" in items else items.get("type"))


KINDS: dict[tuple[str, str | None], str] = {
    ("string", None): "text",
    ("number", None): "number",
    ("integer", None): "integer",
    ("boolean", None): "flag",
    ("array", "string"): "list",
    ("array", "object"): "certificates",
}
"""The cell kind each JSON type reads as."""


@pytest.mark.parametrize("name", sorted(FILES))
def test_column_kinds_read_what_the_schema_says(name: str) -> None:
    """Each column's kind is the one that reads the JSON type the API's schema gives the field."""
    columns, model = FILES[name]
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    kinds = {c.name: c.kind for c in columns}
    expected = {f: KINDS[_json_type(p, defs)] for f, p in schema["properties"].items()}
    assert kinds == expected


def test_an_override_of_a_field_that_is_gone_is_refused() -> None:
    """A help line or a placement naming no field of the model is an error, not silently ignored."""
    with pytest.raises(ValueError, match="no field"):
        csvio.columns_of(VolunteerCreate, {"colour": "Favourite colour."})
    with pytest.raises(ValueError, match="no field"):
        csvio.columns_of(VolunteerCreate, {}, after={"certificates": "colour"})


def test_the_header_order_coordinators_know() -> None:
    """Ids first; certificates after availability; a need's beneficiary right after its id; the
    ``active`` flags last (added after the rest, so older sheets keep their order), but in needs.csv
    the group posts' columns, added later still."""
    names = {n: [c.name for c in cols] for n, (cols, _) in FILES.items()}
    assert names["volunteers"][:9] == [
        "id",
        "name",
        "district",
        "team_id",
        "group_id",
        "skills",
        "availability",
        "certificates",
        "max_hours",
    ]
    assert names["needs"][:3] == ["id", "beneficiary_id", "service"]
    assert names["needs"][-len(POST_COLUMNS) - 1 :] == ["active", *POST_COLUMNS]
    assert all(cols[-1] == "active" for name, cols in names.items() if name != "needs")
