"""Staging the exams service's events in the command's transaction (the worker's relay publishes them)."""

from __future__ import annotations

from contracts import Event
from exams.common import Session
from kit.outbox import Outbox


def subject_of(event: Event) -> str:
    """The entity an event is about (its contract's SUBJECT), which keys it on the topic: an attempt's part and
    attempt events share the attempt's key, so a part's finalization is consumed before the attempt's."""
    return event.subject_id()


async def stage(outbox: Outbox, session: Session, events: list[Event]) -> None:
    """Write events to the outbox in the session's transaction, in order."""
    if events:
        await outbox.stage_many(session, [(e, subject_of(e), getattr(e, "school_id", None)) for e in events])
