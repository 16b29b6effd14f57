"""Identity's HTTP API for everyone: login and tokens, forgotten passwords, the caller's own account."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.values import Line
from identity import accounts, credentials
from identity import login as logins
from identity.deps import ClientAddress, IdentityConfig, Keys, PasswordHashing
from identity.schemas import Email, Language, Name, StatusOut, TokenOut
from identity.settings import IdentitySettings
from kit.commands import execute
from kit.deps import CurrentPrincipal, Database, Mongo, ServiceOutbox
from kit.mongo import Client, Db, run_in_transaction
from kit.outbox import Outbox

log = logging.getLogger(__name__)
router = APIRouter()
Token = Annotated[Line, Field(min_length=10, max_length=200)]
RESET_ANSWER = "Als dit adres bij ons bekend is, ontvang je een e-mail met een link."


class LoginIn(BaseModel):
    email: Email
    password: str = Field(max_length=256)


class RefreshIn(BaseModel):
    refresh_token: Token


class ResetIn(BaseModel):
    # Not EmailAddress: an address that is not one gets the same answer as every other (nothing to learn).
    email: Line = Field(max_length=254)


class SetPasswordIn(BaseModel):
    token: Token
    password: str = Field(max_length=256)


class KeySet(BaseModel):
    keys: list[dict[str, Any]] = Field(description="Public JWKs (RS256)")


@router.get("/.well-known/jwks.json", tags=["tokens"], summary="Public keys that verify access tokens",
            response_model=KeySet)
async def jwks(response: Response, keys: Keys) -> dict[str, Any]:
    """The public keys of the signing keys in use, the next and the retiring ones (cached a minute)."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return await keys.jwks()


@router.post("/v1/auth/login", tags=["login"], response_model=TokenOut,
             responses={401: {"description": "Wrong e-mail or password (one answer for both)"},
                        429: {"description": "Account locked or too many attempts from this address"}})
async def login(body: LoginIn, db: Database, settings: IdentityConfig, passwords: PasswordHashing, keys: Keys,
                address: ClientAddress) -> dict[str, Any]:
    """Log in with e-mail and password."""
    return await logins.login(db, email=body.email, password=body.password, address=address, settings=settings,
                              passwords=passwords, keys=keys)


@router.post("/v1/auth/refresh", tags=["login"], response_model=TokenOut,
             responses={401: {"description": "The session expired or ended; a reused token ends it for everyone"}})
async def refresh(body: RefreshIn, db: Database, settings: IdentityConfig, keys: Keys,
                  address: ClientAddress) -> dict[str, Any]:
    """Exchange a refresh token for new tokens; a reused refresh token ends the whole session."""
    return await logins.refresh(db, token=body.refresh_token, address=address, settings=settings, keys=keys)


@router.post("/v1/auth/logout", tags=["login"], status_code=204, response_class=Response)
async def logout(body: RefreshIn, db: Database) -> Response:
    """End the session of a refresh token."""
    await logins.logout(db, token=body.refresh_token)
    return Response(status_code=204)


@router.post("/v1/auth/password-reset", tags=["login"], status_code=202, response_model=StatusOut)
async def request_reset(body: ResetIn, background: BackgroundTasks, db: Database, outbox: ServiceOutbox, mongo: Mongo,
                        settings: IdentityConfig, address: ClientAddress) -> dict[str, str]:
    """Forgot password: the same answer, in the same time, whether or not the address has an account.

    The answer goes before any work is done (the work runs after it), so its timing cannot tell.
    """
    background.add_task(_reset_after_answering, mongo, db, outbox, email=body.email, address=address, settings=settings)
    return {"status": RESET_ANSWER}


async def _reset_after_answering(mongo: Client, db: Db, outbox: Outbox, *, email: str, address: str,
                                 settings: IdentitySettings) -> None:
    """The reset request's transaction, run once the answer was sent; a failure is logged, never shown."""

    async def work(session: AsyncClientSession) -> None:
        await credentials.request_password_reset(db, session, outbox, email=email, address=address, settings=settings)

    try:
        await run_in_transaction(mongo, work)
    except Exception as exc:  # the person asks again; the log names no address
        log.error("password reset request failed", extra={"error": type(exc).__name__})


PAGE = (Path(__file__).parent / "pages" / "set-password.html").read_text()


@router.get("/set-password", tags=["login"], response_class=HTMLResponse, include_in_schema=False)
async def set_password_page() -> HTMLResponse:
    """The page an invitation or reset link opens: choose a password (the token stays in the browser)."""
    return HTMLResponse(PAGE, headers={
        "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                   "connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.post("/v1/auth/set-password", tags=["login"], status_code=204, response_class=Response,
             responses={400: {"description": "The link is invalid, used or expired"}})
async def set_password(body: SetPasswordIn, db: Database, mongo: Mongo, passwords: PasswordHashing,
                       address: ClientAddress) -> Response:
    """Choose a password with an invitation (login code) or reset link; the link works once."""
    link = await credentials.check_link(db, token=body.token, password=body.password, passwords=passwords)

    async def work(session: AsyncClientSession) -> None:
        await credentials.set_password_with_link(db, session, link=link, address=address)

    await run_in_transaction(mongo, work)
    return Response(status_code=204)


# ------------------------------------------------------------------ the caller's own account
class MembershipOut(BaseModel):
    school_id: str
    school_name: str
    roles: list[str]
    active: bool


class MeOut(BaseModel):
    user_id: str
    email: str
    display_name: str
    language: str
    operator: bool
    read_only: bool = False
    viewing_as_actor: str | None = None
    memberships: list[MembershipOut]


class MeIn(BaseModel):
    display_name: Name | None = None
    language: Language | None = None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


@router.get("/v1/me", tags=["me"], response_model=MeOut)
async def me(db: Database, principal: CurrentPrincipal) -> dict[str, Any]:
    """Who am I, and where do I have which roles (one login across schools)."""
    return await accounts.profile(db, principal=principal)


@router.patch("/v1/me", tags=["me"], response_model=MeOut)
async def update_me(body: MeIn, request: Request, db: Database, outbox: ServiceOutbox,
                    principal: CurrentPrincipal) -> Any:
    """Change my display name or language."""
    changes = body.model_dump(exclude_none=True)

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        if changes:
            await accounts.update_user(db, session, outbox, school_id=None, user_id=principal.subject, changes=changes)
        return await accounts.profile(db, principal=principal, session=session)

    return await execute(request, work)


@router.post("/v1/me/password", tags=["me"], status_code=204, response_class=Response)
async def change_password(body: PasswordChangeIn, db: Database, principal: CurrentPrincipal,
                          passwords: PasswordHashing) -> Response:
    """Change my password."""
    await credentials.change_password(db, principal=principal, current=body.current_password,
                                      new=body.new_password, passwords=passwords)
    return Response(status_code=204)
