"""The import job: upload, map columns, map values, preview, commit (in crash-safe, resumable chunks)."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import IO

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.enrollment import GroupMembersChangedV1
from enrollment import repository as repo
from enrollment.files import FileInfo, UnsupportedFile, detect, read_rows
from enrollment.models import (
    GENDERS,
    PERSON_FIELDS,
    VALUE_FIELDS,
    CheckedRow,
    ImportContext,
    check_row,
    mapping_errors,
    split_multi,
    suggest_gender,
    suggest_mapping,
)
from enrollment.service import (
    Doc,
    Staged,
    add_link,
    created_event,
    group_event,
    link_event,
    new_id,
    new_student,
    not_found,
    refresh,
    stage,
    updated_event,
)
from kit.errors import Problem, field_error
from kit.mongo import Client, Db, is_duplicate_key, run_in_transaction

log = logging.getLogger(__name__)

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


async def _spool(stream: AsyncIterator[bytes], max_bytes: int) -> IO[bytes]:
    """The upload in a spooled temporary file (memory first, then disk), refused past max_bytes."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=4 << 20)
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            spooled.close()
            raise Problem(413, "payload_too_large", detail=f"The file may be at most {max_bytes // (1 << 20)} MB.",
                          max_bytes=max_bytes)
        spooled.write(chunk)
    return spooled


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


async def upload(db: Db, school_id: str, created_by: str, stream: AsyncIterator[bytes], *, max_bytes: int,
                 invite: bool, language: str, filename: str | None) -> Doc:
    """Step 1: keep the file and its parsed rows in Mongo and suggest a column mapping."""
    spooled = await _spool(stream, max_bytes)
    try:
        try:
            info: FileInfo = await asyncio.to_thread(detect, spooled)
        except UnsupportedFile as exc:
            raise Problem(415, "unsupported_media_type", detail=str(exc)) from exc
        job_id = new_id()
        stamp = repo.now()
        job: Doc = {"_id": job_id, "school_id": school_id, "created_by": created_by, "status": "uploading",
                    "invite": invite, "language": language, "filename": filename, "format": info.format,
                    "encoding": info.encoding, "delimiter": info.delimiter, "created_at": stamp,
                    "updated_at": stamp}
        await repo.insert_job(db, job)
        spooled.seek(0)
        n = 0
        while data := spooled.read(FILE_CHUNK):
            await repo.save_file_chunk(db, job_id, n, data)
            n += 1
        size = spooled.tell()
        rows = read_rows(spooled, info)
        try:
            header = await asyncio.to_thread(next, rows, None)
            if header is None:
                raise UnsupportedFile("The file has no header row.")
            count, blocks, number, done = 0, 0, 2, False
            while not done:
                block, number, done = await asyncio.to_thread(_next_block, rows, number)
                if block:
                    await repo.save_block(db, job_id, blocks, block)
                    blocks += 1
                    count += len(block)
        except UnsupportedFile as exc:
            await repo.update_job(db, job_id, {"status": "failed", "error": str(exc)})
            raise Problem(415, "unsupported_media_type", detail=str(exc)) from exc
    finally:
        spooled.close()
    headers = [h or f"Kolom {i + 1}" for i, h in enumerate(header)]
    suggested = suggest_mapping(headers)
    updated = await repo.update_job(db, job_id, {
        "status": "uploaded", "size": size, "columns": headers, "row_count": count, "blocks": blocks,
        "suggested_mapping": suggested, "mapping": suggested, "value_maps": {}, "committed_blocks": 0,
        "result": None, "preview": None,
    })
    assert updated is not None
    return job_out(updated)


async def _job(db: Db, school_id: str, job_id: str) -> Doc:
    job = await repo.get_job(db, school_id, job_id)
    if job is None or job["status"] in ("uploading", "failed"):
        raise not_found("import")
    return job


def _editable(job: Doc) -> None:
    if job["status"] in ("committing", "committed"):
        raise Problem(409, "conflict", detail="This import has already been committed.")


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


async def set_mapping(db: Db, school_id: str, job_id: str, columns: dict[str, str]) -> Doc:
    """Step 2: map file columns to fields; people columns are matched to users by e-mail."""
    job = await _job(db, school_id, job_id)
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


async def values(db: Db, school_id: str, job_id: str) -> Doc:
    """Step 3: the file's own values per field and what each is mapped to now."""
    job = await _job(db, school_id, job_id)
    return {"id": job_id, "value_maps": job.get("value_maps", {}), "genders": list(GENDERS)}


async def set_values(db: Db, school_id: str, job_id: str, maps: dict[str, dict[str, str | None]]) -> Doc:
    """Step 3: choose what the file's own values mean (a group value mapped to null creates that group)."""
    job = await _job(db, school_id, job_id)
    _editable(job)
    if job["status"] == "uploaded":
        raise Problem(409, "conflict", detail="Map the columns first.")
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


