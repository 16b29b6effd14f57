"""The suite under load through its gateway: readers, logins and large uploads at once, with memory watched.

Starts the whole suite on throwaway ports and makes the demo school through the public APIs. Then, at the
same time, for LOAD_S seconds: 50 clients read the school's student list as its admin, 20 clients log in
(argon2id and all) as the demo accounts, and 10 clients publish 50 MB library files as the admin
(each at most UPLOADS_PER_CLIENT times, generated on the fly). The RSS of every api, worker and the gateway is
sampled each second; growth is the peak under load over the level after a warm-up. All traffic goes to
127.0.0.1; every loop is bounded in count and time. Any failed request makes the run exit non-zero.
The load comes from one address with one admin token, so the bench raises the gateway's rate limits for its
own gateway (the documented GATEWAY_* settings, unless the caller set them): the default limits would answer
429 to what is the load of a whole school here, and are tested as they are by tests/e2e.
Last line: read_rps=<a> read_p95_ms=<b> login_p95_ms=<c> upload_errors=<d> rss_growth_mb=<e>
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import RunningSuite, running_suite

from kit.local import demo
from kit.testing.bench import percentiles

LOAD_S = 60.0
READERS, LOGINS, UPLOADERS = 50, 20, 10
UPLOAD_BYTES = 50 * 1024 * 1024
UPLOADS_PER_CLIENT = 3
MAX_REQUESTS_PER_CLIENT = 20_000
BLOCK = bytes(range(256)) * 4096  # 1 MiB


class Tally:
    """Latencies and failures of one kind of request."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.errors: list[str] = []

    async def timed(self, request: Awaitable[httpx.Response]) -> None:
        """Await a request, recording its latency, or why it failed."""
        started = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError as exc:
            self.errors.append(type(exc).__name__)
            return
        if response.is_success:
            self.ms.append((time.perf_counter() - started) * 1000)
        else:
            self.errors.append(f"{response.status_code} {response.text[:120]}")


async def body() -> AsyncIterator[bytes]:
    """50 MB generated on the fly, never held whole."""
    for _ in range(UPLOAD_BYTES // len(BLOCK)):
        yield BLOCK


class RssWatch:
    """Samples the RSS of the watched processes once a second."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self.processes = processes
        self.baseline = {n: p.memory_info().rss for n, p in processes.items()}
        self.peak = dict(self.baseline)

    async def run(self, until: float) -> None:
        """Sample until the monotonic time `until`."""
        while time.monotonic() < until:
            for name, proc in self.processes.items():
                self.peak[name] = max(self.peak[name], proc.memory_info().rss)
            await asyncio.sleep(1.0)

    def growth_mb(self) -> dict[str, float]:
        """Per process, how far its peak rose above its baseline."""
        return {n: (self.peak[n] - self.baseline[n]) / 1e6 for n in self.processes}


async def load(suite: RunningSuite, school: dict[str, object]) -> None:
    """Run the three loads at once and print the figures."""
    sid, password = school["school_id"], str(school["password"])
    accounts = [str(a) for a in school["accounts"]]  # type: ignore[attr-defined]
    limits = httpx.Limits(max_connections=READERS + LOGINS + UPLOADERS + 10)
    async with httpx.AsyncClient(base_url=suite.stack.gateway_url, timeout=120, limits=limits) as http:

        async def login(email: str) -> httpx.Response:
            return await http.post("/identity/v1/auth/login", json={"email": email, "password": password})

        def bearer(response: httpx.Response) -> dict[str, str]:
            response.raise_for_status()
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        admin = bearer(await login("admin@demo-roc.example"))
        students_url = f"/enrollment/v1/schools/{sid}/students"
        upload_url = f"/evidence/v1/schools/{sid}/library"
        upload_headers = {**admin, "Content-Length": str(UPLOAD_BYTES),
                          "Content-Type": "application/octet-stream"}
        for _ in range(20):  # warm-up: every path once, so the baseline is a process that has served
            (await http.get(students_url, headers=admin)).raise_for_status()
        (await login(accounts[0])).raise_for_status()
        (await http.post(upload_url, params={"filename": "warm-up.bin", "roles": "student"}, content=body(),
                         headers=upload_headers)).raise_for_status()

        watch = RssWatch({**suite.service_processes(),
                          "gateway": psutil.Process(suite.processes["gateway"].proc.pid)})
        reads, logins, uploads = Tally(), Tally(), Tally()
        started = time.monotonic()
        until = started + LOAD_S

        async def reader() -> None:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= until:
                    return
                await reads.timed(http.get(students_url, headers=admin))

        async def logger_in(n: int) -> None:
            for i in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= until:
                    return
                await logins.timed(login(accounts[(n + i) % len(accounts)]))

        async def uploader(n: int) -> None:
            for i in range(UPLOADS_PER_CLIENT):
                if time.monotonic() >= until:
                    return
                params = {"filename": f"load-{n}-{i}.bin", "roles": "student"}
                await uploads.timed(http.post(upload_url, params=params, content=body(), headers=upload_headers))

        await asyncio.gather(watch.run(until + 5), *(reader() for _ in range(READERS)),
                             *(logger_in(n) for n in range(LOGINS)), *(uploader(n) for n in range(UPLOADERS)))
        elapsed = time.monotonic() - started
    growth = watch.growth_mb()
    for name, mb in sorted(growth.items(), key=lambda kv: -kv[1]):
        print(f"{name:24s} rss {watch.baseline[name] / 1e6:7.1f} MB -> peak {watch.peak[name] / 1e6:7.1f} MB "
              f"(+{mb:.1f})")
    for kind, tally in (("read", reads), ("login", logins), ("upload", uploads)):
        print(f"{kind:6s} ok={len(tally.ms)} errors={len(tally.errors)} {sorted(set(tally.errors))[:3]}")
    read_p95 = percentiles(reads.ms)[1] if len(reads.ms) > 1 else float("nan")
    login_p95 = percentiles(logins.ms)[1] if len(logins.ms) > 1 else float("nan")
    worst = max(growth.values())
    print(f"read_rps={len(reads.ms) / elapsed:.1f} read_p95_ms={read_p95:.1f} login_p95_ms={login_p95:.1f} "
          f"upload_errors={len(uploads.errors)} rss_growth_mb={worst:.1f}")
    if reads.errors or logins.errors or uploads.errors or not uploads.ms or worst > 100:
        sys.exit(1)


# One address and one token carry the load of many people here: limits far above what the bench can send.
BENCH_LIMITS = {"GATEWAY_SIGN_IN_PER_MINUTE": "60000", "GATEWAY_SIGN_IN_BURST": "5000",
                "GATEWAY_TOKEN_PER_SECOND": "5000", "GATEWAY_TOKEN_BURST": "5000"}


def main() -> None:
    """Start the suite with the bench's gateway limits, seed the demo school, run the load."""
    for name, value in BENCH_LIMITS.items():
        os.environ.setdefault(name, value)  # the gateway process inherits them
    with running_suite("bench-load-") as suite:
        school = demo.seed(suite.stack)
        asyncio.run(load(suite, school))


if __name__ == "__main__":
    main()
