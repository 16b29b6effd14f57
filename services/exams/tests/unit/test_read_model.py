"""The overview's stored forms: roster lines per reader and packed cells."""

from datetime import UTC, datetime

from exams.projections.roster import EVERYONE, Entry, lines_for
from exams.readmodel import pack, unpack


def test_a_student_is_on_the_schools_roster_and_on_each_linked_persons_with_their_relations() -> None:
    student = {"_id": "stu-1", "student_code": "100001", "programme_ids": ["p1", "p2"], "group_ids": ["g1"],
               "supervisor_ids": ["u-sup"], "assessor_ids": ["u-ass"], "trainer_ids": ["u-wpt"],
               "assessing_ids": ["u-ass", "u-ass2"], "archived": False}
    lines = lines_for(student)
    assert set(lines) == {EVERYONE, "u-sup", "u-ass", "u-ass2", "u-wpt"}
    assert Entry.parse(lines["u-ass"]) == Entry("100001", "stu-1", ("p1", "p2"), ("g1",), False, "ax")
    assert Entry.parse(lines[EVERYONE]).relations == ""
    assert Entry.parse(lines_for({**student, "archived": True, "group_ids": []})["u-sup"]).archived


def test_a_cell_survives_packing() -> None:
    cell = {"assignment_id": "asg-1", "assignment_state": "adopted", "parts_total": 3, "parts_scheduled": 2,
            "first_start": datetime(2026, 12, 1, 9, tzinfo=UTC), "attempt_number": 2, "result": "failed",
            "result_state": "adopted"}
    assert unpack(pack(cell)) == cell
    stored_before_results = pack(cell)[:7]  # cells stored before the result's state was kept still read
    assert unpack(stored_before_results) == {k: v for k, v in cell.items() if k != "result_state"}
    assert unpack(None) is None
