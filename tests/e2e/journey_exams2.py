"""The second half of the full exam journey (Exams II): assessment, locked evidence, the audit chain.

Each function continues from where test_exam_journey_full left the school: every student's two parts
scheduled and started, Lotte's evidence uploaded.
"""

from __future__ import annotations

from typing import Any

import httpx
from pymongo import MongoClient

from kit.local.servers import mongo_uri

from .journey_steps import People, School
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
    """After finalizing, Lotte's evidence is locked and a further upload is refused."""
    http = people.http
    attempt = part(school, LOTTE, "obs")["attempt_id"]
    path = f"/evidence/v1/schools/{school.id}/attempts/{attempt}/evidence"
    refused = eventually(lambda: http.post(path, params={"filename": "nagekomen.txt"}, content=b"te laat",
                                           headers=school.headers[LOTTE]), lambda r: r.status_code == 409)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    listed = eventually(lambda: http.get(path, headers=school.headers["examinator"]),
                        lambda r: all(f["locked"] for f in r.json()))
    assert [(f["filename"], f["locked"]) for f in listed.json()] == [("maaltijdverslag.txt", True)]
    withdraw = http.post(f"/evidence/v1/schools/{school.id}/files/{listed.json()[0]['id']}/withdraw",
                         headers=school.headers[LOTTE])
    assert withdraw.status_code == 409, withdraw.text


def audit_chain_detects_tampering(people: People, school: School) -> None:
    """The school's chain verifies; a record changed in the exams database is named as the broken link."""
    http = people.http
    verify = f"/exams/v1/schools/{school.id}/audit/verify"
    trail = eventually(lambda: http.get(f"/exams/v1/schools/{school.id}/students/{school.ids[LOTTE]}/audit",
                                        headers=school.headers["commissie"]),
                       lambda r: r.status_code == 200 and any(
                           i["type"] == "exams.assessment_finalized" for i in r.json()["items"]))
    assert trail.status_code == 200, trail.text
    kinds = [(i["type"], i["actor"]) for i in trail.json()["items"]]
    assert {a for t, a in kinds if t == "exams.assignment_approved"} == {
        school.ids[f"user:{LOTTE}"], school.ids["opleider"], school.ids["begeleider"]}  # her three signatures
    assert ("exams.assignment_adopted", school.ids["commissie"]) in kinds
    assert ("exams.part_assessment_finalized", school.ids["examinator"]) in kinds
    whole = http.get(verify, headers=school.headers["admin"])
    assert whole.status_code == 200, whole.text
    assert whole.json()["valid"] is True and whole.json()["first_broken"] is None
    assert whole.json()["records_checked"] == whole.json()["head_seq"] >= len(kinds)
    assert http.get(verify, headers=school.headers["begeleider"]).status_code == 403

    victim = trail.json()["items"][1]  # a signature in the middle of the chain
    mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_uri(people.suite.ports["mongo"]),
                                                     serverSelectionTimeoutMS=10_000)
    with mongo:
        audit = mongo["exams"]["audit"]
        stored = audit.find_one({"_id": victim["event_id"]})
        assert stored is not None and stored["seq"] == victim["seq"]
        audit.update_one({"_id": stored["_id"]}, {"$set": {"actor": school.ids["admin"]}})  # "someone else signed"
        broken = http.get(verify, headers=school.headers["commissie"]).json()
        audit.replace_one({"_id": stored["_id"]}, stored)
    assert broken["valid"] is False and broken["last_valid_seq"] == victim["seq"] - 1
    assert (broken["first_broken"]["seq"], broken["first_broken"]["record_id"]) == (victim["seq"], victim["event_id"])
    assert "hash" in broken["first_broken"]["reason"]
    assert http.get(verify, headers=school.headers["commissie"]).json()["valid"] is True  # restored, whole again

