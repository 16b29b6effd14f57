"""The import job's first steps: keep the uploaded file, map columns, map values, preview every row.

Committing is import_commit's.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import IO, Any

from anyio import to_thread

from enrollment import repository as repo
from enrollment.files import FileInfo, UnsupportedFile, detect, read_rows
from enrollment.import_rules import (
    PERSON_FIELDS,
    VALUE_FIELDS,
    CheckedRow,
    ImportContext,
    apply_row,
    check_row,
    mapping_errors,
    split_multi,
    suggest_gender,
    suggest_mapping,
)
from enrollment.models import GENDERS
from enrollment.service import not_found
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db

Doc = dict[str, Any]
COMMITTED = Text("Deze import is al doorgevoerd.",
                 "This import has already been committed.")
NOT_MAPPED = Text("Koppel eerst de kolommen aan velden.",
                  "Map the columns first.")

# Rows per stored block and per commit transaction. Measured on the Python-speed Mongo stand-in with the
# outbox relay working beside the commit (bench-import): 100 -> 84 s, 250 -> 72 s, 500 -> 87 s, 1000 -> 300 s.
BLOCK_ROWS = 250
FILE_CHUNK = 1 << 20
STEPS = ("uploaded", "mapped", "previewed", "committing", "committed")


def job_out(job: Doc) -> Doc:
    """The API view of an import job."""
    out = {k: v for k, v in job.items() if k not in ("_id", "lease_owner")}
    out["id"] = job["_id"]
    return out


def _next_block(rows: Iterator[list[str]], first_row: int) -> tuple[list[Doc], int, bool]:
    """Up to BLOCK_ROWS non-empty rows, the next row number, and whether the file is done."""
    block: list[Doc] = []
    number = first_row
    for cells in rows:
        if any(cells):
            block.append({"row": number, "cells": cells})
        number += 1
        if len(block) == BLOCK_ROWS:
            return block, number, False
    return block, number, True


async def upload(db: Db, *, school_id: str, created_by: str, file: IO[bytes], invite: bool, language: str,
                 filename: str | None) -> Doc:
    """Step 1: keep the file (already received in full at the edge) and its parsed rows; suggest a mapping."""
    try:
        info: FileInfo = await to_thread.run_sync(detect, file)
    except UnsupportedFile as exc:
        raise Problem(415, "unsupported_media_type", detail=str(exc)) from exc
    job_id = new_id("imp")
    stamp = now()
    job: Doc = {"_id": job_id, "school_id": school_id, "created_by": created_by, "status": "uploading",
                "invite": invite, "language": language, "filename": filename, "format": info.format,
                "encoding": info.encoding, "delimiter": info.delimiter, "created_at": stamp, "updated_at": stamp}
    await repo.insert_job(db, job)
    file.seek(0)
    n = 0
    while data := file.read(FILE_CHUNK):
        await repo.save_file_chunk(db, job_id, n, data)
        n += 1
    size = file.tell()
    rows = read_rows(file, info)
    try:
        header = await to_thread.run_sync(next, rows, None)
        if header is None:
            raise UnsupportedFile("The file has no header row.")
        count, blocks, number, done = 0, 0, 2, False
        while not done:
            block, number, done = await to_thread.run_sync(_next_block, rows, number)
            if block:
                await repo.save_block(db, job_id, blocks, block)
                blocks += 1
                count += len(block)
    except UnsupportedFile as exc:
        await repo.update_job(db, job_id, {"status": "failed", "error": str(exc)})
        raise Problem(415, "unsupported_media_type", detail=str(exc)) from exc
    headers = [h or f"Kolom {i + 1}" for i, h in enumerate(header)]
    suggested = suggest_mapping(headers)
    updated = await repo.update_job(db, job_id, {
        "status": "uploaded", "size": size, "columns": headers, "row_count": count, "blocks": blocks,
        "suggested_mapping": suggested, "mapping": suggested, "value_maps": {}, "committed_blocks": 0,
        "result": None, "preview": None,
    })
    assert updated is not None
    return job_out(updated)


async def list_jobs(db: Db, *, school_id: str, limit: int) -> Doc:
    """The school's latest import jobs, newest first."""
    return {"items": [job_out(j) for j in await repo.list_jobs(db, school_id, limit)]}


async def get_job(db: Db, *, school_id: str, job_id: str) -> Doc:
    """An import job in any state (a failed upload included)."""
    job = await repo.get_job(db, school_id, job_id)
    if job is None:
        raise not_found("import")
    return job_out(job)


async def _job(db: Db, *, school_id: str, job_id: str) -> Doc:
    job = await repo.get_job(db, school_id, job_id)
    if job is None or job["status"] in ("uploading", "failed"):
        raise not_found("import")
    return job


def _editable(job: Doc) -> None:
    if job["status"] in ("committing", "committed"):
        raise Problem(409, "conflict", detail=COMMITTED)


