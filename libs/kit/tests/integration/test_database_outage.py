"""While the database is down, commands and reads answer 503 with Retry-After, and work again once it is back."""

from pathlib import Path

from pydantic import SecretStr

from kit.local import servers
from kit.settings import KitSettings
from kit.testing.fixtures import start
from kit.testing.probe import create_app
from kit.testing.service import service_client


async def test_a_stopped_database_is_a_503_that_says_try_again_later(
    kit_settings: KitSettings, tmp_path: Path
) -> None:
    port = servers.free_port()
    mongo = start(servers.mongo(port, tmp_path / "mongo"), tmp_path)
    settings = kit_settings.model_copy(update={"mongo_uri": SecretStr(servers.mongo_uri(port))})
    try:
        async with service_client(create_app(settings)) as client:
            assert (await client.post("/v1/probes", json={})).status_code == 201
            mongo.stop()
            for language, title in (("nl", "De dienst is tijdelijk niet beschikbaar"),
                                    ("en", "The service is temporarily unavailable")):
                r = await client.post("/v1/probes", json={}, headers={"Accept-Language": language})
                assert r.status_code == 503
                assert r.headers["retry-after"] == "5"
                assert r.headers["content-type"] == "application/problem+json"
                body = r.json()
                assert body["type"] == "urn:mbo-exam:problem:temporarily_unavailable"
                assert body["title"] == title
                assert ("database" in body["detail"]) and ("Mongo" not in body["detail"])
                assert body["correlation_id"] == r.headers["x-correlation-id"]
            mongo = start(servers.mongo(port, tmp_path / "mongo"), tmp_path)
            assert (await client.post("/v1/probes", json={})).status_code == 201  # no restart of the service
    finally:
        mongo.stop()
