"""After a crash: queued deliveries are sent when the worker comes back, and interrupted sends are retried."""

from __future__ import annotations

import uuid
from datetime import timedelta

from kit.mongo import create_client
from notifications import repository as repo
from notifications.service import delivery_record
from notifications.settings import NotificationsSettings


async def test_a_new_worker_sends_what_was_queued_and_what_a_dead_one_was_sending(
    settings: NotificationsSettings, start_worker, sink
) -> None:
    client = create_client(settings)
    db = client[settings.database]
    addresses = {state: f"{state}-{uuid.uuid4().hex[:6]}@example.nl" for state in ("queued", "sending")}
    for state, address in addresses.items():
        delivery_id, doc = delivery_record(
            settings, source_id=uuid.uuid4().hex, source_type="exams.result_available", school_id="s1",
            kind="result_available", to=address, name="Sam", language="nl", link="https://exam.example/x",
            params={"exam_name": "PvB"}, user_id=uuid.uuid4().hex)
        if state == "sending":  # claimed by a worker that died before it could finish
            doc.update(status="sending", lease_until=repo.now() - timedelta(seconds=1))
        await repo.add_deliveries(db, None, [(delivery_id, doc)])
    async with start_worker(settings):
        for address in addresses.values():
            [mail] = await sink.wait_for(address)
            assert mail["Subject"] == "Er is een resultaat beschikbaar: PvB"
    statuses = [d["status"] async for d in db.deliveries.find({})]
    assert statuses == ["sent", "sent"]
    await client.close()
