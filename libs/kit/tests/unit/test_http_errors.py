"""problem+json errors, correlation ids and body limits, as a caller of any service sees them."""

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field
from pymongo.errors import ExecutionTimeout, NetworkTimeout, OperationFailure

from kit.app import create_service_app
from kit.errors import Problem, field_error
from kit.settings import KitSettings


class Person(BaseModel):
    name: str = Field(max_length=20)
    age: int


router = APIRouter()


@router.post("/v1/people", status_code=201)
async def create_person(person: Person) -> Person:
    return person


@router.get("/v1/conflict")
async def conflict() -> None:
    raise Problem(409, detail="Already adopted", errors=[field_error("status", "adopted")])


@router.get("/v1/boom")
async def boom() -> None:
    raise RuntimeError("secret internals: password=hunter2")


@router.get("/v1/db/{what}")
async def database_trouble(what: str) -> None:
    raise {"timeout": NetworkTimeout("timed out"), "slow": ExecutionTimeout("operation exceeded time limit", 50),
           "broken": OperationFailure("unknown operator: $foo", 2), "contended": _write_conflict()}[what]


def _write_conflict() -> OperationFailure:
    return OperationFailure("WriteConflict", 112, {"errorLabels": ["TransientTransactionError"]})


@pytest.fixture
def client() -> httpx.AsyncClient:
    settings = KitSettings(service="unit", max_request_bytes=2048)
    app = create_service_app(settings, title="Unit", description="unit", routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://unit")


async def test_validation_errors_name_each_field_in_dutch_by_default(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/people", json={"name": "x" * 30, "age": "old"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:mbo-exam:problem:validation"
    assert body["title"] == "De invoer is ongeldig"
    assert {(e["field"], e["reason"]) for e in body["errors"]} == {
        ("name", "Deze waarde is te lang"), ("age", "Dit moet een geheel getal zijn")}
    assert body["correlation_id"] == r.headers["x-correlation-id"]


async def test_english_is_available(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/people", json={"age": 3}, headers={"Accept-Language": "en-GB,en;q=0.9"})
    body = r.json()
    assert body["title"] == "The input is not valid"
    assert body["errors"] == [{"field": "name", "in": "body", "reason": "Field required", "code": "missing"}]


async def test_broken_json_and_wrong_body_types_are_422_not_500(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/people", content=b"{broken", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "json_invalid"
    r = await client.post("/v1/people", json=[1, 2])
    assert r.status_code == 422


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/nothing-here")
    assert (r.status_code, r.json()["type"]) == (404, "urn:mbo-exam:problem:not_found")
    r = await client.delete("/v1/people")
    assert (r.status_code, r.json()["type"]) == (405, "urn:mbo-exam:problem:method_not_allowed")


async def test_domain_problems_keep_their_status_and_details(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/conflict")
    assert r.status_code == 409
    assert r.json()["errors"] == [{"field": "status", "reason": "adopted"}]
    assert r.json()["detail"] == "Already adopted"


async def test_unexpected_errors_reveal_no_internals(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/boom", headers={"X-Correlation-ID": "req-42"})
    assert r.status_code == 500
    assert r.json()["correlation_id"] == "req-42"
    assert "hunter2" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text


@pytest.mark.parametrize("what", ["timeout", "slow"])
async def test_database_timeouts_are_503_with_retry_after(client: httpx.AsyncClient, what: str) -> None:
    r = await client.get(f"/v1/db/{what}", headers={"Accept-Language": "en"})
    assert (r.status_code, r.headers["retry-after"]) == (503, "5")
    assert r.json()["type"] == "urn:mbo-exam:problem:temporarily_unavailable"
    assert r.json()["title"] == "The service is temporarily unavailable"


async def test_a_transaction_that_kept_conflicting_is_503_saying_nothing_was_saved(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/db/contended")
    assert (r.status_code, r.headers["retry-after"]) == (503, "1")
    assert "niets is opgeslagen" in r.json()["detail"]


async def test_other_database_errors_stay_internal(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/db/broken")
    assert r.status_code == 500 and "retry-after" not in r.headers
    assert "$foo" not in r.text


async def test_hostile_correlation_ids_are_replaced(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Correlation-ID": "evil\r\nSet-Cookie: x" [:30]})
    assert r.headers["x-correlation-id"] != "evil"
    assert len(r.headers["x-correlation-id"]) == 32


async def test_declared_oversized_bodies_are_refused_before_reading(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/people", content=b"x" * 5000, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["max_bytes"] == 2048


async def test_undeclared_oversized_bodies_are_refused_while_streaming(client: httpx.AsyncClient) -> None:
    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    r = await client.post("/v1/people", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert "/v1/people" in r.json()["paths"]


async def test_the_app_builds_its_outbox_once_for_routes_to_use() -> None:
    from fastapi import FastAPI

    from kit.deps import ServiceOutbox
    from kit.outbox import Outbox

    seen: list[int] = []
    outbox_router = APIRouter()

    @outbox_router.get("/v1/outbox")
    async def outbox_topic(outbox: ServiceOutbox) -> dict[str, str]:
        seen.append(id(outbox))
        return {"topic": outbox.topic}

    settings = KitSettings(service="unit", mongo_uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100")
    app: FastAPI = create_service_app(settings, title="Unit", description="unit", routers=[outbox_router])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://unit") as client:
            for _ in range(2):
                r = await client.get("/v1/outbox")
                assert r.json() == {"topic": "unit.events"}
        assert isinstance(app.state.outbox, Outbox)
    assert len(seen) == 2 and seen[0] == seen[1] == id(app.state.outbox)
