"""Committing an import job: one transaction per block of rows, resumable after any stop.

A commit is a job of many transactions, like a consumer's run of many events: this module is the one that
owns them (each block's rows, events and cursor are written together), never the use cases it calls.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from enrollment import events
from enrollment import repository as repo
from enrollment.events import Staged, service_outbox, stage
from enrollment.groups import new_group
from enrollment.import_rules import ImportContext, apply_row
from enrollment.imports import _job, build_context, check_block, existing_students, group_id, job_out
from enrollment.service import new_student, refresh
from kit.clock import now
from kit.errors import Problem, Text
from kit.mongo import Client, Db, is_duplicate_key, run_in_transaction
from kit.outbox import Outbox

log = logging.getLogger(__name__)
Doc = dict[str, Any]
NOT_PREVIEWED = Text("Controleer eerst de rijen (preview) voordat u importeert.",
                     "Preview the rows before committing.")
BUSY = Text("Deze import wordt op dit moment al doorgevoerd.",
            "This import is being committed right now.")
RACED = Text("Er zijn tijdens het importeren studenten toegevoegd; voer de import opnieuw door.",
             "Students were added while importing; commit again.")
TAKEN_OVER = Text("Deze import wordt door iemand anders doorgevoerd.",
                  "This import is being committed by someone else.")


async def commit(db: Db, client: Client, *, school_id: str, job_id: str, lease_s: float,
                 outbox: Outbox | None = None) -> Doc:
    """Import the valid rows, one transaction per block that also advances the job's cursor.

    A restart (or a second call after the lease ran out) resumes after the last committed block; rows are
    matched on student code, so nothing is imported twice. outbox: the API's; a run without one builds it.
    """
    outbox = outbox or service_outbox(db)
    job = await _job(db, school_id=school_id, job_id=job_id)
    if job["status"] == "committed":
        return job_out(job)
    if job["status"] not in ("previewed", "committing"):
        raise Problem(409, "conflict", detail=NOT_PREVIEWED)
    owner = uuid.uuid4().hex
    lease = {"status": "committing", "lease_owner": owner, "lease_until": now() + timedelta(seconds=lease_s)}
    free = [{"lease_until": None}, {"lease_until": {"$exists": False}}, {"lease_until": {"$lt": now()}}]
    claimed = await repo.update_job(db, job_id, lease, expect={"status": {"$in": ["previewed", "committing"]},
                                                               "$or": free})
    if claimed is None:
        raise Problem(409, "conflict", detail=BUSY)
    try:
        return await _run_commit(db, client, outbox, claimed, owner, lease_s)
    except BaseException as exc:
        # Whatever stopped us, the committed blocks stay committed; a new call may resume at once.
        await asyncio.shield(repo.update_job(db, job_id, {"lease_until": None}, expect={"lease_owner": owner}))
        if is_duplicate_key(exc):
            raise Problem(409, "conflict", detail=RACED) from exc
        raise


async def _run_commit(db: Db, client: Client, outbox: Outbox, job: Doc, owner: str, lease_s: float) -> Doc:
    ctx = await build_context(db, job)
    totals = dict(job.get("result") or {"created": 0, "updated": 0, "unchanged": 0, "invalid": 0})
    async for block in repo.iter_blocks(db, job["_id"], job.get("committed_blocks", 0)):

        async def work(session: AsyncClientSession, block: Doc = block) -> Doc:
            current = await repo.get_job(db, job["school_id"], job["_id"], session)
            if current is None or current.get("lease_owner") != owner or current["committed_blocks"] != block["n"]:
                raise Problem(409, "conflict", detail=TAKEN_OVER)
            counts = await _commit_block(db, session, outbox, job, block, ctx)
            before = current.get("result") or {}
            result = {k: before.get(k, 0) + counts[k] for k in counts}
            await repo.update_job(db, job["_id"], {
                "committed_blocks": block["n"] + 1, "result": result,
                "lease_until": now() + timedelta(seconds=lease_s)}, session)
            return result

        totals = await run_in_transaction(client, work)
    done = await repo.update_job(db, job["_id"], {"status": "committed", "lease_until": None, "result": totals},
                                 expect={"lease_owner": owner})
    if done is None:
        raise Problem(409, "conflict", detail=TAKEN_OVER)
    log.info("import committed", extra={"job_id": job["_id"], "counts": totals})
    return job_out(done)


async def _groups_of(db: Db, session: AsyncClientSession, job: Doc, values: list[str], category: str | None,
                     groups: dict[str, Doc], staged: Staged) -> list[str]:
    """The ids of the groups a valid row names; a group not there yet is created now, with the row's category."""
    ids = []
    for value in values:
        gid = group_id(job, groups, value)
        if gid is None:
            doc = new_group(job["school_id"], value[:120], category=category)
            await repo.insert_group(db, doc, session)
            groups[value.lower()] = doc
            staged.append(events.group(doc))
            gid = doc["_id"]
        ids.append(gid)
    return ids


