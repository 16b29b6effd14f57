"""Waiting for a whole suite: every service ready through its gateway."""

from __future__ import annotations

import time
from collections.abc import Iterable

import httpx


def wait_ready(gateway_url: str, services: Iterable[str], timeout_s: float = 90.0) -> None:
    """Poll each service's /readyz through the gateway until it answers 200; TimeoutError naming the laggard."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=gateway_url, timeout=5) as http:
        for name in services:
            while True:
                try:
                    if http.get(f"/{name}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready through the gateway after {timeout_s:.0f}s")
                time.sleep(0.3)