def _check_block(block: Doc, job: Doc, ctx: ImportContext) -> list[CheckedRow]:
    return [check_row(r["row"], r["cells"], job["mapping"], job.get("value_maps", {}), ctx) for r in block["rows"]]


async def preview(db: Db, school_id: str, job_id: str) -> Doc:
    """Step 4: check every row; each is valid (to create or update) or has its reasons."""
    job = await _job(db, school_id, job_id)
    _editable(job)
    if job["status"] == "uploaded":
        raise Problem(409, "conflict", detail="Map the columns first.")
    ctx = await build_context(db, job)
    counts = {"valid": 0, "invalid": 0, "create": 0, "update": 0}
    async for block in repo.iter_blocks(db, job_id):
        checked = _check_block(block, job, ctx)
        existing = ctx.student_ids
        results = []
        for c in checked:
            if c.reasons:
                results.append({"row": c.row, "status": "invalid", "reasons": c.reasons})
                counts["invalid"] += 1
            else:
                action = "update" if c.values["student_code"] in existing else "create"
                results.append({"row": c.row, "status": "valid", "action": action})
                counts["valid"] += 1
                counts[action] += 1
        await repo.set_block_results(db, job_id, block["n"], results)
    updated = await repo.update_job(db, job_id, {"status": "previewed", "preview": counts})
    assert updated is not None
    return job_out(updated)


async def rows(db: Db, school_id: str, job_id: str, status: str | None, after: int, limit: int) -> Doc:
    """The checked rows (preview or commit outcome), from row number `after`, optionally by status."""
    job = await _job(db, school_id, job_id)
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


# --- commit ---------------------------------------------------------------------------------------

async def commit(db: Db, client: Client, school_id: str, job_id: str, lease_s: float) -> Doc:
    """Import the valid rows, one transaction per block that also advances the job's cursor.

    A restart (or a second call after the lease ran out) resumes after the last committed block; rows are
    matched on student code, so nothing is imported twice.
    """
    job = await _job(db, school_id, job_id)
    if job["status"] == "committed":
        return job_out(job)
    if job["status"] not in ("previewed", "committing"):
        raise Problem(409, "conflict", detail="Preview the rows before committing.")
    owner = uuid.uuid4().hex
    lease = {"status": "committing", "lease_owner": owner, "lease_until": repo.now() + timedelta(seconds=lease_s)}
    free = [{"lease_until": None}, {"lease_until": {"$exists": False}}, {"lease_until": {"$lt": repo.now()}}]
    claimed = await repo.update_job(db, job_id, lease, expect={"status": {"$in": ["previewed", "committing"]},
                                                               "$or": free})
    if claimed is None:
        raise Problem(409, "conflict", detail="This import is being committed right now.")
    try:
        return await _run_commit(db, client, claimed, owner, lease_s)
    except BaseException as exc:
        # Whatever stopped us, the committed blocks stay committed; a new call may resume at once.
        await asyncio.shield(repo.update_job(db, job_id, {"lease_until": None}, expect={"lease_owner": owner}))
        if is_duplicate_key(exc):
            raise Problem(409, "conflict", detail="Students were added while importing; commit again.") from exc
        raise


async def _run_commit(db: Db, client: Client, job: Doc, owner: str, lease_s: float) -> Doc:
    ctx = await build_context(db, job)
    group_ids = await _ensure_groups(db, client, job)
    totals = dict(job.get("result") or {"created": 0, "updated": 0, "unchanged": 0, "invalid": 0})
    async for block in repo.iter_blocks(db, job["_id"], job.get("committed_blocks", 0)):

        async def work(session: AsyncClientSession, block: Doc = block) -> Doc:
            current = await repo.get_job(db, job["school_id"], job["_id"], session)
            if current is None or current.get("lease_owner") != owner or current["committed_blocks"] != block["n"]:
                raise Problem(409, "conflict", detail="This import is being committed by someone else.")
            counts = await _commit_block(db, session, job, block, ctx, group_ids)
            before = current.get("result") or {}
            result = {k: before.get(k, 0) + counts[k] for k in counts}
            await repo.update_job(db, job["_id"], {
                "committed_blocks": block["n"] + 1, "result": result,
                "lease_until": repo.now() + timedelta(seconds=lease_s)}, session)
            return result

        totals = await run_in_transaction(client, work)
    done = await repo.update_job(db, job["_id"], {"status": "committed", "lease_until": None, "result": totals},
                                 expect={"lease_owner": owner})
    if done is None:
        raise Problem(409, "conflict", detail="This import is being committed by someone else.")
    log.info("import committed", extra={"job_id": job["_id"], "counts": totals})
    return job_out(done)


