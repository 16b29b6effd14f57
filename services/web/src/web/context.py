"""What a page handler works with: the person's session, language, school and their API calls."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import OrderedDict
from typing import Any

import httpx
from fastapi import Request

from web.api import ApiError, Upstreams
from web.session import LANG_COOKIE, Session
from web.settings import WebSettings

REFRESH_AHEAD_S = 60
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignedOut(Exception):
    """No (longer a) valid session: the person signs in again, keeping what they typed."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token (an old page, another site, or a lost session)."""


class ReadOnly(Exception):
    """A change attempted while viewing as a student."""


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to choose what to show; every API verifies it itself."""
    try:
        part = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def client_address(request: Request) -> str:
    """The person's address: the last hop the gateway appended, else the peer."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[-1].strip()[:64]
    return request.client.host if request.client else "unknown"


class Ctx:
    """One request of one person."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.settings: WebSettings = request.app.state.settings
        self.upstreams: Upstreams = request.app.state.upstreams
        self.session: Session = request.state.session
        self.lang = pick_language(request)

    # ---------------------------------------------------------------- who
    @property
    def view_as(self) -> dict[str, Any] | None:
        """The read-only view-as-student state, when active and still valid."""
        state = self.request.state.view_as
        if state and state.get("uid") == self.session.get("uid") and float(state.get("exp", 0)) > time.time():
            return state  # type: ignore[no-any-return]
        return None

    @property
    def claims(self) -> dict[str, Any]:
        """The current token's claims (the view-as token's while viewing as a student)."""
        token = self.view_as["at"] if self.view_as else self.session.get("at", "")
        return claims_of(token) if token else {}

    @property
    def school_id(self) -> str | None:
        """The school the person works in now."""
        if self.view_as:
            return str(self.view_as["school"])
        school = self.session.get("school")
        return str(school) if school else None

    @property
    def roles(self) -> set[str]:
        """The roles held in the current school."""
        schools = self.claims.get("sch") or {}
        return set(schools.get(self.school_id or "", []))

    @property
    def operator(self) -> bool:
        """Whether the person is the platform operator."""
        return bool(self.claims.get("op")) and not self.view_as

    def has(self, *roles: str) -> bool:
        """True when one of the roles is held in the current school."""
        return bool(self.roles & set(roles))

    # ---------------------------------------------------------------- tokens
    async def token(self) -> str:
        """An access token valid for at least a minute; refreshed without the person noticing."""
        if self.view_as:
            return str(self.view_as["at"])
        if not self.session.signed_in:
            raise SignedOut
        if float(self.session.get("exp", 0)) - time.time() < REFRESH_AHEAD_S:
            await self.refresh()
        return str(self.session["at"])

    async def refresh(self) -> None:
        """Exchange the refresh token for new tokens (they rotate); a refused one ends the session."""
        response = await self.upstreams.request("identity", "POST", "/v1/auth/refresh", language=self.lang,
                                                json={"refresh_token": self.session.get("rt", "")},
                                                headers={"X-Forwarded-For": client_address(self.request)})
        if response.status_code != 200:
            self.session.end()
            self.request.state.session_expired = True
            raise SignedOut
        self.store_tokens(response.json())

    def store_tokens(self, tokens: dict[str, Any]) -> None:
        """Keep a token answer of identity in the session."""
        self.session["at"] = tokens["access_token"]
        self.session["rt"] = tokens.get("refresh_token") or self.session.get("rt")
        self.session["exp"] = int(time.time()) + int(tokens.get("expires_in", 60))
        self.session["seen"] = int(time.time())

    # ---------------------------------------------------------------- calls
    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None, content: Any = None, idem: str | None = None,
                   headers: dict[str, str] | None = None, raw: bool = False) -> Any:
        """Call an API as this person; problem+json answers raise ApiError, a lost session SignedOut."""
        if self.view_as and method in UNSAFE:
            raise ReadOnly
        if method in UNSAFE:
            self.request.app.state.reference_cache.forget(self.session.get("uid"))
        sent = dict(headers or {})
        if idem:
            sent["Idempotency-Key"] = idem
        kwargs: dict[str, Any] = {"params": _clean(params), "headers": sent}
        if json is not None:
            kwargs["json"] = json
        if content is not None:
            kwargs["content"] = content
        response = await self._send(service, method, path, kwargs)
        if response.status_code == 401 and not self.view_as:
            await self.refresh()  # e.g. a signing key rotated or the token was revoked early
            response = await self._send(service, method, path, kwargs)
        if response.status_code == 401:
            if self.view_as:
                self.stop_view_as()
            else:
                self.session.end()
                self.request.state.session_expired = True
            raise SignedOut
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if raw:
            return response
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    async def _send(self, service: str, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        return await self.upstreams.request(service, method, path, token=await self.token(), language=self.lang,
                                            **kwargs)

    async def get(self, service: str, path: str, **params: Any) -> Any:
        """GET with query parameters (None values left out)."""
        return await self.call(service, "GET", path, params=params)

    async def reference(self, service: str, path: str, **params: Any) -> Any:
        """A reference list (the school's programmes, groups) for filters and choices: kept briefly per person.

        Keyed by the person, the school and what they view as, so one person's answer never serves another;
        any change the person makes drops their entries, so their own changes show at once.
        """
        key = (self.session.get("uid"), self.school_id, (self.view_as or {}).get("student_id"), service, path,
               tuple(sorted((k, str(v)) for k, v in params.items() if v is not None)))
        cache: ReferenceCache = self.request.app.state.reference_cache
        found = cache.get(key)
        if found is None:
            found = await self.get(service, path, **params)
            cache.put(key, found)
        return found

    def stop_view_as(self) -> None:
        """Leave the read-only view."""
        self.request.state.view_as = None
        self.request.state.view_as_dirty = True

    def form_key(self) -> str:
        """A fresh Idempotency-Key for a form, so a double submit creates one thing."""
        return secrets.token_urlsafe(16)


class ReferenceCache:
    """A small, short-lived, per-person cache of reference lists (bounded; oldest entries go first)."""

    def __init__(self, ttl_s: float = 30.0, max_entries: int = 5000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._items: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        """The value, or None when missing or older than the time to live."""
        found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return found[1]

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep a value."""
        self._items[key] = (time.monotonic() + self.ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def forget(self, person: Any) -> None:
        """Drop every entry of one person (after they changed something)."""
        for key in [k for k in self._items if k[0] == person]:
            del self._items[key]


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None and v != ""}


def pick_language(request: Request) -> str:
    """The page language: the switch's cookie, else the browser's preference, else Dutch."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("nl", "en"):
        return chosen
    header = request.headers.get("accept-language", "").lower()
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("nl"):
            return "nl"
        if tag.startswith("en"):
            return "en"
    return "nl"


async def _check(request: Request, *, person: bool, school: bool) -> Ctx:
    ctx = Ctx(request)
    if request.method in UNSAFE:
        sent = request.headers.get("x-csrf-token")
        if sent is None:
            form = await request.form()
            request.state.form = form  # kept for the page that hands the input back
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
        if person and not ctx.session.signed_in:
            raise SignedOut
        if not sent or not secrets.compare_digest(sent, str(ctx.session["csrf"])):
            raise CsrfRefused
    if person and not ctx.session.signed_in:
        raise SignedOut
    if school and not ctx.school_id:
        raise NoSchool
    return ctx


async def get_ctx(request: Request) -> Ctx:
    """Dependency: the request's context; unsafe methods must carry this session's CSRF token."""
    return await _check(request, person=False, school=False)


async def signed_in(request: Request) -> Ctx:
    """Dependency: a signed-in person."""
    return await _check(request, person=True, school=False)


async def in_school(request: Request) -> Ctx:
    """Dependency: a signed-in person who has chosen a school."""
    return await _check(request, person=True, school=True)


class NoSchool(Exception):
    """The person has not chosen a school yet."""


__all__ = [
    "ApiError",
    "CsrfRefused",
    "Ctx",
    "NoSchool",
    "ReadOnly",
    "SignedOut",
    "get_ctx",
    "in_school",
    "signed_in",
]
