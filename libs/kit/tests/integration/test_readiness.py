"""/readyz names the dependency that is down and recovers by itself when it returns."""

import asyncio
from pathlib import Path

import httpx

from kit.app import create_service_app
from kit.local import servers
from kit.settings import KitSettings
from kit.testing.fixtures import start


async def ready(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz")


async def wait_for_status(client: httpx.AsyncClient, status: int, timeout_s: float = 30) -> httpx.Response:
    async with asyncio.timeout(timeout_s):
        while (response := await ready(client)).status_code != status:
            await asyncio.sleep(0.2)
    return response


async def test_readiness_follows_mongo_and_kafka_going_down_and_coming_back(tmp_path: Path) -> None:
    mongo_port, kafka_port = servers.free_ports(2)
    mongo = start(servers.mongo(mongo_port, tmp_path / "mongo"), tmp_path)
    kafka = start(servers.kafka(kafka_port, tmp_path / "kafka"), tmp_path)
    settings = KitSettings(service="readiness", mongo_uri=servers.mongo_uri(mongo_port),
                           kafka_bootstrap=f"127.0.0.1:{kafka_port}", readiness_timeout_s=1.0)
    app = create_service_app(settings, title="R", description="r")
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://r"
        ) as client:
            ok = await wait_for_status(client, 200)
            assert ok.json() == {"status": "ready", "service": "readiness", "checks": {"mongo": "ok", "kafka": "ok"}}

            kafka.stop()
            down = await wait_for_status(client, 503)
            assert down.headers["content-type"] == "application/problem+json"
            assert down.json()["missing"] == ["kafka"]
            assert down.json()["checks"]["mongo"] == "ok"
            kafka = start(servers.kafka(kafka_port, tmp_path / "kafka"), tmp_path)
            await wait_for_status(client, 200)

            mongo.stop()
            down = await wait_for_status(client, 503)
            assert down.json()["missing"] == ["mongo"]
            assert "mongo" in down.json()["detail"]
            mongo = start(servers.mongo(mongo_port, tmp_path / "mongo"), tmp_path)
            await wait_for_status(client, 200)
    finally:
        kafka.stop()
        mongo.stop()
