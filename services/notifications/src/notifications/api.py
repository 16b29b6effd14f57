"""HTTP routes: in-app notifications, messages, preferences and the delivery log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from kit.auth import Principal, Role, current_principal, require_roles
from kit.commands import execute
from kit.errors import Problem, field_error
from kit.mongo import Db
from notifications import repository as repo
from notifications.models import OPTIONAL_CATEGORIES, SECURITY, choose_language
from notifications.service import message_view, notification_view, post_message, reach
from notifications.settings import NotificationsSettings

router = APIRouter(prefix="/v1")

EVERY_ROLE = tuple(Role)
MESSAGING = (Role.STUDENT, Role.SCHOOL_SUPERVISOR)
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=24, description="next_cursor of the previous page")]


def person_in_school(*roles: Role) -> Callable[..., Any]:
    """A person (not an API client) holding one of the roles in the path's school."""
    in_school = require_roles(*roles)

    async def dependency(principal: Principal = Depends(in_school)) -> Principal:
        if principal.kind != "user":
            raise Problem(403, "forbidden", detail="Only people have notifications and messages.")
        return principal

    return dependency


ANY_MEMBER = person_in_school(*EVERY_ROLE)
MESSENGER = person_in_school(*MESSAGING)


async def a_person(principal: Principal = Depends(current_principal)) -> Principal:
    """Any signed-in person (not an API client)."""
    if principal.kind != "user":
        raise Problem(403, "forbidden", detail="Only people have preferences.")
    return principal


def private(principal: Principal) -> None:
    """Messages are private correspondence: not shown to someone viewing as the student."""
    if principal.read_only or principal.actor:
        raise Problem(403, "forbidden", detail="Messages are not shown when viewing as the student.")


def _db(request: Request) -> Db:
    db: Db = request.app.state.db
    return db


def _settings(request: Request) -> NotificationsSettings:
    settings: NotificationsSettings = request.app.state.settings
    return settings


def _cursor(cursor: str | None) -> Any:
    try:
        return repo.parse_cursor(cursor)
    except ValueError as exc:
        raise Problem(422, "validation", errors=[{**field_error("cursor", "not a cursor of this list"),
                                                  "in": "query"}]) from exc


async def reader_language(request: Request, user_id: str) -> str:
    """Accept-Language when given, else the person's chosen or account language."""
    header = request.headers.get("accept-language", "").lower().lstrip()
    if header.startswith(("en", "nl")):
        return header[:2]
    db = _db(request)
    prefs = await repo.preferences(db, user_id)
    person = await repo.person(db, user_id) or {}
    return choose_language(prefs.get("language"), person.get("language"))


# --- in-app notifications ------------------------------------------------------------------------

@router.get("/schools/{school_id}/notifications", tags=["notifications"], summary="My notifications, newest first")
async def list_notifications(
    request: Request, school_id: str, cursor: Cursor = None, limit: Limit = 20,
    unread_only: bool = False, principal: Principal = Depends(ANY_MEMBER),
) -> dict[str, Any]:
    query: dict[str, Any] = {"user_id": principal.subject, "school_id": school_id}
    if unread_only:
        query["read_at"] = None
    docs, next_cursor = await repo.page(_db(request), repo.NOTIFICATIONS, query, _cursor(cursor), limit)
    language = await reader_language(request, principal.subject)
    return {"items": [notification_view(d, language) for d in docs], "next_cursor": next_cursor,
            "unread_count": await repo.unread_notifications(_db(request), principal.subject, school_id)}


@router.get("/schools/{school_id}/notifications/unread-count", tags=["notifications"],
            summary="How many of my notifications are unread")
async def unread_notification_count(
    request: Request, school_id: str, principal: Principal = Depends(ANY_MEMBER),
) -> dict[str, int]:
    return {"unread_count": await repo.unread_notifications(_db(request), principal.subject, school_id)}


