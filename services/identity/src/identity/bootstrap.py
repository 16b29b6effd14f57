"""The platform operator account, made from settings at first start (no default password in code)."""

from __future__ import annotations

import logging

from pymongo.asynchronous.client_session import AsyncClientSession

from identity import repository as repo
from identity.accounts import find_or_create_user
from identity.models import normalise_email, password_problem
from identity.passwords import Passwords
from identity.settings import IdentitySettings
from kit.mongo import Client, Db, run_in_transaction
from kit.outbox import Outbox

log = logging.getLogger(__name__)


def check_operator_settings(s: IdentitySettings) -> None:
    """Outside local mode, refuse to start without an operator account and a valid password."""
    if s.environment == "production" and (not s.operator_email or s.operator_password is None):
        raise RuntimeError("OPERATOR_EMAIL and OPERATOR_PASSWORD are required outside local mode")
    if s.operator_password is not None:
        reason = password_problem(s.operator_password.get_secret_value(), email=s.operator_email)
        if reason:
            raise RuntimeError(f"OPERATOR_PASSWORD {reason}")


async def ensure_operator(mongo: Client, db: Db, *, settings: IdentitySettings, passwords: Passwords) -> None:
    """Create the operator account when it does not exist; an existing one keeps its password.

    Startup is this command's caller, so it owns the transaction (as kit.commands.execute does for a request).
    """
    if not settings.operator_email or settings.operator_password is None:
        log.warning("no operator account configured (local mode)")
        return
    email = normalise_email(settings.operator_email)
    existing = await repo.user_by_email(db, email)
    if existing is not None:
        if not existing.get("operator"):
            await repo.update_user(db, None, existing["_id"], {"operator": True})
        return
    password_hash = await passwords.hash(settings.operator_password.get_secret_value())

    outbox = Outbox(db, settings.service)

    async def work(session: AsyncClientSession) -> None:
        user, _ = await find_or_create_user(db, session, outbox, email=email, display_name="Platform operator",
                                            language="nl", operator=True, password_hash=password_hash)
        await repo.audit(db, session, "operator_bootstrapped", actor=None, school_id=None, target=user["_id"])

    await run_in_transaction(mongo, work)
