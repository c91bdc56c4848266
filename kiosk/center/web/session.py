"""Who is looking: the session cookie, the CSRF token every form carries, the language, and page rendering.

Pages never accept a bearer token (station tokens never sign in) and the JSON API never accepts a session.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from kiosk.center.db import Database
from kiosk.center.web import accounts
from kiosk.center.web.text import Language, translate
from kiosk.domain.i18n import t as gate_text
from kiosk.domain.privacy import mask_id, mask_name

SESSION_COOKIE = "kiosk_session"
SIGNIN_COOKIE = "kiosk_signin"
LANGUAGE_COOKIE = "kiosk_lang"
PREFIX = "/web"


def local_time(moment: datetime | None) -> str:
    """A stored naive-UTC time in the center's zone, to the minute."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(mask_id=mask_id, mask_name=mask_name, prefix=PREFIX, gate_text=gate_text)
templates.env.filters["local"] = local_time


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""


class Refused(Exception):
    """The request is not allowed (no admin role, no CSRF token); `key` names the message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def language(request: Request) -> Language:
    return "en" if request.cookies.get(LANGUAGE_COOKIE) == "en" else "zh"


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def signed_in(request: Request) -> accounts.Session:
    """The session of the cookie (a blocking lookup: FastAPI runs this in its thread pool)."""
    token = request.cookies.get(SESSION_COOKIE)
    found = accounts.session(database(request), token) if token else None
    if found is None:
        raise SignInRequired()
    return found


Signed = Annotated[accounts.Session, Depends(signed_in)]


def admin(session: Signed) -> accounts.Session:
    if not session.user.is_admin:
        raise Refused("refused.admin")
    return session


Admin = Annotated[accounts.Session, Depends(admin)]


def check_csrf(session: accounts.Session, token: str) -> None:
    if not token or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise Refused("refused.csrf")


def render(
    request: Request, template: str, session: accounts.Session | None, status: int = 200, **context: Any
) -> Response:
    """A page in the reader's language, with the session's CSRF token for its forms."""
    lang = language(request)

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    return templates.TemplateResponse(
        request,
        template,
        {"t": t, "lang": lang, "session": session, "csrf": session.csrf if session else "", **context},
        status_code=status,
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(accounts.SESSION_FOR.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def refused_page(request: Request, key: str) -> HTMLResponse:
    lang = language(request)
    body = f"<!doctype html><meta charset=utf-8><title>403</title><p>{translate(key, lang)}</p>"
    return HTMLResponse(body, status_code=403)


def fragment(request: Request, template: str, session: accounts.Session, **context: Any) -> str:
    """A part of a page as HTML text, for the live updates."""
    lang = language(request)

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    return templates.get_template(template).render(
        {"request": request, "t": t, "lang": lang, "session": session, "csrf": session.csrf, **context}
    )
