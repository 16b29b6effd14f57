"""Signing in and out, passwords by link, choosing the school and the language."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.api import ApiError
from web.context import Ctx, client_address, get_ctx, signed_in
from web.render import render
from web.session import LANG_COOKIE

router = APIRouter()
Field = Annotated[str, Form(max_length=2000)]


def safe_next(target: str | None) -> str:
    """Only paths of this site (no open redirect to another one)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login", summary="The sign-in page")
async def login_page(ctx: Ctx = Depends(get_ctx), next: str | None = Query(default=None, max_length=2000),
                     expired: bool = False, signed_out: bool = False) -> Response:
    if ctx.session.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    message = None
    if expired:
        message = _(ctx, "Je sessie is verlopen; log opnieuw in.", "Your session has expired; please sign in again.")
    notice = _(ctx, "Je bent uitgelogd.", "You have signed out.") if signed_out else None
    return render(ctx, "login.html", next=safe_next(next), pending="", error=message, notice=notice)


@router.post("/login", summary="Sign in with e-mail and password")
async def login(request: Request, ctx: Ctx = Depends(get_ctx), email: Field = "", password: Field = "",
                next: Field = "/", pending: Annotated[str, Form(max_length=200_000)] = "") -> Response:
    form = {"email": email}
    if not email.strip() or not password:
        return render(ctx, "login.html", status=422, form=form, next=safe_next(next), pending=pending,
                      error=ApiError(422, errors=[{"field": "email", "reason": _(ctx, "Vul je e-mailadres in.",
                                                                                   "Enter your e-mail address.")}]
                                     if not email.strip() else [{"field": "password", "reason": _(
                                         ctx, "Vul je wachtwoord in.", "Enter your password.")}]))
    response = await ctx.upstreams.request(
        "identity", "POST", "/v1/auth/login", language=ctx.lang, json={"email": email.strip(), "password": password},
        headers={"X-Forwarded-For": client_address(request)})
    if response.status_code != 200:
        problem = ApiError.from_response(response)
        if response.status_code == 401:
            problem = ApiError(401, detail=_(ctx, "Dit e-mailadres en wachtwoord horen niet bij elkaar.",
                                             "This e-mail address and password do not match."))
        elif response.status_code == 422:
            problem = ApiError(422, errors=[{"field": "email", "reason": _(
                ctx, "Dit is geen geldig e-mailadres.", "This is not a valid e-mail address.")}])
        return render(ctx, "login.html", status=response.status_code, form=form, next=safe_next(next),
                      pending=pending, error=problem)
    ctx.session.end()  # a fresh session (and CSRF secret) for the person who signed in
    ctx.store_tokens(response.json())
    me = await ctx.get("identity", "/v1/me")
    ctx.session["uid"] = me["user_id"]
    ctx.session["name"] = me["display_name"]
    schools = [{"id": m["school_id"], "name": m["school_name"], "roles": m["roles"]}
               for m in me["memberships"] if m.get("active", True)]
    ctx.session["schools"] = schools
    if len(schools) == 1:
        choose(ctx, schools[0]["id"])
    if pending:
        try:
            fields = json.loads(pending)
        except ValueError:
            fields = {}
        if isinstance(fields, dict) and fields:
            return render(ctx, "resubmit.html", action=safe_next(next).split("?")[0], fields=fields,
                          notice=_(ctx, "Je bent weer ingelogd. Controleer je gegevens en verstuur ze opnieuw.",
                                   "You are signed in again. Check your input and send it again."))
    if len(schools) > 1 and not ctx.session.get("school"):
        return RedirectResponse("/school", status_code=303)
    return RedirectResponse(safe_next(next), status_code=303)


def choose(ctx: Ctx, school_id: str) -> bool:
    """Make a school of the person's the current one."""
    for school in ctx.session.get("schools") or []:
        if school["id"] == school_id:
            ctx.session["school"] = school_id
            ctx.session["school_name"] = school["name"]
            ctx.stop_view_as()
            return True
    return False


