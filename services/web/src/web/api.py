"""Calls to the services' public APIs with the signed-in person's own token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from web.settings import WebSettings

SERVICES = ("identity", "enrollment", "exams", "evidence", "notifications")


@dataclass
class ApiError(Exception):
    """A refusal of an API as problem+json: what the page shows, next to the field it names."""

    status: int
    title: str = ""
    detail: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Read a problem+json answer (or anything else) into an ApiError."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        return cls(response.status_code, str(body.get("title") or ""), str(body.get("detail") or ""), errors, body)

    def message(self) -> str:
        """One readable sentence: the detail, else the title."""
        return self.detail or self.title

    def field_errors(self) -> dict[str, str]:
        """Field name (last part of the API's field path) -> reason."""
        out: dict[str, str] = {}
        for err in self.errors:
            path = str(err.get("field") or "").split("[")[0].removeprefix("body.")
            if path:
                out.setdefault(path.replace(".", "_"), str(err.get("reason") or ""))
                out.setdefault(path.split(".")[-1], str(err.get("reason") or ""))
        return out


class Upstreams:
    """One pooled HTTP client for every API, with the internal address of each service."""

    def __init__(self, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = {name: getattr(settings, f"{name}_url").rstrip("/") for name in SERVICES}
        self.http = httpx.AsyncClient(timeout=settings.api_timeout_s, transport=transport,
                                      limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))

    async def request(self, service: str, method: str, path: str, *, token: str | None = None,
                      language: str = "nl", headers: Mapping[str, str] | None = None, **kwargs: Any,
                      ) -> httpx.Response:
        """Send one request to a service; the caller decides what a status means."""
        sent = {"Accept-Language": language, **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return await self.http.request(method, self.base[service] + path, headers=sent, **kwargs)

    async def stream(self, service: str, path: str, *, token: str, language: str,
                     params: Mapping[str, Any] | None = None) -> tuple[httpx.Response, AsyncIterator[bytes]]:
        """Start a streamed GET (e.g. an export); the caller iterates and the response closes at the end."""
        request = self.http.build_request("GET", self.base[service] + path, params=params, headers={
            "Accept-Language": language, "Authorization": f"Bearer {token}"})
        response = await self.http.send(request, stream=True)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        return response, body()

    async def close(self) -> None:
        """Close the pooled connections."""
        await self.http.aclose()
