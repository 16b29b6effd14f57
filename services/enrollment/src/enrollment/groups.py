"""Use cases of groups: create, rename, archive, and add or remove many members at once.

Each command runs inside the caller's transaction (kit.commands.execute) and stages its events.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from enrollment import events
from enrollment import repository as repo
from enrollment.events import stage
from enrollment.service import not_found
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

Doc = dict[str, Any]
Session = AsyncClientSession
NAME_TAKEN = Text("Er is al een groep met deze naam.", "A group with this name already exists.")


def group_out(doc: Doc) -> Doc:
    """The API view of a group."""
    return {"id": doc["_id"], **{k: doc.get(k) for k in ("school_id", "name", "category", "description",
                                                          "archived", "created_at", "updated_at")}}


def new_group(school_id: str, name: str, *, category: str | None = None, description: str | None = None) -> Doc:
    """A new group document."""
    stamp = now()
    return {"_id": new_id("grp"), "school_id": school_id, "name": name, "category": category,
            "description": description, "archived": False, "created_at": stamp, "updated_at": stamp}


async def get_group(db: Db, *, principal: Principal, school_id: str, group_id: str) -> Doc:
    """A group (an archived one only for the admin)."""
    doc = await repo.visible_group(db, principal, school_id, group_id)
    if doc is None:
        raise not_found("group")
    return group_out(doc)


async def list_groups(db: Db, *, principal: Principal, school_id: str, archived: bool, after: str | None,
                      limit: int) -> Doc:
    """One page of the school's groups by name; archived ones only for the school admin."""
    if archived and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        raise Problem(403, "forbidden", detail=Text("Alleen de beheerder ziet gearchiveerde groepen.",
                                                    "Only the school admin sees archived groups."))
    docs = await repo.list_groups(db, school_id, archived, after, limit)
    return {"items": [group_out(g) for g in docs], "next_cursor": docs[-1]["name"] if len(docs) == limit else None}


async def create_group(db: Db, session: Session, outbox: Outbox, *, school_id: str, values: Doc) -> Doc:
    """Create a group; its name is unique in the school."""
    existing = (await repo.groups_by_name(db, school_id, session)).get(values["name"].lower())
    if existing is not None:
        raise Problem(409, "conflict", detail=NAME_TAKEN, errors=[field_error("name", "already in use")])
    doc = new_group(school_id, values["name"], category=values.get("category"),
                    description=values.get("description"))
    await repo.insert_group(db, doc, session)
    await stage(outbox, session, [events.group(doc)])
    return group_out(doc)


async def change_group(db: Db, session: Session, outbox: Outbox, *, school_id: str, group_id: str, changes: Doc) -> Doc:
    """Rename, describe or archive a group."""
    if "name" in changes:
        other = (await repo.groups_by_name(db, school_id, session)).get(changes["name"].lower())
        if other is not None and other["_id"] != group_id:
            raise Problem(409, "conflict", detail=NAME_TAKEN, errors=[field_error("name", "already in use")])
    doc = await repo.update_group(db, school_id, group_id, changes, session)
    if doc is None:
        raise not_found("group")
    await stage(outbox, session, [events.group(doc)])
    return group_out(doc)


async def change_members(db: Db, session: Session, outbox: Outbox, *, school_id: str, group_id: str, add: list[str],
                         remove: list[str]) -> Doc:
    """Add and remove many students of a group at once."""
    add, remove = list(dict.fromkeys(add)), list(dict.fromkeys(remove))
    group = await repo.get_group(db, school_id, group_id, session)
    if group is None:
        raise not_found("group")
    students = await repo.students_by_ids(db, school_id, list({*add, *remove}), session)
    found = {s["_id"] for s in students}
    missing = [i for i in {*add, *remove} if i not in found]
    if missing:
        raise Problem(422, "validation", errors=[field_error("students", f"unknown student: {i}") for i in missing])
    added, removed, changed = [], [], []
    for doc in students:
        if doc["_id"] in add and group_id not in doc["group_ids"]:
            doc["group_ids"].append(group_id)
            added.append(doc["_id"])
            changed.append(doc)
        elif doc["_id"] in remove and group_id in doc["group_ids"]:
            doc["group_ids"].remove(group_id)
            removed.append(doc["_id"])
            changed.append(doc)
    await repo.replace_students(db, changed, session)
    if changed:
        await stage(outbox, session, [events.members(school_id, group_id, added, removed)])
    return {"group_id": group_id, "added": len(added), "removed": len(removed)}
