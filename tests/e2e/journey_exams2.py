"""The second half of the full exam journey (Exams II): assessment with a divergence, locked evidence, results
and their adoption, a retake, an objection that amends a result, and the audit chain.

Each function continues from where test_exam_journey_full left the school: every student's two parts
scheduled and started, Lotte's evidence uploaded. Lotte passes, Finn fails and retakes, Sara fails and objects.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from pymongo import MongoClient

from kit.local.servers import mongo_uri

from .journey_steps import STUDENTS, People, School, email, student_email
from .test_exams_journey import eventually

LOTTE, FINN, SARA = "300001", "300002", "300003"
# Per student and part: the first assessor's form, and the second assessor's (None: does not fill one in).
# Grades: a 1-5 score maps onto 1-10 (3 -> 5.5, 4 -> 7.75); a "fail" fails its part.
FORMS: dict[str, dict[str, tuple[dict[str, str], dict[str, str] | None]]] = {
    LOTTE: {"obs": ({"c1": "4", "c2": "pass"}, {"c1": "2", "c2": "pass"}),  # 2 points apart on c1
            "int": ({"c3": "4"}, {"c3": "4"})},
    FINN: {"obs": ({"c1": "3", "c2": "fail"}, None), "int": ({"c3": "3"}, None)},
    SARA: {"obs": ({"c1": "2", "c2": "pass"}, None), "int": ({"c3": "3"}, None)},
}
WHY = {"1": "Onvoldoende uitgevoerd.", "2": "Cliënt kreeg te weinig ruimte.", "5": "Uitmuntend.",
       "fail": "Handschoenen niet gewisseld."}


def justified(scores: dict[str, str]) -> dict[str, str]:
    """The justifications the exam requires for these scores (fail, and 1, 2 and 5)."""
    return {code: WHY[score] for code, score in scores.items() if score in WHY}


def part(school: School, code: str, part_id: str) -> dict[str, Any]:
    """A student's scheduled part of their first attempt."""
    return next(p for p in school.schedules[code] if p["part_id"] == part_id)


def form_url(school: School, schedule_id: str, tail: str = "") -> str:
    """The gateway path of a scheduled part's assessment form."""
    return f"/exams/v1/schools/{school.id}/schedules/{schedule_id}/assessment{tail}"


def save(people: People, school: School, schedule_id: str, who: str, scores: dict[str, str]) -> httpx.Response:
    """An assessor saves their form as a draft (a first save, version 0)."""
    return people.http.put(form_url(school, schedule_id, "/forms/me"), headers=school.headers[who],
                           json={"version": 0, "scores": scores, "justifications": justified(scores)})


def finalize(people: People, school: School, schedule_id: str, who: str, note: str | None = None) -> httpx.Response:
    """The explicit confirmation (with the divergence note when there are divergences)."""
    body: dict[str, Any] = {"confirm": True}
    if note is not None:
        body["divergence_note"] = note
    return people.http.post(form_url(school, schedule_id, "/finalize"), headers=school.headers[who], json=body)


def assess_with_a_divergence(people: People, school: School) -> None:
    """Two assessors score Lotte's observation 2 points apart; the first acknowledges it and finalizes."""
    http = people.http
    obs = part(school, LOTTE, "obs")["id"]
    first, second = FORMS[LOTTE]["obs"]
    saved = save(people, school, obs, "examinator", first)
    assert saved.status_code == 200, saved.text
    assert saved.json()["my_role"] == "first" and saved.json()["may_finalize"]
    assert save(people, school, obs, "beoordelaar", second or {}).status_code == 200
    early = finalize(people, school, obs, "beoordelaar", "ik wil indienen")
    assert early.status_code == 403, early.text  # the schedule does not let the second assessor submit

    overview = http.get(form_url(school, obs, "/finalize"), headers=school.headers["examinator"])
    assert overview.status_code == 200, overview.text
    assert overview.json()["divergences"] == [{"criterion": "c1", "first": "4", "second": "2"}]
    assert overview.json()["incomplete"] == []
    assert [(c["code"], c["first"], c["second"]) for c in overview.json()["criteria"]] == [
        ("c1", "4", "2"), ("c2", "pass", "pass")]
    unacknowledged = finalize(people, school, obs, "examinator")
    assert unacknowledged.status_code == 422
    assert [e["field"] for e in unacknowledged.json()["errors"]] == ["divergence_note"]
    done = finalize(people, school, obs, "examinator", "Besproken met de tweede beoordelaar: de cliënt koos zelf.")
    assert done.status_code == 200, done.text
    final = done.json()["final"]
    assert final["scores"] == first and final["finalized_by"] == school.ids["examinator"]
    assert final["divergences"] == [{"criterion": "c1", "first": "4", "second": "2"}]
    assert done.json()["attempt_assessed"] is False  # the interview is still open
    for who in ("examinator", "beoordelaar"):  # final: nobody changes it any more
        changed = http.put(form_url(school, obs, "/forms/me"), headers=school.headers[who],
                           json={"version": 1, "scores": {"c1": "3"}})
        assert changed.status_code == 409, changed.text
    assert finalize(people, school, obs, "examinator", "nog eens").status_code == 409


