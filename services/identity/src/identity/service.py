"""Identity's use cases: schools, people and roles, login and tokens, one-time links, API clients."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.identity import (
    InvitationRequestedV1,
    MembershipGrantedV1,
    MembershipRevokedV1,
    PasswordResetRequestedV1,
    SchoolCreatedV1,
    UserCreatedV1,
    UserDeactivatedV1,
    UserReactivatedV1,
    UserUpdatedV1,
)
from identity.keys import SigningKeys
from identity.models import account_key, aware, new_id, new_secret, now, password_problem, secret_hash
from identity.passwords import Passwords
from identity.repository import Doc, Repository
from identity.settings import IdentitySettings
from kit.auth import Principal, Role, access_claims, sign
from kit.errors import Problem, field_error
from kit.mongo import Client, Db, is_duplicate_key, run_in_transaction
from kit.outbox import Outbox

log = logging.getLogger(__name__)

Session = AsyncClientSession


def bad_credentials() -> Problem:
    """The one answer to every failed login, whether or not the account exists."""
    return Problem(401, "invalid_credentials", detail="E-mailadres of wachtwoord is onjuist.")


@dataclass
class Identity:
    """The use cases, over one database and its outbox."""

    client: Client
    db: Db
    settings: IdentitySettings
    passwords: Passwords
    keys: SigningKeys

    def __post_init__(self) -> None:
        self.repo = Repository(self.db)
        self.outbox = Outbox(self.db, "identity")

    # ---------------------------------------------------------------- audit
    async def audit(self, session: Session | None, action: str, *, actor: str | None, school_id: str | None,
                    target: str | None = None, outcome: str = "ok", address: str | None = None,
                    details: dict[str, Any] | None = None) -> None:
        """Append a security-relevant action to the audit log (in the caller's transaction)."""
        await self.repo.audit.insert_one({
            "_id": new_id("aud"), "at": now(), "action": action, "actor": actor, "school_id": school_id,
            "target": target, "outcome": outcome, "address": address, "details": details or {},
        }, session=session)

    # ---------------------------------------------------------------- people
    async def find_or_create_user(self, session: Session, *, email: str, display_name: str, language: str,
                                  operator: bool = False, password_hash: str | None = None) -> tuple[Doc, bool]:
        """The account of an e-mail address, created when there is none; True when it was created."""
        existing = await self.repo.user_by_email(email, session=session)
        if existing is not None:
            return existing, False
        user: Doc = {"_id": new_id("usr"), "email": email, "display_name": display_name, "language": language,
                "operator": operator, "password_hash": password_hash, "active": True, "created_at": now()}
        await self.repo.users.insert_one(user, session=session)
        await self.outbox.stage(session, UserCreatedV1(user_id=user["_id"], email=email, display_name=display_name,
                                                       language=language), subject=user["_id"], school_id=None)
        return user, True

    async def add_membership(self, session: Session, *, school_id: str, user: Doc, roles: list[Role],
                             student_code: str | None = None, student_id: str | None = None) -> Doc:
        """Make a person a member of a school with roles; 409 when they already are."""
        membership = {
            "_id": f"{school_id}:{user['_id']}", "school_id": school_id, "user_id": user["_id"],
            "roles": sorted(r.value for r in roles), "active": True, "created_at": now(),
            "email": user["email"], "display_name": user["display_name"],
            "sort_key": user["display_name"].lower(), "search": f"{user['display_name']} {user['email']}".lower(),
        }
        if student_code is not None:
            membership["student_code"] = student_code
        if student_id is not None:
            membership["student_id"] = student_id
        try:
            await self.repo.memberships.insert_one(membership, session=session)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
            if "student_code" in str(exc):
                raise Problem(409, "conflict", detail="Deze studentcode bestaat al in deze school.",
                              errors=[field_error("student_code", "already used in this school")]) from exc
            raise Problem(409, "conflict", detail="Deze persoon is al lid van deze school.",
                          errors=[field_error("email", "already a member of this school")]) from exc
        for role in membership["roles"]:
            await self.stage_granted(session, membership, role)
        return membership

    async def stage_granted(self, session: Session, membership: Doc, role: str) -> None:
        """Publish that a member got a role (with every role they now hold)."""
        await self.outbox.stage(session, MembershipGrantedV1(
            user_id=membership["user_id"], school_id=membership["school_id"], role=role, roles=membership["roles"],
            student_code=membership.get("student_code"), student_id=membership.get("student_id"),
        ), subject=membership["user_id"], school_id=membership["school_id"])

    async def invite(self, session: Session, *, user: Doc, school: Doc) -> None:
        """Send a login code: a single-use link to choose a password, valid for invitation_ttl_hours."""
        token = new_secret()
        expires = now() + timedelta(hours=self.settings.invitation_ttl_hours)
        await self.repo.one_time.insert_one({"_id": secret_hash(token), "kind": "invitation", "user_id": user["_id"],
                                             "school_id": school["_id"], "expires_at": expires, "used_at": None},
                                            session=session)
        await self.outbox.stage(session, InvitationRequestedV1(
            user_id=user["_id"], school_id=school["_id"], school_name=school["name"], email=user["email"],
            display_name=user["display_name"], language=user.get("language", "nl"),
            link=self._link("invitation", token), expires_at=expires,
        ), subject=user["_id"], school_id=school["_id"])

    def _link(self, kind: str, token: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/identity/set-password?kind={kind}&token={quote(token)}"

    async def create_school(self, operator: Principal, *, name: str, brin: str | None, contact: dict[str, Any],
                            admin_email: str, admin_name: str, language: str, send_invitation: bool) -> Doc:
        """The operator creates a school and its first school admin."""

        async def work(session: Session) -> Doc:
            school: Doc = {"_id": new_id("sch"), "name": name, "brin": brin, "contact": contact, "terminology": {},
                      "retention": default_retention(), "active": True, "created_at": now()}
            await self.repo.schools.insert_one(school, session=session)
            await self.outbox.stage(session, SchoolCreatedV1(school_id=school["_id"], name=name, brin=brin),
                                    subject=school["_id"], school_id=school["_id"])
            user, _ = await self.find_or_create_user(session, email=admin_email, display_name=admin_name,
                                                     language=language)
            await self.add_membership(session, school_id=school["_id"], user=user, roles=[Role.SCHOOL_ADMIN])
            if send_invitation and not user.get("password_hash"):
                await self.invite(session, user=user, school=school)
            await self.audit(session, "school_created", actor=operator.subject, school_id=school["_id"],
                             target=user["_id"])
            return school

        return await run_in_transaction(self.client, work)

    # ---------------------------------------------------------------- tokens
    async def access_token_for(self, user: Doc, session_id: str | None = None) -> str:
        """A signed access token carrying the person's active roles per active school."""
        memberships = [m for m in await self.repo.memberships_of(user["_id"]) if m.get("active") and m["roles"]]
        active_schools = {s["_id"] for s in await self.repo.schools_by_id([m["school_id"] for m in memberships])
                          if s.get("active", True)}
        principal = Principal(
            subject=user["_id"], kind="user", operator=bool(user.get("operator")),
            schools={m["school_id"]: frozenset(Role(r) for r in m["roles"])
                     for m in memberships if m["school_id"] in active_schools},
        )
        claims = access_claims(principal, ttl_s=self.settings.access_ttl_s, session_id=session_id)
        return sign(claims, await self.keys.signing_key())

    async def issue_pair(self, user: Doc, family_id: str | None = None) -> dict[str, Any]:
        """A new access token and a new refresh token of the (new or given) family."""
        refresh = new_secret()
        family = family_id or new_id("fam")
        expires = now() + timedelta(days=self.settings.refresh_ttl_days)
        await self.repo.refresh_tokens.insert_one({
            "_id": secret_hash(refresh), "family_id": family, "user_id": user["_id"], "issued_at": now(),
            "expires_at": expires, "purge_at": expires + timedelta(days=7), "used_at": None, "revoked": False,
        })
        return {"access_token": await self.access_token_for(user, family), "token_type": "Bearer",
                "expires_in": self.settings.access_ttl_s, "refresh_token": refresh,
                "refresh_expires_in": self.settings.refresh_ttl_days * 86400}

    async def login(self, email: str, password: str, address: str) -> dict[str, Any]:
        """Password login with throttling per account and per address; one answer for every failure."""
        account = account_key(email)
        address_key = "addr:" + address
        counters = await self._refuse_if_throttled(account, address_key)
        user = await self.repo.user_by_email(email)
        valid = await self.passwords.verify(user.get("password_hash") if user else None, password)
        if valid and user is not None and user.get("active", True):
            if account in counters:
                await self.repo.throttle.delete_one({"_id": account})
            await self.audit(None, "login_succeeded", actor=user["_id"], school_id=None, address=address)
            return await self.issue_pair(user)
        locked = await self._count_failure(account, address_key)
        await self.audit(None, "login_failed", actor=user["_id"] if user else None, school_id=None,
                         outcome="failed", address=address, details={"locked": locked})
        if locked:
            await self.audit(None, "account_locked", actor=None, school_id=None,
                             target=user["_id"] if user else None, address=address)
            raise self._locked_problem(self.settings.lockout_minutes * 60)
        raise bad_credentials()

    def _locked_problem(self, retry_s: int) -> Problem:
        minutes = max(1, round(retry_s / 60))
        return Problem(429, "account_locked", headers={"Retry-After": str(retry_s)},
                       detail=f"Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw, stel je "
                              "wachtwoord opnieuw in of vraag de beheerder van je school om je te deblokkeren.")

    async def _refuse_if_throttled(self, account_key: str, address_key: str) -> dict[str, Doc]:
        """Raise 429 when the account is locked or the address throttled; returns the open counters."""
        current = now()
        counters = {d["_id"]: d for d in await self.repo.throttle.find(
            {"_id": {"$in": [account_key, address_key]}}).to_list()}
        account = counters.get(account_key)
        if account and account.get("locked_until") and aware(account["locked_until"]) > current:
            raise self._locked_problem(int((aware(account["locked_until"]) - current).total_seconds()) + 1)
        address = counters.get(address_key)
        if (address and aware(address["expires_at"]) > current
                and address["failures"] >= self.settings.address_failures_per_window):
            retry = int((aware(address["expires_at"]) - current).total_seconds()) + 1
            raise Problem(429, "too_many_requests", headers={"Retry-After": str(retry)},
                          detail="Te veel mislukte aanmeldpogingen vanaf dit adres. Probeer het later opnieuw.")
        return counters

    async def _count_failure(self, account_key: str, address_key: str) -> bool:
        """Count a failed login; True when it locked the account."""
        account = await self._increment(account_key, self.settings.lockout_minutes * 60)
        await self._increment(address_key, self.settings.address_window_s)
        if account["failures"] >= self.settings.lockout_threshold:
            until = now() + timedelta(minutes=self.settings.lockout_minutes)
            await self.repo.throttle.update_one({"_id": account_key},
                                                {"$set": {"locked_until": until, "expires_at": until}})
            return True
        return False

    async def _increment(self, key: str, window_s: int) -> Doc:
        current = now()
        doc = await self.repo.throttle.find_one_and_update(
            {"_id": key, "expires_at": {"$gt": current}}, {"$inc": {"failures": 1}}, return_document=True)
        if doc is None:  # no window open (or it expired): start one
            doc = {"_id": key, "failures": 1, "expires_at": current + timedelta(seconds=window_s)}
            await self.repo.throttle.replace_one({"_id": key}, doc, upsert=True)
        return doc

    async def refresh(self, token: str, address: str) -> dict[str, Any]:
        """Rotate a refresh token; presenting a used one revokes its whole family (theft detected)."""
        key = secret_hash(token)
        record = await self.repo.refresh_tokens.find_one({"_id": key})
        if record is None or aware(record["expires_at"]) <= now():
            raise Problem(401, "invalid_refresh_token", detail="Je sessie is verlopen. Meld je opnieuw aan.")
        if record.get("revoked"):
            raise Problem(401, "invalid_refresh_token", detail="Je sessie is beëindigd. Meld je opnieuw aan.")
        claimed = await self.repo.refresh_tokens.find_one_and_update(
            {"_id": key, "used_at": None, "revoked": False}, {"$set": {"used_at": now()}})
        if claimed is None:
            await self.repo.refresh_tokens.update_many({"family_id": record["family_id"]}, {"$set": {"revoked": True}})
            await self.audit(None, "refresh_token_reuse", actor=record["user_id"], school_id=None, outcome="revoked",
                             address=address, details={"family_id": record["family_id"]})
            raise Problem(401, "invalid_refresh_token",
                          detail="Deze sessie is om veiligheidsredenen beëindigd. Meld je opnieuw aan.")
        user = await self.repo.user(record["user_id"])
        if user is None or not user.get("active", True):
            raise Problem(401, "invalid_refresh_token", detail="Je sessie is verlopen. Meld je opnieuw aan.")
        return await self.issue_pair(user, record["family_id"])

    async def logout(self, token: str) -> None:
        """End the session the refresh token belongs to (every token of its family)."""
        record = await self.repo.refresh_tokens.find_one({"_id": secret_hash(token)})
        if record is not None:
            await self.repo.refresh_tokens.update_many({"family_id": record["family_id"]}, {"$set": {"revoked": True}})
            await self.audit(None, "logout", actor=record["user_id"], school_id=None)

    # ---------------------------------------------------------------- one-time links
    async def request_password_reset(self, email: str | None, address: str) -> None:
        """Send a reset link when the account exists; the caller answers the same either way."""
        user = await self.repo.user_by_email(email) if email else None
        if user is None or not user.get("active", True):
            return
        token = new_secret()
        expires = now() + timedelta(minutes=self.settings.reset_ttl_minutes)

        async def work(session: Session) -> None:
            await self.repo.one_time.insert_one({"_id": secret_hash(token), "kind": "reset", "user_id": user["_id"],
                                                 "expires_at": expires, "used_at": None}, session=session)
            await self.outbox.stage(session, PasswordResetRequestedV1(
                user_id=user["_id"], email=user["email"], display_name=user["display_name"],
                language=user.get("language", "nl"), link=self._link("reset", token), expires_at=expires,
            ), subject=user["_id"], school_id=None)
            await self.audit(session, "password_reset_requested", actor=None, school_id=None, target=user["_id"],
                             address=address)

        await run_in_transaction(self.client, work)

    async def set_password_with_link(self, token: str, password: str, address: str) -> None:
        """Use an invitation or reset link once to choose a password; ends the person's other sessions."""
        key = secret_hash(token)
        record = await self.repo.one_time.find_one({"_id": key})
        if record is None or record.get("used_at") is not None or aware(record["expires_at"]) <= now():
            raise Problem(400, "invalid_link", detail="Deze link is ongeldig, al gebruikt of verlopen.",
                          errors=[field_error("token", "invalid, used or expired")])
        user = await self.repo.user(record["user_id"])
        if user is None:
            raise Problem(400, "invalid_link", errors=[field_error("token", "invalid, used or expired")])
        reason = password_problem(password, email=user["email"])
        if reason:
            raise Problem(422, "validation", errors=[field_error("password", reason)])
        password_hash = await self.passwords.hash(password)

        async def work(session: Session) -> None:
            used = await self.repo.one_time.update_one({"_id": key, "used_at": None}, {"$set": {"used_at": now()}},
                                                       session=session)
            if used.modified_count != 1:
                raise Problem(400, "invalid_link", errors=[field_error("token", "invalid, used or expired")])
            await self.repo.users.update_one({"_id": user["_id"]},
                                             {"$set": {"password_hash": password_hash, "password_changed_at": now()}},
                                             session=session)
            await self.repo.refresh_tokens.update_many({"user_id": user["_id"]}, {"$set": {"revoked": True}},
                                                       session=session)
            await self.repo.throttle.delete_one({"_id": account_key(user["email"])}, session=session)
            await self.audit(session, f"password_set_by_{record['kind']}", actor=user["_id"],
                             school_id=record.get("school_id"), address=address)

        await run_in_transaction(self.client, work)

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """A logged-in person changes their own password."""
        user = await self.repo.user(principal.subject)
        if user is None or not await self.passwords.verify(user.get("password_hash"), current):
            raise Problem(422, "validation", errors=[field_error("current_password", "is not correct")])
        reason = password_problem(new, email=user["email"])
        if reason:
            raise Problem(422, "validation", errors=[field_error("new_password", reason)])
        password_hash = await self.passwords.hash(new)
        await self.repo.users.update_one({"_id": user["_id"]},
                                         {"$set": {"password_hash": password_hash, "password_changed_at": now()}})
        await self.audit(None, "password_changed", actor=user["_id"], school_id=None)

    # ---------------------------------------------------------------- school members
    async def member(self, school_id: str, user_id: str) -> Doc:
        """A member of the school, or 404 (people of other schools are not visible)."""
        membership = await self.repo.membership(school_id, user_id)
        if membership is None:
            raise Problem(404, "not_found", detail="Deze persoon is geen lid van deze school.")
        return membership

    async def update_user(self, session: Session, school_id: str | None, user_id: str, changes: dict[str, Any]) -> Doc:
        """Change a member's name, language or e-mail (e-mail only when they belong to this school alone)."""
        user = await self.repo.user(user_id, session=session)
        assert user is not None
        if "email" in changes and changes["email"] != user["email"]:
            memberships = await self.repo.memberships_of(user_id, session=session)
            others = [m for m in memberships if m["school_id"] != school_id]
            if others or user.get("operator"):
                raise Problem(409, "conflict", detail="Deze persoon gebruikt dit account ook elders.",
                              errors=[field_error("email", "the account is shared with another school")])
            if await self.repo.user_by_email(changes["email"], session=session):
                raise Problem(409, "conflict", errors=[field_error("email", "already used by another account")])
        user.update(changes)
        await self.repo.users.update_one({"_id": user_id}, {"$set": {**changes, "updated_at": now()}}, session=session)
        await self.repo.memberships.update_many({"user_id": user_id}, {"$set": {
            "email": user["email"], "display_name": user["display_name"], "sort_key": user["display_name"].lower(),
            "search": f"{user['display_name']} {user['email']}".lower()}}, session=session)
        await self.outbox.stage(session, UserUpdatedV1(
            user_id=user_id, email=user["email"], display_name=user["display_name"],
            language=user.get("language", "nl"), active=user.get("active", True)), subject=user_id,
            school_id=school_id or None)
        return user

    async def set_active(self, session: Session, actor: Principal, school_id: str, user_id: str, active: bool) -> Doc:
        """Deactivate (never delete) or reactivate a member of a school."""
        membership = await self.repo.update_membership(school_id, user_id, {"$set": {"active": active}}, session)
        assert membership is not None
        if not active and Role.SCHOOL_ADMIN.value in membership["roles"]:
            await self._keep_an_admin(session, school_id)
        event = (UserReactivatedV1 if active else UserDeactivatedV1)(user_id=user_id, school_id=school_id)
        await self.outbox.stage(session, event, subject=user_id, school_id=school_id)
        if not active:  # running sessions end: their tokens would otherwise still carry this school
            await self.repo.refresh_tokens.update_many({"user_id": user_id}, {"$set": {"revoked": True}},
                                                       session=session)
        await self.audit(session, "user_reactivated" if active else "user_deactivated", actor=actor.subject,
                         school_id=school_id, target=user_id)
        return membership

    async def grant_role(self, session: Session, actor: Principal, school_id: str, user_id: str, role: Role,
                         student_code: str | None) -> Doc:
        """Give a member another role (a student role needs a student code unique in the school)."""
        current = await self.member(school_id, user_id)
        if role.value in current["roles"]:
            return current
        update: dict[str, Any] = {"$addToSet": {"roles": role.value}}
        if role is Role.STUDENT:
            if not student_code:
                raise Problem(422, "validation", errors=[field_error("student_code", "required for role student")])
            update["$set"] = {"student_code": student_code}
        try:
            membership = await self.repo.update_membership(school_id, user_id, update, session)
        except Exception as exc:
            if is_duplicate_key(exc):
                raise Problem(409, "conflict", errors=[field_error("student_code", "already used in this school")]) \
                    from exc
            raise
        assert membership is not None
        membership["roles"] = sorted(membership["roles"])
        await self.stage_granted(session, membership, role.value)
        await self.audit(session, "role_granted", actor=actor.subject, school_id=school_id, target=user_id,
                         details={"role": role.value})
        return membership

    async def revoke_role(self, session: Session, actor: Principal, school_id: str, user_id: str, role: Role) -> Doc:
        """Take a role away; a school always keeps at least one active school admin."""
        membership = await self.repo.update_membership(school_id, user_id, {"$pull": {"roles": role.value}}, session)
        if membership is None:
            raise Problem(404, "not_found", detail="Deze persoon is geen lid van deze school.")
        if role is Role.SCHOOL_ADMIN:
            await self._keep_an_admin(session, school_id)
        await self.outbox.stage(session, MembershipRevokedV1(user_id=user_id, school_id=school_id, role=role.value,
                                                             roles=sorted(membership["roles"])),
                                subject=user_id, school_id=school_id)
        await self.audit(session, "role_revoked", actor=actor.subject, school_id=school_id, target=user_id,
                         details={"role": role.value})
        return membership

    async def _keep_an_admin(self, session: Session, school_id: str) -> None:
        remaining = await self.repo.memberships.count_documents(
            {"school_id": school_id, "roles": Role.SCHOOL_ADMIN.value, "active": True}, session=session)
        if remaining == 0:
            raise Problem(409, "conflict", detail="Een school houdt minstens één actieve beheerder.",
                          errors=[field_error("roles", "the last school admin cannot be removed")])


def default_retention() -> dict[str, int]:
    """Retention in years per record class (DOMAIN.md: 10 years by default, configurable per school)."""
    return {"personal_data": 10, "results": 10, "evidence": 10, "videos": 10, "audit": 10}
