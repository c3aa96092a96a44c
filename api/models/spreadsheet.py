"""What a CSV import answers: ``ImportResult``, or ``ImportErrors`` (nothing written)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImportResult(BaseModel):
    """What a CSV import did."""

    created: int = Field(description="Rows whose id was new.")
    updated: int = Field(description="Rows whose id existed (changed or not).")


class ImportErrors(BaseModel):
    """Why a CSV import was refused (nothing was written)."""

    detail: str = Field(description="The first error.")
    errors: list[str] = Field(description="Every error, 'row N: column: message'; the header is row 1.")
