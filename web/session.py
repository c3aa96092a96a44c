"""The signed session cookie, the secret that signs it, and CSRF tokens.

The cookie holds the token's id and a prefix of its stored digest (never the token's
secret), the station a centre token chose, and the session's CSRF token, signed with
``LINLI_SECRET_KEY`` (itsdangerous).  Every request checks the token again, so revoking
it (``linli token revoke``) ends its sessions at once.  The cookie is HttpOnly and
SameSite=Lax, and Secure when the page was served over HTTPS.
"""

from __future__ import annotations

import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

COOKIE = "linli_session"
LANG_COOKIE = "linli_lang"
MAX_AGE = 12 * 3600
"""A session lasts a working day (seconds); then the coordinator pastes the token again."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class WebSettings(BaseSettings):
    """The web app's settings (environment variables, or ``.env``)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    secret_key: str = Field(
        default="",
        validation_alias="LINLI_SECRET_KEY",
        description="Signs session cookies; generated into LINLI_SECRET_KEY_FILE on first use if empty.",
    )
    secret_key_file: Path = Field(
        default=Path(".linli-secret-key"),
        validation_alias="LINLI_SECRET_KEY_FILE",
        description="Where a generated key is kept (mode 0600), relative to the working directory.",
    )


@lru_cache
def secret_key() -> str:
    """``LINLI_SECRET_KEY``, or the key stored in ``LINLI_SECRET_KEY_FILE`` (made on first use)."""
    settings = WebSettings()
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_file
    try:
        return path.read_text().strip() or _new_key(path)
    except FileNotFoundError:
        return _new_key(path)


def _new_key(path: Path) -> str:
    """A new key written to ``path`` (readable by its owner only); another process's if it won."""
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server process made it first (or an empty file was left)
        existing = path.read_text().strip()
        if existing:
            return existing
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="linli-web-session")


def load(request: Request) -> dict[str, Any]:
    """The request's session (empty without a valid, unexpired cookie)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return {}
    return data if isinstance(data, dict) else {}


def save(request: Request, response: Response, data: dict[str, Any]) -> None:
    """Write the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    response.set_cookie(
        COOKIE,
        _serializer().dumps(data),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear(response: Response) -> None:
    """End the session."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def new_csrf() -> str:
    """A fresh per-session CSRF token."""
    return secrets.token_urlsafe(24)


def csrf_ok(session: dict[str, Any], sent: str | None) -> bool:
    """Whether a posted CSRF token is the session's."""
    expected = session.get("csrf")
    return isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)
