"""The results pages without servers (the APIs answered by a handler): the board's adoption one by one and per group,
the student's own results and retakes, the retake a supervisor opens — and who may not reach them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from web.render import format_date
from web.routes.exam_results_words import final_and_exact
from web.testing import StandIn, client_as

SCHOOL = "/v1/schools/s1"
EXAM = {"id": "exm_1", "programme_id": "prg_1", "name": "Proeve Zorg", "code": "PVB-1",
        "parts": [{"code": "obs", "name": "Observatie"}, {"code": "int", "name": "Interview"}],
        "core_tasks": [{"code": "B1-K1", "name": "Biedt zorg"}],
        "rules": {"max_attempts": 3, "attempt_window_days": 365}}


def result(**over: Any) -> dict[str, Any]:
    return {"id": "res_1", "attempt_id": "att_1", "attempt_number": 1, "student_id": "stu_1", "exam_id": "exm_1",
            "exam_name": "Proeve Zorg", "scale": "grade_1_10", "counts": "last", "label": "failed",
            "parts": [{"part_id": "obs", "outcome": "failed", "grade": None},
                      {"part_id": "int", "outcome": "passed", "grade": 7.75}],
            "core_tasks": [{"code": "B1-K1", "outcome": "failed", "grade": 7.7}], "grade": 7.7, "final_grade": 8,
            "outcome": "failed", "state": "awaiting_adoption", "computed_at": "2026-11-29T10:00:00Z",
            "adopted_at": None, "adopted_by": None, "student_name": "Jan de Vries", "student_code": "100001", **over}


REFUSED = {"title": "Niet toegestaan", "detail": "Dit resultaat is al vastgesteld."}


Exams = StandIn


BOARD = {"s1": ["exam_board"]}
FORM = {"csrf_token": "c" * 20}


def board_api(extra: dict[tuple[str, str], Any] | None = None) -> Exams:
    return Exams({("GET", f"{SCHOOL}/results"): {"items": [result()], "next_cursor": None},
                  ("GET", f"{SCHOOL}/exams"): [EXAM],
                  ("GET", f"{SCHOOL}/groups"): {"items": [{"id": "grp_1", "name": "Examengroep"}]}, **(extra or {})})


def test_the_board_sees_whose_results_await_adoption_with_outcome_grade_and_parts() -> None:
    api = board_api()
    client = client_as(api, BOARD)
    page = client.get("/results?group_id=grp_1")
    assert page.status_code == 200
    text = page.text
    assert "Jan de Vries" in text and "100001" in text and "Niet behaald" in text and "8 (7,7)" in text
    assert "Onderdeel Observatie: Niet behaald" in text and "Onderdeel Interview: Behaald, 7,8" in text
    [listed] = api.sent("GET", f"{SCHOOL}/results")
    assert listed.url.params["state"] == "awaiting_adoption" and listed.url.params["group_id"] == "grp_1"
    client.__exit__(None, None, None)


def test_adopting_one_result_and_adopting_it_twice_says_so() -> None:
    api = board_api({("POST", f"{SCHOOL}/results/res_1/adopt"): result(state="adopted")})
    client = client_as(api, BOARD)
    done = client.post("/results/res_1/adopt", data={**FORM, "group_id": "grp_1", "student": "Jan de Vries"})
    assert done.status_code == 303 and done.headers["location"] == "/results?adopted=1&group_id=grp_1&exam_id="
    assert "1 resultaat vastgesteld" in client.get(done.headers["location"]).text
    api.answers[("POST", f"{SCHOOL}/results/res_1/adopt")] = (409, REFUSED)
    again = client.post("/results/res_1/adopt", data={**FORM, "student": "Jan de Vries"})
    assert again.status_code == 409
    assert "Niet vastgesteld (Jan de Vries): Dit resultaat is al vastgesteld." in again.text
    client.__exit__(None, None, None)


def test_a_groups_adoption_says_how_many_before_and_after() -> None:
    two = [result(), result(id="res_2", student_name="Fatima El Amrani", attempt_id="att_2")]
    api = board_api({("GET", f"{SCHOOL}/results"): {"items": two, "next_cursor": None},
                       ("POST", f"{SCHOOL}/results/adopt-group"): [result(state="adopted")] * 2})
    client = client_as(api, BOARD)
    confirm = client.get("/results/adopt-group?group_id=grp_1")
    assert confirm.status_code == 200 and "Je stelt 2 resultaten vast" in confirm.text
    assert "Ik stel deze 2 resultaten vast namens de examencommissie" in confirm.text
    assert "Fatima El Amrani" in confirm.text and 'name="expected" value="2"' in confirm.text
    assert 'name="idempotency_key"' in confirm.text
    unticked = client.post("/results/adopt-group", data={**FORM, "group_id": "grp_1", "expected": "2"})
    assert unticked.status_code == 422 and 'id="e-confirm"' in unticked.text and not api.sent(
        "POST", f"{SCHOOL}/results/adopt-group")
    done = client.post("/results/adopt-group", data={**FORM, "group_id": "grp_1", "expected": "2", "confirm": "1"})
    assert done.status_code == 303 and "adopted=2" in done.headers["location"]
    assert json.loads(api.sent("POST", f"{SCHOOL}/results/adopt-group")[0].content) == {"group_id": "grp_1",
                                                                                         "exam_id": None}
    changed = client.post("/results/adopt-group", data={**FORM, "group_id": "grp_1", "expected": "3", "confirm": "1"})
    assert changed.status_code == 200 and "de bevestiging noemde er 3" in changed.text
    nothing = client.post("/results/adopt-group", data={**FORM, "group_id": "", "confirm": ""})
    assert nothing.status_code == 422 and "Kies de groep" in nothing.text
    client.__exit__(None, None, None)


@pytest.mark.parametrize(("path", "method"), [("/results", "GET"), ("/results/adopt-group?group_id=g", "GET"),
                                              ("/results/res_1/adopt", "POST"), ("/results/adopt-group", "POST")])
@pytest.mark.parametrize("roles", [{"s1": ["school_supervisor", "assessor", "school_admin"]},  # wrong role
                                   {"s2": ["exam_board"], "s1": ["student"]}])  # the board of another school
def test_only_the_exam_board_of_this_school_reaches_adoption(path: str, method: str,
                                                             roles: dict[str, list[str]]) -> None:
    api = board_api()
    client = client_as(api, roles)
    answer = client.request(method, path, data=FORM if method == "POST" else None)
    assert answer.status_code == 403 and "Alleen de examencommissie stelt resultaten vast." in answer.text
    assert not [r for r in api.seen if "/results" in r.url.path]  # refused before asking the API
    client.__exit__(None, None, None)


def test_a_refusal_of_the_api_for_the_school_is_shown_as_a_clear_page() -> None:
    api = board_api({("GET", f"{SCHOOL}/results"): (403, {"title": "Geen toegang", "detail": "Niet in deze school."})})
    client = client_as(api, BOARD)
    page = client.get("/results")
    assert page.status_code == 403 and "Niet in deze school." in page.text
    client.__exit__(None, None, None)


ADOPTED = result(state="adopted", adopted_at="2026-11-29T12:00:00Z")
FIRST = datetime.now(UTC) - timedelta(days=28)  # the window (365 days) is still open
WINDOW_ENDS = format_date(FIRST + timedelta(days=365), "nl", False)
ATTEMPT = {"id": "att_1", "assignment_id": "asg_1", "student_id": "stu_1", "exam_id": "exm_1", "number": 1,
           "state": "in_execution", "first_scheduled_at": FIRST.isoformat(), "parts": []}


def look(**over: Any) -> dict[str, Any]:
    """The exams API's verdict on a retake after att_1."""
    return {"attempt_id": "att_1", "allowed": True, "reason": None, "next_number": 2, "max_attempts": 3,
            "window_ends": (FIRST + timedelta(days=365)).isoformat(), "beyond_limits": False,
            "extra_attempt_case_id": None, **over}


