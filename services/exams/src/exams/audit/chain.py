"""The hash chain as pure functions: a record's canonical form and hash, and walking a chain. No I/O.

A record's hash is the SHA-256 (hex) of its canonical JSON: every field except `_id` and `hash`, keys sorted,
no whitespace, UTF-8, no NaN. Every hashed value is a JSON value as stored (moments are ISO-8601 strings), so
the stored record alone is enough to check it. Each record holds the hash of the record before it
(`prev_hash`; the first one holds GENESIS) and a sequence number 1, 2, 3 ... per school.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]
GENESIS = "0" * 64
UNHASHED = ("_id", "hash")
ACTOR_FIELDS = ("approved_by", "adopted_by", "finalized_by", "opened_by", "decided_by")


def canonical(record: Doc) -> bytes:
    """The bytes a record's hash is taken of."""
    content = {k: v for k, v in record.items() if k not in UNHASHED}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest(record: Doc) -> str:
    """The SHA-256 of a record's canonical form, hex."""
    return hashlib.sha256(canonical(record)).hexdigest()


def actor_of(data: Doc) -> str | None:
    """Who signed, adopted, finalized, opened or decided, as the event names them."""
    for name in ACTOR_FIELDS:
        if isinstance(data.get(name), str):
            return str(data[name])
    return None


def new_record(*, school_id: str, seq: int, prev_hash: str, event_id: str, event_type: str, occurred_at: str,
               subject: str, data: Doc, recorded_at: str) -> Doc:
    """The next record of a school's chain, with its hash."""
    record: Doc = {"_id": event_id, "school_id": school_id, "seq": seq, "prev_hash": prev_hash,
                   "event_id": event_id, "type": event_type, "occurred_at": occurred_at, "subject": subject,
                   "student_id": data.get("student_id"), "actor": actor_of(data), "data": data,
                   "recorded_at": recorded_at}
    record["hash"] = digest(record)
    return record


@dataclass(frozen=True)
class Break:
    """The first link of a chain that does not hold."""

    seq: int
    record_id: str | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of walking a chain."""

    records: int
    last_seq: int
    first_broken: Break | None


class Walk:
    """Checks a chain record by record in sequence order: numbering, each link to the previous hash, each hash."""

    def __init__(self) -> None:
        self.expected_prev = GENESIS
        self.records = 0
        self.last = 0

    def step(self, record: Doc) -> Break | None:
        """Check the next record; the first break found, or None."""
        self.records += 1
        seq = record.get("seq")
        if seq != self.last + 1:
            return Break(self.last + 1, record.get("_id"),
                         f"record {self.last + 1} is missing (found {seq} after {self.last})")
        if record.get("prev_hash") != self.expected_prev:
            return Break(seq, record.get("_id"), "prev_hash does not match the hash of the record before it")
        if digest(record) != record.get("hash"):
            return Break(seq, record.get("_id"), "the record's content does not match its hash")
        self.expected_prev, self.last = record["hash"], seq
        return None

    def finish(self, head: Doc | None) -> Break | None:
        """The chain must end where its head says (records removed at the end show here)."""
        if head is not None and (head.get("seq") != self.last or head.get("hash") != self.expected_prev):
            return Break(self.last + 1, None, f"the chain ends at record {self.last}, but its head says "
                                              f"{head.get('seq')}")
        return None


def walk(records: Iterable[Doc], head: Doc | None) -> Verdict:
    """Walk a whole chain (see Walk)."""
    walker = Walk()
    for record in records:
        if (broken := walker.step(record)) is not None:
            return Verdict(walker.records, walker.last, broken)
    return Verdict(walker.records, walker.last, walker.finish(head))
