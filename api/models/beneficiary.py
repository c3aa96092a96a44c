"""The beneficiary family: the ``Beneficiary`` table, ``BeneficiaryCreate`` (also one row of
``beneficiaries.csv``) and ``BeneficiaryPublic`` (with needs)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from api.models.common import FORBID, Key, both_or_neither, json_list
from api.models.need import NeedPublic
from matcher.format import bounds
from matcher.format.bounds import EXCLUDED_MAX, Id, Latitude, Longitude, Name, Priority
from matcher.format.schema import Category, Gender, IdList


class Beneficiary(SQLModel, table=True):
    """A person the station serves (personal data: never logged)."""

    id: str = TableField(primary_key=True, max_length=bounds.ID_MAX_LENGTH)
    station_id: str = TableField(foreign_key="station.id", index=True)
    name: str = ""
    category: str
    district: str = TableField(foreign_key="district.id")
    priority: int = TableField(ge=bounds.PRIORITY_MIN, le=bounds.PRIORITY_MAX)
    volunteer_gender: str | None = None
    excluded_volunteers: list[str] = json_list()
    latitude: float | None = TableField(default=None, ge=-bounds.LATITUDE_MAX, le=bounds.LATITUDE_MAX)
    longitude: float | None = TableField(default=None, ge=-bounds.LONGITUDE_MAX, le=bounds.LONGITUDE_MAX)


class BeneficiaryCreate(BaseModel):
    """A person the station serves (also one row of ``beneficiaries.csv``)."""

    model_config = FORBID

    id: Key = Field(description="Beneficiary id, unique in the city.")
    name: Name = Field(default="", description="Name (personal data: never logged).")
    category: Category = Field(description="elderly, disabled, child, migrant_worker or community.")
    district: Id = Field(description="District the beneficiary lives in.")
    priority: Priority = Field(description="1-5; 5 is the most vulnerable.")
    volunteer_gender: Gender | None = Field(
        default=None, description="If set, only volunteers of that gender may serve."
    )
    excluded_volunteers: Annotated[IdList, Field(max_length=EXCLUDED_MAX)] = Field(
        default_factory=list, description="The station's volunteers never to be paired with this beneficiary."
    )
    latitude: Latitude | None = Field(default=None, description="Latitude (with longitude), or absent.")
    longitude: Longitude | None = Field(default=None, description="Longitude (with latitude), or absent.")

    @model_validator(mode="after")
    def _location(self) -> Self:
        both_or_neither(self.latitude, self.longitude)
        return self


class BeneficiaryPublic(BeneficiaryCreate):
    """A beneficiary of a station, with needs (ended ones too, ``active`` false)."""

    station_id: str = Field(description="The beneficiary's station.")
    needs: list[NeedPublic] = Field(default_factory=list, description="Standing needs, by id.")
