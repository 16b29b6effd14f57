"""Plain (non-tus) uploads in flight, recorded so that nothing of one cut off by a crash stays in S3.

Before the first byte goes to S3 an upload is recorded with its key and a lease its request renews (see
uploads_lease); the transaction that registers the file deletes the record. A record whose lease ran out
belongs to a process that died (SIGKILL, OOM, a lost node): the sweeper aborts every multipart upload
open under its key and removes the object unless it was registered, whatever step the process died in.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession

from evidence import repository as repo
from evidence.storage import abort_open_multipart_uploads, remove
from evidence.uploads_lease import lease_until, renewed
from kit.clock import now
from kit.errors import Problem, Text
from kit.mongo import Db

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def in_flight(db: Db, *, file_id: str, school_id: str, key: str) -> AsyncIterator[None]:
    """Record an upload for the length of the block, its lease renewed; a failed block leaves it to the sweeper."""
    await repo.insert_inflight(db, {"_id": file_id, "school_id": school_id, "key": key,
                                    "started_at": now(), "alive_until": lease_until()})
    try:
        async with renewed(lambda until: repo.renew_inflight(db, file_id, until)):
            yield
    except BaseException:
        # The request cleaned up what it could; the sweeper makes sure (S3 may have been away meanwhile).
        with contextlib.suppress(Exception):
            await repo.renew_inflight(db, file_id, now())
        raise


async def registered(db: Db, session: AsyncClientSession, file_id: str) -> None:
    """The upload became a file (in the registering transaction): its record goes."""
    if not await repo.delete_inflight(db, file_id, session):
        raise Problem(503, "temporarily_unavailable", detail=Text(
            "Het uploaden duurde te lang en is afgebroken; probeer het opnieuw.",
            "The upload took too long and was cleaned up; please try again."), headers={"Retry-After": "5"})


async def sweep_abandoned(db: Db, s3: Minio, bucket: str) -> int:
    """Clean up after every upload whose process died (each taken by one sweeper); returns how many."""
    count = 0
    for candidate in await repo.abandoned_inflight(db, now()):
        record = await repo.claim_abandoned_inflight(db, candidate["_id"], now())
        if record is None:
            continue
        await abort_open_multipart_uploads(s3, bucket, record["key"])
        if await repo.get_file(db, record["school_id"], record["_id"]) is None:
            await remove(s3, bucket, record["key"])
        await repo.forget_inflight(db, record["_id"])
        count += 1
    if count:
        log.info("abandoned uploads cleaned up", extra={"count": count})
    return count
