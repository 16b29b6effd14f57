"""The enrollment API on the real stand-in servers, with identity's projections seeded through its handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope
from contracts.identity import MembershipGrantedV1, UserCreatedV1
from enrollment.app import create_app
from enrollment.handlers import handlers
from enrollment.settings import EnrollmentSettings
from kit.auth import Role
from kit.mongo import Client, Db, run_in_transaction
from kit.settings import KitSettings
from kit.testing.outbox import staged_events
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer

SCHOOL = "sch-a"
OTHER = "sch-b"


@dataclass
class Env:
    """A running enrollment API, its database and a way to make callers."""

    http: httpx.AsyncClient
    db: Db
    client: Client
    issuer: TestIssuer
    settings: EnrollmentSettings

    def as_(self, user: str, roles: list[Role], school: str = SCHOOL, **kw: Any) -> dict[str, str]:
        """Headers of a user holding roles in a school."""
        return self.issuer.headers(user, {school: roles}, **kw)

    @property
    def admin(self) -> dict[str, str]:
        return self.as_("u-admin", [Role.SCHOOL_ADMIN])

    async def user(self, user_id: str, email: str, roles: dict[str, list[str]] | None = None) -> None:
        """Let enrollment learn a user and their roles, as identity's events would tell it."""
        table = handlers(self.db)
        events: list[Any] = [UserCreatedV1(user_id=user_id, email=email, display_name=user_id)]
        for school, school_roles in (roles or {}).items():
            for role in school_roles:
                events.append(MembershipGrantedV1(user_id=user_id, school_id=school, role=role, roles=school_roles))
        for event in events:
            envelope = Envelope.wrap(event, producer="identity", subject=user_id, school_id=None)

            async def work(session: AsyncClientSession, event: Any = event, envelope: Envelope = envelope) -> None:
                await table[type(event)](envelope, event, session)

            await run_in_transaction(self.client, work)

    async def events(self, type_: str) -> list[dict[str, Any]]:
        """The data of the staged events of a type, in order."""
        return [e["data"] for e in await staged_events(self.db, type_)]

    async def programme(self, crebo: str = "25604", cohort: int = 2024, school: str = SCHOOL) -> str:
        """Publish a programme and enable it for the school; its id."""
        r = await self.http.post("/v1/programmes", json={"crebo": crebo, "name": f"Opleiding {crebo}", "level": 3,
                                                         "cohort": cohort},
                                 headers=self.issuer.headers("op", {}, operator=True))
        assert r.status_code == 201, r.text
        pid: str = r.json()["id"]
        r = await self.http.put(f"/v1/schools/{school}/programmes/{pid}", json={"enabled": True},
                                headers=self.as_("u-admin", [Role.SCHOOL_ADMIN], school))
        assert r.status_code == 200, r.text
        return pid


@pytest.fixture
async def env(kit_settings: KitSettings, mongo_client: Client, issuer: TestIssuer):
    base = kit_settings.model_dump(exclude={"auth_jwks_url"})
    settings = EnrollmentSettings(**base, auth_jwks_url=str(issuer.jwks_path), max_import_bytes=64 * 1024,
                                  import_lease_s=30)
    app = create_app(settings)
    async with service_client(app) as http:
        yield Env(http, mongo_client[settings.database], mongo_client, issuer, settings)
