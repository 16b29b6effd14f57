"""The whole suite on throwaway ports and data: every server, service api and worker, and the gateway."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kit.local import demo
from kit.local.servers import SERVICES, Running
from kit.local.stack import Stack
from kit.testing.fixtures import start
from kit.testing.readiness import wait_ready


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A running suite reachable through its gateway."""
    data = tmp_path_factory.mktemp("suite")
    stack = Stack.throwaway(data)
    running: list[Running] = []
    try:
        for server in stack.all():
            running.append(start(server, data / "logs"))
        wait_ready(stack.gateway_url, SERVICES, timeout_s=120)
        yield stack
    finally:
        for proc in reversed(running):
            proc.stop()


@pytest.fixture(scope="session")
def school(suite: Stack) -> dict[str, Any]:
    """The demo school, made once through the public APIs as `make up` makes it."""
    return demo.seed(suite)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """An e2e test's time limit covers the test alone: starting the suite and seeding are bounded on their own."""
    for item in items:
        if "e2e" not in item.path.parts:
            continue
        marker = item.get_closest_marker("timeout")
        seconds = marker.args[0] if marker and marker.args else item.config.getini("timeout")
        item.add_marker(pytest.mark.timeout(float(seconds), func_only=True), append=False)


@pytest.fixture
def gateway(suite: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the suite's gateway."""
    with httpx.Client(base_url=suite.gateway_url, timeout=10) as client:
        yield client


__all__ = ["Path"]
