"""The service's logging (``linli serve --log-level``): what is logged, and what never is.

People's data (names, phone numbers, WeChat ids, addresses, contact persons) is never logged,
at any level: the service's own lines (``api.*``, ``web.*``) name records by id and count them;
SQL statements are not logged (their parameters are people's data; the engine hides them from
its errors too, ``hide_parameters``); and the access log shows a request's path without its
query string, where a search for a name or a number would be (``GET /s/st-1/people?…``).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

LEVELS = ("debug", "info", "warning", "error")


class WithoutQuery(logging.Filter):
    """An access log line's request without its query string (``/s/st-1/people?…``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            client, method, path, version, status = args
            record.args = (client, method, str(path).split("?", 1)[0] + "?…", version, status)
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration at ``level`` (one of :data:`LEVELS`), with the service's
    own loggers on stderr, the access log without query strings, and SQL never logged."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"without_query": {"()": WithoutQuery}}
    config["handlers"]["access"]["filters"] = ["without_query"]
    config["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["plain"] = {
        "formatter": "plain",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["plain"], "level": level.upper()}
    config["loggers"]["sqlalchemy"] = {"level": "WARNING"}
    return config