@router.post("/schools/{school_id}/notifications/{notification_id}/read", tags=["notifications"],
             summary="Mark one notification read")
async def read_notification(
    request: Request, school_id: str, notification_id: str,
    principal: Principal = Depends(ANY_MEMBER),
) -> Any:
    db = _db(request)
    found = await repo.notification(db, notification_id)
    if found is None or found["user_id"] != principal.subject or found["school_id"] != school_id:
        raise Problem(404, detail="No such notification of yours in this school.")

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        await repo.mark_notifications_read(db, session, {"_id": notification_id})
        return {"id": notification_id, "read": True}

    return await execute(request, work)


@router.post("/schools/{school_id}/notifications/read-all", tags=["notifications"],
             summary="Mark all my notifications in this school read")
async def read_all_notifications(
    request: Request, school_id: str, principal: Principal = Depends(ANY_MEMBER),
) -> Any:
    db = _db(request)

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        marked = await repo.mark_notifications_read(db, session, {"user_id": principal.subject,
                                                                  "school_id": school_id})
        return {"marked": marked, "unread_count": 0}

    return await execute(request, work)


# --- messages ------------------------------------------------------------------------------------

class MessageIn(BaseModel):
    """A new message, or a reply in a thread (recipients then default to the thread's other people)."""

    model_config = ConfigDict(extra="forbid")

    recipient_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                   max_length=50)
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    thread_id: str | None = Field(default=None, min_length=1, max_length=64)
    attachment_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                    max_length=10)

    @field_validator("subject", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


@router.post("/schools/{school_id}/messages", tags=["messages"], status_code=201,
             summary="Send a message to one or more of my linked students or supervisors")
async def send_message(
    request: Request, school_id: str, body: MessageIn, principal: Principal = Depends(MESSENGER),
) -> Any:
    private(principal)
    db = _db(request)
    recipients = list(dict.fromkeys(body.recipient_ids))
    if body.thread_id is not None:
        found = await repo.thread(db, body.thread_id, school_id)
        if found is None or principal.subject not in found.get("participants", []):
            raise Problem(404, detail="No such conversation of yours in this school.",
                          errors=[field_error("thread_id", "unknown conversation")])
        if not recipients:
            recipients = [p for p in found["participants"] if p != principal.subject]
    if not recipients:
        raise Problem(422, "validation", errors=[field_error("recipient_ids", "at least one recipient is needed")])
    allowed = await reach(db, principal.subject, school_id, principal.roles_in(school_id))
    outside = [r for r in recipients if r not in allowed]
    if outside:
        raise Problem(403, "forbidden", detail="You can only write to your linked students or supervisors.",
                      errors=[field_error(f"recipient_ids[{body.recipient_ids.index(r)}]" if r in body.recipient_ids
                                          else "thread_id", f"{r} is outside your reach") for r in outside],
                      recipients_outside_reach=outside)
    files = await repo.attachments(db, body.attachment_ids) if body.attachment_ids else {}
    bad = [i for i, fid in enumerate(body.attachment_ids)
           if fid not in files or files[fid].get("school_id") != school_id
           or files[fid].get("uploaded_by") != principal.subject or files[fid].get("withdrawn")]
    if bad:
        raise Problem(422, "validation", errors=[field_error(
            f"attachment_ids[{i}]", "not a message attachment you uploaded in this school") for i in bad])
    ordered = [files[fid] for fid in dict.fromkeys(body.attachment_ids)]

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await post_message(db, session, _settings(request), school_id=school_id, sender_id=principal.subject,
                                  recipients=recipients, subject=body.subject, body=body.body,
                                  thread_id=body.thread_id, files=ordered)

    return await execute(request, work, status_code=201)


@router.get("/schools/{school_id}/messages", tags=["messages"], summary="My inbox or sent messages, newest first")
async def list_messages(
    request: Request, school_id: str, box: Literal["inbox", "sent"] = "inbox", cursor: Cursor = None,
    limit: Limit = 20, principal: Principal = Depends(MESSENGER),
) -> dict[str, Any]:
    private(principal)
    db = _db(request)
    entries, next_cursor = await repo.page(db, repo.MAILBOX, {"user_id": principal.subject, "school_id": school_id,
                                                              "box": box}, _cursor(cursor), limit)
    found = await repo.messages(db, [e["message_id"] for e in entries])
    return {"items": [message_view(found[e["message_id"]], box=box, read_at=e.get("read_at"))
                      for e in entries if e["message_id"] in found], "next_cursor": next_cursor}


@router.get("/schools/{school_id}/messages/unread-count", tags=["messages"],
            summary="New (unread) and total messages in my inbox")
async def message_counts(
    request: Request, school_id: str, principal: Principal = Depends(MESSENGER),
) -> dict[str, int]:
    private(principal)
    query = {"user_id": principal.subject, "school_id": school_id, "box": "inbox"}
    return {"unread_count": await repo.count_mailbox(_db(request), {**query, "read_at": None}),
            "total": await repo.count_mailbox(_db(request), query)}


@router.get("/schools/{school_id}/messages/recipients", tags=["messages"], summary="Whom I may write to")
async def possible_recipients(
    request: Request, school_id: str, principal: Principal = Depends(MESSENGER),
) -> dict[str, Any]:
    private(principal)
    db = _db(request)
    allowed = sorted(await reach(db, principal.subject, school_id, principal.roles_in(school_id)))
    people = await repo.people(db, allowed)
    return {"items": [{"user_id": uid, "display_name": people[uid].get("display_name")} for uid in allowed
                      if uid in people]}


@router.post("/schools/{school_id}/messages/{message_id}/read", tags=["messages"], summary="Mark a message read")
async def read_message(
    request: Request, school_id: str, message_id: str, principal: Principal = Depends(MESSENGER),
) -> Any:
    private(principal)
    db = _db(request)
    entries = [e for e in await repo.mailbox_entry(db, principal.subject, message_id) if e["school_id"] == school_id]
    if not entries:
        raise Problem(404, detail="No such message of yours in this school.")

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        await repo.mark_mailbox_read(db, session, {"user_id": principal.subject, "message_id": message_id})
        return {"id": message_id, "read": True}

    return await execute(request, work)


@router.get("/schools/{school_id}/threads", tags=["messages"],
            summary="My conversations, most recently active first, with their unread counts")
async def list_threads(
    request: Request, school_id: str, cursor: Cursor = None, limit: Limit = 20,
    principal: Principal = Depends(MESSENGER),
) -> dict[str, Any]:
    private(principal)
    db = _db(request)
    docs, next_cursor = await repo.threads(db, principal.subject, school_id, _cursor(cursor), limit)
    unread = await repo.unread_per_thread(db, principal.subject, [d["_id"] for d in docs])
    return {"items": [{"id": d["_id"], "subject": d["subject"], "participants": d["participants"],
                       "last_message_at": d["last_message_at"], "unread_count": unread.get(d["_id"], 0)}
                      for d in docs], "next_cursor": next_cursor}


@router.get("/schools/{school_id}/threads/{thread_id}", tags=["messages"], summary="One conversation, oldest first")
async def get_thread(
    request: Request, school_id: str, thread_id: str, principal: Principal = Depends(MESSENGER),
) -> dict[str, Any]:
    private(principal)
    db = _db(request)
    found = await repo.thread(db, thread_id, school_id)
    entries = await repo.mailbox_of_thread(db, principal.subject, thread_id) if found else []
    if not entries:
        raise Problem(404, detail="No such conversation of yours in this school.")
    by_message: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: e["oid"]):
        # A message to oneself is not possible, so an entry is either inbox or sent.
        by_message.setdefault(entry["message_id"], entry)
    found_messages = await repo.messages(db, list(by_message))
    return {"id": thread_id, "subject": found["subject"] if found else "", "participants": found["participants"]
            if found else [], "messages": [message_view(found_messages[mid], box=e["box"], read_at=e.get("read_at"))
                                           for mid, e in by_message.items() if mid in found_messages]}


