"""Every identity problem says what happened in its own title, in the caller's language; OAuth2 errors as RFC 6749."""

import httpx

from kit.errors import TITLES
from kit.testing.openapi import answers_without_schema, unbounded_integers

from .conftest import PASSWORD, Harness

INTERNAL_TITLES = set(TITLES["internal"])
EN = {"Accept-Language": "en"}


def assert_true_title(response: httpx.Response, status: int, slug: str, title: str) -> dict:
    body = response.json()
    assert response.status_code == status, response.text
    assert body["type"].endswith(":" + slug)
    assert body["title"] == title and body["title"] not in INTERNAL_TITLES
    return dict(body)


async def test_login_link_and_lockout_problems_have_their_own_titles_in_one_language(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    admin = await identity.token("anne@roc-midden.example")

    wrong = await identity.login("anne@roc-midden.example", "Niet-Het-Wachtwoord-1")
    body = assert_true_title(wrong, 401, "invalid_credentials", "E-mailadres of wachtwoord onjuist")
    assert body["detail"] == "E-mailadres of wachtwoord is onjuist."
    english = await identity.login("anne@roc-midden.example", "Niet-Het-Wachtwoord-1", headers=EN)
    body = assert_true_title(english, 401, "invalid_credentials", "Wrong e-mail address or password")
    assert body["detail"] == "The e-mail address or password is wrong."

    token = await identity.last_link_token("identity.invitation_requested", "anne@roc-midden.example")
    used = await identity.client.post("/v1/auth/set-password", json={"token": token, "password": PASSWORD},
                                      headers=EN)
    body = assert_true_title(used, 400, "invalid_link", "Link invalid, used or expired")
    assert body["detail"] == "This link is invalid, already used or expired."

    await identity.add_member(school, admin, "piet@bedrijf.example", ["workplace_trainer"])
    for _ in range(5):
        await identity.login("piet@bedrijf.example", "Fout-Wachtwoord-123")
    locked = await identity.login("piet@bedrijf.example", "Fout-Wachtwoord-123")
    body = assert_true_title(locked, 429, "account_locked", "Account tijdelijk geblokkeerd")
    assert body["detail"].startswith("Te veel mislukte pogingen.")
    locked_en = await identity.login("piet@bedrijf.example", headers=EN)
    body = assert_true_title(locked_en, 429, "account_locked", "Account temporarily locked")
    assert body["detail"].startswith("Too many failed attempts.")

    stale = await identity.client.post("/v1/auth/refresh", json={"refresh_token": "x" * 43}, headers=EN)
    body = assert_true_title(stale, 401, "invalid_refresh_token", "Session expired or ended")
    assert body["detail"] == "Your session has expired. Please log in again."


async def test_refusals_from_identity_have_details_in_the_title_language(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    other = await identity.school_with_admin("bert@roc-noord.example", "ROC Noord")
    admin = await identity.token("anne@roc-midden.example")
    other_admin = await identity.token("bert@roc-noord.example")
    for headers, title, detail in (
        ({}, "Geen toegang", "Alleen de beheerder van deze school mag dit."),
        (EN, "Access denied", "Only this school's admin may do this."),
    ):
        refused = await identity.client.get(f"/v1/schools/{school}/audit", headers={**other_admin, **headers})
        assert (refused.status_code, refused.json()["title"], refused.json()["detail"]) == (403, title, detail)
    missing = await identity.client.get(f"/v1/schools/{school}/users/usr_nobody", headers={**admin, **EN})
    assert missing.status_code == 404
    assert (missing.json()["title"], missing.json()["detail"]) == (
        "Not found", "This person is not a member of this school.")
    assert other  # a second school exists, and its admin was refused above


async def test_the_token_endpoint_answers_errors_as_oauth2_clients_expect(identity: Harness) -> None:
    school = await identity.school_with_admin("anne@roc-midden.example")
    admin = await identity.token("anne@roc-midden.example")
    created = (await identity.client.post(f"/v1/schools/{school}/api-clients", headers=admin,
                                          json={"name": "SIS", "roles": ["school_admin"]})).json()
    cid, secret = created["client_id"], created["client_secret"]

    def oauth_error(response: httpx.Response, status: int, error: str) -> None:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert set(body) == {"error", "error_description"} and body["error"] == error
        assert body["error_description"].isascii()

    wrong_secret = await identity.client.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                                              auth=httpx.BasicAuth(cid, "wrong-secret"))
    oauth_error(wrong_secret, 401, "invalid_client")
    assert wrong_secret.headers["www-authenticate"].startswith("Basic")
    oauth_error(await identity.client.post("/v1/oauth/token", data={"grant_type": "client_credentials",
                                                                    "client_id": "cli_unknown",
                                                                    "client_secret": secret}), 401, "invalid_client")
    oauth_error(await identity.client.post("/v1/oauth/token", data={"grant_type": "password", "client_id": cid,
                                                                    "client_secret": secret}),
                400, "unsupported_grant_type")
    oauth_error(await identity.client.post("/v1/oauth/token", data={"client_id": cid, "client_secret": secret}),
                400, "invalid_request")
    oauth_error(await identity.client.post("/v1/oauth/token", data={"grant_type": "client_credentials"}),
                401, "invalid_client")
    both = await identity.client.post("/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                               "client_secret": secret},
                                      auth=httpx.BasicAuth(cid, secret))
    oauth_error(both, 400, "invalid_request")
    as_json = await identity.client.post("/v1/oauth/token", json={"grant_type": "client_credentials",
                                                                  "client_id": cid, "client_secret": secret})
    oauth_error(as_json, 400, "invalid_request")  # RFC 6749 asks for a form body

    ok = await identity.client.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                                    auth=httpx.BasicAuth(cid, secret))
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
    assert ok.headers["cache-control"] == "no-store"


async def test_the_openapi_says_what_every_identity_route_answers(identity: Harness) -> None:
    spec = (await identity.client.get("/openapi.json")).json()
    assert answers_without_schema(spec) == [] and unbounded_integers(spec) == []
    token = spec["paths"]["/v1/oauth/token"]["post"]["responses"]
    assert token["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/OAuthErrorOut")
