"""The audit trail: the worker's consumer chains every signature and decision per school, once per event, also
when appends race; verify names the first broken link of a record tampered with in the database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from contracts import Envelope
from contracts.exams import AssignmentAdoptedV1

School = Any


async def test_signatures_and_decisions_form_one_verifiable_chain_and_tampering_is_named(
        school: School, make_assessed: Any, auditor: Any) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    done = await make_assessed(school)
    student = done["student"]
    r = await http.post(f"/v1/schools/{sid}/cases", headers=student.headers, json={
        "kind": "objection", "attempt_id": done["attempt_id"], "reason": "Onjuist beoordeeld."})
    await http.post(f"/v1/schools/{sid}/cases/{r.json()['id']}/decision", headers=school.h("board"),
                    json={"outcome": "refused", "note": "Beoordeling klopt."})
    outcomes = await auditor.catch_up(db)
    assert {o.status for o in outcomes} == {"handled", "skipped"}

    verify = await http.get(f"/v1/schools/{sid}/audit/verify", headers=school.h("admin"))
    assert verify.status_code == 200, verify.text
    body = verify.json()
    # three approvals, the adoption, the case opened and decided
    assert (body["valid"], body["records_checked"], body["head_seq"], body["first_broken"]) == (True, 6, 6, None)
    trail = (await http.get(f"/v1/schools/{sid}/students/{student.student_id}/audit",
                            headers=school.h("board"))).json()["items"]
    assert [t["type"] for t in trail] == ["exams.assignment_approved"] * 3 + [
        "exams.assignment_adopted", "exams.board_case_opened", "exams.board_case_decided"]
    assert [t["seq"] for t in trail] == [1, 2, 3, 4, 5, 6]
    assert {t["actor"] for t in trail[:3]} == {student.user_id, school.staff["supervisor"], school.staff["trainer"]}
    assert trail[3]["actor"] == school.staff["board"] and trail[1]["prev_hash"] == trail[0]["hash"]
    other = await http.get(f"/v1/schools/{sid}/students/{school.students[1].student_id}/audit",
                           headers=school.h("admin"))
    assert other.json()["items"] == []
    beyond = await http.get(f"/v1/schools/{sid}/students/{student.student_id}/audit", params={"cursor": 2**63},
                            headers=school.h("board"))
    assert beyond.status_code == 422 and beyond.json()["errors"][0]["field"] == "cursor"

    # A replay of everything (a consumer restarted from an old offset, or a second delivery) adds nothing.
    again = await auditor.catch_up(db)
    assert {o.status for o in again} <= {"duplicate", "skipped"}
    assert await db.audit.count_documents({"school_id": sid}) == 6

    # Someone edits the third record straight in the database: exactly that link is reported.
    third = await db.audit.find_one({"school_id": sid, "seq": 3})
    await db.audit.update_one({"_id": third["_id"]}, {"$set": {"data.role": "exam_board"}})
    body = (await http.get(f"/v1/schools/{sid}/audit/verify", headers={**school.h("board"),
                                                                       "Accept-Language": "en"})).json()
    assert body["valid"] is False and body["last_valid_seq"] == 2
    assert body["first_broken"]["seq"] == 3 and body["first_broken"]["record_id"] == third["_id"]
    assert "content" in body["first_broken"]["reason"]
    # ... and a forger who also recomputes that record's hash breaks the next link instead.
    from exams.audit.chain import digest

    forged = await db.audit.find_one({"_id": third["_id"]})
    await db.audit.update_one({"_id": third["_id"]}, {"$set": {"hash": digest(forged)}})
    body = (await http.get(f"/v1/schools/{sid}/audit/verify", headers=school.h("board"))).json()
    assert body["first_broken"]["seq"] == 4 and "prev_hash" in body["first_broken"]["reason"]


async def test_racing_appends_for_one_school_still_form_a_single_chain(school: School, auditor: Any) -> None:
    sid, db = school.school_id, school.world.db
    envelopes = [Envelope.wrap(AssignmentAdoptedV1(
        assignment_id=f"asg_{n}", school_id=sid, student_id=school.students[n % 2].student_id, exam_id="exm",
        exam_name="Proeve", adopted_by=school.staff["board"], adopted_at=datetime.now(UTC)),
        producer="exams", subject=f"asg_{n}", school_id=sid).model_dump(mode="json") for n in range(12)]
    outcomes = await asyncio.gather(*(auditor.runner.process(auditor.record_of(e)) for e in envelopes))
    assert [o.status for o in outcomes] == ["handled"] * 12, outcomes
    records = await db.audit.find({"school_id": sid}).sort("seq", 1).to_list()
    assert [r["seq"] for r in records] == list(range(1, 13))
    assert sorted(r["event_id"] for r in records) == sorted(e["event_id"] for e in envelopes)
    body = (await school.world.http.get(f"/v1/schools/{sid}/audit/verify", headers=school.h("admin"))).json()
    assert body["valid"] and body["records_checked"] == 12
    # another school's chain is its own and starts at 1
    other = f"sch_{uuid.uuid4().hex[:8]}"
    await auditor.runner.process(auditor.record_of(Envelope.wrap(AssignmentAdoptedV1(
        assignment_id="asg_x", school_id=other, student_id="stu_x", exam_id="exm", exam_name="Proeve",
        adopted_by="usr_b", adopted_at=datetime.now(UTC)), producer="exams", subject="asg_x",
        school_id=other).model_dump(mode="json")))
    assert (await db.audit.find_one({"school_id": other}))["seq"] == 1
