"""Bearer tokens: random secrets, stored as SHA-256 digests, scoped to a station or the centre.

A token's secret has 256 bits of entropy, so a plain SHA-256 is a safe digest (a slow
password hash guards guessable secrets, which these are not) and lookups stay O(1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.models import Station, Token, utcnow

PREFIX = "linli_"


def digest(secret: str) -> str:
    """The stored form of a token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, station_id: str | None, label: str = "") -> tuple[Token, str]:
    """Create a token for a station (or the centre when ``station_id`` is None).

    Returns
    -------
    tuple[Token, str]
        The stored token (its digest only) and the secret, which is shown once.

    Raises
    ------
    ValueError
        If the station does not exist.
    """
    if station_id is not None and session.get(Station, station_id) is None:
        raise ValueError(f"--station: unknown station '{station_id}'")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = Token(digest=digest(secret), station_id=station_id, label=label)
    session.add(token)
    session.commit()
    session.refresh(token)
    return token, secret


def create_token(session: Session, station_id: str | None, label: str = "") -> str:
    """Create a token (see :func:`issue_token`); returns the secret."""
    return issue_token(session, station_id, label)[1]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the centre (sees everything) or one station."""

    token_id: int
    station_id: str | None
    label: str = ""
    """The token's label (who holds it): what the audit log names."""

    @property
    def is_centre(self) -> bool:
        """The centre's token sees and changes every station's data."""
        return self.station_id is None

    def may_see(self, station_id: str | None) -> bool:
        """Whether this caller may read or change data of ``station_id``."""
        return self.is_centre or station_id == self.station_id


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token: a write per read request
would turn every GET into a database write (and serialise them on SQLite)."""


def authenticate(session: Session, secret: str | None) -> Principal | None:
    """The principal of a bearer token's secret, or None (unknown or revoked).

    Records the token's last use (to within :data:`LAST_USED_RESOLUTION`).
    """
    if not secret:
        return None
    token = session.exec(select(Token).where(Token.digest == digest(secret.strip()))).first()
    if token is None or token.id is None or token.revoked_at is not None:
        return None
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=dt.UTC)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
        session.commit()
    return Principal(token.id, token.station_id, token.label)


def list_tokens(session: Session, station_id: str | None = None) -> list[Token]:
    """Tokens by id: every token, or (``station_id`` given) those of one station."""
    query = select(Token).order_by(col(Token.id))
    if station_id is not None:
        query = query.where(Token.station_id == station_id)
    return list(session.exec(query))


def revoke_token(session: Session, token: Token) -> Token:
    """Revoke a token (idempotent: a revoked token keeps its first revocation time)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.commit()
        session.refresh(token)
    return token