@router.post("/logout", summary="Sign out")
async def logout(request: Request, ctx: Ctx = Depends(get_ctx)) -> Response:
    if ctx.session.signed_in:
        await ctx.upstreams.request("identity", "POST", "/v1/auth/logout", language=ctx.lang,
                                    json={"refresh_token": ctx.session.get("rt")})
    ctx.session.end()
    ctx.stop_view_as()
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@router.get("/school", summary="Choose the school to work in")
async def school_page(ctx: Ctx = Depends(signed_in)) -> Response:
    return render(ctx, "school.html", title=_(ctx, "Kies een school", "Choose a school"),
                  schools=ctx.session.get("schools") or [])


@router.post("/school", summary="Work in this school")
async def school_choose(ctx: Ctx = Depends(signed_in), school_id: Field = "") -> Response:
    if not choose(ctx, school_id):
        return render(ctx, "school.html", status=422, title=_(ctx, "Kies een school", "Choose a school"),
                      schools=ctx.session.get("schools") or [],
                      error=_(ctx, "Kies een van je scholen.", "Choose one of your schools."))
    return RedirectResponse("/", status_code=303)


@router.post("/language", summary="Switch the language (kept in a cookie)")
async def language(ctx: Ctx = Depends(get_ctx), lang: Field = "nl", next: Field = "/") -> Response:
    chosen = lang if lang in ("nl", "en") else "nl"
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                        secure=ctx.settings.secure_cookies, path="/")
    if ctx.session.signed_in and not ctx.view_as:
        try:  # also the account's language, so e-mails follow the choice
            await ctx.call("identity", "PATCH", "/v1/me", json={"language": chosen})
        except ApiError:
            pass
    return response


@router.get("/forgot-password", summary="Ask for a password reset link")
async def forgot_page(ctx: Ctx = Depends(get_ctx)) -> Response:
    return render(ctx, "forgot.html", title=_(ctx, "Wachtwoord vergeten", "Forgotten password"), sent=False)


@router.post("/forgot-password", summary="Send a reset link if the address is known (one answer for all)")
async def forgot(request: Request, ctx: Ctx = Depends(get_ctx), email: Field = "") -> Response:
    await ctx.upstreams.request("identity", "POST", "/v1/auth/password-reset", language=ctx.lang,
                                json={"email": email.strip()[:254]},
                                headers={"X-Forwarded-For": client_address(request)})
    return render(ctx, "forgot.html", title=_(ctx, "Wachtwoord vergeten", "Forgotten password"), sent=True)


@router.get("/set-password", summary="Choose a password with an invitation or reset link")
async def set_password_page(ctx: Ctx = Depends(get_ctx), token: str = Query(default="", max_length=200),
                            kind: str = Query(default="reset", max_length=20)) -> Response:
    return render(ctx, "set_password.html", title=_(ctx, "Kies je wachtwoord", "Choose your password"),
                  token=token, kind=kind)


@router.post("/set-password", summary="Set the password; the link works once")
async def set_password(request: Request, ctx: Ctx = Depends(get_ctx), token: Field = "", kind: Field = "reset",
                       password: Field = "", password_repeat: Field = "") -> Response:
    values: dict[str, Any] = {"title": _(ctx, "Kies je wachtwoord", "Choose your password"), "token": token,
                              "kind": kind}
    if password != password_repeat:
        return render(ctx, "set_password.html", status=422, **values, error=ApiError(422, errors=[{
            "field": "password_repeat", "reason": _(ctx, "De twee wachtwoorden zijn niet gelijk.",
                                                    "The two passwords differ.")}]))
    response = await ctx.upstreams.request("identity", "POST", "/v1/auth/set-password", language=ctx.lang,
                                           json={"token": token, "password": password},
                                           headers={"X-Forwarded-For": client_address(request)})
    if response.status_code != 204:
        problem = ApiError.from_response(response)
        if response.status_code in (400, 404, 410) or "token" in problem.field_errors():
            problem = ApiError(410, detail=_(
                ctx, "Deze link is verlopen of al gebruikt. Vraag via 'Wachtwoord vergeten' een nieuwe aan.",
                "This link has expired or was already used. Ask for a new one with 'Forgotten password'."))
        return render(ctx, "set_password.html", status=response.status_code, **values, error=problem,
                      link_dead=problem.status == 410)
    return render(ctx, "login.html", next="/", pending="", notice=_(
        ctx, "Je wachtwoord is ingesteld. Log nu in.", "Your password has been set. Sign in now."))


def _(ctx: Ctx, nl: str, en: str) -> str:
    return en if ctx.lang == "en" else nl
