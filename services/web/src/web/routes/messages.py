"""Messages between students and their supervisors: conversations, composing with attachments, unread marks."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, Many, back, items, say

router = APIRouter(prefix="/messages")
# notifications learns of a just-uploaded attachment from evidence's event; a send waits this long for it
ATTACHMENT_WAITS_S = (0.2, 0.3, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0)  # ~30 s in all, for a busy worker


def _messenger(ctx: Ctx) -> None:
    if not ctx.has("student", "school_supervisor") or ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Berichten zijn er voor studenten en hun begeleiders.",
                                       "Messages are for students and their supervisors."))


async def _people(ctx: Ctx) -> dict[str, str]:
    reach = await ctx.get("notifications", f"/v1/schools/{ctx.school_id}/messages/recipients")
    return {p["user_id"]: p.get("display_name") or "" for p in items(reach)}


@router.get("", summary="My conversations with their unread counts")
async def threads(ctx: Ctx = Depends(in_school), cursor: str | None = Query(default=None, max_length=24)) -> Response:
    _messenger(ctx)
    sid = ctx.school_id
    page, counts, people = await asyncio.gather(
        ctx.get("notifications", f"/v1/schools/{sid}/threads", cursor=cursor, limit=20),
        ctx.get("notifications", f"/v1/schools/{sid}/messages/unread-count"), _people(ctx))
    return render(ctx, "messages.html", title=say(ctx, "Berichten", "Messages"), page=page, counts=counts,
                  people=people)


def _attached(ids: list[str], names: list[str]) -> list[tuple[str, str]]:
    """The attachments a refused form carried, to show them again (id, file name)."""
    return list(zip(ids, [*names, *([""] * len(ids))][:len(ids)], strict=True))


def _kept(exc: ApiError, ids: list[str], names: list[str]) -> list[tuple[str, str]]:
    """The attachments to show again with a refused form: none when they were what was refused."""
    return [] if "attachment_ids" in exc.field_errors() else _attached(ids, names)


def _only_unknown_attachments(exc: ApiError) -> bool:
    """A refusal that names nothing but attachments (not yet known to notifications, or not the sender's)."""
    fields = [str(e.get("field") or "") for e in exc.errors]
    return exc.status == 422 and bool(fields) and all("attachment_ids" in f for f in fields)


async def _post(ctx: Ctx, body: dict[str, Any], idem: str) -> Any:
    """Send a message; when only its fresh attachments are still unknown to notifications, wait for them."""
    for wait in ATTACHMENT_WAITS_S:
        try:
            return await ctx.call("notifications", "POST", f"/v1/schools/{ctx.school_id}/messages", idem=idem,
                                  json=body)
        except ApiError as exc:
            if not body.get("attachment_ids") or not _only_unknown_attachments(exc):
                raise
        await asyncio.sleep(wait)
    try:
        return await ctx.call("notifications", "POST", f"/v1/schools/{ctx.school_id}/messages", idem=idem,
                              json=body)
    except ApiError as exc:
        if not _only_unknown_attachments(exc):
            raise
        raise ApiError(422, errors=[{"field": "attachment_ids", "reason": say(
            ctx, "Een bijlage kon niet worden meegestuurd. Voeg haar opnieuw toe en verstuur het bericht nog eens.",
            "An attachment could not be sent. Add it again and send the message once more.")}]) from exc


async def _compose(ctx: Ctx, *, status: int = 200, error: ApiError | None = None,
                   form: dict[str, Any] | None = None, attached: list[tuple[str, str]] | None = None) -> Response:
    return render(ctx, "message_new.html", status=status, error=error, form=form,
                  title=say(ctx, "Nieuw bericht", "New message"), people=await _people(ctx), key=ctx.form_key(),
                  max_bytes=ctx.settings.max_file_bytes, attached=attached or [])


@router.get("/new", summary="Write a message")
async def compose(ctx: Ctx = Depends(in_school)) -> Response:
    _messenger(ctx)
    return await _compose(ctx)


@router.post("", summary="Send a message")
async def send(ctx: Ctx = Depends(in_school), recipient_ids: Many = [], subject: Field = "",  # noqa: B006
               body: Field = "", attachment_ids: Many = [], attachment_names: Many = [],  # noqa: B006
               idempotency_key: Field = "") -> Response:
    _messenger(ctx)
    form = {"recipient_ids": recipient_ids, "subject": subject, "body": body}
    try:
        sent = await _post(ctx, {"recipient_ids": recipient_ids, "subject": subject, "body": body,
                                 "attachment_ids": attachment_ids}, idempotency_key)
    except ApiError as exc:
        return await _compose(ctx, status=exc.status, error=exc, form=form,
                              attached=_kept(exc, attachment_ids, attachment_names))
    return back(f"/messages/{sent.get('thread_id', '')}?sent=1" if sent.get("thread_id") else "/messages?sent=1")


async def _thread(ctx: Ctx, thread_id: str, *, status: int = 200, error: ApiError | None = None,
                  form: dict[str, Any] | None = None, attached: list[tuple[str, str]] | None = None) -> Response:
    sid = ctx.school_id
    thread, people = await asyncio.gather(ctx.get("notifications", f"/v1/schools/{sid}/threads/{thread_id}"),
                                          _people(ctx))
    if any(not m.get("read") and m.get("box") == "inbox" for m in thread["messages"]):
        await ctx.call("notifications", "POST", f"/v1/schools/{sid}/threads/{thread_id}/read")
    return render(ctx, "thread.html", status=status, error=error, form=form, title=thread["subject"], thread=thread,
                  people=people, key=ctx.form_key(), me=ctx.session.get("uid"), max_bytes=ctx.settings.max_file_bytes,
                  attached=attached or [])


@router.get("/{thread_id}", summary="One conversation (marks it read)")
async def thread(thread_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    _messenger(ctx)
    return await _thread(ctx, thread_id)


@router.post("/{thread_id}/reply", summary="Reply in a conversation")
async def reply(thread_id: str, ctx: Ctx = Depends(in_school), subject: Field = "", body: Field = "",
                attachment_ids: Many = [], attachment_names: Many = [],  # noqa: B006
                idempotency_key: Field = "") -> Response:
    _messenger(ctx)
    try:
        await _post(ctx, {"thread_id": thread_id, "subject": subject, "body": body,
                          "attachment_ids": attachment_ids}, idempotency_key)
    except ApiError as exc:
        return await _thread(ctx, thread_id, status=exc.status, error=exc, form={"body": body},
                             attached=_kept(exc, attachment_ids, attachment_names))
    return back(f"/messages/{thread_id}?sent=1")
