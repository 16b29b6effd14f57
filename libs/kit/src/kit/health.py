"""Readiness checks of the dependencies a service needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaClient

from kit.mongo import Client

Check = Callable[[], Awaitable[None]]


def mongo_check(client: Client) -> Check:
    """Ready when the Mongo server answers a ping."""

    async def check() -> None:
        await client.admin.command("ping")

    return check


def kafka_check(bootstrap: str) -> Check:
    """Ready when a Kafka broker answers a metadata request."""

    async def check() -> None:
        kafka = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await kafka.bootstrap()
        finally:
            await kafka.close()

    return check


async def run_checks(checks: dict[str, Check], timeout_s: float) -> dict[str, str]:
    """Run every check concurrently; 'ok' or why it failed, per dependency."""

    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout_s)
        except TimeoutError:
            return "unreachable: timed out"
        except Exception as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(checks[n]) for n in names))
    return dict(zip(names, results, strict=True))