def assess_the_rest(people: People, school: School) -> None:
    """Every other part of the three first attempts is assessed and finalized by the first assessor."""
    for code, parts in FORMS.items():
        for part_id, (first, second) in parts.items():
            schedule = part(school, code, part_id)["id"]
            if code == LOTTE and part_id == "obs":
                continue
            assert save(people, school, schedule, "examinator", first).status_code == 200
            if second is not None:
                assert save(people, school, schedule, "beoordelaar", second).status_code == 200
            done = finalize(people, school, schedule, "examinator")
            assert done.status_code == 200, (code, part_id, done.text)
            assert done.json()["attempt_assessed"] is (part_id == "int"), (code, part_id)


def evidence_is_locked(people: People, school: School) -> None:
    """Once evidence has read the finalization, Lotte's evidence is locked and a further upload is refused."""
    http = people.http
    attempt = part(school, LOTTE, "obs")["attempt_id"]
    path = f"/evidence/v1/schools/{school.id}/attempts/{attempt}/evidence"
    listed = eventually(lambda: http.get(path, headers=school.headers["examinator"]),
                        lambda r: all(f["locked"] for f in r.json()))
    assert [(f["filename"], f["locked"]) for f in listed.json()] == [("maaltijdverslag.txt", True)]
    refused = http.post(path, params={"filename": "nagekomen.txt"}, content=b"te laat", headers=school.headers[LOTTE])
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    withdraw = http.post(f"/evidence/v1/schools/{school.id}/files/{listed.json()[0]['id']}/withdraw",
                         headers=school.headers[LOTTE])
    assert withdraw.status_code == 409, withdraw.text
    assert [f["filename"] for f in http.get(path, headers=school.headers[LOTTE]).json()] == ["maaltijdverslag.txt"]


def results_computed_and_adopted(people: People, school: School) -> None:
    """The worker computes each result; the student is told (no grade in the mail); the board adopts; she sees it."""
    http, board = people.http, school.headers["commissie"]
    for code, first, _ in STUDENTS:
        [mail] = people.mails(student_email(code, first), "Er is een resultaat beschikbaar")
        assert "7,7" not in people.body(mail) and "7.7" not in people.body(mail)
    awaiting = eventually(lambda: http.get(f"/exams/v1/schools/{school.id}/results", headers=board, params={
        "state": "awaiting_adoption", "group_id": school.group_id}), lambda r: len(r.json()["items"]) == 3)
    results = {r["student_id"]: r for r in awaiting.json()["items"]}
    outcomes = {code: (results[school.ids[code]]["outcome"], results[school.ids[code]]["grade"],
                       [(p["part_id"], p["outcome"], p["grade"]) for p in results[school.ids[code]]["parts"]])
                for code in FORMS}
    assert outcomes == {  # 1-5 onto 1-10, means truncated to one decimal; a "fail" fails its part
        LOTTE: ("passed", 7.7, [("obs", "passed", 7.7), ("int", "passed", 7.7)]),
        FINN: ("failed", 5.5, [("obs", "failed", 5.5), ("int", "passed", 5.5)]),
        SARA: ("failed", 4.3, [("obs", "failed", 3.2), ("int", "passed", 5.5)])}
    assert results[school.ids[LOTTE]]["final_grade"] == 8
    school.results = {code: results[school.ids[code]] for code in FORMS}

    lotte_attempt = part(school, LOTTE, "obs")["attempt_id"]
    mine = f"/exams/v1/schools/{school.id}/attempts/{lotte_attempt}/result"
    assert http.get(mine, headers=school.headers[LOTTE]).status_code == 404  # not before the board adopted it
    one = http.post(f"/exams/v1/schools/{school.id}/results/{school.results[LOTTE]['id']}/adopt", headers=board)
    assert one.status_code == 200 and one.json()["state"] == "adopted", one.text
    assert http.post(f"/exams/v1/schools/{school.id}/results/{school.results[LOTTE]['id']}/adopt",
                     headers=board).status_code == 409
    rest = http.post(f"/exams/v1/schools/{school.id}/results/adopt-group", headers=board,
                     json={"group_id": school.group_id, "exam_id": school.exam_id})
    assert rest.status_code == 200, rest.text
    assert sorted(r["student_id"] for r in rest.json()) == sorted(school.ids[c] for c in (FINN, SARA))
    seen = http.get(mine, headers=school.headers[LOTTE])
    assert seen.status_code == 200, seen.text
    assert (seen.json()["result"]["outcome"], seen.json()["result"]["final_grade"]) == ("passed", 8)
    assert people.mails(student_email(LOTTE, "Lotte"), "Je resultaat is vastgesteld")
    other = http.get(f"/exams/v1/schools/{school.id}/students/{school.ids[LOTTE]}/results",
                     headers=school.headers[FINN])
    assert other.status_code in (403, 404), other.text  # Finn does not see Lotte's result


