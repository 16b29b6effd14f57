"""Delegated access: viewing as a student (read-only) and the schools' own API clients (OAuth2)."""

from __future__ import annotations

import hmac
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from identity import repository as repo
from identity.keys import SigningKeys
from identity.models import new_secret, secret_hash
from identity.problems import forbidden, not_found
from identity.repository import Doc
from identity.settings import IdentitySettings
from kit.auth import Principal, Role, access_claims, sign
from kit.clock import now
from kit.errors import Text
from kit.ids import new_id
from kit.mongo import Db

Session = AsyncClientSession
BAD_CLIENT = "Unknown or revoked client, or a wrong secret."


class OAuthError(Exception):
    """A token request refused in the shape RFC 6749 §5.2 prescribes (error code, description, status)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


async def view_as_student(db: Db, *, caller: Principal, school_id: str, student_id: str,
                          settings: IdentitySettings, keys: SigningKeys) -> dict[str, Any]:
    """A read-only token of the student's, marked with the caller as actor; audited."""
    is_admin = Role.SCHOOL_ADMIN in caller.roles_in(school_id)
    if not is_admin and not await repo.is_linked_supervisor(db, school_id, student_id, caller.subject):
        raise forbidden(Text("Alleen een gekoppelde praktijkbegeleider of de beheerder mag meekijken.",
                             "Only a linked supervisor or the school admin may view as this student."))
    student = await repo.student_membership(db, school_id, student_id)
    if student is None or not student.get("active", True):
        raise not_found(Text("Deze student heeft (nog) geen actief account.",
                             "This student has no active account (yet)."))
    principal = Principal(subject=student["user_id"], kind="user", schools={school_id: frozenset({Role.STUDENT})},
                          read_only=True, actor=caller.subject)
    token = sign(access_claims(principal, ttl_s=settings.view_as_ttl_s), await keys.signing_key())
    await repo.audit(db, None, "view_as_student", actor=caller.subject, school_id=school_id, target=student_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": settings.view_as_ttl_s,
            "read_only": True, "student_id": student_id}


async def create_client(db: Db, session: Session, *, caller: Principal, school_id: str, name: str,
                        roles: list[Role]) -> dict[str, Any]:
    """A client-credentials client for the school's own systems; the secret is shown only now."""
    secret = new_secret()
    doc: Doc = {"_id": new_id("cli"), "school_id": school_id, "name": name, "roles": sorted(r.value for r in roles),
           "secret_hash": secret_hash(secret), "created_by": caller.subject, "created_at": now(), "revoked_at": None}
    await repo.insert_client(db, session, doc)
    await repo.audit(db, session, "api_client_created", actor=caller.subject, school_id=school_id,
                     target=doc["_id"], details={"roles": doc["roles"]})
    return public_client(doc) | {"client_secret": secret}


async def revoke_client(db: Db, session: Session, *, caller: Principal, school_id: str,
                        client_id: str) -> dict[str, Any]:
    """Revoke a client (kept for the audit trail); its next token request fails."""
    doc = await repo.revoke_client(db, session, school_id, client_id)
    if doc is None:
        raise not_found(Text("Deze client bestaat niet in deze school.", "This school has no such client."))
    await repo.audit(db, session, "api_client_revoked", actor=caller.subject, school_id=school_id, target=client_id)
    return public_client(doc)


async def token_request(db: Db, *, grant_type: str | None, basic: tuple[str, str] | None,
                        form: tuple[str | None, str | None], address: str, settings: IdentitySettings,
                        keys: SigningKeys) -> dict[str, Any]:
    """An OAuth2 token request (RFC 6749 §4.4): the grant, then one way of client authentication."""
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    if basic is not None and any(form):
        raise OAuthError("invalid_request", "Authenticate the client in one way: HTTP Basic or the form body.")
    client_id, client_secret = basic or form
    if not client_id or not client_secret:
        raise OAuthError("invalid_client", "client_id and client_secret are required.", 401)
    if len(client_id) > 100 or len(client_secret) > 200:  # longer than any we issue: no need to look it up
        raise OAuthError("invalid_client", BAD_CLIENT, 401)
    return await client_token(db, client_id=client_id, client_secret=client_secret, address=address,
                              settings=settings, keys=keys)


async def client_token(db: Db, *, client_id: str, client_secret: str, address: str, settings: IdentitySettings,
                       keys: SigningKeys) -> dict[str, Any]:
    """OAuth2 client credentials: an access token limited to the client's school and roles."""
    doc = await repo.client(db, client_id)
    if doc is None or doc.get("revoked_at") or not hmac.compare_digest(doc["secret_hash"], secret_hash(client_secret)):
        await repo.audit(db, None, "api_client_auth_failed", actor=None, school_id=doc["school_id"] if doc else None,
                         target=client_id if doc else None, outcome="failed", address=address)
        raise OAuthError("invalid_client", BAD_CLIENT, 401)
    school = await repo.school(db, doc["school_id"])
    if school is None or not school.get("active", True):
        raise OAuthError("invalid_client", BAD_CLIENT, 401)
    principal = Principal(subject=client_id, kind="client",
                          schools={doc["school_id"]: frozenset(Role(r) for r in doc["roles"])})
    token = sign(access_claims(principal, ttl_s=settings.access_ttl_s), await keys.signing_key())
    return {"access_token": token, "token_type": "Bearer", "expires_in": settings.access_ttl_s}


def public_client(doc: Doc) -> dict[str, Any]:
    """A client as listed: never its secret."""
    return {"client_id": doc["_id"], "school_id": doc["school_id"], "name": doc["name"], "roles": doc["roles"],
            "created_at": doc["created_at"], "revoked_at": doc.get("revoked_at")}
