"""HTTP routes of messages between a student and their linked school supervisors, and their threads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.values import Line, PlainText
from kit.commands import execute
from kit.deps import Database, ServiceOutbox
from notifications import messages
from notifications import repository as repo
from notifications.api import ReadOut, UnreadCount
from notifications.deps import Config, Cursor, Limit, Messenger

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["messages"])

Id = Annotated[Line, Field(min_length=1, max_length=64)]


class MessageIn(BaseModel):
    """A new message, or a reply in a thread (recipients then default to the thread's other people)."""

    model_config = ConfigDict(extra="forbid")

    recipient_ids: list[Id] = Field(default_factory=list, max_length=50)
    subject: Line = Field(min_length=1, max_length=200)
    body: PlainText = Field(min_length=1, max_length=20_000)
    thread_id: Id | None = None
    attachment_ids: list[Id] = Field(default_factory=list, max_length=10)

    @field_validator("subject", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class AttachmentOut(BaseModel):
    """A file attached to a message (download it from the evidence service by its file id)."""

    file_id: str
    filename: str | None
    content_type: str | None
    size: int | None


class MessageOut(BaseModel):
    """A message as one person sees it: in their inbox or sent box, read or not."""

    id: str
    thread_id: str
    sender_id: str
    recipient_ids: list[str]
    subject: str
    body: str
    attachments: list[AttachmentOut]
    created_at: datetime
    box: Literal["inbox", "sent"]
    read: bool


class MessagePage(BaseModel):
    """A page of a mailbox and the cursor of the next one."""

    items: list[MessageOut]
    next_cursor: str | None


class MessageCounts(UnreadCount):
    """New (unread) and total messages in the inbox."""

    total: int


class RecipientOut(BaseModel):
    """Someone the caller may write to."""

    user_id: str
    display_name: str | None


class Recipients(BaseModel):
    """Everyone the caller may write to."""

    items: list[RecipientOut]


class ThreadSummary(BaseModel):
    """A conversation in the list: who takes part, when it was last active, how much is unread."""

    id: str
    subject: str
    participants: list[str]
    last_message_at: datetime
    unread_count: int


class ThreadPage(BaseModel):
    """A page of conversations and the cursor of the next one."""

    items: list[ThreadSummary]
    next_cursor: str | None


class ThreadOut(BaseModel):
    """One conversation, its messages oldest first."""

    id: str
    subject: str
    participants: list[str]
    messages: list[MessageOut]


class ThreadRead(BaseModel):
    """How many messages of the conversation were marked read."""

    id: str
    marked: int


@router.post("/messages", status_code=201, response_model=MessageOut,
             summary="Send a message to one or more of my linked students or supervisors",
             responses={403: {"description": "A recipient is outside the sender's reach "
                                             "(`recipients_outside_reach`)"},
                        404: {"description": "No such conversation of the sender's (`thread_id`)"}})
async def send_message(principal: Messenger, request: Request, school_id: str, body: MessageIn, db: Database,
                       outbox: ServiceOutbox, settings: Config) -> Any:
    """Send a message (or a reply in a thread) as one command."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await messages.send_message(
            db, session, outbox, settings, principal=principal, school_id=school_id,
            recipient_ids=body.recipient_ids, subject=body.subject, body=body.body, thread_id=body.thread_id,
            attachment_ids=body.attachment_ids)

    return await execute(request, work, status_code=201)


@router.get("/messages", response_model=MessagePage, summary="My inbox or sent messages, newest first")
async def list_messages(principal: Messenger, school_id: str, db: Database, cursor: Cursor,
                        box: Literal["inbox", "sent"] = "inbox", limit: Limit = 20) -> dict[str, Any]:
    """A page of the caller's inbox or sent box."""
    return await messages.mailbox(db, principal.subject, school_id, box=box, cursor=cursor, limit=limit)


@router.get("/messages/unread-count", response_model=MessageCounts,
            summary="New (unread) and total messages in my inbox")
async def message_counts(principal: Messenger, school_id: str, db: Database) -> dict[str, int]:
    """The counts for the start page."""
    unread, total = await repo.inbox_counts(db, principal.subject, school_id)
    return {"unread_count": unread, "total": total}


@router.get("/messages/recipients", response_model=Recipients, summary="Whom I may write to")
async def possible_recipients(principal: Messenger, school_id: str, db: Database) -> dict[str, Any]:
    """The caller's linked students or supervisors who can receive messages."""
    return {"items": await messages.recipients(db, principal, school_id)}


@router.post("/messages/{message_id}/read", response_model=ReadOut, summary="Mark a message read")
async def read_message(principal: Messenger, request: Request, school_id: str, message_id: str,
                       db: Database) -> Any:
    """Mark one message in the caller's inbox read."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await messages.read_message(db, session, school_id=school_id, user_id=principal.subject,
                                           message_id=message_id)

    return await execute(request, work)


@router.get("/threads", response_model=ThreadPage,
            summary="My conversations, most recently active first, with their unread counts")
async def list_threads(principal: Messenger, school_id: str, db: Database, cursor: Cursor,
                       limit: Limit = 20) -> dict[str, Any]:
    """A page of the caller's conversations."""
    return await messages.threads(db, principal.subject, school_id, cursor=cursor, limit=limit)


@router.get("/threads/{thread_id}", response_model=ThreadOut, summary="One conversation, oldest first")
async def get_thread(principal: Messenger, school_id: str, thread_id: str, db: Database) -> dict[str, Any]:
    """A conversation the caller takes part in."""
    return await messages.thread(db, principal.subject, school_id, thread_id)


@router.post("/threads/{thread_id}/read", response_model=ThreadRead,
             summary="Mark every message of a conversation read")
async def read_thread(principal: Messenger, request: Request, school_id: str, thread_id: str,
                      db: Database) -> Any:
    """Mark a whole conversation of the caller's read."""

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        return await messages.read_thread(db, session, school_id=school_id, user_id=principal.subject,
                                          thread_id=thread_id)

    return await execute(request, work)
