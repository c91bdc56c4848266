"""Mounting the dashboard on the center's app: its routers, its static files, its tables and its refusals."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from kiosk.center.web import accounts, daily, notices_page, overview, roster_page, search, signin
from kiosk.center.web.session import PREFIX, Refused, SignInRequired, refused_page

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""The browser itself refuses anything from another host: the campus network may have no internet."""


def mount_dashboard(app: FastAPI) -> None:
    """Serve the office's pages under /web on `app` (whose state holds the database)."""
    accounts.ensure_tables(app.state.db)
    app.state.web_today = overview.TodayCache()
    for module in (signin, overview, search, daily, notices_page, roster_page):
        app.include_router(module.router, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=Path(__file__).parent / "static"), name="web-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(Refused, _refused)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        if request.url.path == "/" or request.url.path.startswith(f"{PREFIX}/"):
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            if not request.url.path.startswith(f"{PREFIX}/static/"):
                response.headers["Cache-Control"] = "no-store"
        return response


async def _to_sign_in(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/signin?next={quote(target)}", status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return refused_page(request, exc.key)
