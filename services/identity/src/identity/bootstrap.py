"""The platform operator account, made from settings at first start (no default password in code)."""

from __future__ import annotations

import logging

from identity.models import normalise_email, password_problem
from identity.service import Identity, Session
from identity.settings import IdentitySettings
from kit.mongo import run_in_transaction

log = logging.getLogger(__name__)


def check_operator_settings(s: IdentitySettings) -> None:
    """Outside local mode, refuse to start without an operator account and a valid password."""
    if s.environment == "production" and (not s.operator_email or s.operator_password is None):
        raise RuntimeError("OPERATOR_EMAIL and OPERATOR_PASSWORD are required outside local mode")
    if s.operator_password is not None:
        reason = password_problem(s.operator_password.get_secret_value(), email=s.operator_email)
        if reason:
            raise RuntimeError(f"OPERATOR_PASSWORD {reason}")


async def ensure_operator(identity: Identity) -> None:
    """Create the operator account when it does not exist; an existing one keeps its password."""
    s = identity.settings
    if not s.operator_email or s.operator_password is None:
        log.warning("no operator account configured (local mode)")
        return
    email = normalise_email(s.operator_email)
    existing = await identity.repo.user_by_email(email)
    if existing is not None:
        if not existing.get("operator"):
            await identity.repo.users.update_one({"_id": existing["_id"]}, {"$set": {"operator": True}})
        return
    password_hash = await identity.passwords.hash(s.operator_password.get_secret_value())

    async def work(session: Session) -> None:
        user, _ = await identity.find_or_create_user(session, email=email, display_name="Platform operator",
                                                     language="nl", operator=True, password_hash=password_hash)
        await identity.audit(session, "operator_bootstrapped", actor=None, school_id=None, target=user["_id"])

    await run_in_transaction(identity.client, work)
