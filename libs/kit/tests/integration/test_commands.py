"""Commands run in one transaction with their events, and an Idempotency-Key makes a repeat harmless."""

import asyncio
from datetime import UTC, datetime

import pytest
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.platform import ProbeSentV1
from kit.app import create_service_app
from kit.auth import Principal, current_principal
from kit.commands import execute
from kit.outbox import Outbox
from kit.settings import KitSettings
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer


class NoteIn(BaseModel):
    text: str = Field(max_length=50)


router = APIRouter()


@router.post("/v1/notes", status_code=201)
async def create_note(body: NoteIn, request: Request, who: Principal = Depends(current_principal)):
    db = request.app.state.db

    async def work(session: AsyncClientSession) -> dict:
        note_id = f"n{await db.notes.count_documents({}, session=session) + 1}"
        await db.notes.insert_one({"_id": note_id, "text": body.text}, session=session)
        await Outbox(db, "notes").stage(
            session, ProbeSentV1(probe_id=note_id, sent_at=datetime.now(UTC)), subject=note_id, school_id=None
        )
        if body.text == "explode":
            raise RuntimeError("refused after writing")
        return {"id": note_id, "text": body.text}

    return await execute(request, work, status_code=201)


@pytest.fixture
async def client(kit_settings: KitSettings, mongo_client, issuer: TestIssuer):
    settings = kit_settings.model_copy(update={"auth_jwks_url": str(issuer.jwks_path)})
    app = create_service_app(settings, title="Notes", description="n", routers=[router])
    async with service_client(app) as c:
        c.headers.update(issuer.headers("u1"))
        yield c, mongo_client[settings.database]


async def test_a_repeated_command_with_the_same_key_acts_once(client) -> None:
    c, db = client
    first = await c.post("/v1/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
    again = await c.post("/v1/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await db.notes.count_documents({}) == 1
    assert await db.outbox.count_documents({}) == 1


async def test_concurrent_repeats_act_once(client) -> None:
    c, db = client
    responses = await asyncio.gather(
        *(c.post("/v1/notes", json={"text": "race"}, headers={"Idempotency-Key": "k-2"}) for _ in range(4))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await db.notes.count_documents({}) == 1


async def test_the_same_key_with_another_body_is_refused(client) -> None:
    c, _ = client
    await c.post("/v1/notes", json={"text": "one"}, headers={"Idempotency-Key": "k-3"})
    r = await c.post("/v1/notes", json={"text": "two"}, headers={"Idempotency-Key": "k-3"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_failing_command_writes_neither_state_nor_events(client) -> None:
    c, db = client
    r = await c.post("/v1/notes", json={"text": "explode"})
    assert r.status_code == 500
    assert await db.notes.count_documents({}) == 0
    assert await db.outbox.count_documents({}) == 0


async def test_without_a_key_each_request_acts(client) -> None:
    c, db = client
    await c.post("/v1/notes", json={"text": "a"})
    await c.post("/v1/notes", json={"text": "a"})
    assert await db.notes.count_documents({}) == 2


async def test_hostile_keys_are_refused(client) -> None:
    c, _ = client
    r = await c.post("/v1/notes", json={"text": "a"}, headers={"Idempotency-Key": "x" * 300})
    assert r.status_code == 400
