"""Every operation's OpenAPI lists the problem+json answers kit gives, as a client generator or fuzzer reads it."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from kit.app import create_service_app
from kit.auth import Principal, require_roles
from kit.settings import KitSettings


class Group(BaseModel):
    name: str


router = APIRouter()


@router.post("/v1/schools/{school_id}/groups", status_code=201, responses={404: {"description": "No such school"}})
async def create_group(school_id: str, group: Group,
                       who: Annotated[Principal, Depends(require_roles("school_admin"))]) -> Group:
    return group


@router.get("/v1/catalog")
async def catalog() -> list[str]:
    return []


def document() -> dict:
    app = create_service_app(KitSettings(service="unit"), title="Unit", description="unit", routers=[router])
    return app.openapi()


def test_a_secured_command_lists_every_problem_it_can_answer_as_problem_json() -> None:
    responses = document()["paths"]["/v1/schools/{school_id}/groups"]["post"]["responses"]
    assert set(responses) == {"201", "400", "401", "403", "404", "413", "422", "429", "503"}
    assert responses["404"]["description"] == "No such school"  # the service's own words are kept
    for status in ("400", "401", "403", "404", "413", "422", "429", "503"):
        assert list(responses[status]["content"]) == ["application/problem+json"], status
        assert responses[status]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"}


def test_an_open_operation_without_input_lists_only_what_it_can_answer() -> None:
    doc = document()
    assert set(doc["paths"]["/v1/catalog"]["get"]["responses"]) == {"200", "429", "503"}
    assert set(doc["paths"]["/healthz"]["get"]["responses"]) == {"200"}
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
