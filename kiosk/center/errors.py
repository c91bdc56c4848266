"""One shape for every refusal and failure the center answers: `{"error": code, "message": "中文 / English"}`,
with `detail` listing the wrong fields of a request that failed validation. Documented for every operation.
"""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from kiosk.center.db import DatabaseError

log = logging.getLogger("kiosk.center")


class FieldProblem(BaseModel):
    field: str = Field(description="Where: body, query, path or header, then the field, e.g. `query.date`.")
    problem: str = Field(description="What is wrong with it.")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx reply of the center."""

    error: str = Field(description="A stable code for programs, e.g. `unauthorized`, `invalid`, `too_large`.")
    message: str = Field(description="For people: Chinese, then ` / `, then English.")
    detail: list[FieldProblem] | None = Field(default=None, description="For `invalid`: each wrong field.")


CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求无效 / bad request"),
    401: ("unauthorized", "缺少令牌或令牌无效 / missing or unknown bearer token"),
    403: ("forbidden", "此令牌无权这样做 / this token may not do that"),
    404: ("not_found", "没有这个地址 / no such path"),
    405: ("method_not_allowed", "此地址不接受这种请求方法 / this path does not take this method"),
    406: ("not_acceptable", "无法以所要求的格式回答 / cannot answer in the format asked for"),
    413: ("too_large", "请求体过大 / the request body is too large"),
    415: ("unsupported_media_type", "请求体应为 JSON / the body must be JSON"),
    422: ("invalid", "请求内容无效 / the request is not valid"),
    429: ("too_many_requests", "请求过于频繁 / too many requests"),
    500: ("internal", "中心内部错误,请稍后重试 / internal error at the center, retry later"),
    503: ("unavailable", "数据库暂不可用,请稍后重试 / the database is unavailable, retry later"),
}

_DOCUMENTED = {
    401: "No bearer token, or one the center does not know (or that was revoked).",
    403: "The token is not allowed here: another station's path, or a station token on an admin path.",
    404: "No such path.",
    413: "The body is larger than the center takes (see `kiosk center serve --max-body`).",
    422: "The request is not valid; `detail` names each wrong field.",
    500: "Internal error: nothing was acknowledged; retry later.",
    503: "The database is unavailable: nothing was acknowledged; retry later.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all in the ErrorBody shape."""
    return {status: {"model": ErrorBody, "description": _DOCUMENTED[status]} for status in statuses}


def error_response(
    status: int, message: str | None = None, headers: dict[str, str] | None = None, **more: Any
) -> JSONResponse:
    code, default = CODES.get(status, (HTTPStatus(status).phrase.lower().replace(" ", "_"), ""))
    body = ErrorBody(error=code, message=message or default or HTTPStatus(status).phrase, **more)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    status = exc.status_code
    message: str | None = exc.detail if isinstance(exc.detail, str) else None
    if status == 400:  # FastAPI could not read the body (not UTF-8, not JSON, nested too deeply)
        status, message = 422, "请求体不是有效的 JSON / the body is not valid JSON"
    elif message is not None and " / " not in message:  # Starlette's own English phrases (404, 405)
        message = None
    return error_response(status, message, headers=dict(exc.headers) if exc.headers else None)


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        FieldProblem(field=".".join(str(part) for part in error.get("loc", ())), problem=str(error.get("msg", "")))
        for error in exc.errors()
    ]
    first = f"{problems[0].field}: {problems[0].problem}" if problems else ""
    message = f"请求内容无效 / the request is not valid: {first}"
    return error_response(422, message, detail=[problem.model_dump() for problem in problems])


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # Nothing was acknowledged: the station keeps its entries and retries.
    log.warning("database unavailable: %s", exc)
    return error_response(503)


def install(app: FastAPI) -> None:
    """Answer every error of `app` in the one shape (any other failure: see gate, which answers 500 itself
    rather than let Starlette's outermost handler close the connection)."""
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    for failure in (SQLAlchemyError, DatabaseError, sqlite3.OperationalError, psycopg.OperationalError):
        app.add_exception_handler(failure, _database_unavailable)
