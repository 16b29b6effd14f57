"""Running an API command: one transaction for the state change and its events, with Idempotency-Key replay."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from kit.errors import Problem, Text
from kit.mongo import Db, is_duplicate_key, run_in_transaction

IDEMPOTENCY = "idempotency"
IDEMPOTENCY_TTL = timedelta(hours=24)
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")

Work = Callable[[AsyncClientSession], Awaitable[Any]]


async def ensure_idempotency_indexes(db: Db) -> None:
    """Replay records expire after IDEMPOTENCY_TTL."""
    await db[IDEMPOTENCY].create_index([("created_at", ASCENDING)], name="ttl",
                                       expireAfterSeconds=int(IDEMPOTENCY_TTL.total_seconds()))


async def execute(request: Request, work: Work, *, status_code: int = 200) -> JSONResponse:
    """Run work(session) in one transaction and answer with its result as JSON.

    With an Idempotency-Key header, the first response is stored in the same transaction and a repeat
    of the same request returns it again (header Idempotent-Replayed: true) instead of acting twice;
    the same key with a different body is refused.
    """
    app = request.app
    db: Db = app.state.db
    key = request.headers.get("idempotency-key")
    record_id = fingerprint = None
    if key is not None:
        if not _KEY.match(key):
            raise Problem(400, "bad_request", detail=Text(
                nl="Idempotency-Key moet uit 1-200 letters, cijfers of ._:- bestaan.",
                en="Idempotency-Key must be 1-200 letters, digits or ._:-"))
        principal = getattr(request.state, "principal", None)
        caller = principal.subject if principal is not None else "anonymous"
        record_id = f"{caller}:{request.method}:{request.url.path}:{key}"
        fingerprint = hashlib.sha256(await request.body()).hexdigest()
        replay = await _replay(db, record_id, fingerprint)
        if replay is not None:
            return replay

    async def transaction(session: AsyncClientSession) -> Any:
        body = jsonable_encoder(await work(session))
        if record_id is not None:
            await db[IDEMPOTENCY].insert_one(
                {"_id": record_id, "fingerprint": fingerprint, "status": status_code, "body": body,
                 "created_at": datetime.now(UTC)},
                session=session,
            )
        return body

    try:
        body = await run_in_transaction(app.state.mongo, transaction)
    except Exception as exc:
        # A concurrent request with the same key won the race: answer as it did.
        if record_id is not None and fingerprint is not None and is_duplicate_key(exc):
            replay = await _replay(db, record_id, fingerprint)
            if replay is not None:
                return replay
        raise
    return JSONResponse(body, status_code=status_code)


async def _replay(db: Db, record_id: str, fingerprint: str) -> JSONResponse | None:
    stored = await db[IDEMPOTENCY].find_one({"_id": record_id})
    if stored is None:
        return None
    if stored["fingerprint"] != fingerprint:
        raise Problem(422, "validation", detail=Text(nl="Deze Idempotency-Key is al voor een ander verzoek gebruikt.",
                                                     en="This Idempotency-Key was used for a different request."),
                      errors=[{"field": "Idempotency-Key", "in": "header", "reason": "reused with another body"}])
    return JSONResponse(stored["body"], status_code=stored["status"], headers={"Idempotent-Replayed": "true"})