def retake_as_attempt_two(people: People, school: School) -> None:
    """Finn failed: his supervisor opens a retake, attempt 2, whose parts are scheduled anew; Lotte passed: none."""
    http, sid, supervisor = people.http, school.id, school.headers["begeleider"]
    first_attempt = part(school, FINN, "obs")["attempt_id"]
    passed = http.post(f"/exams/v1/schools/{sid}/attempts/{part(school, LOTTE, 'obs')['attempt_id']}/retake",
                       headers=supervisor)
    assert passed.status_code == 409, passed.text
    retake = http.post(f"/exams/v1/schools/{sid}/attempts/{first_attempt}/retake", headers=supervisor)
    assert retake.status_code == 201, retake.text
    assert (retake.json()["number"], retake.json()["previous_attempt_id"]) == (2, first_attempt)
    assert people.mails(student_email(FINN, "Finn"), "Herkansing geopend")
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    scheduled = http.post(f"/exams/v1/schools/{sid}/schedules", headers=supervisor, json={
        "assignment_ids": [school.assignments[FINN]["id"]], "all_parts": {"starts_at": starts}})
    assert scheduled.status_code == 201, scheduled.text
    assert {(p["attempt_id"], p["attempt_number"]) for p in scheduled.json()} == {(retake.json()["id"], 2)}
    assert len(people.mails(student_email(FINN, "Finn"), "Ingepland", count=4)) == 4
    overview = http.get(f"/exams/v1/schools/{sid}/overview", headers=supervisor,
                        params={"programme_id": school.programme_id, "group_id": school.group_id}).json()
    cells = {row["student_id"]: next(c for c in row["cells"] if c["exam_id"] == school.exam_id)
             for row in overview["rows"]}
    assert (cells[school.ids[FINN]]["state"], cells[school.ids[FINN]]["attempt_number"]) == (
        "fully_scheduled_started", 2)
    assert (cells[school.ids[LOTTE]]["state"], cells[school.ids[LOTTE]]["attempt_number"]) == ("passed", 1)


def objection_amends_the_result(people: People, school: School) -> None:
    """Sara objects; the board appoints a new assessor, whose assessment amends her result; the original is kept."""
    http, sid, board = people.http, school.id, school.headers["commissie"]
    attempt = part(school, SARA, "obs")["attempt_id"]
    opened = http.post(f"/exams/v1/schools/{sid}/cases", headers=school.headers[SARA], json={
        "kind": "objection", "exam_id": school.exam_id, "attempt_id": attempt,
        "reason": "De observatie is beoordeeld terwijl de cliënt mij steeds onderbrak."})
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["state"] == "open" and not case["overdue"]
    listed = http.get(f"/exams/v1/schools/{sid}/cases", headers=board, params={"state": "open"}).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]
    decision = f"/exams/v1/schools/{sid}/cases/{case['id']}/decision"
    decided = http.post(decision, headers={**board, "If-Match": f'"{case["version"]}"'}, json={
        "outcome": "new_assessment", "note": "Gegrond: een andere examinator beoordeelt de observatie opnieuw.",
        "new_assessor_id": school.ids["examinator2"], "part_ids": ["obs"]})
    assert decided.status_code == 200, decided.text
    [schedule] = decided.json()["decision"]["schedule_ids"]
    assert http.post(decision, headers=board, json={"outcome": "refused", "note": "nog eens"}).status_code == 409
    assert people.mails(student_email(SARA, "Sara"), "De examencommissie heeft een besluit genomen")
    assert people.mails(email("examinator2"), "Ingepland")

    reassessed = save(people, school, schedule, "examinator2", {"c1": "4", "c2": "pass"})
    assert reassessed.status_code == 200, reassessed.text
    done = finalize(people, school, schedule, "examinator2")
    assert done.status_code == 200 and done.json()["attempt_assessed"] is True, done.text
    path = f"/exams/v1/schools/{sid}/attempts/{attempt}/result"
    amended = eventually(lambda: http.get(path, headers=board),
                         lambda r: r.json()["result"]["id"] != school.results[SARA]["id"])
    current, [original] = amended.json()["result"], amended.json()["superseded"]
    assert (current["outcome"], current["grade"], current["supersedes"]) == ("passed", 6.6, original["id"])
    assert (original["id"], original["outcome"], original["grade"], original["superseded_by"]) == (
        school.results[SARA]["id"], "failed", 4.3, current["id"])  # kept as it was, marked superseded
    school.results["amended"] = current
    adopted = http.post(f"/exams/v1/schools/{sid}/results/{current['id']}/adopt", headers=board)
    assert adopted.status_code == 200, adopted.text
    seen = http.get(path, headers=school.headers[SARA]).json()
    assert (seen["result"]["outcome"], seen["result"]["final_grade"]) == ("passed", 7)
    assert [r["grade"] for r in seen["superseded"]] == [4.3]


