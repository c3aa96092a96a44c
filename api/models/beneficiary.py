"""The beneficiary family: ``BeneficiaryBase`` (every field, declared once), the ``Beneficiary`` table,
``BeneficiaryCreate`` (also one row of ``beneficiaries.csv``), ``BeneficiaryUpdate`` (a PATCH) and
``BeneficiaryPublic`` (with needs)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    FieldSerializationInfo,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from api.contacts import mask
from api.models.common import (
    ADDRESS_MAX_LENGTH,
    FORBID,
    KEY_TEXT,
    PLAIN_TEXT,
    Flag,
    Key,
    Phone,
    both_or_neither,
    partial,
)
from api.models.need import NeedPublic
from matcher.format.bounds import EXCLUDED_MAX, Id, Latitude, Longitude, Name, Priority
from matcher.format.schema import Category, Gender, IdList


class BeneficiaryBase(SQLModel):
    """A person the station serves: the table's columns and the request's fields."""

    id: Key = Field(primary_key=True, sa_type=KEY_TEXT, description="Beneficiary id, unique in the city.")
    name: Name = Field(default="", sa_type=PLAIN_TEXT, description="Name (personal data: never logged).")
    category: Category = Field(description="elderly, disabled, child, migrant_worker or community.")
    district: Id = Field(
        foreign_key="district.id", sa_type=PLAIN_TEXT, description="District the beneficiary lives in."
    )
    priority: Priority = Field(description="1-5; 5 is the most vulnerable.")
    volunteer_gender: Gender | None = Field(
        default=None, sa_type=PLAIN_TEXT, description="If set, only volunteers of that gender may serve."
    )
    excluded_volunteers: Annotated[IdList, Field(max_length=EXCLUDED_MAX)] = Field(
        default_factory=list,
        sa_type=JSON,
        description="The station's volunteers never to be paired with this beneficiary.",
    )
    latitude: Latitude | None = Field(default=None, description="Latitude (with longitude), or absent.")
    longitude: Longitude | None = Field(default=None, description="Longitude (with latitude), or absent.")
    address: Annotated[Name, Field(max_length=ADDRESS_MAX_LENGTH)] = Field(
        default="",
        sa_type=PLAIN_TEXT,
        description="Where the volunteer goes, e.g. 幸福里 3 幢 2 单元 301 (personal data), or empty.",
    )
    contact_name: Name = Field(
        default="",
        sa_type=PLAIN_TEXT,
        description="The family's contact person, e.g. a son or a neighbour (personal data), or empty.",
    )
    contact_phone: Phone | None = Field(
        default=None,
        sa_type=PLAIN_TEXT,
        description="The contact person's phone (personal data: never logged, masked in lists), or absent.",
    )
    active: Flag = Field(
        default=True,
        description="False once deactivated (DELETE): left out of lists and plans (needs too), kept for"
        " history.",
    )


class Beneficiary(BeneficiaryBase, table=True):
    """A person the station serves (personal data: never logged)."""

    station_id: str = Field(foreign_key="station.id", index=True)


class BeneficiaryCreate(BeneficiaryBase):
    """A person the station serves (also one row of ``beneficiaries.csv``)."""

    model_config = FORBID

    @model_validator(mode="after")
    def _location(self) -> Self:
        both_or_neither(self.latitude, self.longitude)
        return self


class BeneficiaryUpdate(partial(BeneficiaryCreate)):  # type: ignore[misc]  # fields made from BeneficiaryCreate's
    """A change to a beneficiary: only the fields sent change (the id cannot; needs: their own routes).
    The beneficiary it makes is checked whole, as a registration is."""


class BeneficiaryPublic(BeneficiaryCreate):
    """A beneficiary of a station, with needs (ended ones too, ``active`` false)."""

    station_id: str = Field(description="The beneficiary's station.")
    needs: list[NeedPublic] = Field(default_factory=list, description="Standing needs, by id.")


class BeneficiaryListItem(BeneficiaryPublic):
    """A beneficiary as a list shows them: address, contact person and phone masked
    (``幸福里 ****``, ``儿子 王*``, ``138****1234``).

    Every list of beneficiaries answers with this model, so a list route cannot show them in
    full (:mod:`api.contacts`); only the beneficiary's own ``GET …/beneficiaries/{id}``
    (:class:`BeneficiaryPublic`) does."""

    address: str = Field(default="", description="Address, masked to its community (幸福里 ****), or empty.")
    contact_name: str = Field(default="", description="Contact person, masked (儿子 王*), or empty.")
    contact_phone: str | None = Field(
        default=None, description="Contact phone, masked (138****1234), or absent."
    )

    @field_validator("address", "contact_name", "contact_phone", mode="before")
    @classmethod
    def _masked(cls, value: object, info: ValidationInfo) -> object:
        return mask(str(info.field_name), value)

    @field_serializer("address", "contact_name", "contact_phone")
    def _shown(self, value: object, info: FieldSerializationInfo) -> object:
        # Built without validation (``model_construct``, as the list routes do for speed and for
        # rows stored before a bound): masked on the way out too.
        return mask(info.field_name, value)