MAXIMUM = look(allowed=False, next_number=4, beyond_limits=True,
               reason="Het maximum van 3 pogingen is bereikt; alleen de examencommissie kan een extra poging "
                      "toekennen.")


def student_api(my_attempt: int = 1, parts: list[dict[str, Any]] | None = None) -> Exams:
    mine = {"student_id": "stu_1", "exams": [{"exam_id": "exm_1", "code": "PVB-1", "name": "Proeve Zorg",
                                              "state": "failed", "attempt_number": my_attempt, "assignment": None,
                                              "parts": parts or []}]}
    results = {"student_id": "stu_1", "exams": [{"exam_id": "exm_1", "exam_name": "Proeve Zorg", "counts": "last",
                                                 "counting_result_id": "res_1", "outcome": "failed", "final_grade": 8,
                                                 "label": "failed", "attempts": [ADOPTED]}]}
    return Exams({("GET", f"{SCHOOL}/me/exams"): mine, ("GET", f"{SCHOOL}/students/stu_1/results"): results,
                  ("GET", f"{SCHOOL}/exams"): [EXAM], ("GET", f"{SCHOOL}/attempts/att_1/retake"): look()})


def test_the_student_sees_adopted_results_and_that_a_retake_is_possible() -> None:
    client = client_as(student_api(), {"s1": ["student"]})
    page = client.get("/my-results")
    assert page.status_code == 200
    for shown in ("Niet behaald", "8 (7,7)", "Onderdeel Observatie: Niet behaald", "29 nov. 2026 13:00",
                  "Een herkansing (poging 2) is mogelijk", "Poging 2 van maximaal 3", f"uiterlijk tot {WINDOW_ENDS}"):
        assert shown in page.text, shown
    client.__exit__(None, None, None)


