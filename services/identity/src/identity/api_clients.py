"""Identity's HTTP API for a school's own systems: API clients and the OAuth2 token endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.values import Line
from identity import access
from identity import repository as repo
from identity.access import OAuthError
from identity.deps import ClientAddress, IdentityConfig, Keys, SchoolAdmin
from identity.models import CLIENT_ROLES
from identity.schemas import TokenOut
from identity.schools import existing_school
from kit.auth import Role
from kit.commands import execute
from kit.deps import Database

router = APIRouter(tags=["api clients"])
basic_auth = HTTPBasic(auto_error=False)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ClientIn(BaseModel):
    name: Line = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1, max_length=4)

    @field_validator("roles")
    @classmethod
    def _staff(cls, value: list[Role]) -> list[Role]:
        if not set(value) <= CLIENT_ROLES:
            raise ValueError("an API client may only hold staff roles")
        return value


class ClientOut(BaseModel):
    client_id: str
    school_id: str
    name: str
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None = None
    client_secret: str | None = Field(default=None, description="Shown once, when the client is created")


class OAuthErrorOut(BaseModel):
    """An OAuth2 error response (RFC 6749 §5.2), the shape client libraries read."""

    error: str = Field(description="invalid_request, invalid_client or unsupported_grant_type")
    error_description: str


@router.post("/v1/schools/{school_id}/api-clients", status_code=201, response_model=ClientOut)
async def create_client(school_id: str, body: ClientIn, request: Request, db: Database,
                        principal: SchoolAdmin) -> Any:
    """A client-credentials client for the school's own systems, limited to this school and these roles."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        await existing_school(db, school_id, session)
        return await access.create_client(db, session, caller=principal, school_id=school_id, name=body.name,
                                          roles=body.roles)

    return await execute(request, work, status_code=201)


@router.get("/v1/schools/{school_id}/api-clients", response_model=list[ClientOut])
async def list_clients(school_id: str, db: Database, _: SchoolAdmin) -> Any:
    """The school's API clients (never their secrets)."""
    return [access.public_client(d) for d in await repo.clients_of(db, school_id)]


@router.delete("/v1/schools/{school_id}/api-clients/{client_id}", response_model=ClientOut)
async def revoke_client(school_id: str, client_id: str, request: Request, db: Database,
                        principal: SchoolAdmin) -> Any:
    """Revoke a client; it can get no new tokens."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await access.revoke_client(db, session, caller=principal, school_id=school_id, client_id=client_id)

    return await execute(request, work)


@router.post("/v1/oauth/token", response_model=TokenOut,
             responses={400: {"model": OAuthErrorOut, "description": "invalid_request or unsupported_grant_type"},
                        401: {"model": OAuthErrorOut, "description": "invalid_client"}})
async def oauth_token(
    db: Database, settings: IdentityConfig, keys: Keys, address: ClientAddress, response: Response,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    basic: Annotated[HTTPBasicCredentials | None, Depends(basic_auth)] = None,
) -> Any:
    """OAuth2 client credentials for a school's own systems (HTTP Basic or form body); errors as RFC 6749 §5.2."""
    try:
        token = await access.token_request(
            db, grant_type=grant_type, basic=(basic.username, basic.password) if basic else None,
            form=(client_id, client_secret), address=address, settings=settings, keys=keys)
    except OAuthError as exc:
        headers = dict(NO_STORE)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="identity", charset="UTF-8"'
        return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                            headers=headers)
    response.headers.update(NO_STORE)
    return token
