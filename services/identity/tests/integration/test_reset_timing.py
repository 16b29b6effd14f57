"""Forgotten password: the answer does not tell by its timing whether an address has an account."""

import statistics
import time

from .conftest import Harness

TRIES = 25


async def test_known_and_unknown_addresses_take_the_same_time(identity: Harness) -> None:
    await identity.school_with_admin("anne@roc-midden.example")
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(TRIES + 2):
        # interleaved, and in turns which goes first, so that a slower moment of the machine hits both alike
        pair = [("known", "anne@roc-midden.example"), ("unknown", f"nobody{n}@roc-midden.example")]
        for kind, address in pair if n % 2 else reversed(pair):
            started = time.perf_counter()
            response = await identity.client.post("/v1/auth/password-reset", json={"email": address})
            elapsed = time.perf_counter() - started
            assert response.status_code == 202
            if n >= 2:  # the first rounds warm caches and connections
                timings[kind].append(elapsed)
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    print(f"reset_known_median_ms={known * 1000:.1f} reset_unknown_median_ms={unknown * 1000:.1f}")
    assert 0.8 <= known / unknown <= 1.25, (known, unknown)
    # and the known address did get its links (one per request), the unknown ones nothing
    assert len(await identity.staged("identity.password_reset_requested")) == TRIES + 2