def audit_chain_detects_tampering(people: People, school: School) -> None:
    """Every signature, adoption, finalization and decision is in the school's chain, which verifies; a record
    changed directly in the exams database is named as the broken link."""
    http, admin = people.http, school.headers["admin"]
    verify = f"/exams/v1/schools/{school.id}/audit/verify"
    # 9 approvals, 3 adoptions, 7 part finalizations (one by the new assessor), 4 attempt finalizations,
    # 4 result adoptions (one amended), 1 retake, 1 case opened and decided: appended by the worker from events
    complete = eventually(lambda: http.get(verify, headers=admin), lambda r: r.json().get("head_seq") == 30)
    assert complete.json()["head_seq"] == 30, complete.text
    whole = http.get(verify, headers=school.headers["commissie"])
    assert whole.status_code == 200, whole.text
    assert whole.json()["valid"] is True and whole.json()["first_broken"] is None, whole.text
    assert whole.json()["records_checked"] == 30
    assert http.get(verify, headers=school.headers["begeleider"]).status_code == 403

    def trail(code: str) -> list[dict[str, Any]]:
        r = http.get(f"/exams/v1/schools/{school.id}/students/{school.ids[code]}/audit", headers=admin)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    lotte = trail(LOTTE)
    kinds = [(i["type"], i["actor"]) for i in lotte]
    assert {a for t, a in kinds if t == "exams.assignment_approved"} == {
        school.ids[f"user:{LOTTE}"], school.ids["opleider"], school.ids["begeleider"]}  # her three signatures
    assert ("exams.assignment_adopted", school.ids["commissie"]) in kinds
    assert ("exams.part_assessment_finalized", school.ids["examinator"]) in kinds
    assert ("exams.result_adopted", school.ids["commissie"]) in kinds
    sara = [(i["type"], i["actor"]) for i in trail(SARA)]
    assert ("exams.board_case_opened", school.ids[f"user:{SARA}"]) in sara
    assert ("exams.board_case_decided", school.ids["commissie"]) in sara
    assert ("exams.part_assessment_finalized", school.ids["examinator2"]) in sara
    assert [t for t, _ in sara].count("exams.result_adopted") == 2  # the original and the amended result
    finn = trail(FINN)
    assert [i["data"]["attempt_number"] for i in finn if i["type"] == "exams.retake_opened"] == [2]
    assert http.get(f"/exams/v1/schools/{school.id}/students/{school.ids[LOTTE]}/audit",
                    headers=school.headers[LOTTE]).status_code == 403

    victim = lotte[1]  # a signature in the middle of the chain
    mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_uri(people.suite.ports["mongo"]),
                                                     serverSelectionTimeoutMS=10_000)
    with mongo:
        audit = mongo["exams"]["audit"]
        stored = audit.find_one({"_id": victim["event_id"]})
        assert stored is not None and stored["seq"] == victim["seq"]
        audit.update_one({"_id": stored["_id"]}, {"$set": {"actor": school.ids["admin"]}})  # "someone else signed"
        try:
            broken = http.get(verify, headers=school.headers["commissie"]).json()
        finally:
            audit.replace_one({"_id": stored["_id"]}, stored)
    assert broken["valid"] is False and broken["last_valid_seq"] == victim["seq"] - 1
    assert (broken["first_broken"]["seq"], broken["first_broken"]["record_id"]) == (victim["seq"], victim["event_id"])
    assert "hash" in broken["first_broken"]["reason"]
    assert http.get(verify, headers=school.headers["commissie"]).json()["valid"] is True  # restored, whole again

