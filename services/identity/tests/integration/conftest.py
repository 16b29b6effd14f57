"""An identity app on the session's real servers, with helpers that act as operator, admin and people."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from identity.app import create_app
from identity.settings import IdentitySettings
from kit.settings import KitSettings
from kit.testing.outbox import staged_events
from kit.testing.service import service_client

OPERATOR_EMAIL = "operator@platform.example"
OPERATOR_PASSWORD = "Operator-Wachtwoord-2026"
PASSWORD = "Zonnebloem-Akker-47"


@dataclass
class Harness:
    """The identity API plus shortcuts for the steps most tests need."""

    client: httpx.AsyncClient
    db: Any
    settings: IdentitySettings
    handled: int = 0  # records of the test's enrollment topic already handed to the consumer

    async def login(self, email: str, password: str = PASSWORD, **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/auth/login", json={"email": email, "password": password}, **kw)

    async def token(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.login(email, password)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def operator(self) -> dict[str, str]:
        return await self.token(OPERATOR_EMAIL, OPERATOR_PASSWORD)

    async def staged(self, event_type: str) -> list[dict[str, Any]]:
        """Events of a type this app wrote to its outbox, oldest first."""
        return await staged_events(self.db, event_type)

    async def last_link_token(self, event_type: str, email: str) -> str:
        events = [e for e in await self.staged(event_type) if e["data"]["email"] == email]
        assert events, f"no {event_type} for {email}"
        return parse_qs(urlparse(events[-1]["data"]["link"]).query)["token"][0]

    async def school_with_admin(self, admin_email: str, name: str = "ROC Midden") -> str:
        """A school whose admin has chosen PASSWORD through the invitation link; returns the school id."""
        created = await self.client.post(
            "/v1/schools",
            headers=await self.operator(),
            json={"name": name, "brin": "25PZ", "admin_email": admin_email, "admin_name": "Anne Beheer"},
        )
        assert created.status_code == 201, created.text
        await self.accept_invitation(admin_email)
        return str(created.json()["school_id"])

    async def accept_invitation(self, email: str, password: str = PASSWORD) -> None:
        token = await self.last_link_token("identity.invitation_requested", email)
        response = await self.client.post("/v1/auth/set-password", json={"token": token, "password": password})
        assert response.status_code == 204, response.text

    async def add_member(
        self, school_id: str, admin: dict[str, str], email: str, roles: list[str], **extra: Any
    ) -> dict[str, Any]:
        """A member who has chosen PASSWORD through their invitation."""
        response = await self.client.post(
            f"/v1/schools/{school_id}/users",
            headers=admin,
            json={
                "email": email,
                "display_name": email.split("@")[0],
                "roles": roles,
                "send_invitation": True,
                **extra,
            },
        )
        assert response.status_code == 201, response.text
        if await self.staged("identity.invitation_requested"):
            events = [e for e in await self.staged("identity.invitation_requested") if e["data"]["email"] == email]
            if events:
                await self.accept_invitation(email)
        return dict(response.json())


def identity_settings(kit_settings: KitSettings, **overrides: Any) -> IdentitySettings:
    return IdentitySettings(
        **{
            **kit_settings.model_dump(exclude={"service"}),
            "mongo_db": kit_settings.database,
            "operator_email": OPERATOR_EMAIL,
            "operator_password": OPERATOR_PASSWORD,
            "signing_keys_secret": "test-signing-secret-0123456789",
            "key_publish_ahead_s": 0,
            "lockout_threshold": 5,
            **overrides,
        }
    )


@pytest.fixture
async def identity(kit_settings: KitSettings, mongo_client):
    settings = identity_settings(kit_settings)
    app = create_app(settings)
    async with service_client(app) as client:
        yield Harness(client, mongo_client[settings.database], settings)
