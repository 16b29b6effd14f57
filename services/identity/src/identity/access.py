"""Delegated access: viewing as a student (read-only) and the schools' own API clients."""

from __future__ import annotations

from typing import Any

from identity.models import new_id, new_secret, now, secret_hash
from identity.service import Identity, Session
from kit.auth import Principal, Role, access_claims, sign
from kit.errors import Problem
from kit.mongo import run_in_transaction

CLIENT_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD})


async def view_as_student(identity: Identity, caller: Principal, school_id: str, student_id: str) -> dict[str, Any]:
    """A read-only token of the student's, marked with the caller as actor; audited."""
    is_admin = Role.SCHOOL_ADMIN in caller.roles_in(school_id)
    linked = await identity.repo.links.find_one({"student_id": student_id, "user_id": caller.subject,
                                                 "school_id": school_id, "relation": "school_supervisor"})
    if not is_admin and linked is None:
        raise Problem(403, "forbidden",
                      detail="Alleen een gekoppelde praktijkbegeleider of de beheerder mag meekijken.")
    student = await identity.repo.student_membership(school_id, student_id)
    if student is None or not student.get("active", True):
        raise Problem(404, "not_found", detail="Deze student heeft (nog) geen actief account.")
    principal = Principal(subject=student["user_id"], kind="user", schools={school_id: frozenset({Role.STUDENT})},
                          read_only=True, actor=caller.subject)
    token = sign(access_claims(principal, ttl_s=identity.settings.view_as_ttl_s), await identity.keys.signing_key())
    await identity.audit(None, "view_as_student", actor=caller.subject, school_id=school_id, target=student_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": identity.settings.view_as_ttl_s,
            "read_only": True, "student_id": student_id}


async def create_client(identity: Identity, caller: Principal, school_id: str, name: str,
                        roles: list[Role]) -> dict[str, Any]:
    """A client-credentials client for the school's own systems; the secret is shown only now."""
    secret = new_secret()
    client_id = new_id("cli")
    doc = {"_id": client_id, "school_id": school_id, "name": name, "roles": sorted(r.value for r in roles),
           "secret_hash": secret_hash(secret), "created_by": caller.subject, "created_at": now(), "revoked_at": None}

    async def work(session: Session) -> None:
        await identity.repo.clients.insert_one(doc, session=session)
        await identity.audit(session, "api_client_created", actor=caller.subject, school_id=school_id,
                             target=client_id, details={"roles": doc["roles"]})

    await run_in_transaction(identity.client, work)
    return public_client(doc) | {"client_secret": secret}


async def revoke_client(identity: Identity, caller: Principal, school_id: str, client_id: str) -> dict[str, Any]:
    """Revoke a client (kept for the audit trail); its next token request fails."""

    async def work(session: Session) -> dict[str, Any]:
        doc = await identity.repo.clients.find_one_and_update(
            {"_id": client_id, "school_id": school_id}, {"$set": {"revoked_at": now()}}, return_document=True,
            session=session)
        if doc is None:
            raise Problem(404, "not_found")
        await identity.audit(session, "api_client_revoked", actor=caller.subject, school_id=school_id,
                             target=client_id)
        return public_client(doc)

    return await run_in_transaction(identity.client, work)


async def client_token(identity: Identity, client_id: str, client_secret: str, address: str) -> dict[str, Any]:
    """OAuth2 client credentials: an access token limited to the client's school and roles."""
    doc = await identity.repo.clients.find_one({"_id": client_id})
    if doc is None or doc.get("revoked_at") or doc["secret_hash"] != secret_hash(client_secret):
        await identity.audit(None, "api_client_auth_failed", actor=None, school_id=doc["school_id"] if doc else None,
                             target=client_id if doc else None, outcome="failed", address=address)
        raise Problem(401, "invalid_client", detail="Onbekende of ingetrokken client.")
    school = await identity.repo.school(doc["school_id"])
    if school is None or not school.get("active", True):
        raise Problem(401, "invalid_client", detail="Onbekende of ingetrokken client.")
    principal = Principal(subject=client_id, kind="client",
                          schools={doc["school_id"]: frozenset(Role(r) for r in doc["roles"])})
    token = sign(access_claims(principal, ttl_s=identity.settings.access_ttl_s), await identity.keys.signing_key())
    return {"access_token": token, "token_type": "Bearer", "expires_in": identity.settings.access_ttl_s}


def public_client(doc: dict[str, Any]) -> dict[str, Any]:
    """A client as listed: never its secret."""
    return {"client_id": doc["_id"], "school_id": doc["school_id"], "name": doc["name"], "roles": doc["roles"],
            "created_at": doc["created_at"], "revoked_at": doc.get("revoked_at")}
