"""The delivery loop: sends queued e-mails, retries transient SMTP failures with backoff, marks failures."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from kit.outbox import Db
from notifications import repository as repo
from notifications.mail import Rendered, SmtpFailure, build_message, send
from notifications.models import backoff_s, is_permanent_smtp_code
from notifications.repository import Doc
from notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)

LEASE_SWEEP_S = 10.0


class DeliveryLoop:
    """Takes due deliveries from the log and hands them to SMTP; several senders may run side by side."""

    def __init__(self, db: Db, settings: NotificationsSettings) -> None:
        self.db = db
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        """Send until stop is set (each sender task claims one delivery at a time)."""
        senders = [asyncio.create_task(self._sender(stop), name=f"sender-{i}")
                   for i in range(self.settings.delivery_concurrency)]
        sweeper = asyncio.create_task(self._sweep_leases(stop), name="lease-sweeper")
        await asyncio.gather(*senders, sweeper)

    async def _sender(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await repo.claim_delivery(self.db, self.settings.delivery_lease_s)
            except Exception as exc:
                # The database may be restarting; the queue is still there when it is back.
                log.warning("claiming a delivery failed", extra={"error": type(exc).__name__})
                claimed = None
            if claimed is None:
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.delivery_poll_s)
                except TimeoutError:
                    pass
                continue
            try:
                await self.deliver(claimed)
            except Exception as exc:
                # Left "sending": the lease sweeper puts it back in the queue after delivery_lease_s.
                log.warning("delivering failed unexpectedly", extra={"delivery_id": claimed.get("_id"),
                                                                     "error": type(exc).__name__})

    async def _sweep_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                released = await repo.release_expired_leases(self.db)
                if released:
                    log.warning("deliveries released after an interrupted send", extra={"count": released})
            except Exception as exc:
                log.warning("releasing leases failed", extra={"error": type(exc).__name__})
            try:
                await asyncio.wait_for(stop.wait(), LEASE_SWEEP_S)
            except TimeoutError:
                pass

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
