"""The delivery loop: sends queued e-mails, retries transient SMTP failures with backoff, marks failures."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from kit.mongo import Db
from kit.waiting import wait_any, wake_on_inserts
from notifications import repository as repo
from notifications.mail import Rendered, SmtpFailure, build_message, send
from notifications.models import backoff_s, is_permanent_smtp_code
from notifications.repository import Doc
from notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)

LEASE_SWEEP_S = 10.0


class DeliveryLoop:
    """Takes due deliveries from the log and hands them to SMTP, several at a time; scaled workers may run
    side by side (a claim is atomic). Wakes on each new delivery through a change stream; polling covers
    retries that come due and the time the stream is down."""

    def __init__(self, db: Db, settings: NotificationsSettings) -> None:
        self.db = db
        self.settings = settings
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until stop is set; lets the sends in flight finish."""
        helpers = [asyncio.create_task(self._watch_inserts(stop), name="delivery-watch"),
                   asyncio.create_task(self._sweep_leases(stop), name="lease-sweeper")]
        slots = asyncio.Semaphore(self.settings.delivery_concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                self._wake.clear()
                claimed = 0
                while not stop.is_set():
                    await slots.acquire()
                    doc = await self._claim()
                    if doc is None:
                        slots.release()
                        break
                    claimed += 1
                    task = asyncio.create_task(self._deliver_in_slot(doc, slots))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if not claimed:
                    await wait_any(stop, self._wake, self.settings.delivery_poll_s)
        finally:
            await asyncio.gather(*in_flight, return_exceptions=True)
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _claim(self) -> Doc | None:
        try:
            return await repo.claim_delivery(self.db, self.settings.delivery_lease_s)
        except Exception as exc:
            # The database may be restarting; the queue is still there when it is back.
            log.warning("claiming a delivery failed", extra={"error": type(exc).__name__})
            return None

    async def _deliver_in_slot(self, doc: Doc, slots: asyncio.Semaphore) -> None:
        try:
            await self.deliver(doc)
        except Exception as exc:
            # Left "sending": the lease sweeper puts it back in the queue after delivery_lease_s.
            log.warning("delivering failed unexpectedly", extra={"delivery_id": doc.get("_id"),
                                                                 "error": type(exc).__name__})
        finally:
            slots.release()

    async def _watch_inserts(self, stop: asyncio.Event) -> None:
        """Wake the sender on each new delivery (an upsert that inserts is an insert)."""
        await wake_on_inserts(self.db[repo.DELIVERIES], self._wake, stop, retry_s=self.settings.delivery_poll_s)

    async def _sweep_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                released = await repo.release_expired_leases(self.db)
                if released:
                    log.warning("deliveries released after an interrupted send", extra={"count": released})
                    self._wake.set()
            except Exception as exc:
                log.warning("releasing leases failed", extra={"error": type(exc).__name__})
            await wait_any(stop, asyncio.Event(), LEASE_SWEEP_S)

    async def deliver(self, doc: Doc) -> str:
        """Try one claimed delivery once; returns its new status (sent, queued or failed)."""
        attempts = int(doc.get("attempts", 0)) + 1
        message = build_message(self.settings, to=doc["to"], delivery_id=doc["_id"], language=doc["language"],
                                rendered=Rendered(doc["subject"], doc["text"], doc["html"]))
        started = time.monotonic()
        try:
            await send(self.settings, message)
        except SmtpFailure as exc:
            error = f"{exc} (attempt {attempts})"
            if is_permanent_smtp_code(exc.code) or attempts >= self.settings.delivery_max_attempts:
                await repo.delivery_failed(self.db, doc["_id"], attempts, error)
                log.warning("e-mail delivery failed", extra={"delivery_id": doc["_id"], "kind": doc["kind"],
                                                             "smtp_code": exc.code, "attempts": attempts})
                return "failed"
            delay = backoff_s(attempts, self.settings.delivery_backoff_s, self.settings.delivery_backoff_max_s)
            await repo.delivery_retry(self.db, doc["_id"], attempts, error, repo.now() + timedelta(seconds=delay))
            log.info("e-mail delivery will be retried", extra={"delivery_id": doc["_id"], "smtp_code": exc.code,
                                                               "attempts": attempts, "delay_s": delay})
            return "queued"
        await repo.delivery_sent(self.db, doc["_id"], attempts)
        log.info("e-mail sent", extra={"delivery_id": doc["_id"], "kind": doc["kind"],
                                       "ms": round((time.monotonic() - started) * 1000, 1)})
        return "sent"


