"""A probe service built only from kit parts: an API command that stages an event, a handler that records it.

The events benchmark and the cross-process tests run it as real processes:
`uvicorn --factory kit.testing.probe:create_app` and `python -m kit.testing.probe worker|consumer`.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from opentelemetry import trace
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event, events_topic
from contracts.platform import ProbeSentV1
from kit.app import create_service_app
from kit.consumer import Handler
from kit.local.servers import Running, Server, free_port
from kit.mongo import Db, run_in_transaction
from kit.outbox import Outbox
from kit.settings import KitSettings
from kit.worker import ConsumerSpec
from kit.worker import main as worker_main

CONSUMER_GROUP = "probe-receiver"


class ProbeIn(BaseModel):
    """A probe to send."""

    note: str | None = Field(default=None, max_length=200)


class ProbeOut(BaseModel):
    """The probe as committed."""

    probe_id: str
    event_id: str
    trace_id: str | None


def create_app(settings: KitSettings | None = None) -> FastAPI:
    """The probe API: POST /v1/probes stages a ProbeSentV1 in the same transaction as its record."""
    settings = settings or KitSettings()
    router = APIRouter()

    @router.post("/v1/probes", status_code=201, response_model=ProbeOut)
    async def send_probe(body: ProbeIn, request: Request) -> ProbeOut:
        app = request.app
        outbox: Outbox = app.state.outbox
        probe_id = uuid.uuid4().hex
        envelope: Envelope | None = None

        async def work(session: AsyncClientSession) -> None:
            nonlocal envelope
            now = datetime.now(UTC)
            await app.state.db.probes.insert_one({"_id": probe_id, "sent_at": now}, session=session)
            event = ProbeSentV1(probe_id=probe_id, sent_at=now, note=body.note)
            envelope = await outbox.stage(session, event)  # subject: the probe id, the event's SUBJECT

        await run_in_transaction(app.state.mongo, work)
        assert envelope is not None
        ctx = trace.get_current_span().get_span_context()
        return ProbeOut(probe_id=probe_id, event_id=str(envelope.event_id),
                        trace_id=format(ctx.trace_id, "032x") if ctx.is_valid else None)

    return create_service_app(settings, title="Probe", description="Event backbone probe", routers=[router])


def probe_handlers(db: Db) -> dict[type[Event], Handler]:
    """The receiver's handler: record when the probe was handled, in the handler's transaction."""

    async def record_probe(envelope: Envelope, data: Any, session: AsyncClientSession) -> None:
        ctx = trace.get_current_span().get_span_context()
        await db.received.insert_one(
            {"_id": data.probe_id, "sent_at": data.sent_at, "handled_at": datetime.now(UTC),
             "event_id": str(envelope.event_id), "trace_id": format(ctx.trace_id, "032x")},
            session=session,
        )

    return {ProbeSentV1: record_probe}


def consumer_spec(source_service: str) -> ConsumerSpec:
    """The probe receiver: consumes the source service's topic."""
    return ConsumerSpec(group=CONSUMER_GROUP, topics=[events_topic(source_service)], handlers=probe_handlers)


def main() -> None:
    """`worker` relays the probe API's outbox; `consumer <source-service>` records received probes."""
    settings = KitSettings()
    if sys.argv[1] == "worker":
        worker_main(settings)
    else:
        worker_main(settings, consumers=[consumer_spec(sys.argv[2])])


if __name__ == "__main__":
    main()


@dataclass
class ProbePipeline:
    """Three real processes: the probe API, its worker (relay), and a receiver in another 'service'."""

    api_url: str
    source_db: str
    receiver_db: str
    processes: list[Running]

    def stop(self) -> None:
        """Stop every process (SIGTERM, so buffered spans are flushed)."""
        for proc in self.processes:
            proc.stop()


def start_pipeline(mongo_uri: str, kafka_bootstrap: str, log_dir: Path,
                   extra_env: dict[str, str] | None = None) -> ProbePipeline:
    """Start the probe API, its relay and a receiver as separate processes, and wait until they listen."""
    tag = uuid.uuid4().hex[:8]
    source, receiver = f"probe{tag}", f"receiver{tag}"
    base = {"MONGO_URI": mongo_uri, "KAFKA_BOOTSTRAP": kafka_bootstrap, "ENVIRONMENT": "test",
            "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    port = free_port()
    specs = [
        Server("probe-api", [sys.executable, "-m", "uvicorn", "--factory", "kit.testing.probe:create_app",
                             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"], port,
               env={**base, "SERVICE": source, "OTEL_SERVICE_NAME": "probe-api"}),
        Server("probe-worker", [sys.executable, "-m", "kit.testing.probe", "worker"], 0,
               env={**base, "SERVICE": source, "OTEL_SERVICE_NAME": "probe-worker"}),
        Server("probe-receiver", [sys.executable, "-m", "kit.testing.probe", "consumer", source], 0,
               env={**base, "SERVICE": receiver, "OTEL_SERVICE_NAME": "probe-receiver"}),
    ]
    running = [Running(spec, log_dir / f"{spec.name}.log") for spec in specs]
    try:
        running[0].wait_ready(30)
    except BaseException:
        for proc in running:
            proc.stop()
        raise
    return ProbePipeline(f"http://127.0.0.1:{port}", source, receiver, running)
