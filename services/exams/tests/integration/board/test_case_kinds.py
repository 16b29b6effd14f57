"""Exemptions with documents and a validity, accommodations, extra attempts, inspections; the board's list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.evidence import FileUploadedV1
from exams.cases.workdays import local_date

School = Any
EN = {"Accept-Language": "en"}


async def open_case(school: School, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await school.world.http.post(f"/v1/schools/{school.school_id}/cases", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def decide(school: School, case_id: str, **body: Any) -> Any:
    return await school.world.http.post(f"/v1/schools/{school.school_id}/cases/{case_id}/decision",
                                        headers={**school.h("board"), **EN}, json=body)


async def test_an_exemption_is_granted_on_documents_for_core_tasks_valid_five_years(school: School) -> None:
    student = school.students[0]
    case = await open_case(school, student.headers, kind="exemption", exam_id=school.exam_id,
                           reason="Ik heb deze kerntaak al behaald bij een vorige opleiding.")
    r = await decide(school, case["id"], outcome="granted", note="Diploma gezien.", core_tasks=["B1-K1"])
    assert r.status_code == 409 and "documents" in r.json()["detail"]
    upload = FileUploadedV1(file_id="fil_diploma", school_id=school.school_id, kind="case_document",
                            uploaded_by=student.user_id, case_id=case["id"], filename="diploma.pdf",
                            content_type="application/pdf", size=1000, sha256="a" * 64)
    await school.world.feed(upload, school.school_id)
    await school.world.feed(upload, school.school_id)  # a replayed event lists it once
    seen = await school.world.http.get(f"/v1/schools/{school.school_id}/cases/{case['id']}", headers=student.headers)
    assert seen.json()["documents"] == ["fil_diploma"]
    r = await decide(school, case["id"], outcome="granted", note="Diploma gezien.", core_tasks=["B9-K9"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "core_tasks"
    r = await decide(school, case["id"], outcome="granted", note="Diploma gezien.", core_tasks=["B1-K1"],
                     valid_until="2020-01-01")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "valid_until"
    r = await decide(school, case["id"], outcome="granted", note="Diploma gezien.", core_tasks=["B1-K1"])
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    today = local_date(datetime.now(UTC))
    assert decision["core_tasks"] == ["B1-K1"]
    valid_until = datetime.fromisoformat(decision["valid_until"])
    assert local_date(valid_until).year == today.year + 5 and valid_until > datetime.now(UTC)
    from exams.results.service import valid_exemptions  # how results reads it

    stored = await school.world.db.cases.find_one({"_id": case["id"]})
    assert valid_exemptions([stored], school.exam_id, datetime.now(UTC)) == {"B1-K1"}
    assert valid_exemptions([stored], school.exam_id, valid_until + timedelta(seconds=1)) == set()


async def test_an_exemption_is_asked_six_weeks_before_the_first_exam_moment(school: School) -> None:
    student = school.students[1]
    assignment = await school.adopted(student)
    await school.schedule(assignment, starts_at=datetime.now(UTC) + timedelta(days=20))
    r = await school.world.http.post(f"/v1/schools/{school.school_id}/cases", headers={**student.headers, **EN},
                                     json={"kind": "exemption", "exam_id": school.exam_id, "reason": "Vrijstelling"})
    assert r.status_code == 409 and "six weeks" in r.json()["detail"]


async def test_accommodations_extra_attempts_and_inspections(school: School) -> None:
    student = school.students[0]
    board = school.h("board")
    acc = await open_case(school, board, kind="accommodation", student_id=student.student_id,
                          reason="Dyslexieverklaring ontvangen.")
    assert acc["exam_id"] is None
    r = await decide(school, acc["id"], outcome="granted", note="Toegekend.")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "measures"
    r = await decide(school, acc["id"], outcome="granted", note="Toegekend.",
                     measures=["30 minuten extra tijd", "aparte ruimte", "30 minuten extra tijd"])
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["measures"] == ["30 minuten extra tijd", "aparte ruimte"]
    assert r.json()["decision"]["valid_until"] is None

    extra = await open_case(school, board, kind="extra_attempt", student_id=student.student_id,
                            exam_id=school.exam_id, reason="Langdurig ziek geweest tijdens de herkansingen.")
    r = await decide(school, extra["id"], outcome="granted", note="Eén extra kans.")
    assert r.status_code == 200 and r.json()["decision"]["used_by_attempt_id"] is None
    stored = await school.world.db.cases.find_one({"_id": extra["id"]})
    assert stored["decision"]["outcome"] == "granted" and stored["student_id"] == student.student_id
    r = await decide(school, extra["id"], outcome="refused", note="Toch niet.")
    assert r.status_code == 409


async def test_the_boards_list_is_by_deadline_with_overdue_first_and_pages(school: School) -> None:
    http, sid, db = school.world.http, school.school_id, school.world.db
    board = school.h("board")
    made = [await open_case(school, board, kind="accommodation", student_id=s.student_id, reason=f"Verzoek {n}")
            for n, s in enumerate(school.students)]
    made.append(await open_case(school, board, kind="extra_attempt", student_id=school.students[0].student_id,
                                exam_id=school.exam_id, reason="Extra kans"))
    # the second case was filed long ago and is past its deadline
    await db.cases.update_one({"_id": made[1]["id"]}, {"$set": {"deadline": datetime.now(UTC) - timedelta(days=3)}})
    first = (await http.get(f"/v1/schools/{sid}/cases", params={"state": "open", "limit": 2}, headers=board)).json()
    assert first["items"][0]["id"] == made[1]["id"] and first["items"][0]["overdue"] is True
    assert not first["items"][1]["overdue"] and first["next_cursor"]
    rest = (await http.get(f"/v1/schools/{sid}/cases", params={"state": "open", "limit": 2,
                                                                 "cursor": first["next_cursor"]}, headers=board)).json()
    listed = [c["id"] for c in first["items"] + rest["items"]]
    assert sorted(listed) == sorted(c["id"] for c in made) and len(listed) == 3
    deadlines = [c["deadline"] for c in first["items"] + rest["items"]]
    assert deadlines == sorted(deadlines)
    kinds = (await http.get(f"/v1/schools/{sid}/cases", params={"kind": "extra_attempt"}, headers=board)).json()
    assert [c["id"] for c in kinds["items"]] == [made[2]["id"]]
    assert (await decide(school, made[0]["id"], outcome="refused", note="Geen verklaring.")).status_code == 200
    still_open = (await http.get(f"/v1/schools/{sid}/cases", headers=board)).json()["items"]
    assert [c["id"] for c in still_open] == [made[1]["id"], made[2]["id"]]
    decided = (await http.get(f"/v1/schools/{sid}/cases", params={"state": "decided"}, headers=board)).json()
    assert [c["id"] for c in decided["items"]] == [made[0]["id"]] and not decided["items"][0]["overdue"]
    everything = (await http.get(f"/v1/schools/{sid}/cases", params={"state": "all"}, headers=board)).json()
    assert len(everything["items"]) == 3
    for garbage in ("not-a-cursor", "7720122289557633:BLc"):  # the second a moment beyond any date (fuzzer's find)
        r = await http.get(f"/v1/schools/{sid}/cases", params={"cursor": garbage}, headers=board)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


async def test_an_inspection_is_granted_for_a_moment_ahead(school: School, make_assessed: Any) -> None:
    done = await make_assessed(school)
    case = await open_case(school, done["student"].headers, kind="inspection", attempt_id=done["attempt_id"],
                           reason="Ik wil mijn beoordeling inzien.")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = await decide(school, case["id"], outcome="granted", note="Inzage.", inspection_at=past)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inspection_at"
    ahead = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = await decide(school, case["id"], outcome="granted", note="Inzage.", inspection_at=ahead,
                     location="Lokaal 2.14")
    assert r.status_code == 200 and r.json()["decision"]["location"] == "Lokaal 2.14"
