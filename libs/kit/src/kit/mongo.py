"""The Mongo client factory and the transaction helper."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, ServerSelectionTimeoutError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from kit.settings import KitSettings

T = TypeVar("T")
log = logging.getLogger(__name__)

Client = AsyncMongoClient[dict[str, Any]]
Db = AsyncDatabase[dict[str, Any]]


def create_client(settings: KitSettings, **overrides: Any) -> Client:
    """A Mongo client for the service, with timeouts that fail fast rather than hang."""
    options: dict[str, Any] = {
        "appname": settings.service,
        "tz_aware": True,
        "uuidRepresentation": "standard",
        "serverSelectionTimeoutMS": 5000,
        "connectTimeoutMS": 3000,
    }
    options.update(overrides)
    return AsyncMongoClient(settings.mongo_uri.get_secret_value(), **options)


def _is_transient(exc: PyMongoError) -> bool:
    # Only the server's label is trusted: retrying after an unknown commit result could apply it twice.
    # No server to select means the client already waited serverSelectionTimeoutMS: answer (503) instead.
    return exc.has_error_label("TransientTransactionError") and not isinstance(exc, ServerSelectionTimeoutError)


async def run_in_transaction(
    client: Client,
    work: Callable[[AsyncClientSession], Awaitable[T]],
    *,
    max_attempts: int = 5,
    base_delay_s: float = 0.02,
) -> T:
    """Run work(session) in one transaction, retrying the whole of it on transient errors."""
    for attempt in range(1, max_attempts + 1):
        async with client.start_session() as session:
            try:
                async with await session.start_transaction(
                    read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
                ):
                    result = await work(session)
                return result
            except PyMongoError as exc:
                if attempt == max_attempts or not _is_transient(exc):
                    raise
                delay = base_delay_s * (2 ** (attempt - 1)) * (1 + random.random())  # noqa: S311
                log.info("transient transaction error, retrying", extra={"attempt": attempt})
                await asyncio.sleep(delay)
    raise AssertionError("unreachable")


# Server codes a later retry of the same work outlives: a lock or write conflict with another transaction
# (one a killed process left open holds its documents until the server reaps it, 60 s by default), a
# transaction the server aborted meanwhile, time limits, and a node stepping down or shutting down.
_PASSING_CODES = frozenset({24, 50, 91, 112, 189, 251, 262, 10107, 11600, 11602, 13435, 13436})
_PASSING_LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult", "RetryableWriteError")


def is_passing_failure(exc: BaseException) -> bool:
    """True when the database failed, not the work: the same work can succeed later (for idempotent work only)."""
    if isinstance(exc, ConnectionFailure):
        return True
    if isinstance(exc, PyMongoError) and any(exc.has_error_label(label) for label in _PASSING_LABELS):
        return True
    return isinstance(exc, OperationFailure) and exc.code in _PASSING_CODES


def is_duplicate_key(exc: BaseException) -> bool:
    """True for a unique-index violation (E11000), however the driver wraps it."""
    return isinstance(exc, OperationFailure) and exc.code == 11000
