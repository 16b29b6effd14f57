"""Login latency through a real identity process, and kit.auth token verification throughput on one core.

Login: 300 sequential password logins (argon2id included) against the identity API on throwaway
stand-in servers, timed at the client. Verification: kit.auth's TokenVerifier checking 3,000 distinct
RS256 access tokens in one thread (one core), keys fetched from identity's JWKS endpoint.
Last line: login_p95_ms=<x> verify_per_s=<y>
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx

from kit.auth import Principal, Role, TokenVerifier, access_claims, generate_signing_key, public_jwk, sign
from kit.local import servers
from kit.local.servers import Running, Server
from kit.testing.bench import backbone, percentiles
from kit.testing.fixtures import start

LOGINS = 300
TOKENS = 3000
OPERATOR = ("operator@platform.example", "Bench-Operator-Wachtwoord-1")


def identity_process(base: Path, mongo_uri: str, kafka_bootstrap: str) -> tuple[Running, str]:
    """The identity API as it runs in production: uvicorn, its own process."""
    port = servers.free_port()
    env = {
        "MONGO_URI": mongo_uri,
        "MONGO_DB": "bench_identity",
        "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OPERATOR_EMAIL": OPERATOR[0],
        "OPERATOR_PASSWORD": OPERATOR[1],
        "SIGNING_KEYS_SECRET": os.urandom(16).hex(),
        "OTEL_TRACES_EXPORTER": "none",
        "LOG_LEVEL": "WARNING",
    }
    server = Server(
        "identity-api",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "identity.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        port,
        env=env,
    )
    return start(server, base), f"http://127.0.0.1:{port}"


async def measure_logins(url: str) -> list[float]:
    """Client-side latency of each login, in ms."""
    samples = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        async with asyncio.timeout(60):
            while (await client.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.2)
        for _ in range(20):  # warm-up
            (
                await client.post("/v1/auth/login", json={"email": OPERATOR[0], "password": OPERATOR[1]})
            ).raise_for_status()
        for _ in range(LOGINS):
            started = time.perf_counter()
            response = await client.post("/v1/auth/login", json={"email": OPERATOR[0], "password": OPERATOR[1]})
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return samples


async def measure_verification(url: str, base: Path) -> float:
    """Distinct tokens verified per second by kit.auth in one thread."""
    key = generate_signing_key()
    jwks_file = base / "jwks.json"
    async with httpx.AsyncClient() as client:
        published = (await client.get(f"{url}/.well-known/jwks.json")).json()
    published["keys"].append(public_jwk(key))
    import json

    jwks_file.write_text(json.dumps(published))
    verifier = TokenVerifier(str(jwks_file))
    tokens = [
        sign(access_claims(Principal(f"usr_{n}", "user", {"sch_1": frozenset({Role.STUDENT})}), ttl_s=900), key)
        for n in range(TOKENS)
    ]
    await verifier.verify(tokens[0])
    started = time.perf_counter()
    for token in tokens:
        await verifier.verify(token)
    return TOKENS / (time.perf_counter() - started)


async def main() -> None:
    """Start throwaway servers and identity, measure, print."""
    with backbone("bench-identity-") as backing:
        api, url = identity_process(backing.base, backing.mongo_uri, backing.kafka_bootstrap)
        try:
            logins = await measure_logins(url)
            per_second = await measure_verification(url, backing.base)
        finally:
            api.stop()
    p50, p95, p99 = percentiles(logins)
    print(
        f"logins: {LOGINS} sequential through uvicorn, argon2id m=19 MiB t=2 p=1: "
        f"p50={p50:.1f} ms p95={p95:.1f} ms p99={p99:.1f} ms max={max(logins):.1f} ms"
    )
    print(f"verification: {TOKENS} distinct RS256 tokens, one thread: {per_second:,.0f} per second")
    print(f"login_p95_ms={p95:.1f} verify_per_s={per_second:.0f}")


if __name__ == "__main__":
    asyncio.run(main())
