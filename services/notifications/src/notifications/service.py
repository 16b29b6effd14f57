"""Use cases: telling a person something (in-app and e-mail), messages between students and supervisors."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from contracts.notifications import MessageSentV1
from kit.auth import Role
from kit.mongo import Db
from kit.outbox import Outbox
from notifications import repository as repo
from notifications.mail import render
from notifications.models import KINDS, choose_language, display_params, mask_email, one_line, short_text, wants_email
from notifications.repository import Doc, Session
from notifications.settings import NotificationsSettings


class UnknownPeople(Exception):
    """An event names people this service has not heard of (yet)."""

    def __init__(self, what: str, ids: list[str]) -> None:
        super().__init__(f"unknown {what}: {', '.join(ids)}")
        self.ids = ids


@dataclass(frozen=True)
class Recipient:
    """Someone to tell about a source event."""

    user_id: str
    params: dict[str, Any]


def link_to(settings: NotificationsSettings, path: str) -> str:
    """An absolute link into the platform, through the gateway."""
    return settings.public_url.rstrip("/") + path


def delivery_record(
    settings: NotificationsSettings, *, source_id: str, source_type: str, school_id: str | None, kind: str,
    to: str, name: str, language: str, link: str | None, params: dict[str, Any], user_id: str | None,
    skip_reason: str | None = None,
) -> tuple[str, Doc]:
    """One e-mail's delivery log row (queued with its rendered content, or skipped with a reason) and its id:
    the source and the recipient, so the same event never mails the same person twice."""
    recipient_key = user_id or hashlib.sha256(to.lower().encode()).hexdigest()[:24]
    moment = repo.now()
    doc: Doc = {
        "school_id": school_id, "source_id": source_id, "source_type": source_type, "kind": kind,
        "category": KINDS[kind].category, "user_id": user_id, "to_masked": mask_email(to), "language": language,
        "attempts": 0, "last_error": None, "created_at": moment, "updated_at": moment, "sent_at": None,
    }
    if skip_reason is not None:
        doc.update(status="skipped", last_error=skip_reason)
    else:
        rendered = render(kind, language, name=name, link=link, params=params)
        doc.update(status="queued", next_attempt_at=moment, to=to, subject=rendered.subject, text=rendered.text,
                   html=rendered.html)
    return f"{source_id}:{recipient_key}", doc


async def queue_email(db: Db, session: Session, settings: NotificationsSettings, **fields: Any) -> str:
    """Record one e-mail in the delivery log (see delivery_record); returns the delivery id."""
    delivery_id, doc = delivery_record(settings, **fields)
    await repo.add_deliveries(db, session, [(delivery_id, doc)])
    return delivery_id


async def notify_people(
    db: Db, session: Session, settings: NotificationsSettings, *, source_id: str, source_type: str,
    school_id: str, kind: str, recipients: list[Recipient], path: str,
) -> None:
    """Tell each recipient in-app and (per their preferences) by e-mail; unknown people refuse the lot."""
    user_ids = [r.user_id for r in recipients]
    known = await repo.people(db, user_ids, session)
    missing = [uid for uid in user_ids if uid not in known or "email" not in known[uid]]
    if missing:
        raise UnknownPeople("person", missing)
    all_prefs = await repo.preferences_of(db, user_ids, session)
    spec = KINDS[kind]
    link = link_to(settings, path)
    moment = repo.now()
    notes: list[tuple[str, Doc]] = []
    mails: list[tuple[str, Doc]] = []
    for recipient in recipients:
        person = known[recipient.user_id]
        prefs = all_prefs.get(recipient.user_id, {})
        notes.append((f"{source_id}:{recipient.user_id}", {
            "user_id": recipient.user_id, "school_id": school_id, "kind": kind, "params": recipient.params,
            "path": path, "created_at": moment}))
        skip = None
        if not person.get("active", True) or school_id in person.get("inactive_schools", []):
            skip = "inactive"
        elif not wants_email(spec, prefs.get("email_opt_out")):
            skip = "opted_out"
        mails.append(delivery_record(
            settings, source_id=source_id, source_type=source_type, school_id=school_id, kind=kind,
            to=person["email"], name=person.get("display_name", ""),
            language=choose_language(prefs.get("language"), person.get("language")), link=link,
            params=recipient.params, user_id=recipient.user_id, skip_reason=skip))
    await repo.add_notifications(db, session, notes)
    await repo.add_deliveries(db, session, mails)


async def user_of_student(db: Db, student_id: str, session: Session) -> str:
    """The account of a student record; unknown students refuse the event."""
    record = await repo.student(db, student_id, session)
    if record is None or not record.get("user_id"):
        raise UnknownPeople("student", [student_id])
    return str(record["user_id"])


def notification_view(doc: Doc, language: str) -> dict[str, Any]:
    """A notification as the API shows it, its title in the reader's language."""
    params = display_params(doc.get("params", {}), language)
    return {"id": doc["_id"], "kind": doc["kind"], "title": short_text(KINDS[doc["kind"]].title, language, params),
            "params": doc.get("params", {}), "path": doc.get("path"), "created_at": doc["created_at"],
            "read": doc.get("read_at") is not None, "read_at": doc.get("read_at")}


