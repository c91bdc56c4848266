"""Which notices the gate may show, and when: the URL allowlist, local notices, staleness and rotation.

Only authoritative information reaches the gate: an https URL whose host is an allowed domain or a subdomain
of one, matched label by label. The rules, decided once and applied to the center's notices and to local ones:

- the URL is printable ASCII only, at most `MAX_URL_LENGTH` characters: whitespace, control characters,
  backslashes and raw non-ASCII are refused (browsers "repair" them differently, which is how look-alikes
  slip through); non-ASCII paths must be percent-encoded;
- the scheme is https; no user name or password (`https://bnu.edu.cn@evil.com` goes to evil.com);
- no explicit port, not even :443 — official sites serve on the default port, and a port means another service;
- the host is a DNS name (letters, digits, hyphens; no IP address, no trailing dot) equal to an allowed
  domain or ending in "." + an allowed domain, so `evilbnu.edu.cn` and `bnu.edu.cn.evil.com` are refused;
- punycode (`xn--`) labels are accepted only when the whole host is exactly an allowed domain, since an
  internationalised name can imitate a listed one glyph for glyph.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from kiosk.domain.i18n import both
from kiosk.domain.models import Notice, new_entry_id

MAX_URL_LENGTH = 200
"""Longer URLs make a QR code too dense for a terminal (version 10 at level M holds 213 bytes)."""
MAX_TITLE_LENGTH = 60
LOCAL_SOURCE = "local"
"""`source` of a notice added at this station; the center's refresh keeps these (storage/notices.py)."""

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class NoticeRefused(ValueError):
    """A notice that must not be shown; the message is the bilingual reason."""


def url_problem(url: str, allowed_domains: Sequence[str]) -> str | None:
    """Why `url` may not be shown at the gate (bilingual), or None when it is an authoritative https URL."""
    if not url:
        return both("notice.url.empty")
    if len(url) > MAX_URL_LENGTH:
        return both("notice.url.too_long", limit=MAX_URL_LENGTH)
    if not _PRINTABLE_ASCII.fullmatch(url) or "\\" in url:
        return both("notice.url.characters")
    if not url.lower().startswith("https://"):
        return both("notice.url.https")
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # an unbalanced "[" makes urlsplit look for an IPv6 address and give up
        return both("notice.url.host")
    if not netloc:
        return both("notice.url.no_host")
    if "@" in netloc:
        return both("notice.url.userinfo")
    if "[" in netloc or "]" in netloc:  # an IP address literal, not a name
        return both("notice.url.host")
    if ":" in netloc:
        return both("notice.url.port")
    host = netloc.lower()
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return both("notice.url.host")
    allowed = [domain.strip().strip(".").lower() for domain in allowed_domains if domain.strip().strip(".")]
    if host in allowed:
        return None
    if any(label.startswith("xn--") for label in labels):
        return both("notice.url.punycode")
    if any(host.endswith("." + domain) for domain in allowed):
        return None
    return both("notice.url.domain", host=host, allowed=", ".join(allowed) or "-")


@dataclass(frozen=True)
class RefusedNotice:
    """A notice this station will not show at its gate, and why."""

    notice: Notice
    reason: str
    """The bilingual reason (from `notice_problem`)."""


def notice_problem(notice: Notice, allowed_domains: Sequence[str]) -> str | None:
    """Why the gate may not show `notice` (bilingual), or None: the one decision on what the gate may show.

    Applied where notices enter the station (sync, `kiosk notices add`, the notices screen) and again where the
    gate draws them, since the allowlist may have changed since a notice was stored.

    Length and emptiness of titles are checked where a notice is written (`make_local_notice`, the center's
    publish); here only what makes a notice unsafe to draw: its URL, and control characters in its titles.
    """
    if any(_has_control(title) for title in (notice.title, notice.title_en)):
        return both("notice.title.characters")
    return url_problem(notice.url, allowed_domains)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char).startswith("C") for char in text)


def sort_out(notices: Sequence[Notice], allowed_domains: Sequence[str]) -> tuple[list[Notice], list[RefusedNotice]]:
    """The notices the gate may show, and the refused ones with their reasons; order is kept."""
    shown: list[Notice] = []
    refused: list[RefusedNotice] = []
    for notice in notices:
        problem = notice_problem(notice, allowed_domains)
        if problem is None:
            shown.append(notice)
        else:
            refused.append(RefusedNotice(notice, problem))
    return shown, refused


def showable(notices: Sequence[Notice], allowed_domains: Sequence[str]) -> list[Notice]:
    """The notices the gate may show now (`notice_problem` finds nothing), in their order."""
    return sort_out(notices, allowed_domains)[0]


def title_problem(title: str) -> str | None:
    """Why `title` cannot head a notice (bilingual), or None."""
    if not title.strip():
        return both("notice.title.empty")
    if len(title.strip()) > MAX_TITLE_LENGTH:
        return both("notice.title.too_long", limit=MAX_TITLE_LENGTH)
    if _has_control(title):
        return both("notice.title.characters")
    return None


def make_local_notice(
    title: str,
    url: str,
    title_en: str,
    allowed: Sequence[str],
    now: datetime,
    office: str = "",
) -> Notice:
    """A notice added by a duty officer at this station; raises NoticeRefused with the bilingual reason.

    `office` names who issued it (shown as the source, e.g. "local:校医院"); the notice stays local either way.
    """
    stamp = now.isoformat(timespec="seconds")
    notice = Notice(
        notice_id=f"{LOCAL_SOURCE}-{new_entry_id()}",
        title=title.strip(),
        url=url,
        published_at=stamp,
        source=f"{LOCAL_SOURCE}:{office.strip()}" if office.strip() else LOCAL_SOURCE,
        title_en=title_en.strip(),
        received_at=stamp,
    )
    # Checked on what the user typed: a title of blanks or over-long before stripping is refused too.
    problem = notice_problem(replace(notice, title=title, title_en=title_en), allowed) or title_problem(title)
    if problem is None and title_en.strip():
        problem = title_problem(title_en)
    if problem is None and office.strip():
        problem = title_problem(office)
    if problem is not None:
        raise NoticeRefused(f"{both('notice.refused')}: {problem}")
    return notice


def stale_since(last_refresh: str | None, now: datetime, stale_after_hours: float) -> str | None:
    """The bilingual "notices may be out of date" warning, or None while the last refresh is recent enough.

    `last_refresh` is the ISO time of the last refresh from the center (NoticeStore.last_refresh); None or an
    unreadable value counts as never refreshed.
    """
    try:
        refreshed = datetime.fromisoformat(last_refresh) if last_refresh else None
    except ValueError:
        refreshed = None
    if refreshed is None:
        return both("notice.stale_never")
    if (refreshed.tzinfo is None) != (now.tzinfo is None):
        refreshed = refreshed.replace(tzinfo=now.tzinfo)
    if now - refreshed <= timedelta(hours=stale_after_hours):
        return None
    shown = refreshed.astimezone(now.tzinfo) if now.tzinfo is not None else refreshed
    return both("notice.stale", since=shown.strftime("%Y-%m-%d %H:%M"))


def rotation_index(elapsed_seconds: float, rotation_seconds: float, count: int) -> int:
    """Which of `count` notices is on screen `elapsed_seconds` after the rotation started (0 when none)."""
    if count <= 0 or rotation_seconds <= 0 or elapsed_seconds <= 0:
        return 0
    return int(elapsed_seconds // rotation_seconds) % count