def test_beyond_the_maximum_the_page_says_an_extra_attempt_of_the_board_is_used() -> None:
    api = retake_api({("GET", f"{SCHOOL}/attempts/att_1/retake"): MAXIMUM})
    client = client_as(api, SUPERVISOR)
    page = client.get("/results/attempts/att_1")
    assert "Het maximum van 3 pogingen is bereikt" in page.text
    assert "die extra poging wordt ervoor gebruikt" in page.text
    assert "Herkansing openen" in page.text  # the API decides: it uses a granted extra attempt when there is one
    client.__exit__(None, None, None)
    granted = look(beyond_limits=True, next_number=4, extra_attempt_case_id="case_1")
    client = client_as(retake_api({("GET", f"{SCHOOL}/attempts/att_1/retake"): granted}), SUPERVISOR)
    page = client.get("/results/attempts/att_1")
    assert "Een herkansing (poging 4) is mogelijk met de extra poging die de examencommissie toekende" in page.text
    assert "Ik open poging 4" in page.text and "laatste poging: 3" in page.text
    client.__exit__(None, None, None)
    mine = student_api()
    mine.answers[("GET", f"{SCHOOL}/attempts/att_1/retake")] = MAXIMUM
    client = client_as(mine, {"s1": ["student"]})
    page = client.get("/my-results")
    assert "Het maximum van 3 pogingen is bereikt" in page.text and "om een extra poging vragen" in page.text
    client.__exit__(None, None, None)


def test_the_student_sees_attempt_2_once_the_retake_is_opened() -> None:
    part = {"attempt_number": 2, "state": "scheduled", "part_name": "Observatie", "starts_at": "2026-12-10T08:00:00Z"}
    client = client_as(student_api(my_attempt=2, parts=[part]), {"s1": ["student"]})
    page = client.get("/my-results")
    assert "Herkansing geopend: poging 2." in page.text and "Observatie 10 dec. 2026 09:00" in page.text
    client.__exit__(None, None, None)


@pytest.mark.parametrize("roles", [{"s1": ["exam_board", "workplace_trainer"]}, {"s2": ["student"]}])
def test_my_results_are_for_the_schools_students_only(roles: dict[str, list[str]]) -> None:
    api = student_api()
    client = client_as(api, roles)
    page = client.get("/my-results")
    assert page.status_code == 403 and not api.seen
    client.__exit__(None, None, None)


