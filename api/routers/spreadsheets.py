"""The spreadsheet routes every people list has, registered once: ``GET …/{name}.csv``,
``GET …/{name}.xlsx`` (exports) and ``PUT …/{name}.csv`` (an all-or-nothing import)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from api import csvio
from api.deps import SessionDep, StationDep
from api.models import ImportResult
from api.services.spreadsheets import (
    CSV_BODY,
    CSV_OK,
    IMPORT_RESPONSES,
    XLSX_OK,
    CsvBody,
    CsvUpload,
    IncludeInactive,
    export,
    rejected,
)

Rows = Callable[[Session, str, bool], Sequence[dict[str, Any]]]
"""A station's records as column values: (session, station id, include inactive ones)."""

Upsert = Callable[[Session, str, CsvUpload], ImportResult | list[str]]
"""An import: the counts, or every bad row (nothing written)."""


def add_spreadsheet_routes(
    router: APIRouter,
    name: str,
    columns: Sequence[csvio.Column],
    rows: Rows,
    upsert: Upsert,
    *,
    records: str,
    what: str,
) -> None:
    """Register the export (CSV, XLSX) and import (CSV) routes of one list.

    Parameters
    ----------
    router
        The list's router (prefix ``/v1``).
    name
        The file's name: ``volunteers`` serves ``/stations/{station_id}/volunteers.csv``; the routes
        are named ``export_volunteers``, ``export_volunteers_xlsx`` and ``import_volunteers``.
    columns
        The file's columns.
    rows
        The records an export writes.
    upsert
        The import.
    records
        What the file holds, for the descriptions: ``the station's volunteers``.
    what
        The first sentence of the CSV export's description (which records it lists).
    """
    path = f"/stations/{{station_id}}/{name}"

    def export_csv(
        station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
    ) -> Response:
        return export("csv", columns, rows(session, station.id, include_inactive), name, station.id)

    def export_xlsx(
        station: StationDep, session: SessionDep, include_inactive: IncludeInactive = False
    ) -> Response:
        return export("xlsx", columns, rows(session, station.id, include_inactive), name, station.id)

    def import_csv(station: StationDep, session: SessionDep, body: CsvBody) -> ImportResult | JSONResponse:
        result = upsert(session, station.id, body)
        return rejected(result) if isinstance(result, list) else result

    table = csvio.describe(columns)
    router.add_api_route(
        f"{path}.csv",
        export_csv,
        methods=["GET"],
        name=f"export_{name}",
        response_class=Response,
        responses=CSV_OK,
        description=f"{what}\n\n{table}",
    )
    router.add_api_route(
        f"{path}.xlsx",
        export_xlsx,
        methods=["GET"],
        name=f"export_{name}_xlsx",
        response_class=Response,
        responses=XLSX_OK,
        description=f"{records[0].upper()}{records[1:]} as an Excel workbook: the rows and columns of"
        f" {name}.csv.",
    )
    router.add_api_route(
        f"{path}.csv",
        import_csv,
        methods=["PUT"],
        name=f"import_{name}",
        response_model=ImportResult,
        responses=IMPORT_RESPONSES,
        openapi_extra=CSV_BODY,
        description=f"Create or update {records} by id, all or nothing.\n\n{table}",
    )
