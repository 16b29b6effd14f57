"""Logging in and staying in: password login with throttling, access tokens, rotating refresh tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from identity import repository as repo
from identity.keys import SigningKeys
from identity.models import account_key, aware, new_secret, secret_hash
from identity.passwords import Passwords
from identity.problems import (
    SESSION_ENDED,
    SESSION_EXPIRED,
    SESSION_REVOKED,
    account_locked,
    address_throttled,
    bad_credentials,
    invalid_refresh,
)
from identity.repository import Doc
from identity.settings import IdentitySettings
from kit.auth import Principal, Role, access_claims, sign
from kit.clock import now
from kit.ids import new_id
from kit.mongo import Db


async def access_token_for(db: Db, *, user: Doc, settings: IdentitySettings, keys: SigningKeys,
                           session_id: str | None = None) -> str:
    """A signed access token carrying the person's active roles per active school."""
    memberships = [m for m in await repo.memberships_of(db, user["_id"]) if m.get("active") and m["roles"]]
    active_schools = {s["_id"] for s in await repo.schools_by_id(db, [m["school_id"] for m in memberships])
                      if s.get("active", True)}
    principal = Principal(
        subject=user["_id"], kind="user", operator=bool(user.get("operator")),
        schools={m["school_id"]: frozenset(Role(r) for r in m["roles"])
                 for m in memberships if m["school_id"] in active_schools},
    )
    claims = access_claims(principal, ttl_s=settings.access_ttl_s, session_id=session_id)
    return sign(claims, await keys.signing_key())


async def issue_pair(db: Db, *, user: Doc, settings: IdentitySettings, keys: SigningKeys,
                     family_id: str | None = None) -> dict[str, Any]:
    """A new access token and a new refresh token of the (new or given) family."""
    refresh_secret = new_secret()
    family = family_id or new_id("fam")
    expires = now() + timedelta(days=settings.refresh_ttl_days)
    await repo.insert_refresh_token(db, {
        "_id": secret_hash(refresh_secret), "family_id": family, "user_id": user["_id"], "issued_at": now(),
        "expires_at": expires, "purge_at": expires + timedelta(days=7), "used_at": None, "revoked": False,
    })
    access = await access_token_for(db, user=user, settings=settings, keys=keys, session_id=family)
    return {"access_token": access, "token_type": "Bearer", "expires_in": settings.access_ttl_s,
            "refresh_token": refresh_secret, "refresh_expires_in": settings.refresh_ttl_days * 86400}


async def login(db: Db, *, email: str, password: str, address: str, settings: IdentitySettings,
                passwords: Passwords, keys: SigningKeys) -> dict[str, Any]:
    """Password login with throttling per account and per address; one answer for every failure.

    Each step is its own write: a failed attempt must be counted even though the request fails.
    """
    account = account_key(email)
    address_key = "addr:" + address
    counters = await _refuse_if_throttled(db, account, address_key, settings)
    user = await repo.user_by_email(db, email)
    valid = await passwords.verify(user.get("password_hash") if user else None, password)
    if valid and user is not None and user.get("active", True):
        if account in counters:
            await repo.clear_throttle(db, account)
        await repo.audit(db, None, "login_succeeded", actor=user["_id"], school_id=None, address=address)
        return await issue_pair(db, user=user, settings=settings, keys=keys)
    locked = await _count_failure(db, account, address_key, settings)
    await repo.audit(db, None, "login_failed", actor=user["_id"] if user else None, school_id=None,
                     outcome="failed", address=address, details={"locked": locked})
    if locked:
        await repo.audit(db, None, "account_locked", actor=None, school_id=None,
                         target=user["_id"] if user else None, address=address)
        raise account_locked(settings.lockout_minutes * 60)
    raise bad_credentials()


async def _refuse_if_throttled(db: Db, account_key: str, address_key: str,
                               settings: IdentitySettings) -> dict[str, Doc]:
    """Raise 429 when the account is locked or the address throttled; returns the open counters."""
    current = now()
    counters = await repo.throttle_counters(db, [account_key, address_key])
    account = counters.get(account_key)
    if account and account.get("locked_until") and aware(account["locked_until"]) > current:
        raise account_locked(int((aware(account["locked_until"]) - current).total_seconds()) + 1)
    address = counters.get(address_key)
    if (address and aware(address["expires_at"]) > current
            and address["failures"] >= settings.address_failures_per_window):
        raise address_throttled(int((aware(address["expires_at"]) - current).total_seconds()) + 1)
    return counters


async def _count_failure(db: Db, account_key: str, address_key: str, settings: IdentitySettings) -> bool:
    """Count a failed login; True when it locked the account."""
    account = await repo.count_failure(db, account_key, settings.lockout_minutes * 60)
    await repo.count_failure(db, address_key, settings.address_window_s)
    if account["failures"] >= settings.lockout_threshold:
        await repo.lock(db, account_key, now() + timedelta(minutes=settings.lockout_minutes))
        return True
    return False


async def refresh(db: Db, *, token: str, address: str, settings: IdentitySettings,
                  keys: SigningKeys) -> dict[str, Any]:
    """Rotate a refresh token; presenting a used one revokes its whole family (theft detected)."""
    key = secret_hash(token)
    record = await repo.refresh_token(db, key)
    if record is None or aware(record["expires_at"]) <= now():
        raise invalid_refresh(SESSION_EXPIRED)
    if record.get("revoked"):
        raise invalid_refresh(SESSION_ENDED)
    if await repo.claim_refresh_token(db, key) is None:
        await repo.revoke_family(db, record["family_id"])
        await repo.audit(db, None, "refresh_token_reuse", actor=record["user_id"], school_id=None, outcome="revoked",
                         address=address, details={"family_id": record["family_id"]})
        raise invalid_refresh(SESSION_REVOKED)
    user = await repo.user(db, record["user_id"])
    if user is None or not user.get("active", True):
        raise invalid_refresh(SESSION_EXPIRED)
    return await issue_pair(db, user=user, settings=settings, keys=keys, family_id=record["family_id"])


async def logout(db: Db, *, token: str) -> None:
    """End the session the refresh token belongs to (every token of its family)."""
    record = await repo.refresh_token(db, secret_hash(token))
    if record is not None:
        await repo.revoke_family(db, record["family_id"])
        await repo.audit(db, None, "logout", actor=record["user_id"], school_id=None)
