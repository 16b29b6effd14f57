"""The Excel export of a student list: the students the caller may read, in the sheet's language."""

from __future__ import annotations

import tempfile
from typing import IO, Any

from anyio import to_thread

from enrollment import repository as repo
from enrollment.files import write_xlsx
from enrollment.models import EXPORT_HEADERS, GENDER_LABELS, RELATION_FIELDS, SHEET_NAMES, YES_NO, programme_label
from enrollment.service import search
from kit.auth import Principal
from kit.mongo import Db

Doc = dict[str, Any]
PEOPLE = tuple(RELATION_FIELDS.values())  # supervisors, assessors, workplace trainers: one column each


async def export_students(db: Db, *, principal: Principal, school_id: str, filters: Doc, language: str) -> IO[bytes]:
    """The students the caller may read, filtered, as an .xlsx in a spooled file positioned at its start."""
    query = search(principal, school_id, filters)
    programmes = {p["_id"]: p for p in await repo.list_programmes(db, None)}
    groups = {g["_id"]: g["name"] for g in (await repo.groups_by_name(db, school_id)).values()}
    students = [d async for d in repo.iter_students(db, query)]
    names = await repo.user_names(db, {uid for d in students for f in PEOPLE for uid in _ids(d, f)})
    yes, no = YES_NO[language]
    genders = GENDER_LABELS[language]
    rows: list[list[Any]] = []
    for d in students:
        # Whatever is stored (a field missing, a value of another shape) gives a row, never a failed export.
        gender = d.get("gender")
        rows.append([
            d.get("student_code"), d.get("first_name"), d.get("last_name"), d.get("email"),
            genders.get(gender, gender) if isinstance(gender, str) else gender, d.get("date_of_birth"),
            d.get("start_year"),
            ", ".join(programme_label(programmes[p]) for p in _ids(d, "programme_ids") if p in programmes),
            ", ".join(str(groups.get(g, g)) for g in _ids(d, "group_ids")),
            *(", ".join(str(names.get(uid, uid)) for uid in _ids(d, f)) for f in PEOPLE),
            yes if d.get("active", True) else no, yes if d.get("archived") else no,
        ])
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    await to_thread.run_sync(write_xlsx, EXPORT_HEADERS[language], rows, out, SHEET_NAMES[language])
    out.seek(0)
    return out


def _ids(doc: Doc, name: str) -> list[str]:
    value = doc.get(name)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
