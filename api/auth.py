"""Bearer tokens: random secrets, stored as SHA-256 digests, scoped to a station or the centre.

A token's secret has 256 bits of entropy, so a plain SHA-256 is a safe digest (a slow
password hash guards guessable secrets, which these are not) and lookups stay O(1).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from api.models import Station, Token

PREFIX = "linli_"


def digest(secret: str) -> str:
    """The stored form of a token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, station_id: str | None, label: str = "") -> str:
    """Create a token for a station (or the centre when ``station_id`` is None); returns the secret.

    Raises
    ------
    ValueError
        If the station does not exist.
    """
    if station_id is not None and session.get(Station, station_id) is None:
        raise ValueError(f"--station: unknown station '{station_id}'")
    secret = PREFIX + secrets.token_urlsafe(32)
    session.add(Token(digest=digest(secret), station_id=station_id, label=label))
    session.commit()
    return secret


@dataclass(frozen=True)
class Principal:
    """Who is calling: the centre (sees everything) or one station."""

    token_id: int
    station_id: str | None

    @property
    def is_centre(self) -> bool:
        """The centre's token sees and changes every station's data."""
        return self.station_id is None

    def may_see(self, station_id: str | None) -> bool:
        """Whether this caller may read or change data of ``station_id``."""
        return self.is_centre or station_id == self.station_id


def authenticate(session: Session, header: str | None) -> Principal | None:
    """The principal of an ``Authorization: Bearer …`` header, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    token = session.exec(select(Token).where(Token.digest == digest(header[7:].strip()))).first()
    if token is None or token.id is None:
        return None
    return Principal(token.id, token.station_id)