@router.post("/schools/{school_id}/threads/{thread_id}/read", tags=["messages"],
             summary="Mark every message of a conversation read")
async def read_thread(
    request: Request, school_id: str, thread_id: str, principal: Principal = Depends(MESSENGER),
) -> Any:
    private(principal)
    db = _db(request)
    found = await repo.thread(db, thread_id, school_id)
    if found is None or principal.subject not in found.get("participants", []):
        raise Problem(404, detail="No such conversation of yours in this school.")

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        marked = await repo.mark_mailbox_read(db, session, {"user_id": principal.subject, "thread_id": thread_id})
        return {"id": thread_id, "marked": marked}

    return await execute(request, work)


# --- preferences ---------------------------------------------------------------------------------

class EmailChoices(BaseModel):
    """Which non-essential e-mails to receive (security e-mails always go)."""

    model_config = ConfigDict(extra="forbid")

    assignments: bool = True
    scheduling: bool = True
    results: bool = True
    exam_board: bool = True
    messages: bool = True


class PreferencesIn(BaseModel):
    """A person's preferences; language None follows the account's language."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["nl", "en"] | None = None
    email: EmailChoices = Field(default_factory=EmailChoices)


async def _preferences_view(db: Db, user_id: str) -> dict[str, Any]:
    prefs = await repo.preferences(db, user_id)
    person = await repo.person(db, user_id) or {}
    opted_out = set(prefs.get("email_opt_out", []))
    return {"language": prefs.get("language"),
            "effective_language": choose_language(prefs.get("language"), person.get("language")),
            "email": {SECURITY: True, **{c: c not in opted_out for c in OPTIONAL_CATEGORIES}}}


@router.get("/me/preferences", tags=["preferences"], summary="My language and e-mail choices")
async def get_preferences(request: Request, principal: Principal = Depends(a_person)) -> dict[str, Any]:
    return await _preferences_view(_db(request), principal.subject)


@router.put("/me/preferences", tags=["preferences"], summary="Set my language and e-mail choices")
async def put_preferences(request: Request, body: PreferencesIn, principal: Principal = Depends(a_person)) -> Any:
    db = _db(request)
    choices = body.email.model_dump()
    opted_out = [c for c in OPTIONAL_CATEGORIES if not choices[c]]

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        await repo.save_preferences(db, session, principal.subject,
                                    {"language": body.language, "email_opt_out": opted_out})
        return {"language": body.language, "email": {SECURITY: True, **choices}}

    return await execute(request, work)


# --- delivery log --------------------------------------------------------------------------------

@router.get("/schools/{school_id}/deliveries", tags=["delivery log"],
            summary="The e-mails sent for this school: to whom (masked), when, status")
async def list_deliveries(
    request: Request, school_id: str, cursor: Cursor = None, limit: Limit = 50,
    status: Literal["queued", "sending", "sent", "failed", "skipped"] | None = None,
    principal: Principal = Depends(require_roles(Role.SCHOOL_ADMIN)),
) -> dict[str, Any]:
    query: dict[str, Any] = {"school_id": school_id}
    if status is not None:
        query["status"] = status
    docs, next_cursor = await repo.page(_db(request), repo.DELIVERIES, query, _cursor(cursor), limit)
    return {"items": [{"id": d["_id"], "kind": d["kind"], "category": d["category"], "user_id": d.get("user_id"),
                       "to": d["to_masked"], "language": d.get("language"), "status": d["status"],
                       "attempts": d.get("attempts", 0), "last_error": d.get("last_error"),
                       "created_at": d["created_at"], "sent_at": d.get("sent_at"),
                       "source_type": d.get("source_type")} for d in docs],
            "next_cursor": next_cursor}