async def _column_values(db: Db, job: Doc, fields: tuple[str, ...], *, multi: bool) -> dict[str, set[str]]:
    """The distinct values of the mapped columns of the given fields, over every row."""
    columns = {int(c): f for c, f in job["mapping"].items() if f in fields}
    found: dict[str, set[str]] = {f: set() for f in columns.values()}
    async for block in repo.iter_blocks(db, job["_id"]):
        for row in block["rows"]:
            cells = row["cells"]
            for col, name in columns.items():
                text = cells[col].strip() if col < len(cells) else ""
                if text:
                    found[name].update(split_multi(text) if multi and name != "gender" else [text])
    return found


async def set_mapping(db: Db, *, school_id: str, job_id: str, columns: dict[str, str]) -> Doc:
    """Step 2: map file columns to fields; people columns are matched to users by e-mail."""
    job = await _job(db, school_id=school_id, job_id=job_id)
    _editable(job)
    errors = mapping_errors(columns, len(job["columns"]))
    if errors:
        raise Problem(422, "validation", errors=[field_error(f, r) for f, r in errors])
    job["mapping"] = columns
    people = await _column_values(db, job, PERSON_FIELDS, multi=True)
    known = await repo.users_by_email(db, {e for values in people.values() for e in values})
    matches = {name: {"matched": sorted(e for e in emails if e.lower() in known),
                      "unmatched": sorted(e for e in emails if e.lower() not in known)}
               for name, emails in people.items()}
    value_maps = await suggest_values(db, job)
    updated = await repo.update_job(db, job_id, {"mapping": columns, "people": matches, "value_maps": value_maps,
                                                 "status": "mapped", "preview": None})
    assert updated is not None
    return job_out(updated)


async def suggest_values(db: Db, job: Doc) -> dict[str, dict[str, str | None]]:
    """Step 3's suggestion: what each of the file's own values means (gender, programme, group)."""
    values = await _column_values(db, job, VALUE_FIELDS, multi=True)
    maps: dict[str, dict[str, str | None]] = {}
    if "gender" in values:
        maps["gender"] = {v: suggest_gender(v) for v in sorted(values["gender"])}
    if "programme" in values:
        enabled = {p["programme_id"] for p in await repo.school_programmes(db, job["school_id"], True)}
        catalog = sorted((await repo.programmes_by_id(db, enabled)).values(), key=lambda p: -p["cohort"])
        maps["programme"] = {v: _match_programme(v, catalog) for v in sorted(values["programme"])}
    if "group" in values:
        groups = await repo.groups_by_name(db, job["school_id"])
        maps["group"] = {v: (groups[v.lower()]["_id"] if v.lower() in groups else None)
                         for v in sorted(values["group"])}
    return maps


def _match_programme(value: str, catalog: list[Doc]) -> str | None:
    """The enabled programme a file value names: by crebo (and cohort when given), else by name."""
    numbers = re.findall(r"\d+", value)
    for p in catalog:  # latest cohort first
        if p["crebo"] in numbers and (len(numbers) == 1 or str(p["cohort"]) in numbers):
            return str(p["_id"])
    for p in catalog:
        if p["name"].lower() == value.strip().lower() or p["_id"] == value.strip():
            return str(p["_id"])
    return None


async def values(db: Db, *, school_id: str, job_id: str) -> Doc:
    """Step 3: the file's own values per field and what each is mapped to now."""
    job = await _job(db, school_id=school_id, job_id=job_id)
    return {"id": job_id, "value_maps": job.get("value_maps", {}), "genders": list(GENDERS)}


async def set_values(db: Db, *, school_id: str, job_id: str, maps: dict[str, dict[str, str | None]]) -> Doc:
    """Step 3: choose what the file's own values mean (a group value mapped to null creates that group)."""
    job = await _job(db, school_id=school_id, job_id=job_id)
    _editable(job)
    if job["status"] == "uploaded":
        raise Problem(409, "conflict", detail=NOT_MAPPED)
    errors = []
    enabled = {p["programme_id"] for p in await repo.school_programmes(db, school_id, True)}
    groups = {g["_id"] for g in (await repo.groups_by_name(db, school_id)).values() if not g.get("archived")}
    allowed: dict[str, set[str]] = {"gender": set(GENDERS), "programme": enabled, "group": groups}
    for name, mapping in maps.items():
        if name not in allowed:
            errors.append(field_error(name, "no values to map for this field"))
            continue
        errors += [field_error(f"{name}.{value}", "not an allowed value") for value, target in mapping.items()
                   if target is not None and target not in allowed[name]]
    if errors:
        raise Problem(422, "validation", errors=errors)
    merged = {name: {**job.get("value_maps", {}).get(name, {}), **maps.get(name, {})}
              for name in {*job.get("value_maps", {}), *maps}}
    updated = await repo.update_job(db, job_id, {"value_maps": merged, "status": "mapped", "preview": None})
    assert updated is not None
    return job_out(updated)


