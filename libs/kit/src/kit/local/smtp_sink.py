"""A local SMTP sink: keeps every received message as an .eml file and lists them over HTTP."""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class StoringHandler:
    """aiosmtpd handler that writes each message to <dir>/<time>-<id>.eml."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message with its envelope recipients; accept it."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        raw = envelope.original_content or b""
        rcpt = ", ".join(envelope.rcpt_tos)
        path.write_bytes(f"X-Sink-Rcpt-To: {rcpt}\r\nX-Sink-Mail-From: {envelope.mail_from}\r\n".encode()
                         + raw)
        return "250 Message accepted for delivery"


def summary(path: Path) -> dict[str, Any]:
    """The headers people look for, for one stored message."""
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return {"id": path.stem, "to": msg["X-Sink-Rcpt-To"], "from": msg["From"], "subject": msg["Subject"],
            "date": msg["Date"], "received": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()}


def web_app(directory: Path) -> Starlette:
    """GET /messages lists them (oldest first), GET /messages/{id} returns the raw .eml."""

    async def list_messages(request: Request) -> Response:
        def read_all() -> list[dict[str, Any]]:
            return [summary(p) for p in sorted(directory.glob("*.eml"))]

        return JSONResponse(await asyncio.to_thread(read_all))

    async def one_message(request: Request) -> Response:
        name = request.path_params["id"]
        path = directory / f"{name}.eml"
        if "/" in name or not path.exists():
            return JSONResponse({"title": "Not found"}, status_code=404)
        return Response(path.read_bytes(), media_type="message/rfc822")

    return Starlette(routes=[Route("/messages", list_messages), Route("/messages/{id}", one_message)])


async def serve(port: int, http_port: int, directory: Path) -> None:
    """Run the SMTP listener and the read API until cancelled."""
    handler = StoringHandler(directory)
    loop = asyncio.get_running_loop()
    smtp_server = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=60 * 1024 * 1024, enable_SMTPUTF8=True), "127.0.0.1", port
    )
    config = uvicorn.Config(web_app(directory), host="127.0.0.1", port=http_port, log_level="warning")
    try:
        await uvicorn.Server(config).serve()
    finally:
        smtp_server.close()


def main() -> None:
    """Command line: --port, --http-port, --dir."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".data/mail"))
    args = parser.parse_args()
    print(json.dumps({"smtp": args.port, "http": args.http_port, "dir": str(args.dir)}), flush=True)
    asyncio.run(serve(args.port, args.http_port, args.dir))


if __name__ == "__main__":
    main()
