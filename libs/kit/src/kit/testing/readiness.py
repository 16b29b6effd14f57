"""Waiting for a whole suite: every service ready through its gateway."""

from __future__ import annotations

import time
from collections.abc import Iterable

import httpx


def answers_as(response: httpx.Response, service: str) -> bool:
    """True when a /readyz answer says ready and comes from that service, not another one on its port."""
    return response.status_code == 200 and response.json().get("service") == service


def wait_ready(gateway_url: str, services: Iterable[str], timeout_s: float = 90.0) -> None:
    """Poll each service's /readyz through the gateway until it answers 200; TimeoutError naming the laggard."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=gateway_url, timeout=5) as http:
        for name in services:
            last: object = None
            while True:
                try:
                    if answers_as(last := http.get(f"/{name}/readyz"), name):
                        break
                except (httpx.HTTPError, ValueError) as exc:
                    last = exc
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready through the gateway after {timeout_s:.0f}s: {last!r}")
                time.sleep(0.3)
