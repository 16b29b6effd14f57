"""The audit trail for real: the exams worker's relay publishes the signatures to Kafka and its audit consumer
chains them."""

from __future__ import annotations

import asyncio
from typing import Any

from exams.app import ensure_indexes
from exams.settings import ExamsSettings
from exams.worker import consumers
from kit.worker import run_worker

School = Any


async def test_the_worker_chains_what_exams_publishes(school: School, settings: ExamsSettings) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop, consumers=consumers(settings), startup=[ensure_indexes]))
    try:
        await school.adopted()
        db, sid = school.world.db, school.school_id
        async with asyncio.timeout(60):
            while await db.audit.count_documents({"school_id": sid}) < 4:
                assert not worker.done(), worker
                await asyncio.sleep(0.2)
        body = (await school.world.http.get(f"/v1/schools/{sid}/audit/verify", headers=school.h("board"))).json()
        assert (body["valid"], body["records_checked"]) == (True, 4)
        types = [r["type"] for r in await db.audit.find({"school_id": sid}).sort("seq", 1).to_list()]
        assert types == ["exams.assignment_approved"] * 3 + ["exams.assignment_adopted"]
    finally:
        stop.set()
        await worker
