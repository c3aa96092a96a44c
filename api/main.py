"""The FastAPI application: routers, error shapes, and the solve runner's lifecycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError

from api.db import get_engine
from api.delivery import dispatcher
from api.jobs import JobRunner, Worker, say_ready
from api.limits import BodyLimit, forbid_unknown_query
from api.routers import (
    audit,
    beneficiaries,
    calendars,
    certificates,
    needs,
    plans,
    publication,
    records,
    simulations,
    sites,
    solve,
    stations,
    tokens,
    volunteers,
    webhooks,
)
from api.services.errors import ConflictError
from api.settings import get_settings
from matcher.format.errors import InputError, format_error_details
from matcher.format.schema import Problem, Problem2
from web.views import install as install_web

logger = logging.getLogger(__name__)


def validation_message(error: dict[str, Any]) -> str:
    """One line naming the field, as the CLI prints it (``needs[3].windows[1]: unknown slot …``)."""
    loc = list(error.get("loc", ()))
    if loc and loc[0] == "body":
        loc = loc[1:]
    return format_error_details({**error, "loc": loc}, "body")


def create_app(engine: Engine | None = None, workers: bool | None = None) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    engine
        The database (default: ``DATABASE_URL``); it must be migrated already
        (``linli serve`` does it).
    workers
        Whether this process also runs jobs (a :class:`~api.jobs.Worker` started with
        the app); default ``LINLI_WORKERS``.  Without, jobs wait for ``linli worker``
        or another service process.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Jobs a crash left solving are not failed here: their leases run out and a
        # worker (this one, or another process's) runs them again.
        app.state.engine = engine if engine is not None else get_engine()
        settings = get_settings()
        worker = None
        if settings.workers > 0 if workers is None else workers:
            worker = Worker(
                app.state.engine,
                settings.solve_processes,
                lease=settings.job_lease,
                attempts=settings.job_attempts,
                on_ready=say_ready,
                dispatcher=dispatcher(app.state.engine, settings),
            )
        app.state.jobs = JobRunner(app.state.engine, worker)
        try:
            yield
        finally:
            app.state.jobs.shutdown()

    # FastAPIOffline serves /docs' scripts and styles itself: a station may be offline.
    app = FastAPIOffline(
        title="Linli (邻里) coordinator service",
        version="1",
        description="Volunteer-to-beneficiary matching for community volunteer service stations.",
        lifespan=lifespan,
        dependencies=[Depends(forbid_unknown_query)],
    )
    app.add_middleware(BodyLimit, limit=get_settings().max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": validation_message(dict(errors[0])) if errors else "invalid request"},
        )

    @app.exception_handler(ResponseValidationError)
    async def _bad_response(request: Request, exc: ResponseValidationError) -> JSONResponse:
        # A bug (a stored row the response model refuses), not bad input.  The exception's own
        # text holds the values, people's data: the log says where it failed, never what.
        where = [f"{'.'.join(str(p) for p in e.get('loc', ()))} ({e.get('type')})" for e in exc.errors()[:5]]
        logger.error("%s %s: the response failed its model at %s", request.method, request.url.path, where)
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={
                "detail": "internal error: the answer failed its own checks (logged without its values)"
            },
        )

    @app.exception_handler(InputError)
    async def _bad_input(_request: Request, exc: InputError) -> JSONResponse:
        # The engine's one-line message naming the field, as the CLI prints it.
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": exc.message}
        )

    @app.exception_handler(ConflictError)
    async def _conflict(_request: Request, exc: ConflictError) -> JSONResponse:
        # A service's "not in this state" (a superseded version, a race lost): the shape of an HTTPException.
        return JSONResponse(status_code=status.HTTP_409_CONFLICT, content={"detail": exc.message})

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refuses some values SQLite takes (NUL characters, out-of-range integers):
        # bad input, not a server error.
        what = (
            "text may not contain NUL (\\u0000) characters"
            if "NUL" in str(exc.orig)
            else "a value is out of range"
        )
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": f"input: {what}"}
        )

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        # The transaction was rolled back whole (the session closes without a commit), so
        # nothing was half-written; say which of the two usual causes it is.
        text = str(exc.orig).lower()
        if "full" in text or "no space" in text:
            code, what = status.HTTP_507_INSUFFICIENT_STORAGE, "the disk is full"
        elif "locked" in text or "busy" in text:
            code, what = status.HTTP_503_SERVICE_UNAVAILABLE, "busy: another write holds the lock"
        else:
            code, what = status.HTTP_503_SERVICE_UNAVAILABLE, "unavailable"
        return JSONResponse(
            status_code=code,
            content={"detail": f"database: {what}; nothing was written, try again later"},
            headers={"Retry-After": "5"},
        )

    for module in (
        stations,
        volunteers,
        beneficiaries,
        needs,
        sites,
        plans,
        publication,
        records,
        certificates,
        simulations,
        solve,
        tokens,
        audit,
        webhooks,
        calendars,
    ):
        app.include_router(module.router)
    install_web(app)  # the coordinators' web app (web/): pages at /, files at /static

    def openapi() -> dict[str, Any]:
        # /v1/solve validates its body off the event loop, so FastAPI does not see the
        # model: its schema (and the models it uses) are added here.
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            # Either format (its "format" field tells them apart); their shared models are the same.
            for model in (Problem, Problem2):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, part in definition.pop("$defs", {}).items():
                    components.setdefault(name, part)
                components[model.__name__] = definition
            components["AnyProblem"] = {
                "oneOf": [{"$ref": "#/components/schemas/Problem"}, {"$ref": "#/components/schemas/Problem2"}]
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


app = create_app()
