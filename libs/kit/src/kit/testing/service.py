"""Running a service app in-process for integration tests: lifespan, startup hooks, an HTTP client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def service_client(app: FastAPI, timeout_s: float = 30.0) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan, wait for its startup hooks (indexes, buckets), yield a client to it."""
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.started.wait(), timeout_s)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client
