"""Every problem type kit raises has its own true title, and kit's own details come in both languages."""

import re
from pathlib import Path

import httpx
import pytest

import kit
from kit.app import create_service_app
from kit.errors import STATUS_SLUGS, TITLES, Problem, title_of
from kit.settings import KitSettings

KIT_SOURCE = Path(kit.__file__).parent
INTERNAL_TITLE = TITLES["internal"]


def slugs_raised_in_kit() -> set[str]:
    found: set[str] = set()
    for path in KIT_SOURCE.rglob("*.py"):
        found |= set(re.findall(r'Problem\(\s*\d{3},\s*"([a-z_]+)"', path.read_text()))
    return found


def test_kit_raises_slugs_that_all_have_a_title() -> None:
    slugs = slugs_raised_in_kit() | set(STATUS_SLUGS.values())
    assert {"unauthorized", "forbidden", "validation", "temporarily_unavailable"} <= slugs
    assert sorted(slugs - set(TITLES)) == []


@pytest.mark.parametrize("status", range(400, 500))
def test_no_status_below_500_is_titled_as_our_fault(status: int) -> None:
    assert title_of(Problem(status)) != INTERNAL_TITLE


@pytest.mark.parametrize(("status", "slug"), [(502, "bad_gateway"), (503, "dependency_unavailable"),
                                               (504, "gateway_timeout")])
def test_server_side_statuses_say_what_happened(status: int, slug: str) -> None:
    assert title_of(Problem(status)) == TITLES[slug] != INTERNAL_TITLE


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = create_service_app(KitSettings(service="unit", max_request_bytes=2048), title="Unit", description="unit")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit")


@pytest.mark.parametrize(("method", "path", "kwargs", "nl", "en"), [
    ("get", "/nowhere", {}, "Dit adres bestaat niet.", "This address does not exist."),
    ("delete", "/healthz", {}, "Deze methode is hier niet toegestaan.", "This method is not allowed here."),
    ("post", "/healthz", {"content": b"x" * 5000}, "Het verzoek mag hoogstens 2048 bytes zijn.",
     "The body may be at most 2048 bytes."),
])
async def test_kit_details_follow_the_callers_language(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict, nl: str, en: str
) -> None:
    dutch = await client.request(method.upper(), path, **kwargs)
    english = await client.request(method.upper(), path, headers={"Accept-Language": "en"}, **kwargs)
    assert (dutch.json()["detail"], english.json()["detail"]) == (nl, en)
    assert dutch.json()["title"] == TITLES[dutch.json()["type"].rsplit(":", 1)[1]][0]
