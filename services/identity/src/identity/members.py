"""A school's people: adding them, their details, roles, deactivation, unlocking and login codes."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.identity import MembershipRevokedV1, UserDeactivatedV1, UserReactivatedV1
from identity import repository as repo
from identity.accounts import add_membership, find_or_create_user, invite, member, stage_granted, update_user, welcome
from identity.models import account_key
from identity.problems import NOT_A_MEMBER, conflict, invalid, not_found
from identity.repository import Doc
from identity.schools import existing_school
from identity.settings import IdentitySettings
from kit.auth import Principal, Role
from kit.errors import Text
from kit.mongo import Db, is_duplicate_key
from kit.outbox import Outbox

Session = AsyncClientSession
CODE_TAKEN = Text("Deze studentcode bestaat al in deze school.", "This student code is already used in this school.")


async def add_member(db: Db, session: Session, outbox: Outbox, *, actor: Principal, school_id: str, email: str,
                     display_name: str,
                     roles: list[Role], student_code: str | None, language: str, send_invitation: bool,
                     settings: IdentitySettings) -> Doc:
    """Add a person to the school with roles (their existing account is reused across schools)."""
    school = await existing_school(db, school_id, session)
    user, _ = await find_or_create_user(db, session, outbox, email=email, display_name=display_name, language=language)
    membership = await add_membership(db, session, outbox, school_id=school_id, user=user, roles=roles,
                                      student_code=student_code)
    if send_invitation:
        await welcome(db, session, outbox, user=user, school=school, roles=membership["roles"], settings=settings)
    await repo.audit(db, session, "user_added", actor=actor.subject, school_id=school_id, target=user["_id"],
                     details={"roles": membership["roles"]})
    return membership


async def change_member(db: Db, session: Session, outbox: Outbox, *, actor: Principal, school_id: str, user_id: str,
                        changes: dict[str, Any]) -> Doc:
    """Change a member's name, language or e-mail address."""
    await member(db, school_id, user_id, session)
    if changes:
        await update_user(db, session, outbox, school_id=school_id, user_id=user_id, changes=changes)
        await repo.audit(db, session, "user_changed", actor=actor.subject, school_id=school_id, target=user_id,
                         details={"fields": sorted(changes)})
    return await member(db, school_id, user_id, session)


async def set_active(db: Db, session: Session, outbox: Outbox, *, actor: Principal, school_id: str, user_id: str,
                     active: bool) -> Doc:
    """Deactivate (never delete) or reactivate a member of a school."""
    membership = await repo.update_membership(db, session, school_id, user_id, {"$set": {"active": active}})
    if membership is None:
        raise not_found(NOT_A_MEMBER)
    if not active and Role.SCHOOL_ADMIN.value in membership["roles"]:
        await _keep_an_admin(db, session, school_id)
    event = (UserReactivatedV1 if active else UserDeactivatedV1)(user_id=user_id, school_id=school_id)
    await repo.stage(outbox, session, event)
    if not active:  # running sessions end: their tokens would otherwise still carry this school
        await repo.revoke_sessions_of(db, session, user_id)
    await repo.audit(db, session, "user_reactivated" if active else "user_deactivated", actor=actor.subject,
                     school_id=school_id, target=user_id)
    return membership


async def grant_role(db: Db, session: Session, outbox: Outbox, *, actor: Principal, school_id: str, user_id: str,
                     role: Role,
                     student_code: str | None) -> Doc:
    """Give a member another role (a student role needs a student code unique in the school)."""
    current = await member(db, school_id, user_id, session)
    if role.value in current["roles"]:
        return current
    update: dict[str, Any] = {"$addToSet": {"roles": role.value}}
    if role is Role.STUDENT:
        if not student_code:
            raise invalid("student_code", "required for role student")
        update["$set"] = {"student_code": student_code}
    try:
        membership = await repo.update_membership(db, session, school_id, user_id, update)
    except Exception as exc:
        if is_duplicate_key(exc):
            raise conflict("student_code", "already used in this school", CODE_TAKEN) from exc
        raise
    assert membership is not None
    membership["roles"] = sorted(membership["roles"])
    await stage_granted(db, session, outbox, membership, role.value)
    await repo.audit(db, session, "role_granted", actor=actor.subject, school_id=school_id, target=user_id,
                     details={"role": role.value})
    return membership


async def revoke_role(db: Db, session: Session, outbox: Outbox, *, actor: Principal, school_id: str, user_id: str,
                      role: Role) -> Doc:
    """Take a role away; a school always keeps at least one active school admin."""
    membership = await repo.update_membership(db, session, school_id, user_id, {"$pull": {"roles": role.value}})
    if membership is None:
        raise not_found(NOT_A_MEMBER)
    if role is Role.SCHOOL_ADMIN:
        await _keep_an_admin(db, session, school_id)
    await repo.stage(outbox, session, MembershipRevokedV1(user_id=user_id, school_id=school_id, role=role.value,
                                                      roles=sorted(membership["roles"])))
    await repo.audit(db, session, "role_revoked", actor=actor.subject, school_id=school_id, target=user_id,
                     details={"role": role.value})
    return membership


async def _keep_an_admin(db: Db, session: Session, school_id: str) -> None:
    if await repo.active_admin_count(db, session, school_id) == 0:
        raise conflict("roles", "the last school admin cannot be removed", Text(
            "Een school houdt minstens één actieve beheerder.", "A school keeps at least one active admin."))


async def unlock(db: Db, session: Session, *, actor: Principal, school_id: str, user_id: str) -> Doc:
    """Lift a lockout after repeated failed logins."""
    membership = await member(db, school_id, user_id, session)
    await repo.clear_throttle(db, account_key(membership["email"]), session)
    await repo.audit(db, session, "account_unlocked", actor=actor.subject, school_id=school_id, target=user_id)
    return membership


async def send_invitation(db: Db, session: Session, outbox: Outbox, *, actor: Principal, school_id: str, user_id: str,
                          settings: IdentitySettings) -> None:
    """(Re)send a login code to a member."""
    await member(db, school_id, user_id, session)
    school = await existing_school(db, school_id, session)
    user = await repo.user(db, user_id, session=session)
    assert user is not None
    await invite(db, session, outbox, user=user, school=school, settings=settings)
    await repo.audit(db, session, "invitation_sent", actor=actor.subject, school_id=school_id, target=user_id)
