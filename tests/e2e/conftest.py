"""The whole suite on throwaway ports and data: every server, service api and worker, and the gateway."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kit.local.servers import SERVICES, Running
from kit.local.stack import Stack
from kit.testing.fixtures import start


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A running suite reachable through its gateway."""
    data = tmp_path_factory.mktemp("suite")
    stack = Stack.throwaway(data)
    running: list[Running] = []
    try:
        for server in stack.all():
            running.append(start(server, data / "logs"))
        with httpx.Client(base_url=stack.gateway_url, timeout=5) as client:
            for name in SERVICES:
                wait_ready(client, name)
        yield stack
    finally:
        for proc in reversed(running):
            proc.stop()


def wait_ready(client: httpx.Client, service: str, timeout_s: float = 60) -> None:
    """Poll a service's /readyz through the gateway until it answers 200."""
    import time

    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = client.get(f"/{service}/readyz")
            if last.status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise TimeoutError(f"{service} not ready through the gateway: {last!r}")


@pytest.fixture
def gateway(suite: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the suite's gateway."""
    with httpx.Client(base_url=suite.gateway_url, timeout=10) as client:
        yield client


__all__ = ["Path"]
