"""Use cases of messages between a student and their linked school supervisors: who may write to whom,
sending (with attachments), mailboxes and threads."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from contracts.notifications import MessageSentV1
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox
from notifications import repository as repo
from notifications.models import one_line
from notifications.repository import Doc, Session
from notifications.service import Recipient, notify_people
from notifications.settings import NotificationsSettings

NO_THREAD = Text(nl="Dit gesprek van u bestaat niet in deze school.",
                 en="No such conversation of yours in this school.")


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


async def recipients(db: Db, principal: Principal, school_id: str) -> list[dict[str, Any]]:
    """Whom the person may write to, with their names."""
    allowed = sorted(await reach(db, principal.subject, school_id, principal.roles_in(school_id)))
    people = await repo.people(db, allowed)
    return [{"user_id": uid, "display_name": people[uid].get("display_name")} for uid in allowed if uid in people]


async def send_message(
    db: Db, session: Session, outbox: Outbox, settings: NotificationsSettings, *, principal: Principal,
    school_id: str, recipient_ids: list[str], subject: str, body: str, thread_id: str | None,
    attachment_ids: list[str],
) -> Doc:
    """Check recipients (a reply defaults to the thread's other people) and attachments, then post."""
    sender_id = principal.subject
    wanted = list(dict.fromkeys(recipient_ids))
    if thread_id is not None:
        found = await repo.thread(db, thread_id, school_id)
        if found is None or sender_id not in found.get("participants", []):
            raise Problem(404, detail=NO_THREAD, errors=[field_error("thread_id", "unknown conversation")])
        if not wanted:
            wanted = [p for p in found["participants"] if p != sender_id]
    if not wanted:
        raise Problem(422, "validation", errors=[field_error("recipient_ids", "at least one recipient is needed")])
    allowed = await reach(db, sender_id, school_id, principal.roles_in(school_id))
    outside = [r for r in wanted if r not in allowed]
    if outside:
        raise Problem(403, "forbidden", detail=Text(
            "U kunt alleen berichten sturen aan uw gekoppelde studenten of begeleiders.",
            "You can only write to your linked students or supervisors."),
                      errors=[field_error(f"recipient_ids[{recipient_ids.index(r)}]" if r in recipient_ids
                                          else "thread_id", f"{r} is outside your reach") for r in outside],
                      recipients_outside_reach=outside)
    files = await repo.attachments(db, attachment_ids) if attachment_ids else {}
    bad = [i for i, fid in enumerate(attachment_ids)
           if fid not in files or files[fid].get("school_id") != school_id
           or files[fid].get("uploaded_by") != sender_id or files[fid].get("withdrawn")]
    if bad:
        raise Problem(422, "validation", errors=[field_error(
            f"attachment_ids[{i}]", "not a message attachment you uploaded in this school") for i in bad])
    return await post_message(db, session, outbox, settings, school_id=school_id, sender_id=sender_id,
                              recipients=wanted, subject=subject, body=body, thread_id=thread_id,
                              files=[files[fid] for fid in dict.fromkeys(attachment_ids)])


async def post_message(
    db: Db, session: Session, outbox: Outbox, settings: NotificationsSettings, *, school_id: str, sender_id: str,
    recipients: list[str], subject: str, body: str, thread_id: str | None, files: list[Doc],
) -> Doc:
    """Store a message, file it in the mailboxes, and tell the recipients (in-app and by e-mail)."""
    moment = now()
    message_id = new_id("msg")
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
    await outbox.stage(session, MessageSentV1(
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


async def mailbox(db: Db, user_id: str, school_id: str, *, box: str, cursor: ObjectId | None,
                  limit: int) -> dict[str, Any]:
    """A page of the person's inbox or sent box."""
    entries, next_cursor = await repo.mailbox_page(db, user_id, school_id, box, cursor, limit)
    found = await repo.messages(db, [e["message_id"] for e in entries])
    return {"items": [message_view(found[e["message_id"]], box=box, read_at=e.get("read_at"))
                      for e in entries if e["message_id"] in found], "next_cursor": next_cursor}


async def read_message(db: Db, session: Session, *, school_id: str, user_id: str, message_id: str) -> dict[str, Any]:
    """Mark a message of the person's in the school read (404 for anyone else's)."""
    entries = [e for e in await repo.mailbox_entry(db, user_id, message_id) if e["school_id"] == school_id]
    if not entries:
        raise Problem(404, detail=Text(nl="Dit bericht van u bestaat niet in deze school.",
                                       en="No such message of yours in this school."))
    await repo.mark_mailbox_read(db, session, user_id, message_id=message_id)
    return {"id": message_id, "read": True}


async def threads(db: Db, user_id: str, school_id: str, *, cursor: ObjectId | None, limit: int) -> dict[str, Any]:
    """The person's conversations, most recently active first, with their unread counts."""
    docs, next_cursor = await repo.threads(db, user_id, school_id, cursor, limit)
    unread = await repo.unread_per_thread(db, user_id, [d["_id"] for d in docs])
    return {"items": [{"id": d["_id"], "subject": d["subject"], "participants": d["participants"],
                       "last_message_at": d["last_message_at"], "unread_count": unread.get(d["_id"], 0)}
                      for d in docs], "next_cursor": next_cursor}


async def thread(db: Db, user_id: str, school_id: str, thread_id: str) -> dict[str, Any]:
    """One conversation as the person sees it, oldest first (404 when they are not in it)."""
    found = await repo.thread(db, thread_id, school_id)
    entries = await repo.mailbox_of_thread(db, user_id, thread_id) if found else []
    if found is None or not entries:
        raise Problem(404, detail=NO_THREAD)
    by_message: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: e["oid"]):
        # A message to oneself is not possible, so an entry is either inbox or sent.
        by_message.setdefault(entry["message_id"], entry)
    found_messages = await repo.messages(db, list(by_message))
    return {"id": thread_id, "subject": found["subject"], "participants": found["participants"],
            "messages": [message_view(found_messages[mid], box=e["box"], read_at=e.get("read_at"))
                         for mid, e in by_message.items() if mid in found_messages]}


async def read_thread(db: Db, session: Session, *, school_id: str, user_id: str, thread_id: str) -> dict[str, Any]:
    """Mark every message of a conversation of the person's read."""
    found = await repo.thread(db, thread_id, school_id)
    if found is None or user_id not in found.get("participants", []):
        raise Problem(404, detail=NO_THREAD)
    return {"id": thread_id, "marked": await repo.mark_mailbox_read(db, session, user_id, thread_id=thread_id)}
