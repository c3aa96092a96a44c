"""API tokens: list, create (the centre) and revoke.

A token's secret is shown once, when it is created; only its SHA-256 digest is stored,
and no response ever carries the digest.  The centre sees every token; a station sees
(and may revoke) its own station's tokens only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from sqlmodel import Session

from api.auth import Principal, issue_token, list_tokens, revoke_token
from api.deps import MAX_ID, PrincipalDep, SessionDep, not_found, station_in_scope
from api.models import Token, TokenCreate, TokenCreated, TokenPublic

router = APIRouter(prefix="/v1", tags=["tokens"])


def _public(token: Token) -> TokenPublic:
    assert token.id is not None
    return TokenPublic(
        id=token.id,
        station_id=token.station_id,
        label=token.label,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def _token_in_scope(session: Session, principal: Principal, token_id: int) -> Token:
    token = session.get(Token, token_id)
    if token is None or (not principal.is_centre and token.station_id != principal.station_id):
        raise not_found("token", token_id)
    return token


TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="A token's id.")]


@router.get("/tokens", response_model=list[TokenPublic])
def get_tokens(session: SessionDep, principal: PrincipalDep) -> list[TokenPublic]:
    """Tokens the caller may see: every token for the centre, the station's own for a station."""
    return [_public(t) for t in list_tokens(session, principal.station_id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def post_token(body: TokenCreate, session: SessionDep, principal: PrincipalDep) -> TokenCreated:
    """Create a token (the centre only); its secret is in this response and nowhere else."""
    if not principal.is_centre:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="authorization: only the centre creates tokens")
    if body.station_id is not None:
        station_in_scope(session, principal, body.station_id)
    token, secret = issue_token(session, body.station_id, body.label)
    return TokenCreated(**_public(token).model_dump(), secret=secret)


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def delete_token(token_id: TokenId, session: SessionDep, principal: PrincipalDep) -> TokenPublic:
    """Revoke a token: from now on it gets 401.  The record stays, for the audit trail."""
    return _public(revoke_token(session, _token_in_scope(session, principal, token_id)))
