"""Schools: the operator creates them with their first admin; admins change their settings."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.identity import SchoolCreatedV1
from identity import repository as repo
from identity.accounts import add_membership, find_or_create_user, welcome
from identity.models import default_retention
from identity.problems import SCHOOL_NOT_FOUND, not_found
from identity.repository import Doc
from identity.settings import IdentitySettings
from kit.auth import Principal, Role
from kit.clock import now
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

Session = AsyncClientSession


async def create_school(db: Db, session: Session, outbox: Outbox, *, operator: Principal, name: str, brin: str | None,
                        contact: dict[str, Any], admin_email: str, admin_name: str, language: str,
                        send_invitation: bool, settings: IdentitySettings) -> Doc:
    """The operator creates a school and its first school admin."""
    school: Doc = {"_id": new_id("sch"), "name": name, "brin": brin, "contact": contact, "terminology": {},
                   "retention": default_retention(), "active": True, "created_at": now()}
    await repo.insert_school(db, session, school)
    await repo.stage(outbox, session, SchoolCreatedV1(school_id=school["_id"], name=name, brin=brin))
    user, _ = await find_or_create_user(db, session, outbox, email=admin_email, display_name=admin_name,
                                        language=language)
    membership = await add_membership(db, session, outbox, school_id=school["_id"], user=user,
                                      roles=[Role.SCHOOL_ADMIN])
    if send_invitation:
        await welcome(db, session, outbox, user=user, school=school, roles=membership["roles"], settings=settings)
    await repo.audit(db, session, "school_created", actor=operator.subject, school_id=school["_id"],
                     target=user["_id"])
    return school


async def existing_school(db: Db, school_id: str, session: Session | None = None) -> Doc:
    """A school, or 404."""
    found = await repo.school(db, school_id, session=session)
    if found is None:
        raise not_found(SCHOOL_NOT_FOUND)
    return found


async def visible_schools(db: Db, *, principal: Principal) -> list[Doc]:
    """The operator sees every school; others the schools they belong to."""
    return await (repo.all_schools(db) if principal.operator else repo.schools_by_id(db, list(principal.schools)))


async def update_school(db: Db, session: Session, *, actor: Principal, school_id: str,
                        changes: dict[str, Any]) -> Doc:
    """Change a school's settings; nested retention changes only the record classes given."""
    fields: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "retention":
            fields.update({f"retention.{cls}": years for cls, years in value.items()})
        else:
            fields[key] = value
    doc = await repo.update_school(db, session, school_id, fields) if fields else \
        await repo.school(db, school_id, session=session)
    if doc is None:
        raise not_found(SCHOOL_NOT_FOUND)
    if fields:
        await repo.audit(db, session, "school_settings_changed", actor=actor.subject, school_id=school_id,
                         details={"fields": sorted(fields)})
    return doc
