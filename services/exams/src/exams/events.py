"""Staging the exams service's events in the command's transaction (the worker's relay publishes them)."""

from __future__ import annotations

from contracts import Event
from exams.common import Session
from kit.outbox import Outbox


def subject_of(event: Event) -> str:
    """The entity an event is about, which keys it on the topic (keeps one entity's events in order)."""
    for field in ("schedule_id", "attempt_id", "assignment_id", "bank_assignment_id"):
        value = getattr(event, field, None)
        if isinstance(value, str):
            return value
    raise ValueError(f"{type(event).__name__} names no subject")


async def stage(outbox: Outbox, session: Session, events: list[Event]) -> None:
    """Write events to the outbox in the session's transaction, in order."""
    if events:
        await outbox.stage_many(session, [(e, subject_of(e), getattr(e, "school_id", None)) for e in events])
