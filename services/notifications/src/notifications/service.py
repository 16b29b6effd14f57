"""Use cases: telling a person something (in-app and e-mail), their notifications and preferences."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from kit.clock import now
from kit.errors import Problem, Text
from kit.mongo import Db
from notifications import repository as repo
from notifications.mail import render
from notifications.models import (
    KINDS,
    OPTIONAL_CATEGORIES,
    SECURITY,
    choose_language,
    display_params,
    mask_email,
    short_text,
    wants_email,
)
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
    moment = now()
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
    moment = now()
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


async def reader_language(db: Db, user_id: str, accept_language: str | None) -> str:
    """Accept-Language when it names nl or en, else the person's chosen or account language."""
    header = (accept_language or "").lower().lstrip()
    if header.startswith(("en", "nl")):
        return header[:2]
    prefs = await repo.preferences(db, user_id)
    person = await repo.person(db, user_id) or {}
    return choose_language(prefs.get("language"), person.get("language"))


async def read_notification(db: Db, session: Session, *, school_id: str, user_id: str,
                            notification_id: str) -> dict[str, Any]:
    """Mark one of the person's notifications in the school read (404 for anyone else's)."""
    found = await repo.notification(db, notification_id, session)
    if found is None or found["user_id"] != user_id or found["school_id"] != school_id:
        raise Problem(404, detail=Text(
            "Deze melding van u bestaat niet in deze school.",
            "No such notification of yours in this school."))
    await repo.mark_notifications_read(db, session, user_id, school_id, notification_id)
    return {"id": notification_id, "read": True}


async def preferences_view(db: Db, user_id: str) -> dict[str, Any]:
    """A person's preferences with the language that applies and every e-mail category."""
    prefs = await repo.preferences(db, user_id)
    person = await repo.person(db, user_id) or {}
    opted_out = set(prefs.get("email_opt_out", []))
    return {"language": prefs.get("language"),
            "effective_language": choose_language(prefs.get("language"), person.get("language")),
            "email": {SECURITY: True, **{c: c not in opted_out for c in OPTIONAL_CATEGORIES}}}


async def save_preferences(db: Db, session: Session, *, user_id: str, language: str | None,
                           email: dict[str, bool]) -> dict[str, Any]:
    """Replace a person's preferences (security e-mails cannot be turned off)."""
    opted_out = [c for c in OPTIONAL_CATEGORIES if not email[c]]
    await repo.save_preferences(db, session, user_id, {"language": language, "email_opt_out": opted_out})
    return {"language": language, "email": {SECURITY: True, **email}}
