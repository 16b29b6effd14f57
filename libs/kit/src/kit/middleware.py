"""ASGI middleware shared by every service: correlation ids and request body limits."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import Problem, Text, problem_response, unavailable
from kit.logs import correlation_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class CorrelationIdMiddleware:
    """Takes X-Correlation-ID from the caller (or makes one), logs with it and echoes it back.

    It also turns any unhandled error into a bare 500 problem carrying that id, so that no stack
    trace or exception text ever reaches the caller; an unreachable database is a 503 with Retry-After.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-correlation-id", b"").decode("latin-1")
        cid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = correlation_id_var.set(cid)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append((b"x-correlation-id", cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            problem = unavailable(exc)
            if problem is None:
                log.error("unhandled error", exc_info=exc,
                          extra={"path": scope.get("path"), "method": scope.get("method")})
            else:
                log.warning("database unavailable", extra={"path": scope.get("path"), "error": type(exc).__name__})
            if not started:
                await problem_response(Request(scope, receive), problem or Problem(500, "internal"))(
                    scope, receive, send_with_id
                )
        finally:
            correlation_id_var.reset(token)


class _BodyTooLarge(Exception):
    pass


log = logging.getLogger(__name__)


class BodyLimitMiddleware:
    """Refuses bodies over max_bytes with 413: by Content-Length before reading, else while counting."""

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt or (lambda scope: False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may catch the error and answer 400 itself; a passed limit is a 413 whatever it says.
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(scope, receive, send)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(413, detail=Text(nl=f"Het verzoek mag hoogstens {self.max_bytes} bytes zijn.",
                                           en=f"The body may be at most {self.max_bytes} bytes."),
                          max_bytes=self.max_bytes)
        await problem_response(Request(scope, receive), problem)(scope, receive, send)
