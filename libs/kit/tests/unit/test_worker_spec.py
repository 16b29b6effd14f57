"""Handler factories get the worker's one Outbox when they ask for it."""

from typing import Any

from contracts.platform import ProbeSentV1
from kit.outbox import Outbox
from kit.worker import ConsumerSpec


async def handle(envelope: Any, data: Any, session: Any) -> None:
    """A handler that does nothing."""


def test_a_factory_taking_db_and_outbox_gets_the_workers_outbox() -> None:
    db: Any = {"outbox": object()}
    outbox = Outbox(db, "unit")
    seen: list[Any] = []

    def with_outbox(db: Any, outbox: Outbox) -> dict[Any, Any]:
        seen.append(outbox)
        return {ProbeSentV1: handle}

    def db_only(db: Any) -> dict[Any, Any]:
        seen.append(db)
        return {ProbeSentV1: handle}

    assert ConsumerSpec("g", ["t"], with_outbox).build(db, outbox) == {ProbeSentV1: handle}
    assert ConsumerSpec("g", ["t"], db_only).build(db, outbox) == {ProbeSentV1: handle}
    assert seen == [outbox, db]
