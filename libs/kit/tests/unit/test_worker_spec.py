"""The worker's wiring: handler factories get the one Outbox; consumers get stable, distinct group instance ids."""

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


def test_live_consumers_of_one_group_get_distinct_instance_ids_and_a_restart_gets_its_own_back(
    tmp_path: Any, monkeypatch: Any
) -> None:
    from kit import membership

    monkeypatch.setattr(membership.tempfile, "gettempdir", lambda: str(tmp_path))
    first = membership.claim_instance("grp", "127.0.0.1:1")
    second = membership.claim_instance("grp", "127.0.0.1:1")
    other_group = membership.claim_instance("other", "127.0.0.1:1")
    assert first.instance_id != second.instance_id
    assert first.instance_id.endswith("-1-grp") and other_group.instance_id.endswith("-1-other")
    taken = first.instance_id
    first.release()  # the consumer stopped (a killed process releases its lock the same way)
    again = membership.claim_instance("grp", "127.0.0.1:1")
    assert again.instance_id == taken
    assert membership.claim_instance("grp", "127.0.0.1:1", configured="pod-7").instance_id == "pod-7-grp"
    for slot in (second, other_group, again):
        slot.release()
    assert list((tmp_path / "kit-consumer-slots").iterdir()) == []
