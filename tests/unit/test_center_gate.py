"""The center's gate around a small ASGI app: a failure escaping a route is a 500 in the one shape, not a
dropped connection; a body past the limit is cut off whatever the route did with it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from kiosk.center.auth import Identifier  # noqa: E402
from kiosk.center.db import Database  # noqa: E402
from kiosk.center.gate import Gate  # noqa: E402


async def boom(_request: Request) -> JSONResponse:
    raise RuntimeError("a bug")


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"length": len(await request.body())})


@pytest.fixture
def client(tmp_path: Path) -> httpx.AsyncClient:
    identifier = Identifier(Database(f"sqlite:///{tmp_path / 'center.db'}"))
    # Where create_app puts it: inside Starlette's outermost error middleware, around everything else.
    app = Starlette(
        routes=[Route("/boom", boom), Route("/echo", echo, methods=["POST"])],
        middleware=[Middleware(Gate, identifier=identifier, max_body=1000)],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://center")


async def test_a_failure_in_a_route_is_a_500_in_the_one_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal" and " / " in response.json()["message"]
    assert response.headers.get("connection") != "close"


async def test_a_body_past_the_limit_is_cut_off(client: httpx.AsyncClient) -> None:
    assert (await client.post("/echo", content=b"x" * 1000)).json() == {"length": 1000}

    async def chunks():  # no Content-Length: the limit shows only while reading
        for _ in range(5):
            yield b"x" * 400

    cut = await client.post("/echo", content=chunks())
    assert cut.status_code == 413 and cut.json()["error"] == "too_large"
    declared = await client.post("/echo", content=b"x" * 1001)
    assert declared.status_code == 413 and declared.headers["connection"] == "close"


async def test_an_api_path_needs_a_known_token(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nobody"}, {"Authorization": "Basic eDp5"}):
        response = await client.get("/api/v1/roster", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
