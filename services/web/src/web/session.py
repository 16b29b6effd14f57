"""The session: an encrypted, authenticated cookie holding the person's tokens and CSRF secret.

The browser only ever holds the sealed cookie (HttpOnly, SameSite=Lax, Secure outside local mode);
JavaScript never sees a refresh token. Nothing is kept on the server, so any web replica can serve any request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

SESSION_COOKIE = "mbo_session"
VIEW_AS_COOKIE = "mbo_view_as"
LANG_COOKIE = "mbo_lang"
MAX_COOKIE_AGE_S = 30 * 24 * 3600


class Sealer:
    """Encrypts and authenticates cookie values with a key derived from the session secret."""

    def __init__(self, secret: str) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(b"mbo-web-session:" + secret.encode()).digest())
        self._fernet = Fernet(key)

    def seal(self, data: dict[str, Any]) -> str:
        """The cookie value for data."""
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def open(self, value: str | None, max_age_s: int) -> dict[str, Any] | None:
        """The data of a cookie value, or None when it is missing, forged or older than max_age_s."""
        if not value:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode(), ttl=max_age_s))
        except (InvalidToken, ValueError):
            return None
        return data if isinstance(data, dict) else None


class Session(dict[str, Any]):
    """The session's data; remembers whether it changed so the cookie is only rewritten then."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__(data or {})
        self.dirty = False
        if "csrf" not in self:
            self["csrf"] = secrets.token_urlsafe(24)

    def __setitem__(self, key: str, value: Any) -> None:
        self.dirty = True
        super().__setitem__(key, value)

    def pop(self, key: str, default: Any = None) -> Any:
        """Remove a key, marking the session changed."""
        self.dirty = True
        return super().pop(key, default)

    @property
    def signed_in(self) -> bool:
        """Whether the session holds a person's tokens."""
        return bool(self.get("rt"))

    def end(self) -> None:
        """Forget the person (a new CSRF secret, so old pages' forms stop working)."""
        self.clear()
        self["csrf"] = secrets.token_urlsafe(24)


class SessionMiddleware(BaseHTTPMiddleware):
    """Opens the session cookie into request.state and writes it back when it changed."""

    def __init__(self, app: ASGIApp, sealer: Sealer, *, secure: bool, idle_s: int) -> None:
        super().__init__(app)
        self.sealer = sealer
        self.secure = secure
        self.idle_s = idle_s

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Load, run, store."""
        raw = self.sealer.open(request.cookies.get(SESSION_COOKIE), MAX_COOKIE_AGE_S)
        session = Session(raw)
        expired = False
        if session.signed_in and time.time() - float(session.get("seen", 0)) > self.idle_s:
            session.end()
            expired = True
        if session.signed_in and time.time() - float(session.get("seen", 0)) > 60:
            session["seen"] = int(time.time())  # rewrite at most once a minute
        request.state.session = session
        request.state.session_expired = expired
        request.state.view_as = self.sealer.open(request.cookies.get(VIEW_AS_COOKIE), 900)
        request.state.view_as_dirty = False
        response = await call_next(request)
        if session.dirty or raw is None:
            response.set_cookie(SESSION_COOKIE, self.sealer.seal(dict(session)), max_age=MAX_COOKIE_AGE_S,
                                httponly=True, secure=self.secure, samesite="lax", path="/")
        if request.state.view_as_dirty:
            if request.state.view_as and session.signed_in:
                response.set_cookie(VIEW_AS_COOKIE, self.sealer.seal(request.state.view_as), max_age=900,
                                    httponly=True, secure=self.secure, samesite="lax", path="/")
            else:
                response.delete_cookie(VIEW_AS_COOKIE, path="/", httponly=True, secure=self.secure, samesite="lax")
        # Pages carry personal data: never kept by the browser or any cache (also the back button after sign-out).
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Vary"] = "Cookie"
        return response
