"""Accounts and memberships: the steps schools, members, the consumer and the bootstrap share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.identity import (
    InvitationRequestedV1,
    MembershipGrantedV1,
    SchoolAccessGrantedV1,
    UserCreatedV1,
    UserUpdatedV1,
)
from identity import repository as repo
from identity.models import membership_id, new_secret, search_fields, secret_hash, set_password_link
from identity.problems import NOT_A_MEMBER, conflict, not_found
from identity.repository import Doc
from identity.settings import IdentitySettings
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Text
from kit.ids import new_id
from kit.mongo import Db, is_duplicate_key
from kit.outbox import Outbox

Session = AsyncClientSession


async def find_or_create_user(db: Db, session: Session, outbox: Outbox, *, email: str, display_name: str, language: str,
                              operator: bool = False, password_hash: str | None = None) -> tuple[Doc, bool]:
    """The account of an e-mail address, created when there is none; True when it was created."""
    existing = await repo.user_by_email(db, email, session=session)
    if existing is not None:
        return existing, False
    user: Doc = {"_id": new_id("usr"), "email": email, "display_name": display_name, "language": language,
                 "operator": operator, "password_hash": password_hash, "active": True, "created_at": now()}
    await repo.insert_user(db, session, user)
    await repo.stage(outbox, session, UserCreatedV1(user_id=user["_id"], email=email, display_name=display_name,
                                                language=language))
    return user, True


async def add_membership(db: Db, session: Session, outbox: Outbox, *, school_id: str, user: Doc, roles: list[Role],
                         student_code: str | None = None, student_id: str | None = None) -> Doc:
    """Make a person a member of a school with roles; 409 when they already are."""
    membership: Doc = {
        "_id": membership_id(school_id, user["_id"]), "school_id": school_id, "user_id": user["_id"],
        "roles": sorted(r.value for r in roles), "active": True, "created_at": now(),
        **search_fields(user["display_name"], user["email"]),
    }
    if student_code is not None:
        membership["student_code"] = student_code
    if student_id is not None:
        membership["student_id"] = student_id
    try:
        await repo.insert_membership(db, session, membership)
    except Exception as exc:
        if not is_duplicate_key(exc):
            raise
        if "student_code" in str(exc):
            raise conflict("student_code", "already used in this school", Text(
                "Deze studentcode bestaat al in deze school.", "This student code is already used in this school.")
            ) from exc
        raise conflict("email", "already a member of this school", Text(
            "Deze persoon is al lid van deze school.", "This person is already a member of this school.")) from exc
    for role in membership["roles"]:
        await stage_granted(db, session, outbox, membership, role)
    return membership


async def stage_granted(db: Db, session: Session, outbox: Outbox, membership: Doc, role: str) -> None:
    """Publish that a member got a role (with every role they now hold)."""
    await repo.stage(outbox, session, MembershipGrantedV1(
        user_id=membership["user_id"], school_id=membership["school_id"], role=role, roles=membership["roles"],
        student_code=membership.get("student_code"), student_id=membership.get("student_id")))


async def member(db: Db, school_id: str, user_id: str, session: Session | None = None) -> Doc:
    """A member of the school, or 404 (people of other schools are not visible)."""
    found = await repo.membership(db, school_id, user_id, session=session)
    if found is None:
        raise not_found(NOT_A_MEMBER)
    return found


async def invite(db: Db, session: Session, outbox: Outbox, *, user: Doc, school: Doc,
                 settings: IdentitySettings) -> None:
    """Send a login code: a single-use link to choose a password, valid for invitation_ttl_hours."""
    token = new_secret()
    expires = now() + timedelta(hours=settings.invitation_ttl_hours)
    await repo.insert_one_time(db, session, {"_id": secret_hash(token), "kind": "invitation", "user_id": user["_id"],
                                             "school_id": school["_id"], "expires_at": expires, "used_at": None})
    await repo.stage(outbox, session, InvitationRequestedV1(
        user_id=user["_id"], school_id=school["_id"], school_name=school["name"], email=user["email"],
        display_name=user["display_name"], language=user.get("language", "nl"),
        link=set_password_link(settings.public_url, "invitation", token), expires_at=expires))


async def welcome(db: Db, session: Session, outbox: Outbox, *, user: Doc, school: Doc, roles: list[str],
                  settings: IdentitySettings) -> None:
    """Tell a person about their new school: a login code when they have no password yet, else a notice."""
    if not user.get("password_hash"):
        await invite(db, session, outbox, user=user, school=school, settings=settings)
        return
    await repo.stage(outbox, session, SchoolAccessGrantedV1(
        user_id=user["_id"], school_id=school["_id"], school_name=school["name"], email=user["email"],
        display_name=user["display_name"], language=user.get("language", "nl"), roles=sorted(roles),
        link=settings.public_url.rstrip("/") + "/"))


async def update_user(db: Db, session: Session, outbox: Outbox, *, school_id: str | None, user_id: str,
                      changes: dict[str, Any]) -> Doc:
    """Change a person's name, language or e-mail (e-mail only when they belong to this school alone)."""
    user = await repo.user(db, user_id, session=session)
    assert user is not None
    if "email" in changes and changes["email"] != user["email"]:
        memberships = await repo.memberships_of(db, user_id, session=session)
        if any(m["school_id"] != school_id for m in memberships) or user.get("operator"):
            raise conflict("email", "the account is shared with another school", Text(
                "Deze persoon gebruikt dit account ook elders.", "This person also uses this account elsewhere."))
        if await repo.user_by_email(db, changes["email"], session=session):
            raise conflict("email", "already used by another account", Text(
                "Dit e-mailadres hoort al bij een ander account.", "This e-mail address belongs to another account."))
    user.update(changes)
    await repo.update_user(db, session, user_id, {**changes, "updated_at": now()})
    await repo.update_memberships_of(db, session, user_id, search_fields(user["display_name"], user["email"]))
    await repo.stage(outbox, session, UserUpdatedV1(
        user_id=user_id, email=user["email"], display_name=user["display_name"],
        language=user.get("language", "nl"), active=user.get("active", True)), school_id=school_id or None)
    return user


async def profile(db: Db, *, principal: Principal, session: Session | None = None) -> dict[str, Any]:
    """Who the caller is, and where they have which roles (one login across schools)."""
    user = await repo.user(db, principal.subject, session=session)
    if user is None:
        raise not_found(Text("Dit account bestaat niet (meer).", "This account does not exist (any more)."))
    memberships = await repo.memberships_of(db, user["_id"], session=session)
    names = {s["_id"]: s["name"] for s in await repo.schools_by_id(db, [m["school_id"] for m in memberships],
                                                                   session=session)}
    return {"user_id": user["_id"], "email": user["email"], "display_name": user["display_name"],
            "language": user.get("language", "nl"), "operator": bool(user.get("operator")),
            "read_only": principal.read_only, "viewing_as_actor": principal.actor,
            "memberships": [{"school_id": m["school_id"], "school_name": names.get(m["school_id"], ""),
                             "roles": m["roles"], "active": m.get("active", True)} for m in memberships]}
