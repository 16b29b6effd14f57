"""Assessment forms through the API on the real servers: drafts, stale saves, the finalize overview with its
divergences, finalizing, what is refused afterwards, accommodations and the PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from kit.testing.outbox import staged_events

from ..conftest import School


async def started(school: School, **plan: Any) -> list[dict[str, Any]]:
    """An adopted assignment of the first student with both parts scheduled from an hour ago (end passed)."""
    assignment = await school.adopted()
    start = datetime.now(UTC) - timedelta(hours=1)
    return await school.schedule(assignment, starts_at=start, all_parts={
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=30)).isoformat(),
        "second_assessor_id": school.staff["assessor2"], **plan})


def url(school: School, part: dict[str, Any], tail: str = "") -> str:
    return f"/v1/schools/{school.school_id}/schedules/{part['id']}/assessment{tail}"


async def save(school: School, part: dict[str, Any], who: str, version: int, scores: dict[str, Any],
               justifications: dict[str, str] | None = None, **headers: str) -> Any:
    return await school.world.http.put(url(school, part, "/forms/me"), headers={**school.h(who), **headers},
                                       json={"version": version, "scores": scores,
                                             "justifications": justifications or {}})


async def test_two_assessors_diverge_and_the_first_acknowledges_and_finalizes(school: School) -> None:
    http, world = school.world.http, school.world
    p1, p2 = await started(school)
    first = await save(school, p1, "assessor", 0, {"c1a": "pass", "c1b": 4})
    assert first.status_code == 200, first.text
    assert first.json()["forms"]["first"]["version"] == 1 and first.json()["my_role"] == "first"
    # a second assessor need not score everything; a past end date blocks nothing
    second = await save(school, p1, "assessor2", 0, {"c1a": "fail"}, {"c1a": "Geen handschoenen gedragen."})
    assert second.status_code == 200, second.text
    seen = (await http.get(url(school, p1), headers=school.h("assessor"))).json()
    assert seen["forms"]["second"]["scores"] == {"c1a": "fail"} and seen["may_finalize"]
    assert [c["allowed_scores"] for c in seen["criteria"]] == [["pass", "fail"], ["1", "2", "3", "4", "5"]]

    overview = (await http.get(url(school, p1, "/finalize"), headers=school.h("assessor"))).json()
    assert overview["divergences"] == [{"criterion": "c1a", "first": "pass", "second": "fail"}]
    assert overview["incomplete"] == [] and overview["second_incomplete"] == ["c1b"]
    assert [(c["first"], c["second"]) for c in overview["criteria"]] == [("pass", "fail"), ("4", None)]
    assert overview["question"]["en"].startswith("Are you sure")
    assert [(p["part_id"], p["state"], p["mine"]) for p in seen["parts"]] == [("p1", "open", True),
                                                                             ("p2", "open", True)]

    unconfirmed = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"), json={})
    assert unconfirmed.status_code == 422 and unconfirmed.json()["errors"][0]["field"] == "confirm"
    unacknowledged = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"),
                                     json={"confirm": True})
    assert unacknowledged.status_code == 422
    assert [e["field"] for e in unacknowledged.json()["errors"]] == ["divergence_note"]
    not_allowed = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor2"),
                                  json={"confirm": True, "divergence_note": "x"})
    assert not_allowed.status_code == 403 and "tweede examinator mag indienen" in not_allowed.json()["detail"]

    # the second assessor saves after the overview was shown: confirming that overview is refused
    assert (await save(school, p1, "assessor2", 1, {"c1a": "fail", "c1b": 3},
                       {"c1a": "Geen handschoenen gedragen."})).status_code == 200
    stale = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"),
                            json={"confirm": True, "divergence_note": "x", "version": overview["version"]})
    assert stale.status_code == 409 and stale.json()["current_version"] == overview["version"] + 1
    overview = (await http.get(url(school, p1, "/finalize"), headers=school.h("assessor"))).json()
    done = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"),
                           json={"confirm": True, "divergence_note": "Besproken; de handschoenen lagen klaar.",
                                 "version": overview["version"]})
    assert done.status_code == 200, done.text
    final = done.json()["final"]
    assert done.json()["state"] == "final" and done.json()["attempt_assessed"] is False
    assert final["scores"] == {"c1a": "pass", "c1b": "4"} and final["finalized_role"] == "first"
    assert final["divergence_note"] == "Besproken; de handschoenen lagen klaar." and len(final["divergences"]) == 1
    [part_event] = await staged_events(world.db, "exams.part_assessment_finalized")
    assert part_event["subject"] == p1["attempt_id"] and part_event["data"]["divergences"] == 1
    assert await staged_events(world.db, "exams.assessment_finalized") == []

    # nothing about a final assessment changes, for anyone
    for who in ("assessor", "assessor2"):
        again = await save(school, p1, who, 1, {"c1a": "fail"}, {"c1a": "x"})
        assert again.status_code == 409 and "definitief" in again.json()["detail"]
    twice = await http.post(url(school, p1, "/finalize"), headers=school.h("assessor"),
                            json={"confirm": True, "divergence_note": "nog eens"})
    assert twice.status_code == 409
    admin = await http.put(url(school, p1, "/forms/me"), headers=school.h("admin"), json={"version": 1,
                                                                                          "scores": {}})
    assert admin.status_code == 403
    sched = f"/v1/schools/{school.school_id}/schedules/{p1['id']}"
    moved = await http.patch(sched, headers={**school.h("admin"), "If-Match": f'"{p1["version"]}"'},
                             json={"location": "Elders"})
    assert moved.status_code == 409 and "definitief" in moved.json()["detail"]
    cancelled = await http.post(f"{sched}/cancel", headers=school.h("admin"))
    assert cancelled.status_code == 409
    dashboard = (await http.get(f"/v1/schools/{school.school_id}/dashboard", headers=school.h("assessor"))).json()
    assert [p["part_id"] for p in dashboard["open_actions"]] == ["p2"]  # p1 is assessed

    # the last part finalizes the attempt: assessed_at, and the event evidence locks on
    assert (await save(school, p2, "assessor", 0, {"c2a": "pass", "c2b": 3})).status_code == 200
    last = await http.post(url(school, p2, "/finalize"), headers=school.h("assessor"), json={"confirm": True})
    assert last.status_code == 200, last.text
    assert last.json()["attempt_assessed"] is True
    [event] = await staged_events(world.db, "exams.assessment_finalized")
    assert event["data"]["attempt_id"] == p1["attempt_id"] and event["subject"] == p1["attempt_id"]
    attempt = await world.db.attempts.find_one({"_id": p1["attempt_id"]})
    assert attempt["assessed_at"] is not None
    shown = await http.get(f"/v1/schools/{school.school_id}/attempts/{p1['attempt_id']}", headers=school.h("admin"))
    assert shown.json()["assessed_at"] is not None  # the student's page closes the upload with it
    stored = await world.db.assessments.find_one({"_id": p1["id"]})
    assert stored["state"] == "final" and set(stored["forms"]) == {school.staff["assessor"], school.staff["assessor2"]}


async def test_a_stale_save_from_another_tab_is_refused_saying_so(school: School) -> None:
    p1, _ = await started(school)
    assert (await save(school, p1, "assessor", 0, {"c1a": "pass"})).status_code == 200
    assert (await save(school, p1, "assessor", 1, {"c1a": "pass", "c1b": 3})).status_code == 200
    stale = await save(school, p1, "assessor", 1, {"c1a": "fail"}, {"c1a": "x"}, **{"Accept-Language": "en"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert "another tab" in stale.json()["detail"] and stale.json()["type"].endswith("stale_form")
    again_new = await save(school, p1, "assessor", 0, {"c1a": "fail"}, {"c1a": "x"})
    assert again_new.status_code == 409
    # the other assessor's form has its own versions
    assert (await save(school, p1, "assessor2", 0, {"c1b": 5}, {"c1b": "Uitstekend plan."})).status_code == 200


async def test_assessing_waits_for_the_start_and_bad_scores_are_refused_naming_the_field(school: School) -> None:
    assignment = await school.adopted()
    [future, _] = await school.schedule(assignment)  # thirty days ahead
    early = await save(school, future, "assessor", 0, {"c1a": "pass"})
    assert early.status_code == 409 and "vanaf het begin" in early.json()["detail"]
    other = await school.world.school(students=1)
    [part, _] = await started(other)
    for scores, field in (({"c1a": 3}, "scores.c1a"), ({"c1b": "pass"}, "scores.c1b"), ({"c1b": 6}, "scores.c1b"),
                          ({"nope": "pass"}, "scores.nope")):
        bad = await save(other, part, "assessor", 0, scores)
        assert bad.status_code == 422, bad.text
        assert [e["field"] for e in bad.json()["errors"]] == [field]
    wrong_type = await save(other, part, "assessor", 0, {"c1a": True})
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"].startswith("scores.c1a")
    huge = await other.world.http.put(url(other, part, "/forms/me"), headers=other.h("assessor"),
                                      content=b'{"version": 0, "scores": {}, "justifications": {"c1a": "'
                                      + b"x" * 2_000_000 + b'"}}')
    assert huge.status_code == 413 and huge.headers["content-type"] == "application/problem+json"
    # a fail without its justification saves as a draft, but cannot be finalized
    assert (await save(other, part, "assessor", 0, {"c1a": "fail", "c1b": 2})).status_code == 200
    refused = await other.world.http.post(url(other, part, "/finalize"), headers=other.h("assessor"),
                                          json={"confirm": True})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["justifications.c1a", "justifications.c1b"]


async def test_the_second_assessor_finalizes_when_the_schedule_allows_it(school: School) -> None:
    p1, _ = await started(school, second_assessor_may_submit=True)
    assert (await save(school, p1, "assessor2", 0, {"c1a": "pass", "c1b": 4})).status_code == 200
    done = await school.world.http.post(url(school, p1, "/finalize"), headers=school.h("assessor2"),
                                        json={"confirm": True})
    assert done.status_code == 200 and done.json()["final"]["finalized_role"] == "second"


async def test_the_form_shows_the_students_granted_accommodations(school: School) -> None:
    p1, _ = await started(school)
    student = school.students[0].student_id
    now = datetime.now(UTC)
    await school.world.db.cases.insert_many([
        {"_id": "case_extra_time", "school_id": school.school_id, "student_id": student, "kind": "accommodation",
         "state": "decided", "decision": {"outcome": "granted", "measures": ["25% extra tijd", "aparte ruimte"],
                                          "decided_at": now}},
        {"_id": "case_refused", "school_id": school.school_id, "student_id": student, "kind": "accommodation",
         "state": "decided", "decision": {"outcome": "refused", "measures": ["voorleessoftware"]}},
        {"_id": "case_expired", "school_id": school.school_id, "student_id": student, "kind": "accommodation",
         "state": "decided", "decision": {"outcome": "granted", "measures": ["oud"],
                                          "valid_until": now - timedelta(days=1)}},
        {"_id": "case_open", "school_id": school.school_id, "student_id": student, "kind": "accommodation",
         "state": "open", "decision": None}])
    for who in ("assessor", "assessor2", "board"):
        form = await school.world.http.get(url(school, p1), headers=school.h(who))
        assert form.status_code == 200
        assert [(a["case_id"], a["measures"]) for a in form.json()["accommodations"]] == [
            ("case_extra_time", ["25% extra tijd", "aparte ruimte"])]


async def test_every_endpoint_refuses_another_school_a_wrong_role_and_an_assessor_not_on_the_schedule(
        school: School) -> None:
    from kit.auth import Role

    http, issuer = school.world.http, school.world.issuer
    p1, _ = await started(school)
    routes = [("GET", url(school, p1), None, [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.SCHOOL_SUPERVISOR]),
              ("PUT", url(school, p1, "/forms/me"), {"version": 0, "scores": {}},
               [r for r in Role if r != Role.ASSESSOR]),
              ("GET", url(school, p1, "/finalize"), None,
               [Role.STUDENT, Role.WORKPLACE_TRAINER, Role.SCHOOL_SUPERVISOR]),
              ("POST", url(school, p1, "/finalize"), {"confirm": True}, [r for r in Role if r != Role.ASSESSOR]),
              ("GET", f"/v1/schools/{school.school_id}/attempts/{p1['attempt_id']}/assessment.pdf", None,
               [Role.WORKPLACE_TRAINER])]
    elsewhere = issuer.headers(school.staff["assessor"], {"sch_elsewhere": list(Role)})
    for method, path, body, wrong in routes:
        assert (await http.request(method, path, json=body, headers=elsewhere)).status_code == 403, path
        for role in wrong:
            r = await http.request(method, path, json=body,
                                   headers=issuer.headers(school.staff["assessor"], {school.school_id: [role]}))
            assert r.status_code == 403, (method, path, role, r.text)
        stranger = await http.request(method, path, json=body, headers=school.h("supervisor2"))
        assert stranger.status_code == 403, (path, stranger.text)
        not_on_it = await http.request(method, path, json=body,
                                       headers=issuer.headers("usr_other_assessor",
                                                              {school.school_id: [Role.ASSESSOR]}))
        assert not_on_it.status_code == 403 and not_on_it.headers["content-type"] == "application/problem+json"
        assert (await http.request(method, path, json=body)).status_code == 401
    missing = await http.get(f"/v1/schools/{school.school_id}/schedules/sch_nope/assessment",
                             headers=school.h("assessor"))
    assert missing.status_code == 404


@pytest.fixture
async def assessed(school: School) -> dict[str, Any]:
    """An attempt whose first part both assessors scored (with a divergence) and the first finalized."""
    p1, _ = await started(school)
    await save(school, p1, "assessor", 0, {"c1a": "pass", "c1b": 5}, {"c1b": "Zeer zorgvuldig plan."})
    await save(school, p1, "assessor2", 0, {"c1a": "pass", "c1b": 2}, {"c1b": "Plan mist de evaluatie."})
    done = await school.world.http.post(url(school, p1, "/finalize"), headers=school.h("assessor"),
                                        json={"confirm": True, "divergence_note": "Evaluatie stond in bijlage."})
    assert done.status_code == 200, done.text
    return p1


async def test_the_pdf_carries_every_score_justification_note_and_signature(school: School,
                                                                            assessed: dict[str, Any]) -> None:
    http, sid = school.world.http, school.school_id
    path = f"/v1/schools/{sid}/attempts/{assessed['attempt_id']}/assessment.pdf"
    r = await http.get(path, headers=school.h("assessor2"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    for expected in ("Jan Student 0", "Onderdeel p1", "Onderdeel p2", "Werkt veilig", "Plant de zorg",
                     "eerste: 5", "tweede: 2", "Zeer zorgvuldig plan.", "Plan mist de evaluatie.",
                     "Evaluatie stond in bijlage.", "definitief gemaakt door " + school.staff["assessor"],
                     "goedgekeurd door " + school.staff["trainer"], "(praktijkopleider)",
                     "vastgesteld door " + school.staff["board"]):
        assert expected in " ".join(text.split()), expected
    for who in ("assessor", "board", "admin", "supervisor"):
        assert (await http.get(path, headers=school.h(who))).status_code == 200, who
    for who in ("supervisor2", "trainer"):
        assert (await http.get(path, headers=school.h(who))).status_code == 403, who


async def test_the_student_downloads_the_pdf_only_after_the_result_is_adopted(school: School,
                                                                              assessed: dict[str, Any]) -> None:
    http, sid, student = school.world.http, school.school_id, school.students[0]
    path = f"/v1/schools/{sid}/attempts/{assessed['attempt_id']}/assessment.pdf"
    refused = await http.get(path, headers={**student.headers, "Accept-Language": "en"})
    assert refused.status_code == 403 and "once the exam board has adopted" in refused.json()["detail"]
    results = school.world.db.results
    await results.insert_one({"_id": "res_1", "school_id": sid, "attempt_id": assessed["attempt_id"],
                              "student_id": student.student_id, "state": "awaiting_adoption", "superseded_by": None})
    assert (await http.get(path, headers=student.headers)).status_code == 403
    now = datetime.now(UTC)
    await results.update_one({"_id": "res_1"}, {"$set": {"state": "adopted", "adopted_by": school.staff["board"],
                                                         "adopted_at": now}})
    r = await http.get(path, headers=student.headers)
    assert r.status_code == 200
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).split())
    assert "Uitslag vastgesteld door " + school.staff["board"] in text
    other = school.students[1]
    assert (await http.get(path, headers=other.headers)).status_code == 403


async def test_both_assessors_saving_their_first_draft_at_once_both_keep_it(school: School) -> None:
    import asyncio

    p1, _ = await started(school)
    first, second = await asyncio.gather(save(school, p1, "assessor", 0, {"c1a": "pass"}),
                                         save(school, p1, "assessor2", 0, {"c1b": 3}))
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    form = (await school.world.http.get(url(school, p1), headers=school.h("board"))).json()
    assert form["forms"]["first"]["scores"] == {"c1a": "pass"} and form["forms"]["second"]["scores"] == {"c1b": "3"}
    assert form["my_role"] is None and form["may_save"] is False
