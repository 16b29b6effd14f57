"""Audit use cases: verifying a school's chain."""

from __future__ import annotations

from dataclasses import dataclass

from exams.audit import chain
from exams.audit import repository as repo
from kit.mongo import Db


@dataclass(frozen=True)
class Verification:
    """What walking a chain found."""

    records: int
    last_valid_seq: int
    head_seq: int
    broken: chain.Break | None


async def verify(db: Db, school_id: str) -> Verification:
    """Walk the school's chain from its first record up to its head; stop at the first broken link."""
    # The head is read first: records appended while the walk runs lie beyond it and are not a break.
    head = await repo.head(db, school_id)
    walker = chain.Walk()
    broken: chain.Break | None = None
    async for record in repo.chain(db, school_id, up_to=head["seq"] if head else None):
        if (broken := walker.step(record)) is not None:
            break
    if broken is None:
        broken = walker.finish(head)
    return Verification(walker.records, walker.last, (head or {}).get("seq", 0), broken)