# --- messages -------------------------------------------------------------------------------------

async def reach(db: Db, user_id: str, school_id: str, roles: frozenset[Role]) -> set[str]:
    """Whom a person may write to in a school: a student their linked supervisors, a supervisor their students."""
    allowed: set[str] = set()
    if Role.STUDENT in roles:
        own = await repo.students_of_user(db, user_id, school_id)
        if own:
            allowed.update(await repo.linked_users(db, own, "school_supervisor"))
    if Role.SCHOOL_SUPERVISOR in roles:
        students = await repo.linked_students(db, user_id, school_id, "school_supervisor")
        if students:
            allowed.update(await repo.student_users(db, students))
    allowed.discard(user_id)
    if not allowed:
        return allowed
    people = await repo.people(db, sorted(allowed))
    # Only people with an account we know (an address to tell them at) and not deactivated here.
    return {uid for uid, p in people.items()
            if "email" in p and p.get("active", True) and school_id not in p.get("inactive_schools", [])}


async def post_message(
    db: Db, session: Session, settings: NotificationsSettings, *, school_id: str, sender_id: str,
    recipients: list[str], subject: str, body: str, thread_id: str | None, files: list[Doc],
) -> Doc:
    """Store a message, file it in the mailboxes, and tell the recipients (in-app and by e-mail)."""
    moment = repo.now()
    message_id = uuid.uuid4().hex
    oid = ObjectId()
    thread_id = thread_id or message_id
    sender = await repo.person(db, sender_id, session) or {}
    attachments = [{"file_id": f["_id"], "filename": f.get("filename"), "content_type": f.get("content_type"),
                    "size": f.get("size")} for f in files]
    message = {"_id": message_id, "school_id": school_id, "thread_id": thread_id, "sender_id": sender_id,
               "recipient_ids": recipients, "subject": subject, "body": body, "attachments": attachments,
               "created_at": moment, "oid": oid}
    await repo.insert_message(db, session, message)
    entries = [{"_id": f"{message_id}:{sender_id}:sent", "user_id": sender_id, "school_id": school_id,
                "message_id": message_id, "thread_id": thread_id, "box": "sent", "read_at": moment, "oid": oid}]
    entries += [{"_id": f"{message_id}:{uid}:inbox", "user_id": uid, "school_id": school_id,
                 "message_id": message_id, "thread_id": thread_id, "box": "inbox", "read_at": None, "oid": oid}
                for uid in recipients]
    await repo.add_to_mailbox(db, session, entries)
    # evidence grants the recipients access to the attachments from this event
    assert session is not None  # a message is always posted inside the command's transaction
    await Outbox(db, settings.service).stage(session, MessageSentV1(
        message_id=message_id, school_id=school_id, sender_id=sender_id, recipient_ids=recipients,
        attachment_ids=[a["file_id"] for a in attachments]), subject=message_id, school_id=school_id)
    await repo.touch_thread(db, session, thread_id, school_id, subject, [sender_id, *recipients], oid, moment)
    params = {"sender_name": one_line(sender.get("display_name") or "—"), "subject": one_line(subject),
              "thread_id": thread_id, "message_id": message_id}
    await notify_people(db, session, settings, source_id=f"message-{message_id}", source_type="message",
                        school_id=school_id, kind="new_message",
                        recipients=[Recipient(uid, params) for uid in recipients],
                        path=f"/schools/{school_id}/messages/threads/{thread_id}")
    return message_view(message, box="sent", read_at=moment)


def message_view(message: Doc, *, box: str, read_at: Any) -> dict[str, Any]:
    """A message as the API shows it to one person."""
    return {"id": message["_id"], "thread_id": message["thread_id"], "sender_id": message["sender_id"],
            "recipient_ids": message["recipient_ids"], "subject": message["subject"], "body": message["body"],
            "attachments": message.get("attachments", []), "created_at": message["created_at"], "box": box,
            "read": read_at is not None}
