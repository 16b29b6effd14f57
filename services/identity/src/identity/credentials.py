"""Passwords: forgotten-password links, choosing a password with a link, changing one's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.identity import PasswordResetRequestedV1
from identity import repository as repo
from identity.models import (
    account_key,
    aware,
    new_secret,
    normalise_email,
    password_problem,
    secret_hash,
    set_password_link,
)
from identity.passwords import Passwords
from identity.problems import invalid, invalid_link
from identity.repository import Doc
from identity.settings import IdentitySettings
from kit.auth import Principal
from kit.clock import now
from kit.mongo import Db
from kit.outbox import Outbox

Session = AsyncClientSession
NO_ACCOUNT = "no-account@invalid.example"


async def request_password_reset(db: Db, session: Session, outbox: Outbox, *, email: str, address: str,
                                 settings: IdentitySettings) -> None:
    """Send a reset link when the account exists.

    Known and unknown addresses do the same work (a link record, the event or a write of its size, and an
    audit entry, in one transaction), so it costs as long either way; the route answers before it runs.
    """
    try:
        normalised: str | None = normalise_email(email)
    except ValueError:
        normalised = None
    user = await repo.user_by_email(db, normalised, session=session) if normalised else None
    owner = user if user is not None and user.get("active", True) else None
    token = new_secret()
    expires = now() + timedelta(minutes=settings.reset_ttl_minutes)
    # An unknown address gets a link record too, one that belongs to no one and expires unused.
    await repo.insert_one_time(db, session, {"_id": secret_hash(token), "kind": "reset",
                                             "user_id": owner["_id"] if owner else None,
                                             "expires_at": expires, "used_at": None})
    event = PasswordResetRequestedV1(
        user_id=owner["_id"] if owner else "usr_none", email=owner["email"] if owner else NO_ACCOUNT,
        display_name=owner["display_name"] if owner else "", language=owner.get("language", "nl") if owner else "nl",
        link=set_password_link(settings.public_url, "reset", token), expires_at=expires)
    if owner:
        await repo.stage(outbox, session, event, school_id=None)
    else:  # a write of the same size where the event would go, so both answers cost the same
        await repo.insert_decoy(db, session, event.model_dump(mode="json"), expires)
    await repo.audit(db, session, "password_reset_requested", actor=None, school_id=None,
                     target=owner["_id"] if owner else None, outcome="ok" if owner else "no_account",
                     address=address)


@dataclass(frozen=True)
class LinkUse:
    """A link checked and a new password hashed, ready to be applied in a transaction."""

    key: str
    kind: str
    school_id: str | None
    user: Doc
    password_hash: str


async def check_link(db: Db, *, token: str, password: str, passwords: Passwords) -> LinkUse:
    """Check an invitation or reset link and the chosen password; hashing happens before the transaction."""
    key = secret_hash(token)
    record = await repo.one_time(db, key)
    if record is None or record.get("used_at") is not None or aware(record["expires_at"]) <= now():
        raise invalid_link()
    user = await repo.user(db, record["user_id"]) if record.get("user_id") else None
    if user is None:
        raise invalid_link()
    reason = password_problem(password, email=user["email"])
    if reason:
        raise invalid("password", reason)
    return LinkUse(key=key, kind=record["kind"], school_id=record.get("school_id"), user=user,
                   password_hash=await passwords.hash(password))


async def set_password_with_link(db: Db, session: Session, *, link: LinkUse, address: str) -> None:
    """Use a checked link once to set the password; ends the person's other sessions."""
    if not await repo.use_one_time(db, session, link.key):
        raise invalid_link()
    user_id = link.user["_id"]
    await repo.update_user(db, session, user_id, {"password_hash": link.password_hash, "password_changed_at": now()})
    await repo.revoke_sessions_of(db, session, user_id)
    await repo.clear_throttle(db, account_key(link.user["email"]), session)
    await repo.audit(db, session, f"password_set_by_{link.kind}", actor=user_id, school_id=link.school_id,
                     address=address)


async def change_password(db: Db, *, principal: Principal, current: str, new: str, passwords: Passwords) -> None:
    """A logged-in person changes their own password."""
    user = await repo.user(db, principal.subject)
    if user is None or not await passwords.verify(user.get("password_hash"), current):
        raise invalid("current_password", "is not correct")
    reason = password_problem(new, email=user["email"])
    if reason:
        raise invalid("new_password", reason)
    password_hash = await passwords.hash(new)
    await repo.update_user(db, None, user["_id"], {"password_hash": password_hash, "password_changed_at": now()})
    await repo.audit(db, None, "password_changed", actor=user["_id"], school_id=None)