def retake_api(extra: dict[tuple[str, str], Any] | None = None) -> Exams:
    return Exams({("GET", f"{SCHOOL}/attempts/att_1"): ATTEMPT,
                  ("GET", f"{SCHOOL}/attempts/att_1/result"): {"result": ADOPTED, "superseded": []},
                  ("GET", f"{SCHOOL}/assignments/asg_1"): {"id": "asg_1", "student_name": "Jan de Vries",
                                                           "student_code": "100001", "exam_name": "Proeve Zorg"},
                  ("GET", f"{SCHOOL}/exams/exm_1"): EXAM,
                  ("GET", f"{SCHOOL}/attempts/att_1/retake"): look(), **(extra or {})})


SUPERVISOR = {"s1": ["school_supervisor"]}


def test_the_supervisor_sees_what_the_rules_allow_and_opens_a_retake() -> None:
    api = retake_api({("POST", f"{SCHOOL}/attempts/att_1/retake"): (201, {"id": "att_2", "number": 2})})
    client = client_as(api, SUPERVISOR)
    page = client.get("/results/attempts/att_1")
    assert page.status_code == 200
    for shown in ("Niet behaald", "Maximum aantal pogingen", f"tot {WINDOW_ENDS}",
                  "Een herkansing (poging 2) is mogelijk", "Ik open poging 2"):
        assert shown in page.text, shown
    unticked = client.post("/results/attempts/att_1/retake", data=FORM)
    assert unticked.status_code == 422 and 'id="e-confirm"' in unticked.text
    assert 'name="idempotency_key"' in page.text  # the page's own key: a double click opens one retake
    opened = client.post("/results/attempts/att_1/retake", data={**FORM, "confirm": "1", "idempotency_key": "k-1"})
    assert opened.status_code == 303 and opened.headers["location"] == "/results/attempts/att_1?retake=2"
    assert api.sent("POST", f"{SCHOOL}/attempts/att_1/retake")[0].headers["idempotency-key"] == "k-1"
    client.__exit__(None, None, None)


def test_a_retake_the_api_refuses_is_explained() -> None:
    refusal = {"title": "Niet toegestaan",
               "detail": "Er is al een latere poging (2); een herkansing volgt op de laatste."}
    api = retake_api({("POST", f"{SCHOOL}/attempts/att_1/retake"): (409, refusal)})
    client = client_as(api, SUPERVISOR)
    page = client.post("/results/attempts/att_1/retake", data={**FORM, "confirm": "1"})
    assert page.status_code == 409
    assert "Geen herkansing geopend: Er is al een latere poging (2)" in page.text
    assert "binnen het maximum aantal pogingen en de termijn" in page.text
    client.__exit__(None, None, None)


def test_who_may_see_an_attempts_result_and_who_opens_a_retake() -> None:
    for roles in ({"s1": ["workplace_trainer"]}, {"s1": ["student"]}, {"s2": ["school_supervisor"]}):
        api = retake_api()
        client = client_as(api, roles)
        assert client.get("/results/attempts/att_1").status_code == 403 and not api.seen
        client.__exit__(None, None, None)
    api = retake_api()
    board = client_as(api, BOARD)
    assert board.get("/results/attempts/att_1").status_code == 200  # the board reads it, without the form
    refused = board.post("/results/attempts/att_1/retake", data={**FORM, "confirm": "1"})
    assert refused.status_code == 403 and not api.sent("POST", f"{SCHOOL}/attempts/att_1/retake")
    board.__exit__(None, None, None)


def test_grades_read_as_the_transcript_and_the_exact_grade() -> None:
    ctx: Any = type("C", (), {"lang": "nl"})()
    assert final_and_exact(ctx, result()) == "8 (7,7)"
    assert final_and_exact(ctx, result(final_grade=6.4, grade=6.4)) == "6,4"
    assert final_and_exact(ctx, result(scale="pass_fail")) == "—"
    assert final_and_exact(ctx, result(grade=None, outcome="fraud")) == "—"
