"""Kafka clients with the suite's guarantees, and topic provisioning."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kit.settings import KitSettings

log = logging.getLogger(__name__)


def create_producer(settings: KitSettings) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica (acks=all)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.service}-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        request_timeout_ms=10_000,
    )


async def ensure_topics(settings: KitSettings, topics: Iterable[str]) -> None:
    """Create the topics that do not exist yet (safe to call from every instance)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, settings.kafka_partitions, settings.kafka_replication)
            for name in sorted(set(topics) - existing)
        ]
        if not missing:
            return
        try:
            await admin.create_topics(missing)
        except TopicAlreadyExistsError:
            pass  # another instance created it in the meantime
        log.info("created topics", extra={"count": len(missing)})
    finally:
        await admin.close()
