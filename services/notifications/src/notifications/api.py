"""HTTP routes: in-app notifications, preferences and the delivery log (messages: api_messages.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.client_session import AsyncClientSession

from kit.commands import execute
from kit.deps import Database
from notifications import repository as repo
from notifications import service
from notifications.deps import AnyMember, Cursor, Limit, Person, SchoolAdmin
from notifications.service import notification_view

router = APIRouter(prefix="/v1")

AcceptLanguage = Annotated[str | None, Header(description="nl or en; else the person's chosen language")]


class NotificationOut(BaseModel):
    """An in-app notification, its title in the reader's language."""

    id: str
    kind: str
    title: str
    params: dict[str, Any]
    path: str | None
    created_at: datetime
    read: bool
    read_at: datetime | None


class NotificationPage(BaseModel):
    """A page of notifications, the cursor of the next one, and how many are unread."""

    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class UnreadCount(BaseModel):
    """How many are unread."""

    unread_count: int


class ReadOut(BaseModel):
    """The item is now read."""

    id: str
    read: bool


class AllReadOut(BaseModel):
    """How many notifications were marked read."""

    marked: int
    unread_count: int


# --- in-app notifications ------------------------------------------------------------------------

@router.get("/schools/{school_id}/notifications", tags=["notifications"], response_model=NotificationPage,
            summary="My notifications, newest first")
async def list_notifications(principal: AnyMember, school_id: str, db: Database, cursor: Cursor,
                             accept_language: AcceptLanguage = None, limit: Limit = 20,
                             unread_only: bool = False) -> dict[str, Any]:
    """A page of the caller's notifications in the school."""
    docs, next_cursor = await repo.notifications_page(db, principal.subject, school_id, unread_only=unread_only,
                                                      cursor=cursor, limit=limit)
    language = await service.reader_language(db, principal.subject, accept_language)
    return {"items": [notification_view(d, language) for d in docs], "next_cursor": next_cursor,
            "unread_count": await repo.unread_notifications(db, principal.subject, school_id)}


@router.get("/schools/{school_id}/notifications/unread-count", tags=["notifications"], response_model=UnreadCount,
            summary="How many of my notifications are unread")
async def unread_notification_count(principal: AnyMember, school_id: str, db: Database) -> dict[str, int]:
    """The caller's unread notifications in the school."""
    return {"unread_count": await repo.unread_notifications(db, principal.subject, school_id)}


@router.post("/schools/{school_id}/notifications/{notification_id}/read", tags=["notifications"],
             response_model=ReadOut, summary="Mark one notification read")
async def read_notification(principal: AnyMember, request: Request, school_id: str, notification_id: str,
                            db: Database) -> Any:
    """Mark one of the caller's notifications read."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await service.read_notification(db, session, school_id=school_id, user_id=principal.subject,
                                               notification_id=notification_id)

    return await execute(request, work)


@router.post("/schools/{school_id}/notifications/read-all", tags=["notifications"], response_model=AllReadOut,
             summary="Mark all my notifications in this school read")
async def read_all_notifications(principal: AnyMember, request: Request, school_id: str, db: Database) -> Any:
    """Mark every notification of the caller in the school read."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        marked = await repo.mark_notifications_read(db, session, principal.subject, school_id)
        return {"marked": marked, "unread_count": 0}

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


class PreferencesSaved(BaseModel):
    """The preferences as saved; `email` names every category, `security` always true."""

    language: Literal["nl", "en"] | None
    email: dict[str, bool]


class PreferencesOut(PreferencesSaved):
    """The preferences and the language that applies (the chosen one, else the account's)."""

    effective_language: Literal["nl", "en"]


@router.get("/me/preferences", tags=["preferences"], response_model=PreferencesOut,
            summary="My language and e-mail choices")
async def get_preferences(principal: Person, db: Database) -> dict[str, Any]:
    """The caller's preferences."""
    return await service.preferences_view(db, principal.subject)


@router.put("/me/preferences", tags=["preferences"], response_model=PreferencesSaved,
            summary="Set my language and e-mail choices")
async def put_preferences(principal: Person, request: Request, body: PreferencesIn, db: Database) -> Any:
    """Replace the caller's preferences."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await service.save_preferences(db, session, user_id=principal.subject, language=body.language,
                                              email=body.email.model_dump())

    return await execute(request, work)


# --- delivery log --------------------------------------------------------------------------------

class DeliveryOut(BaseModel):
    """One e-mail of the log: kind, masked address, status and attempts; never its content."""

    id: str
    kind: str
    category: str
    user_id: str | None
    to: str
    language: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    source_type: str | None


class DeliveryPage(BaseModel):
    """A page of the delivery log and the cursor of the next one."""

    items: list[DeliveryOut]
    next_cursor: str | None


@router.get("/schools/{school_id}/deliveries", tags=["delivery log"], response_model=DeliveryPage,
            summary="The e-mails sent for this school: to whom (masked), when, status")
async def list_deliveries(
    principal: SchoolAdmin, school_id: str, db: Database, cursor: Cursor, limit: Limit = 50,
    status: Literal["queued", "sending", "sent", "failed", "skipped"] | None = None,
) -> dict[str, Any]:
    """A page of the school's delivery log (school admin)."""
    docs, next_cursor = await repo.deliveries_page(db, school_id, status, cursor, limit)
    return {"items": [{"id": d["_id"], "kind": d["kind"], "category": d["category"], "user_id": d.get("user_id"),
                       "to": d["to_masked"], "language": d.get("language"), "status": d["status"],
                       "attempts": d.get("attempts", 0), "last_error": d.get("last_error"),
                       "created_at": d["created_at"], "sent_at": d.get("sent_at"),
                       "source_type": d.get("source_type")} for d in docs],
            "next_cursor": next_cursor}
