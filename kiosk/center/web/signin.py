"""Signing in and out, and the reader's language. Every attempt is audited; ten wrong passwords lock an account."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.center.web import accounts
from kiosk.center.web.session import (
    LANGUAGE_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Signed,
    address,
    check_csrf,
    database,
    language,
    local_time,
    render,
    set_session_cookie,
)
from kiosk.center.web.text import LANGUAGES, translate

router = APIRouter()


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@router.get(f"{PREFIX}/signin", include_in_schema=False)
def signin_page(request: Request, next: str = f"{PREFIX}/") -> Response:
    return _form(request, _local(next), None)


def _form(request: Request, next_page: str, error: str | None, status: int = 200) -> Response:
    # Before a session exists the form's CSRF token is a random value also set as a cookie (double submit).
    token = secrets.token_urlsafe(32)
    response = render(request, "signin.html", None, status=status, next=next_page, error=error, signin_csrf=token)
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", path=f"{PREFIX}/signin")
    return response


@router.post(f"{PREFIX}/signin", include_in_schema=False)
def signin(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = f"{PREFIX}/",
) -> Response:
    lang = language(request)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not csrf or not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _form(request, _local(next), translate("signin.expired", lang), 403)
    outcome = accounts.sign_in(database(request), username.strip(), password, address(request))
    if outcome.token is None:
        if outcome.locked_until is not None:
            until = local_time(outcome.locked_until)
            return _form(request, _local(next), translate("signin.locked", lang, until=until), 429)
        return _form(request, _local(next), translate("signin.wrong", lang), 401)
    response = RedirectResponse(_local(next), status_code=303)
    set_session_cookie(request, response, outcome.token)
    response.delete_cookie(SIGNIN_COOKIE, path=f"{PREFIX}/signin")
    return response


@router.post(f"{PREFIX}/signout", include_in_schema=False)
def signout(request: Request, session: Signed, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    accounts.sign_out(database(request), request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(f"{PREFIX}/lang/{{code}}", include_in_schema=False)
def switch_language(request: Request, code: str, back: str = f"{PREFIX}/") -> Response:
    response = RedirectResponse(_local(back), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


def _local(target: str) -> str:
    """Only a path on this center: a sign-in link must not send anyone elsewhere."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{PREFIX}/") or target.startswith("//"):
        return f"{PREFIX}/"
    return target
