"""Rosters: per school and reader, the students they may see with what a page of the overview filters on.

SecantusDB materialises every candidate of a query before it sorts and limits, so a page of the overview must
not query "all students of this supervisor" and cut it. Instead one document per reader (`<school>:<user>`,
and `<school>:*` for the whole school) lists each student as one tab-separated line (code, id, programmes,
groups, archived, the reader's relations); the overview reads it, picks the page in memory, and fetches
exactly that page's rows by a bounded code range. Lines are pulled and pushed one by one, in the same
transaction as every change to a student's projection.
"""

from __future__ import annotations

from dataclasses import dataclass

from exams.common import Doc, Session
from kit.mongo import Db

EVERYONE = "*"
RELATIONS = {"supervisor_ids": "s", "assessor_ids": "a", "trainer_ids": "t", "assessing_ids": "x"}


@dataclass(frozen=True)
class Entry:
    """One student on a roster."""

    code: str
    student_id: str
    programme_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    archived: bool
    relations: str  # letters of RELATIONS the reader has to the student ("" on the school's roster)

    @classmethod
    def parse(cls, line: str) -> Entry:
        """An entry from its stored line."""
        code, sid, programmes, groups, archived, relations = line.split("\t")
        return cls(code, sid, tuple(filter(None, programmes.split(","))), tuple(filter(None, groups.split(","))),
                   archived == "1", relations)


def lines_for(student: Doc) -> dict[str, str]:
    """The roster line of a student per reader: the whole school and every linked or assessing person."""
    base = "\t".join([student.get("student_code", ""), student["_id"], ",".join(student.get("programme_ids", [])),
                      ",".join(student.get("group_ids", [])), "1" if student.get("archived") else "0"])
    relations: dict[str, str] = {}
    for field, letter in RELATIONS.items():
        for user in student.get(field, []):
            relations[user] = relations.get(user, "") + letter
    return {EVERYONE: base + "\t", **{user: f"{base}\t{letters}" for user, letters in relations.items()}}


async def sync(db: Db, session: Session, *, student_id: str) -> None:
    """Bring every roster in line with a student's current projection."""
    student = await db.students.find_one({"_id": student_id}, session=session)
    if student is None or "school_id" not in student or "student_code" not in student:
        return  # not yet created: the creation event syncs it
    school = student["school_id"]
    before: dict[str, str] = student.get("roster_lines") or {}
    now = lines_for(student)
    for reader in set(before) | set(now):
        old, new = before.get(reader), now.get(reader)
        if old == new:
            continue
        key = {"_id": f"{school}:{reader.replace('.', '_')}"}
        if old is not None:
            await db.rosters.update_one(key, {"$pull": {"lines": old}}, session=session)
        if new is not None:
            await db.rosters.update_one(key, {"$push": {"lines": new}, "$set": {"school_id": school}},
                                        upsert=True, session=session)
    await db.students.update_one({"_id": student_id}, {"$set": {"roster_lines": now}}, session=session)


async def roster(db: Db, school_id: str, reader: str) -> list[Entry]:
    """A reader's roster."""
    doc = await db.rosters.find_one({"_id": f"{school_id}:{reader.replace('.', '_')}"})
    return [Entry.parse(line) for line in (doc or {}).get("lines", [])]
