"""The hash chain without a server: canonical hashing, and walking names the first broken link."""

import copy

from hypothesis import given
from hypothesis import strategies as st

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

FIELDS = ["school_id", "seq", "prev_hash", "event_id", "type", "occurred_at", "subject", "student_id", "actor",
          "data", "recorded_at"]


@given(st.integers(min_value=1, max_value=12), st.data())
def test_any_change_to_any_record_is_found_at_that_record(n: int, data: st.DataObject) -> None:
    records = chain_of(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(FIELDS))
    value = data.draw(st.one_of(st.text(max_size=20), st.integers(), st.none(),
                                st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)))
    if records[index].get(field) == value:
        return
    records[index][field] = value
    broken = walk(records, {"seq": n, "hash": chain_of(n)[-1]["hash"]}).first_broken
    assert broken is not None and (broken.seq, broken.record_id) == (index + 1, f"ev-{index + 1}")
