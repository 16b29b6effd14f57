"""The API docs pages work without internet: every asset they load is served by the service itself."""

import re

import httpx
import pytest

from kit.app import create_service_app
from kit.settings import KitSettings


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = create_service_app(KitSettings(service="unit"), title="Unit", description="unit")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit")


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_local_assets_and_they_are_served(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    assert "http://" not in r.text and "https://" not in r.text and "//" not in r.text.replace("<!--", "")
    refs = references(r.text)
    assert any(ref.endswith(".js") for ref in refs)
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        if ref.endswith(".js"):
            assert "javascript" in asset.headers["content-type"] and len(asset.content) > 100_000
        if ref.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css")


async def test_the_served_swagger_ui_reads_the_openapi_version_the_app_writes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    bundle = (await client.get("/docs/assets/swagger-ui-bundle.js")).text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version is not None
    assert spec["openapi"].startswith("3.1") and int(version.group(1)) >= 5  # OpenAPI 3.1 needs Swagger UI 5


async def test_behind_the_gateway_the_assets_are_under_its_prefix(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs", headers={"X-Forwarded-Prefix": "/identity"})
    refs = references(r.text)
    assert refs and all(ref.startswith("/identity/") for ref in refs)
    assert "/identity/openapi.json" in refs
