"""The web app's frame without servers: the sealed session, CSRF, language, formats, refusals shown per field."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kit.testing.openapi import unbounded_integers
from web.api import ApiError
from web.app import create_app
from web.render import format_date, format_number
from web.routes.auth import safe_next
from web.session import SESSION_COOKIE, Sealer
from web.settings import WebSettings


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(WebSettings(environment="test")), follow_redirects=False)


def test_the_session_cookie_is_sealed_http_only_and_samesite(client: TestClient) -> None:
    with client:
        response = client.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # local and test runs use plain http
    value = cookie.split(";")[0].split("=", 1)[1]
    assert "csrf" not in value  # encrypted, not just signed
    assert response.headers["cache-control"] == "no-store"


def test_production_cookies_are_secure_and_need_a_secret() -> None:
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        WebSettings(environment="production")
    settings = WebSettings(environment="production", session_secret="x" * 40)
    with TestClient(create_app(settings)) as client:
        assert "Secure" in client.get("/login").headers["set-cookie"]


def test_a_forged_or_expired_cookie_is_an_empty_session() -> None:
    sealer = Sealer("s" * 40)
    sealed = sealer.seal({"rt": "x"})
    assert sealer.open(sealed, 60) == {"rt": "x"}
    assert sealer.open(sealed[:-2] + "AA", 60) is None
    assert Sealer("t" * 40).open(sealed, 60) is None
    time.sleep(1.1)
    assert sealer.open(sealed, 0) is None


def test_a_form_without_the_csrf_token_saves_nothing_and_hands_the_input_back(client: TestClient) -> None:
    with client:
        page = client.get("/login")
        refused = client.post("/forgot-password", data={"email": "iemand@school.example"})
        assert refused.status_code == 403
        assert "niets is opgeslagen" in refused.text or "er is niets" in refused.text
        assert 'value="iemand@school.example"' in refused.text
        wrong = client.post("/forgot-password", data={"email": "a@b.nl", "csrf_token": "guess"})
        assert wrong.status_code == 403
        accepted = client.post("/login", data={"email": "", "password": "", "csrf_token": csrf_of(page.text)})
        assert accepted.status_code == 422 and "Vul je e-mailadres in." in accepted.text


def test_pages_need_a_session_and_remember_where_to_go(client: TestClient) -> None:
    with client:
        response = client.get("/students?q=jan")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/students%3Fq%3Djan"


def test_the_language_switch_sticks_in_a_cookie(client: TestClient) -> None:
    with client:
        token = csrf_of(client.get("/login").text)
        switched = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
        assert switched.status_code == 303 and "mbo_lang=en" in switched.headers["set-cookie"]
        page = client.get("/login")
    assert '<html lang="en">' in page.text and "Sign in" in page.text


def test_only_local_paths_are_followed_after_sign_in() -> None:
    assert safe_next("/students?q=a") == "/students?q=a"
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example", None, ""):
        assert safe_next(evil) == "/"


def test_dates_and_numbers_follow_the_page_language() -> None:
    assert format_date("2026-11-29T16:14:00Z", "nl") == "29 nov. 2026 17:14"
    assert format_date("2026-07-01T10:00:00+00:00", "en", False) == "1 Jul 2026"
    assert format_number(1234.5, "nl", 1) == "1.234,5"
    assert format_number(1234.5, "en", 1) == "1,234.5"


def test_a_problem_names_its_fields_for_the_form() -> None:
    response = httpx.Response(422, json={"title": "Ongeldige invoer", "errors": [
        {"field": "admin_email", "reason": "geen geldig adres"}, {"field": "contact.email", "reason": "fout"},
        {"field": "recipient_ids[0]", "reason": "buiten bereik"}]})
    problem = ApiError.from_response(response)
    fields = problem.field_errors()
    assert fields["admin_email"] == "geen geldig adres"
    assert fields["contact_email"] == "fout"
    assert fields["recipient_ids"] == "buiten bereik"
    assert problem.message() == "Ongeldige invoer"
    assert ApiError.from_response(httpx.Response(502, text="<html>oops</html>")).message() == ""


def test_reference_lists_are_kept_per_person_and_dropped_after_their_changes() -> None:
    from web.context import ReferenceCache

    cache = ReferenceCache(ttl_s=30, max_entries=3)
    anne = ("u-anne", "s1", None, "enrollment", "/groups", ())
    bram = ("u-bram", "s1", None, "enrollment", "/groups", ())
    cache.put(anne, ["Klas A"])
    assert cache.get(anne) == ["Klas A"] and cache.get(bram) is None
    cache.forget("u-anne")
    assert cache.get(anne) is None
    for n in range(4):
        cache.put(("u-bram", "s1", None, "x", str(n), ()), n)
    assert cache.get(("u-bram", "s1", None, "x", "0", ())) is None  # the oldest went first
    assert ReferenceCache(ttl_s=-1).get(anne) is None
    expired = ReferenceCache(ttl_s=-1)
    expired.put(anne, 1)
    assert expired.get(anne) is None


def signed_in_client(handler: Any, exp: float) -> TestClient:
    """The app with its APIs answered by handler, and a session whose access token expires at exp."""
    settings = WebSettings(environment="test", session_secret="k" * 40)
    app = create_app(settings)
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    app.state.upstreams.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    session = {"csrf": "c" * 20, "at": "old.eyJzY2giOnsiczEiOlsic2Nob29sX2FkbWluIl19fQ.sig", "rt": "refresh-1",
               "exp": exp, "uid": "u1", "school": "s1", "school_name": "Demo", "seen": time.time()}
    client.cookies.set(SESSION_COOKIE, Sealer("k" * 40).seal(session))
    return client


def test_an_expiring_token_is_refreshed_without_the_person_noticing() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path} {request.headers.get('authorization', '')}")
        if request.url.path == "/v1/auth/refresh":
            return httpx.Response(200, json={"access_token": "new.eyJzY2giOnsiczEiOlsic2Nob29sX2FkbWluIl19fQ.sig",
                                             "refresh_token": "refresh-2", "expires_in": 900})
        if request.headers.get("authorization", "").startswith("Bearer new."):
            return httpx.Response(200, json=[])
        return httpx.Response(401, json={"title": "expired"})

    client = signed_in_client(handler, exp=time.time() + 5)
    page = client.get("/library")
    assert page.status_code == 200 and "Bibliotheek" in page.text
    assert seen[0].startswith("POST /v1/auth/refresh") and seen[1].endswith("Bearer new." + seen[1].split("new.")[1])
    assert SESSION_COOKIE in page.headers["set-cookie"]  # the rotated tokens are kept
    client.__exit__(None, None, None)


def test_a_refused_refresh_sends_the_person_to_sign_in_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"title": "Niet ingelogd"})

    client = signed_in_client(handler, exp=time.time() - 5)
    page = client.get("/library")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/library&expired=1"
    client.__exit__(None, None, None)


def test_the_import_progress_counts_every_outcome_of_the_checked_rows() -> None:
    from datetime import UTC, datetime, timedelta

    from web.routes.imports import progress_of, stalled

    job = {"status": "committing", "preview": {"valid": 1400, "invalid": 100, "create": 1400},
           "result": {"created": 480, "updated": 0, "unchanged": 0, "invalid": 20},
           "lease_until": (datetime.now(UTC) + timedelta(minutes=2)).isoformat()}
    assert progress_of(job) == (500, 1500)
    assert not stalled(job)
    assert stalled({**job, "lease_until": None})  # the commit was given up: the page offers to continue
    assert stalled({**job, "lease_until": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()})
    assert not stalled({**job, "status": "committed", "lease_until": None})
    assert progress_of({"status": "previewed", "preview": {"valid": 3, "invalid": 1}}) == (0, 4)


def test_unknown_addresses_and_faults_answer_with_the_error_page_never_json() -> None:
    app = create_app(WebSettings(environment="test"))

    @app.get("/fault-for-the-test")
    async def fault() -> None:
        raise RuntimeError("secret detail of the fault")

    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        missing = client.get("/bestaat-niet")
        malformed = client.get("/login", params={"next": "x" * 3000})
        broken = client.get("/fault-for-the-test")
        client.cookies.set("mbo_lang", "en")
        english = client.get("/bestaat-niet")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "<h1>Deze pagina bestaat niet</h1>" in missing.text and missing.headers["cache-control"] == "no-store"
    assert "<h1>This page does not exist</h1>" in english.text
    assert malformed.status_code == 422 and "<h1>Dit adres klopt niet</h1>" in malformed.text
    assert broken.status_code == 500 and "<h1>Er ging iets mis</h1>" in broken.text
    assert broken.headers["x-correlation-id"] in broken.text  # the code to give the helpdesk
    assert "secret detail" not in broken.text and "Traceback" not in broken.text


def student_client(handler: Any) -> TestClient:
    """A signed-in student of school s1, with the APIs answered by handler."""
    import base64
    import json

    client = signed_in_client(handler, exp=time.time() + 600)
    claims = base64.urlsafe_b64encode(json.dumps({"sch": {"s1": ["student"]}}).encode()).decode().rstrip("=")
    session = {"csrf": "c" * 20, "at": f"h.{claims}.sig", "rt": "refresh-1", "exp": time.time() + 600, "uid": "u1",
               "school": "s1", "school_name": "Demo", "seen": time.time()}
    client.cookies.set(SESSION_COOKIE, Sealer("k" * 40).seal(session))
    return client


UNKNOWN_ATTACHMENT = {"title": "Ongeldige invoer", "errors": [
    {"field": "attachment_ids[0]", "reason": "not a message attachment you uploaded in this school"}]}
MESSAGE = {"csrf_token": "c" * 20, "recipient_ids": "u2", "subject": "Verslag", "body": "Zie bijlage",
           "attachment_ids": "file_1", "attachment_names": "verslag.pdf", "idempotency_key": "k1"}


def test_a_message_waits_for_its_fresh_attachment_to_be_known(monkeypatch: pytest.MonkeyPatch) -> None:
    from web.routes import messages

    monkeypatch.setattr(messages, "ATTACHMENT_WAITS_S", (0.01,) * 8)
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/schools/s1/messages":
            sent.append(json_of(request))
            if len(sent) < 3:  # notifications has not yet consumed evidence's event about the file
                return httpx.Response(422, json=UNKNOWN_ATTACHMENT)
            return httpx.Response(201, json={"id": "m1", "thread_id": "t1"})
        return httpx.Response(200, json={"items": [{"user_id": "u2", "display_name": "Sanne"}]})

    client = student_client(handler)
    answer = client.post("/messages", data=MESSAGE)
    assert answer.status_code == 303 and answer.headers["location"] == "/messages/t1?sent=1"
    assert len(sent) == 3 and all(s["attachment_ids"] == ["file_1"] for s in sent)
    client.__exit__(None, None, None)


def test_an_attachment_never_known_is_refused_in_the_pages_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from web.routes import messages

    monkeypatch.setattr(messages, "ATTACHMENT_WAITS_S", (0.01,) * 2)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(422, json=UNKNOWN_ATTACHMENT)
        return httpx.Response(200, json={"items": [{"user_id": "u2", "display_name": "Sanne"}]})

    client = student_client(handler)
    page = client.post("/messages", data=MESSAGE)
    assert page.status_code == 422
    assert "Een bijlage kon niet worden meegestuurd" in page.text
    assert 'value="Verslag"' in page.text and "Zie bijlage" in page.text  # what was typed stays
    assert 'name="attachment_ids"' not in page.text  # the refused attachment is not sent again
    client.__exit__(None, None, None)


def json_of(request: httpx.Request) -> dict[str, Any]:
    import json

    body: dict[str, Any] = json.loads(request.content)
    return body


def test_every_number_a_page_takes_is_bounded() -> None:
    """A page's numeric query (a cursor, a row) beyond what the APIs store is refused at the field, not passed on."""
    assert unbounded_integers(create_app(WebSettings(environment="test")).openapi()) == []