async def _ensure_groups(db: Db, client: Client, job: Doc) -> dict[str, str]:
    """Group value -> group id; values mapped to no group create one of that name (once)."""
    wanted = job.get("value_maps", {}).get("group", {})
    if not wanted:
        return {}

    async def work(session: AsyncClientSession) -> dict[str, str]:
        existing = await repo.groups_by_name(db, job["school_id"], session)
        result: dict[str, str] = {}
        events: Staged = []
        for value, target in wanted.items():
            if target:
                result[value] = target
            elif value.lower() in existing:
                result[value] = existing[value.lower()]["_id"]
            else:
                stamp = repo.now()
                doc = {"_id": new_id(), "school_id": job["school_id"], "name": value[:120], "category": None,
                       "description": None, "archived": False, "created_at": stamp, "updated_at": stamp}
                await repo.insert_group(db, doc, session)
                existing[value.lower()] = doc
                events.append(group_event(doc))
                result[value] = doc["_id"]
        await stage(db, session, events)
        return result

    return await run_in_transaction(client, work)


async def _commit_block(db: Db, session: AsyncClientSession, job: Doc, block: Doc, ctx: ImportContext,
                        group_ids: dict[str, str]) -> dict[str, int]:
    """Create or update the valid rows of one block, with their events; store each row's outcome."""
    school_id = job["school_id"]
    checked = _check_block(block, job, ctx)
    # Only rows whose code the school already had are read back (new codes need no query).
    known = [ctx.student_ids[c.values["student_code"]] for c in checked
             if not c.reasons and c.values["student_code"] in ctx.student_ids]
    existing = {s["student_code"]: s for s in await repo.students_by_ids(db, school_id, known, session)}
    inserts: list[Doc] = []
    updates: list[Doc] = []
    events: Staged = []
    members: dict[str, list[str]] = {}
    results: list[Doc] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0, "invalid": 0}
    for c in checked:
        if c.reasons:
            results.append({"row": c.row, "status": "invalid", "reasons": c.reasons})
            counts["invalid"] += 1
            continue
        groups = [group_ids[g] for g in c.group_values if g in group_ids]
        doc = existing.get(c.values["student_code"])
        if doc is None:
            doc = new_student(school_id, {**c.values, "programme_ids": c.programme_ids, "group_ids": groups})
            events.append(created_event(doc, job["invite"], job["language"]))
            inserts.append(doc)
            changed_core, action = False, "created"
            new_groups = groups
        else:
            changed_core = _apply(doc, c, groups)
            new_groups = [g for g in groups if g not in doc["group_ids"]]
            doc["group_ids"] += new_groups
            action = "updated"
        linked = [(rel, uid) for rel, uids in c.links.items() for uid in uids if add_link(doc, rel, uid)]
        events += [link_event(doc, uid, rel, True) for rel, uid in linked]
        for g in new_groups:
            members.setdefault(g, []).append(doc["_id"])
        if action == "updated":
            if changed_core:
                events.append(updated_event(doc))
            if changed_core or linked or new_groups:
                doc["updated_at"] = repo.now()
                updates.append(refresh(doc))
            else:
                action = "unchanged"
        results.append({"row": c.row, "status": action, "student_id": doc["_id"]})
        counts[action] += 1
    events += [(GroupMembersChangedV1(group_id=g, school_id=school_id, added=ids), g, school_id)
               for g, ids in members.items()]
    await repo.insert_students(db, inserts, session)
    await repo.replace_students(db, updates, session)
    await stage(db, session, events)
    await repo.set_block_results(db, job["_id"], block["n"], results, session)
    return counts


def _apply(doc: Doc, c: CheckedRow, groups: list[str]) -> bool:
    """Update an existing student from a file row; True when its published state changed."""
    changed = False
    for name in ("first_name", "last_name", "email", "gender", "date_of_birth"):
        if name in c.values and c.values[name] not in (None, "") and doc.get(name) != c.values[name]:
            doc[name] = c.values[name]
            changed = True
    for pid in c.programme_ids:
        if pid not in doc["programme_ids"]:
            doc["programme_ids"].append(pid)
            changed = True
    return changed


async def resume_stopped(db: Db, client: Client, lease_s: float) -> int:
    """Finish every commit a stopped process left halfway (after its lease ran out); how many were resumed."""
    resumed = 0
    for job in await repo.stopped_commits(db):
        lease = job.get("lease_until")
        if lease is not None:
            await asyncio.sleep(max(0.0, (lease - repo.now()).total_seconds()))
        try:
            await commit(db, client, job["school_id"], job["_id"], lease_s)
            resumed += 1
        except Problem as exc:  # someone else resumed it meanwhile
            log.info("import not resumed", extra={"job_id": job["_id"], "reason": exc.detail})
    return resumed