async def build_context(db: Db, job: Doc) -> ImportContext:
    """What the row checks need: first row of each code, users and their roles, programmes, e-mails in use."""
    ctx = ImportContext(school_id=job["school_id"])
    code_col = next(int(c) for c, f in job["mapping"].items() if f == "student_code")
    email_col = next(int(c) for c, f in job["mapping"].items() if f == "email")
    people_cols = [int(c) for c, f in job["mapping"].items() if f in PERSON_FIELDS]
    emails: set[str] = set()
    student_emails: set[str] = set()
    async for block in repo.iter_blocks(db, job["_id"]):
        for row in block["rows"]:
            cells = row["cells"]
            code = cells[code_col].strip() if code_col < len(cells) else ""
            if code:
                ctx.first_row_of_code.setdefault(code, row["row"])
            if email_col < len(cells) and cells[email_col]:
                student_emails.add(cells[email_col].strip().lower())
            for col in people_cols:
                if col < len(cells):
                    emails.update(split_multi(cells[col]))
    ctx.users_by_email = await repo.users_by_email(db, emails)
    ctx.roles_by_user = await repo.roles_of(db, job["school_id"], ctx.users_by_email.values())
    ctx.enabled_programmes = {p["programme_id"] for p in await repo.school_programmes(db, job["school_id"], True)}
    for student in await repo.codes_and_emails(db, job["school_id"]):
        ctx.student_ids[student["student_code"]] = student["_id"]
        if student.get("email") in student_emails:
            ctx.student_of_email[student["email"]] = student["student_code"]
    return ctx


def check_block(block: Doc, job: Doc, ctx: ImportContext) -> list[CheckedRow]:
    """Check every row of a stored block."""
    return [check_row(r["row"], r["cells"], job["mapping"], job.get("value_maps", {}), ctx) for r in block["rows"]]


async def preview(db: Db, *, school_id: str, job_id: str) -> Doc:
    """Step 4: check every row; each is invalid with its reasons, or valid with what commit will do to it.

    The action (create, update, unchanged) is decided by the same rule commit applies, on a copy.
    """
    job = await _job(db, school_id=school_id, job_id=job_id)
    _editable(job)
    if job["status"] == "uploaded":
        raise Problem(409, "conflict", detail=NOT_MAPPED)
    ctx = await build_context(db, job)
    groups = await repo.groups_by_name(db, school_id)
    counts = {"valid": 0, "invalid": 0, "create": 0, "update": 0, "unchanged": 0}
    async for block in repo.iter_blocks(db, job_id):
        checked = check_block(block, job, ctx)
        existing = await existing_students(db, None, school_id, checked, ctx)
        results = []
        for c in checked:
            if c.reasons:
                results.append({"row": c.row, "status": "invalid", "reasons": c.reasons})
                counts["invalid"] += 1
                continue
            doc = existing.get(c.values["student_code"])
            if doc is None:
                action = "create"
            else:
                # groups still to be created get a placeholder id: a membership the student has not yet
                group_ids = [group_id(job, groups, g) or f"new:{g.lower()}" for g in c.group_values]
                action = "update" if apply_row(copy.deepcopy(doc), c, group_ids).any else "unchanged"
            results.append({"row": c.row, "status": "valid", "action": action})
            counts["valid"] += 1
            counts[action] += 1
        await repo.set_block_results(db, job_id, block["n"], results)
    updated = await repo.update_job(db, job_id, {"status": "previewed", "preview": counts})
    assert updated is not None
    return job_out(updated)


async def existing_students(db: Db, session: Any, school_id: str, checked: list[CheckedRow],
                            ctx: ImportContext) -> dict[str, Doc]:
    """Student code -> stored student, for the valid rows of a block whose code the school already has."""
    known = [ctx.student_ids[c.values["student_code"]] for c in checked
             if not c.reasons and c.values["student_code"] in ctx.student_ids]
    if not known:
        return {}
    return {s["student_code"]: s for s in await repo.students_by_ids(db, school_id, known, session)}


def group_id(job: Doc, groups: dict[str, Doc], value: str) -> str | None:
    """The id of the group a file value names: as mapped in step 3, else an existing group of that name."""
    target = job.get("value_maps", {}).get("group", {}).get(value)
    if target:
        return str(target)
    existing = groups.get(value.lower())
    return str(existing["_id"]) if existing is not None else None


async def rows(db: Db, *, school_id: str, job_id: str, status: str | None, after: int, limit: int) -> Doc:
    """The checked rows (preview or commit outcome), from row number `after`, optionally by status."""
    job = await _job(db, school_id=school_id, job_id=job_id)
    items: list[Doc] = []
    async for block in repo.iter_blocks(db, job_id):
        if block["rows"] and block["rows"][-1]["row"] <= after:
            continue
        cells = {r["row"]: r["cells"] for r in block["rows"]}
        for result in block.get("results") or []:
            if result["row"] > after and (status is None or result["status"] == status):
                items.append({**result, "cells": cells.get(result["row"], [])})
                if len(items) == limit:
                    return {"status": job["status"], "items": items, "next_after": result["row"]}
    return {"status": job["status"], "items": items, "next_after": None}
