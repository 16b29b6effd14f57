"""The identity service's HTTP API application."""

from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from identity import api, api_clients, api_members, api_schools
from identity import repository as repo
from identity.bootstrap import check_operator_settings, ensure_operator
from identity.keys import SigningKeys
from identity.passwords import Passwords
from identity.settings import IdentitySettings
from kit.app import create_service_app
from kit.auth import TokenVerifier


class OwnKeysVerifier(TokenVerifier):
    """Identity verifies its own tokens from its key store, without a round trip to itself."""

    def __init__(self, keys: SigningKeys) -> None:
        super().__init__("identity:signing_keys", min_refresh_interval_s=1.0)
        self.keys = keys

    async def _fetch(self) -> dict[str, Any]:
        return await self.keys.jwks()


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    """Build the identity API (uvicorn --factory identity.app:create_app)."""
    settings = settings or IdentitySettings()
    check_operator_settings(settings)
    passwords = Passwords(settings)

    async def wire(app: FastAPI) -> None:
        keys = SigningKeys(app.state.db, settings, timedelta(seconds=settings.key_publish_ahead_s))
        app.state.keys = keys
        app.state.passwords = passwords
        app.state.verifier = OwnKeysVerifier(keys)
        await repo.ensure_indexes(app.state.db)
        await keys.ensure()
        await ensure_operator(app.state.mongo, app.state.db, settings=settings, passwords=passwords)

    return create_service_app(
        settings,
        title="Identity",
        description="Schools (tenants), users, memberships and roles, login and tokens.",
        routers=[api.router, api_schools.router, api_members.router, api_clients.router],
        startup=[wire],
    )
