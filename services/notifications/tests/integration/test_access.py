"""Every endpoint refuses the wrong school, the wrong role, API clients where people are meant, and no token."""

from __future__ import annotations

import httpx
import pytest

from kit.auth import Role
from kit.testing.openapi import answers_without_schema, unbounded_integers
from kit.testing.tokens import TestIssuer

SCHOOL = "school-a"
OTHER = "school-b"

# (method, path, roles that may, a role that may not (None: every role may), body)
ENDPOINTS = [
    ("GET", "/notifications", None, None),
    ("GET", "/notifications/unread-count", None, None),
    ("POST", "/notifications/n1/read", None, None),
    ("POST", "/notifications/read-all", None, None),
    ("POST", "/messages", Role.ASSESSOR, {"recipient_ids": ["x"], "subject": "s", "body": "b"}),
    ("GET", "/messages", Role.EXAM_BOARD, None),
    ("GET", "/messages/unread-count", Role.WORKPLACE_TRAINER, None),
    ("GET", "/messages/recipients", Role.SCHOOL_ADMIN, None),
    ("POST", "/messages/m1/read", Role.ASSESSOR, None),
    ("GET", "/threads", Role.ASSESSOR, None),
    ("GET", "/threads/t1", Role.ASSESSOR, None),
    ("POST", "/threads/t1/read", Role.ASSESSOR, None),
    ("GET", "/deliveries", Role.SCHOOL_SUPERVISOR, None),
]
ALLOWED = {"/deliveries": Role.SCHOOL_ADMIN}


def _ids(e: tuple) -> str:
    return f"{e[0]} {e[1]}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
async def test_wrong_school_wrong_role_and_no_token_are_refused(
    endpoint: tuple, api: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    method, path, wrong_role, body = endpoint
    right_role = ALLOWED.get(path, Role.STUDENT)
    url = f"/v1/schools/{SCHOOL}{path}"

    async def call(headers: dict[str, str]) -> httpx.Response:
        return await api.request(method, url, json=body, headers=headers)

    other_school = await call(issuer.headers("u1", {OTHER: [right_role]}))
    assert other_school.status_code == 403
    assert other_school.json()["type"] == "urn:mbo-exam:problem:forbidden"
    if wrong_role is not None:
        assert (await call(issuer.headers("u1", {SCHOOL: [wrong_role]}))).status_code == 403
    else:
        # Notifications are for people: a school's API client has none, whatever roles it holds.
        assert (await call(issuer.headers("c1", {SCHOOL: list(Role)}, kind="client"))).status_code == 403
    assert (await call({})).status_code == 401
    allowed = await call(issuer.headers("u1", {SCHOOL: [right_role]}))
    assert allowed.status_code in (200, 201, 403, 404, 422)
    if allowed.status_code == 403:  # the role passed; only the resource check (reach) refused
        assert "recipients_outside_reach" in allowed.json()


async def test_preferences_are_for_people_and_refuse_bad_input(api: httpx.AsyncClient, issuer: TestIssuer) -> None:
    person = issuer.headers("p1", {SCHOOL: [Role.STUDENT]})
    assert (await api.get("/v1/me/preferences")).status_code == 401
    assert (await api.get("/v1/me/preferences", headers=issuer.headers("c", {SCHOOL: [Role.SCHOOL_ADMIN]},
                                                                      kind="client"))).status_code == 403
    fresh = (await api.get("/v1/me/preferences", headers=person)).json()
    assert fresh == {"language": None, "effective_language": "nl",
                     "email": {"security": True, "assignments": True, "scheduling": True, "results": True,
                               "exam_board": True, "messages": True}}
    for body, field in [({"language": "de"}, "language"), ({"email": {"security": False}}, "email.security"),
                        ({"email": {"results": "maybe"}}, "email.results")]:
        refused = await api.put("/v1/me/preferences", json=body, headers=person)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    saved = await api.put("/v1/me/preferences", json={"language": "en", "email": {"results": False}}, headers=person)
    assert saved.status_code == 200
    now = (await api.get("/v1/me/preferences", headers=person)).json()
    assert now["language"] == "en" and now["effective_language"] == "en"
    assert now["email"]["results"] is False and now["email"]["security"] is True
    read_only = issuer.headers("p1", {SCHOOL: [Role.STUDENT]}, read_only=True, actor="sup")
    assert (await api.put("/v1/me/preferences", json={}, headers=read_only)).status_code == 403


async def test_messages_are_not_shown_when_viewing_as_the_student(api: httpx.AsyncClient, issuer: TestIssuer) -> None:
    viewing = issuer.headers("stu", {SCHOOL: [Role.STUDENT]}, read_only=True, actor="supervisor-1")
    assert (await api.get(f"/v1/schools/{SCHOOL}/messages", headers=viewing)).status_code == 403
    assert (await api.get(f"/v1/schools/{SCHOOL}/notifications", headers=viewing)).status_code == 200


async def test_every_route_declares_the_model_it_answers_with(api: httpx.AsyncClient) -> None:
    """The OpenAPI states what comes back (each JSON success answer refers to a named schema) and bounds numbers."""
    spec = (await api.get("/openapi.json")).json()
    assert answers_without_schema(spec) == [] and unbounded_integers(spec) == []
    operations = [op for path, ops in spec["paths"].items() if path.startswith("/v1/") for op in ops]
    assert len(operations) >= 15  # notifications, messages, threads, preferences, delivery log


async def test_a_refusal_is_explained_in_dutch_by_default_and_in_english_on_request(api: httpx.AsyncClient,
                                                                                  issuer: TestIssuer) -> None:
    person = issuer.headers("p1", {SCHOOL: [Role.STUDENT]})
    dutch = await api.post(f"/v1/schools/{SCHOOL}/notifications/nope/read", headers=person)
    assert dutch.status_code == 404
    assert dutch.json()["title"] == "Niet gevonden"
    assert dutch.json()["detail"] == "Deze melding van u bestaat niet in deze school."
    english = await api.post(f"/v1/schools/{SCHOOL}/notifications/nope/read",
                             headers={**person, "Accept-Language": "en"})
    assert english.json()["title"] == "Not found"
    assert english.json()["detail"] == "No such notification of yours in this school."
    client = issuer.headers("c", {SCHOOL: [Role.SCHOOL_ADMIN]}, kind="client")
    refused = await api.get("/v1/me/preferences", headers={**client, "Accept-Language": "nl, en;q=0.5"})
    assert refused.status_code == 403 and refused.json()["detail"] == "Alleen personen hebben voorkeuren."
