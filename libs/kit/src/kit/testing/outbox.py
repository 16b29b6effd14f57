"""Reading what a service staged in its outbox, for tests that check a command's events."""

from __future__ import annotations

import json
from typing import Any

from kit.mongo import Db
from kit.outbox import OUTBOX, row_events


async def staged_events(db: Db, event_type: str | None = None) -> list[dict[str, Any]]:
    """Envelopes (as dicts) staged in db's outbox, oldest first, optionally of one type."""
    rows = await db[OUTBOX].find({}).sort("_id", 1).to_list()
    envelopes = [json.loads(event["payload"]) for row in rows for event in row_events(row)]
    return [e for e in envelopes if event_type is None or e["type"] == event_type]
