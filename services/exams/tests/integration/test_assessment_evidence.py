"""Assessment and evidence together on the real servers: an assessor's attachment reaches the form, and an upload
racing the finalization never counts when it completed after it.

The events travel as the relay would carry them (the staged outbox payloads, handed to the other service's
consumer runner), so the window between exams finalizing and evidence learning of it is real and can be held open.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope
from contracts.identity import MembershipGrantedV1
from kit.testing.outbox import staged_events

from ..conftest import School
from .test_assessment import save, started, url
from .test_bank_attachments import Evidence, deliver, evidence, relay  # noqa: F401  (evidence: the fixture)


async def student_known_to_evidence(school: School, ev: Evidence) -> None:
    student = school.students[0]
    await deliver(ev.runner, Envelope.wrap(MembershipGrantedV1(
        user_id=student.user_id, school_id=school.school_id, role="student", roles=["student"],
        student_id=student.student_id), producer="identity", subject=student.user_id,
        school_id=school.school_id).to_bytes())


async def test_an_assessor_attaches_a_file_to_the_form_through_evidence(
        school: School, evidence: Evidence) -> None:  # noqa: F811
    http, sid, world = school.world.http, school.school_id, school.world
    p1, _ = await started(school)
    await relay(world.db, "exams.part_scheduled", evidence.runner)
    path = f"/v1/schools/{sid}/attempts/{p1['attempt_id']}/parts/p1/assessment-attachments?filename=notities.txt"
    up = await evidence.http.post(path, content=b"Observatie: werkt rustig.", headers=school.h("assessor2"))
    assert up.status_code == 201, up.text
    assert (up.json()["kind"], up.json()["part_id"]) == ("assessment_attachment", "p1")
    file_id = up.json()["id"]
    stranger = world.issuer.headers("usr_other_assessor", {sid: ["assessor"]})
    assert (await evidence.http.post(path, content=b"x", headers=stranger)).status_code == 403
    assert (await evidence.http.post(path, content=b"x", headers=school.h("supervisor"))).status_code == 403
    elsewhere = world.issuer.headers(school.staff["assessor2"], {"sch_elsewhere": ["assessor"]})
    assert (await evidence.http.post(path, content=b"x", headers=elsewhere)).status_code == 403
    unknown_part = path.replace("/parts/p1/", "/parts/p9/")
    assert (await evidence.http.post(unknown_part, content=b"x", headers=school.h("assessor"))).status_code == 404
    for _ in range(2):  # a replayed event lists the file once
        await relay(evidence.db, "evidence.file_uploaded", world.runner)
    form = (await http.get(url(school, p1), headers=school.h("assessor"))).json()
    assert form["forms"]["second"]["attachment_ids"] == [file_id] and form["forms"]["first"] is None
    # the file is the assessors' (and the board's), not the student's
    content = f"/v1/schools/{sid}/files/{file_id}/content"
    assert (await evidence.http.get(content, headers=school.h("assessor"))).content == b"Observatie: werkt rustig."
    assert (await evidence.http.get(content, headers=school.h("board"))).status_code == 200
    assert (await evidence.http.get(content, headers=school.students[0].headers)).status_code == 404
    listed = await evidence.http.get(f"/v1/schools/{sid}/attempts/{p1['attempt_id']}/evidence",
                                     headers=school.h("assessor"))
    assert listed.json() == []  # an attachment is not the student's evidence
    # the second assessor's save after the upload must build on the version the upload made
    assert (await save(school, p1, "assessor2", 0, {"c1a": "pass"})).status_code == 409
    kept = await save(school, p1, "assessor2", form["forms"]["second"]["version"], {"c1a": "pass"})
    assert kept.status_code == 200 and kept.json()["forms"]["second"]["attachment_ids"] == [file_id]
    # once the part is final, evidence takes no more files for it
    assert (await save(school, p1, "assessor", 0, {"c1a": "pass", "c1b": 3})).status_code == 200
    done = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"), json={"confirm": True})
    assert done.status_code == 200, done.text
    await relay(world.db, "exams.part_assessment_finalized", evidence.runner)
    closed = await evidence.http.post(path, content=b"te laat", headers=school.h("assessor"))
    assert closed.status_code == 409 and "definitief" in closed.json()["detail"]


async def test_no_upload_counts_that_completed_after_the_finalization(
        school: School, evidence: Evidence) -> None:  # noqa: F811
    http, sid, world = school.world.http, school.school_id, school.world
    student = school.students[0]
    await student_known_to_evidence(school, evidence)
    p1, p2 = await started(school)
    attempt_id = p1["attempt_id"]
    await relay(world.db, "exams.part_scheduled", evidence.runner)
    for part, code in ((p1, "c1"), (p2, "c2")):
        assert (await save(school, part, "assessor", 0, {f"{code}a": "pass", f"{code}b": 3})).status_code == 200
    assert (await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"),
                            json={"confirm": True})).status_code == 200
    upload_path = f"/v1/schools/{sid}/attempts/{attempt_id}/evidence?filename="

    async def upload(name: str) -> Any:
        return await evidence.http.post(upload_path + name, content=f"bewijs {name}".encode(),
                                        headers=student.headers)

    assert (await upload("voor.txt")).status_code == 201
    # the race: uploads completing while the last part is finalized
    finalized, *racing = await asyncio.gather(
        http.post(url(school, p2, "/finalize"), headers=school.h("assessor"), json={"confirm": True}),
        *(upload(f"race{n}.txt") for n in range(4)))
    assert finalized.status_code == 200 and finalized.json()["attempt_assessed"] is True
    assert all(r.status_code == 201 for r in racing)  # evidence does not know yet
    slipped = await upload("erna.txt")  # surely after the finalization, before evidence learns of it
    assert slipped.status_code == 201

    [event] = await relay(world.db, "exams.assessment_finalized", evidence.runner)
    finalized_at = datetime.fromisoformat(str(event["finalized_at"]))
    refused = await evidence.http.post(upload_path + "te-laat.txt", content=b"te laat",
                                       headers={**student.headers, "Accept-Language": "en"})
    assert refused.status_code == 409 and "does not count" in refused.json()["detail"]

    files = await evidence.db.files.find({"attempt_id": attempt_id, "kind": "evidence"}).to_list()
    counted = [f for f in files if f["status"] == "active"]
    late = [f for f in files if f["status"] == "late"]
    cutoff = finalized_at.replace(microsecond=finalized_at.microsecond // 1000 * 1000)  # Mongo keeps milliseconds
    assert len(counted) + len(late) == 6 and "erna.txt" in {f["filename"] for f in late}
    assert all(f["created_at"] <= cutoff and f["locked"] for f in counted), "a counted file completed too late"
    assert all(f["created_at"] > cutoff and f["flag"] == "completed_after_finalization" for f in late)
    assert "voor.txt" in {f["filename"] for f in counted}
    [locked] = await staged_events(evidence.db, "evidence.evidence_locked")
    assert sorted(locked["data"]["file_ids"]) == sorted(f["_id"] for f in counted)

    # the student is told: the listing marks the late files, and their own late file reads as flagged
    listing = await evidence.http.get(f"/v1/schools/{sid}/attempts/{attempt_id}/evidence", headers=student.headers)
    flags = {f["filename"]: f["flag"] for f in listing.json()}
    assert flags["erna.txt"] == "completed_after_finalization" and flags["voor.txt"] is None
    own = await evidence.http.get(f"/v1/schools/{sid}/files/{slipped.json()['id']}", headers=student.headers)
    assert own.status_code == 200 and own.json()["status"] == "late"
    assert own.json()["finalized_at"] is not None
    assert datetime.now(UTC) - finalized_at < timedelta(minutes=5)
