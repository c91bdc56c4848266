"""Notices: publish (the URL allowlist enforced) and retire, each QR code previewed as the gate will draw it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.center import notice_board
from kiosk.center.web import accounts, charts
from kiosk.center.web.session import PREFIX, Admin, Signed, address, check_csrf, database, language, render
from kiosk.center.web.text import translate
from kiosk.domain.notices import NoticeRefused
from kiosk.domain.qr import module_matrix

router = APIRouter(prefix=PREFIX)


def _page(request: Request, session: accounts.Session, status: int = 200, **context: object) -> Response:
    shown = []
    for notice in notice_board.newest_first(database(request)):
        try:
            preview = charts.qr_svg(module_matrix(notice.url))
        except ValueError:
            preview = None
        shown.append((notice, preview))
    domains = request.app.state.allowed_domains
    return render(request, "notices.html", session, status, notices=shown, domains=domains, **context)


@router.get("/notices")
def notices_page(request: Request, session: Signed, done: str = "") -> Response:
    message = translate(f"notices.{done}", language(request)) if done in ("published", "retired") else None
    return _page(request, session, message=message)


@router.post("/notices")
def publish(
    request: Request,
    session: Admin,
    csrf: Annotated[str, Form()] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    title_en: Annotated[str, Form(max_length=200)] = "",
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(session, csrf)
    db = database(request)
    try:
        notice = notice_board.publish(db, request.app.state.allowed_domains, title, url.strip(), title_en, source)
    except NoticeRefused as exc:
        form = {"title": title, "url": url, "title_en": title_en, "source": source}
        return _page(request, session, 422, error=str(exc), form=form)
    accounts.record(db, session.user.username, "publish-notice", f"{notice.notice_id} {notice.url}", address(request))
    return RedirectResponse(f"{PREFIX}/notices?done=published", status_code=303)


@router.post("/notices/{notice_id}/retire")
def retire(request: Request, notice_id: str, session: Admin, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    db = database(request)
    notice = notice_board.retire(db, notice_id)
    if notice is not None:
        accounts.record(db, session.user.username, "retire-notice", f"{notice_id} {notice.url}", address(request))
    return RedirectResponse(f"{PREFIX}/notices?done=retired", status_code=303)
