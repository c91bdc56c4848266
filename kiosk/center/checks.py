"""Checks shared by everything the center accepts: text without control characters, strict RFC 3339 times.

A time is `YYYY-MM-DDTHH:MM:SS[.ffffff]` with `Z` or a `±HH:MM` offset of at most 14 hours, between 1970 and 2199:
a station whose clock was reset still has its entries taken (and shows up as clock-off in the completeness
report), while years like 1 or 9999 — which overflow as soon as they are moved to UTC — are refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)
MOMENT_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
"""What a time looks like, for the OpenAPI document."""
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""What text may hold, for the OpenAPI document (lone surrogates cannot travel in UTF-8 anyway)."""
_RFC3339 = re.compile(MOMENT_PATTERN[1:-1])
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?")
# C0 and C1 controls (NUL, ESC, newlines...) and lone surrogates, which cannot even be encoded as UTF-8.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class Invalid(ValueError):
    """One field is wrong; the message names it, in Chinese and English."""


def check_text(value: Any, limit: int, required: bool = True) -> str:
    """`value` if it is a string of at most `limit` characters, none of them a control character."""
    if not isinstance(value, str):
        raise Invalid("应为字符串 / must be a string")
    if required and not value.strip():
        raise Invalid("不能为空 / must not be empty")
    if len(value) > limit:
        raise Invalid(f"超过 {limit} 个字符 / longer than {limit} characters")
    if _FORBIDDEN.search(value):
        raise Invalid("含控制字符或无效字符 / contains a control or invalid character")
    return value


def check_moment(value: Any, naive_is_utc: bool = False) -> datetime:
    """The aware time that `value` (RFC 3339 text) names; Invalid for any other form or a time out of range.
    With `naive_is_utc`, a time without offset is also taken, as UTC."""
    if naive_is_utc and isinstance(value, str) and _NAIVE.fullmatch(value):
        value += "+00:00"
    if not isinstance(value, str) or len(value) > 40 or not _RFC3339.fullmatch(value):
        raise Invalid(
            "应为带时区的 RFC 3339 时间,如 2026-11-28T07:30:00+08:00"
            " / must be an RFC 3339 time with an offset, e.g. 2026-11-28T07:30:00+08:00"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("不是有效的日期时间 / not a valid date and time") from None
    return check_range(parsed)


def check_range(moment: datetime) -> datetime:
    """`moment` if its offset and its instant are sane (a naive time counts as UTC)."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise Invalid("时区偏移超过 ±14:00 / the UTC offset is beyond ±14:00")
    aware = moment if offset is not None else moment.replace(tzinfo=UTC)
    # Compare before converting: converting year 1 at +14:00 to UTC overflows.
    if not (EARLIEST.replace(tzinfo=None) <= moment.replace(tzinfo=None) < LATEST.replace(tzinfo=None)):
        raise Invalid("时间应在 1970 至 2199 年之间 / the time must be within the years 1970 to 2199")
    if not EARLIEST <= aware < LATEST:
        raise Invalid("时间应在 1970 至 2199 年之间 / the time must be within the years 1970 to 2199")
    return moment
