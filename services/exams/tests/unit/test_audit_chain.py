"""The hash chain without a server: canonical hashing, and walking names the first broken link."""

import copy

from exams.audit.chain import GENESIS, canonical, digest, new_record, walk


def chain_of(n: int, school: str = "sch_1") -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        record = new_record(school_id=school, seq=seq, prev_hash=prev, event_id=f"ev-{seq}",
                            event_type="exams.assignment_approved", occurred_at=f"2026-11-{seq:02d}T10:00:00+00:00",
                            subject=f"asg_{seq}", data={"student_id": "stu_1", "approved_by": f"usr_{seq}",
                                                        "role": "student", "locked": False},
                            recorded_at="2026-11-30T10:00:00+00:00")
        records.append(record)
        prev = str(record["hash"])
    return records


def test_canonical_form_ignores_key_order_and_the_stored_id() -> None:
    a = {"b": 1, "a": "é", "_id": "x", "hash": "y"}
    b = {"a": "é", "b": 1, "_id": "other"}
    assert canonical(a) == canonical(b) == '{"a":"é","b":1}'.encode()
    assert digest(a) == digest(b)


def test_records_link_to_the_hash_before_them_and_name_the_actor() -> None:
    records = chain_of(3)
    assert records[0]["prev_hash"] == GENESIS
    assert records[1]["prev_hash"] == records[0]["hash"] and records[2]["actor"] == "usr_3"
    verdict = walk(records, {"seq": 3, "hash": records[2]["hash"]})
    assert verdict.first_broken is None and verdict.records == 3 and verdict.last_seq == 3


def test_a_changed_record_is_the_first_broken_link() -> None:
    records = chain_of(5)
    records[2]["data"]["role"] = "exam_board"  # type: ignore[index]
    broken = walk(records, None).first_broken
    assert broken is not None and (broken.seq, broken.record_id) == (3, "ev-3")
    assert "content" in broken.reason


def test_a_rehashed_forgery_breaks_the_next_link() -> None:
    records = chain_of(5)
    records[1]["actor"] = "usr_forger"
    records[1]["hash"] = digest(records[1])
    broken = walk(records, None).first_broken
    assert broken is not None and broken.seq == 3 and "prev_hash" in broken.reason


def test_removed_records_are_found_in_the_middle_and_at_the_end() -> None:
    records = chain_of(5)
    gap = records[:2] + records[3:]
    broken = walk(gap, None).first_broken
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason
    head = {"seq": 5, "hash": records[4]["hash"]}
    broken = walk(copy.deepcopy(records[:4]), head).first_broken
    assert broken is not None and broken.seq == 5 and broken.record_id is None