async def _commit_block(db: Db, session: AsyncClientSession, outbox: Outbox, job: Doc, block: Doc,
                        ctx: ImportContext) -> dict[str, int]:
    """Create or update the valid rows of one block, with their events; store each row's outcome.

    Nothing of an invalid row is written: not the student, and not a group only it names.
    """
    school_id = job["school_id"]
    checked = check_block(block, job, ctx)
    existing = await existing_students(db, session, school_id, checked, ctx)
    groups = await repo.groups_by_name(db, school_id, session)
    inserts: list[Doc] = []
    updates: list[Doc] = []
    staged: Staged = []
    group_events: Staged = []
    members: dict[str, list[str]] = {}
    results: list[Doc] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0, "invalid": 0}
    for c in checked:
        if c.reasons:
            results.append({"row": c.row, "status": "invalid", "reasons": c.reasons})
            counts["invalid"] += 1
            continue
        group_ids = await _groups_of(db, session, job, c.group_values, c.group_category, groups, group_events)
        doc = existing.get(c.values["student_code"])
        if doc is None:
            doc = new_student(school_id, {**c.values, "programme_ids": c.programme_ids,
                                          "group_ids": list(dict.fromkeys(group_ids))})
            staged.append(events.created(doc, job["invite"], job["language"]))
            change = apply_row(doc, c, [])  # the links; the fields are the row's already
            inserts.append(refresh(doc))
            action = "created"
            new_groups = doc["group_ids"]
        else:
            change = apply_row(doc, c, group_ids)
            new_groups = change.new_groups
            action = "updated" if change.any else "unchanged"
            if change.core:
                staged.append(events.updated(doc))
            if change.any:
                doc["updated_at"] = now()
                updates.append(refresh(doc))
        staged += [events.link(doc, uid, rel, True) for rel, uid in change.linked]
        for g in new_groups:
            members.setdefault(g, []).append(doc["_id"])
        results.append({"row": c.row, "status": action, "student_id": doc["_id"]})
        counts[action] += 1
    staged += [events.members(school_id, g, ids) for g, ids in members.items()]
    await repo.insert_students(db, inserts, session)
    await repo.replace_students(db, updates, session)
    await stage(outbox, session, group_events + staged)
    await repo.set_block_results(db, job["_id"], block["n"], results, session)
    return counts


async def resume_stopped(db: Db, client: Client, *, lease_s: float) -> int:
    """Finish every commit a stopped process left halfway (after its lease ran out); how many were resumed."""
    resumed = 0
    outbox = service_outbox(db)
    for job in await repo.stopped_commits(db):
        lease = job.get("lease_until")
        if lease is not None:
            await asyncio.sleep(max(0.0, (lease - now()).total_seconds()))
        try:
            await commit(db, client, school_id=job["school_id"], job_id=job["_id"], lease_s=lease_s, outbox=outbox)
            resumed += 1
        except Problem as exc:  # someone else resumed it meanwhile
            log.info("import not resumed", extra={"job_id": job["_id"], "reason": str(exc)})
    return resumed

