"""For the web app's own tests without servers: a signed-in client whose API calls a stand-in answers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient

from web.app import create_app
from web.session import SESSION_COOKIE, Sealer
from web.settings import WebSettings

SECRET = "k" * 40
CSRF = "c" * 20


class StandIn:
    """The services' APIs as the pages see them: an answer per (method, path), and every request kept.

    An answer is a body (200), a (status, body) pair, an httpx.Response, or a function of the request giving a body.
    """

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        found = self.answers.get((request.method, request.url.path))
        if found is None:
            return httpx.Response(404, json={"title": "Niet gevonden", "detail": "Dit bestaat niet."})
        if isinstance(found, httpx.Response):
            return found
        if isinstance(found, tuple):
            return httpx.Response(found[0], json=found[1])
        return httpx.Response(200, json=found(request) if callable(found) else found)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        """The requests of one method to one path."""
        return [r for r in self.seen if r.method == method and r.url.path == path]

    def paths(self) -> list[str]:
        """Every request as 'METHOD /path'."""
        return [f"{r.method} {r.url.path}" for r in self.seen]


def client_as(handler: Callable[[httpx.Request], httpx.Response], roles: dict[str, list[str]],
              school: str = "s1") -> TestClient:
    """A signed-in person with these roles per school, working in `school`; the caller exits the client."""
    app = create_app(WebSettings(environment="test", session_secret=SECRET))
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    app.state.upstreams.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    claims = base64.urlsafe_b64encode(json.dumps({"sch": roles}).encode()).decode().rstrip("=")
    session = {"csrf": CSRF, "at": f"h.{claims}.sig", "rt": "r", "exp": time.time() + 600, "uid": "u1",
               "school": school, "school_name": "Demo", "seen": time.time()}
    client.cookies.set(SESSION_COOKIE, Sealer(SECRET).seal(session))
    return client
