"""The spreadsheets' columns and the API's model family say the same thing.

``api.csvio`` keeps the CSV-only facts (a cell's kind, a help line with an example, the
header order coordinators know); the field names and which of them are required belong to
the models.  These tests fail as soon as one side gains, loses or relaxes a field without
the other.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from api import csvio
from api.models import BeneficiaryCreate, NeedPublic, VolunteerCreate

# needs.csv rows are needs with their beneficiary: the public shape, not the create one.
FILES: dict[str, tuple[tuple[csvio.Column, ...], type[BaseModel]]] = {
    "volunteers": (csvio.VOLUNTEER_COLUMNS, VolunteerCreate),
    "beneficiaries": (csvio.BENEFICIARY_COLUMNS, BeneficiaryCreate),
    "needs": (csvio.NEED_COLUMNS, NeedPublic),
}


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
