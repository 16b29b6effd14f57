"""One trace from the HTTP request through the outbox publish to another process's handling."""

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from kit.local.servers import free_port
from kit.mongo import create_client
from kit.settings import KitSettings
from kit.testing.fixtures import KafkaServer, MongoServer
from kit.testing.probe import start_pipeline


class Collector:
    """A minimal OTLP/HTTP trace receiver: keeps (service, span name, trace id) of every span."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = ExportTraceServiceRequest()
                request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
                for resource_spans in request.resource_spans:
                    service = next(a.value.string_value for a in resource_spans.resource.attributes
                                   if a.key == "service.name")
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            collector.spans.append((service, span.name, span.trace_id.hex()))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()


async def test_request_publish_and_remote_handling_share_one_trace(
    mongo_server: MongoServer, kafka_server: KafkaServer, collector: Collector, tmp_path: Path
) -> None:
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_BSP_SCHEDULE_DELAY": "100"}
    pipeline = start_pipeline(mongo_server.uri, kafka_server.bootstrap, tmp_path, otel)
    client = create_client(KitSettings(mongo_uri=mongo_server.uri))
    try:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{pipeline.api_url}/v1/probes", json={"note": "trace me"})
        assert response.status_code == 201
        trace_id = response.json()["trace_id"]
        received = None
        async with asyncio.timeout(30):
            while received is None:
                received = await client[pipeline.receiver_db].received.find_one(
                    {"_id": response.json()["probe_id"]})
                await asyncio.sleep(0.1)
        assert received["trace_id"] == trace_id
        async with asyncio.timeout(15):
            while {s for s, _, t in collector.spans if t == trace_id} != {
                    "probe-api", "probe-worker", "probe-receiver"}:
                await asyncio.sleep(0.1)
        names = {(service, name) for service, name, t in collector.spans if t == trace_id}
        topic = f"{pipeline.source_db}.events"
        assert ("probe-worker", f"publish {topic}") in names
        assert ("probe-receiver", f"process {topic}") in names
        assert any(service == "probe-api" and "/v1/probes" in name for service, name in names)
    finally:
        pipeline.stop()
        await client.drop_database(pipeline.source_db)
        await client.drop_database(pipeline.receiver_db)
        await client.close()
