"""The center's gate: limits and identity checked before any route reads a byte of the body.

FastAPI parses a declared body before it resolves the dependencies that check the token, and nothing bounds
the body's size: a 100 MB body without a token once grew the center by half a gigabyte before its 401. Here,
an ASGI middleware in front of every route refuses a body declared too large (413, connection closed, the rest
never read), identifies the bearer token of every /api request and checks that it may use the path (401/403),
and only then lets the route read the body, counting the bytes as they come. Any failure that escapes a route
becomes a 500 in the center's one error shape, on a connection that stays open.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.center.auth import Caller, Identifier
from kiosk.center.errors import error_response

DEFAULT_MAX_BODY = 4 * 1024 * 1024
"""Bytes a request body may have: a push of 5000 entries (the most allowed) is ~2.5 MB."""
API = "/api/"
ADMIN = "/api/v1/admin/"
STATIONS = "/api/v1/stations/"
log = logging.getLogger("kiosk.center")


class Gate:
    """ASGI middleware: body size, then bearer token and path permission, then the app."""

    def __init__(self, app: ASGIApp, identifier: Identifier, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.identifier = identifier
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._refuse(scope, send, 413, close=True)
            return
        if scope["path"].startswith(API):
            who = await self._caller(headers.get(b"authorization", b""))
            if who is None:
                await self._refuse(scope, send, 401, {"WWW-Authenticate": "Bearer"})
                return
            denied = _denied(who, scope["path"])
            if denied is not None:
                await self._refuse(scope, send, 403, message=denied)
                return
            scope.setdefault("state", {})["caller"] = who
        await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        too_large = False
        started = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                # Reading stops here: the route sees the client gone, and its answer is replaced by a 413.
                too_large = True
                return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            if too_large:  # whatever the route made of the cut body: the caller gets a 413
                if not started:
                    started = True
                    await self._refuse(scope, send, 413, close=True)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception as exc:
            if too_large and not started:
                await self._refuse(scope, send, 413, close=True)
                return
            log.error("internal error on %s %s", scope["method"], scope["path"], exc_info=exc)
            if started:
                raise
            await self._refuse(scope, send, 500)

    async def _caller(self, authorization: bytes) -> Caller | None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        return self.identifier.remembered(token) or await run_in_threadpool(self.identifier.look_up, token)

    @staticmethod
    async def _refuse(
        scope: Scope,
        send: Send,
        status: int,
        headers: dict[str, str] | None = None,
        message: str | None = None,
        close: bool = False,
    ) -> None:
        headers = dict(headers or {})
        if close:  # the rest of the body is still on the wire: the connection cannot carry another request
            headers["Connection"] = "close"
        response = error_response(status, message, headers=headers)
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _denied(who: Caller, path: str) -> str | None:
    """Why `who` may not use `path`, or None when it may."""
    if path.startswith(ADMIN) and not who.is_admin:
        return "需要管理员令牌 / this needs an admin token"
    if path.startswith(STATIONS):
        station_id = path[len(STATIONS) :].split("/", 1)[0][:64]
        if who.station_id != station_id:
            return f"此令牌不属于站点 {station_id} / this token is not station {station_id}'s"
    return None
