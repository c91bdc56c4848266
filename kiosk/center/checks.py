"""Checks shared by everything the center accepts: text without control characters, strict RFC 3339 times.

A time is `YYYY-MM-DDTHH:MM:SS[.ffffff]` with `Z` or a `±HH:MM` offset of at most 14 hours, its local date in
1970-2199: a station whose clock was reset still has its entries taken (and shows up as clock-off in the
completeness report), while years like 1 or 9999 — which overflow as soon as they are moved to UTC — are refused.
The patterns are exact (valid dates only, leap years included), so that the OpenAPI document says precisely what
the center takes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_YEAR = r"(?:19[7-9][0-9]|2[01][0-9][0-9])"
_LEAP_YEAR = r"(?:19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26])|21(?:0[48]|[2468][048]|[13579][26]))"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"  # months of 31 days
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"  # of 30
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"  # February; the 29th only in leap years, below
)
_DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
_OFFSET = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
DATE_PATTERN = f"^{_DATE}$"
"""A calendar date in 1970-2199, exactly: the OpenAPI document gives this pattern, and the center checks it."""
MOMENT_PATTERN = f"^{_DATE}T{_TIME}{_OFFSET}$"
"""A time with its offset, exactly as the center takes it (see check_moment)."""
LOCAL_MOMENT_PATTERN = f"^{_DATE}T{_TIME}{_OFFSET}?$"
"""The same with the offset optional (a query's time without one is UTC)."""
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""What text may hold, for the OpenAPI document (lone surrogates cannot travel in UTF-8 anyway)."""
_MOMENT = re.compile(MOMENT_PATTERN[1:-1])
_LOCAL_MOMENT = re.compile(LOCAL_MOMENT_PATTERN[1:-1])
_CALENDAR_DATE = re.compile(DATE_PATTERN[1:-1])
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
    if not (value.isascii() and value.isprintable()) and _FORBIDDEN.search(value):  # most ids: the C fast path
        raise Invalid("含控制字符或无效字符 / contains a control or invalid character")
    return value


def check_date(value: Any) -> str:
    """`value` if it is a date YYYY-MM-DD in 1970-2199."""
    if not isinstance(value, str) or not _CALENDAR_DATE.fullmatch(value):
        raise Invalid(
            f"日期应为 1970 至 2199 年间的 YYYY-MM-DD / the date must be YYYY-MM-DD in 1970-2199: {value!r:.40}"
        )
    return value


def check_moment(value: Any, naive_is_utc: bool = False) -> datetime:
    """The aware time that `value` names: RFC 3339 with `Z` or an offset of at most 14 hours, its local date
    and time in 1970-2199 (MOMENT_PATTERN, exactly). With `naive_is_utc`, a time without offset is taken as UTC.
    """
    pattern = _LOCAL_MOMENT if naive_is_utc else _MOMENT
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Invalid(
            "应为 1970 至 2199 年间带时区的 RFC 3339 时间,如 2026-11-28T07:30:00+08:00"
            " / must be an RFC 3339 time with an offset in 1970-2199, e.g. 2026-11-28T07:30:00+08:00"
        )
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
