"""Notices published by the center for every gate, checked against the URL allowlist before they are stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from kiosk.center.db import Database, notices, utc_now
from kiosk.domain.models import Notice, new_entry_id
from kiosk.domain.notices import NoticeRefused, title_problem, url_problem


def publish(
    db: Database,
    allowed_domains: Sequence[str],
    title: str,
    url: str,
    title_en: str = "",
    source: str = "",
    published_at: datetime | None = None,
) -> Notice:
    """Store a notice; raises NoticeRefused with the bilingual reason when its URL or title may not be shown."""
    problem = url_problem(url, allowed_domains) or title_problem(title)
    if problem is None and title_en.strip():
        problem = title_problem(title_en)
    if problem is not None:
        raise NoticeRefused(problem)
    moment = published_at if published_at is not None else datetime.now(UTC)
    # Kept in UTC so that the text sorts by time; a time without offset is taken as UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    notice = Notice(
        notice_id=new_entry_id(),
        title=title.strip(),
        url=url,
        published_at=moment.isoformat(timespec="seconds"),
        source=source.strip(),
        title_en=title_en.strip(),
    )
    with db.write() as conn:
        row = notice.to_dict()
        del row["received_at"]  # a station's own bookkeeping
        conn.execute(notices.insert().values(**row, created_at=utc_now()))
    return notice


def newest_first(db: Database) -> list[Notice]:
    with db.read() as conn:
        rows = conn.execute(
            select(notices).order_by(notices.c.published_at.desc(), notices.c.created_at.desc())
        ).mappings()
        return [Notice.from_dict(dict(row)) for row in rows]


def retire(db: Database, notice_id: str) -> Notice | None:
    """Take a notice off every gate (stations take the center's list as the truth); the retired one, or None."""
    with db.write() as conn:
        row = conn.execute(select(notices).where(notices.c.notice_id == notice_id)).mappings().first()
        if row is None:
            return None
        conn.execute(notices.delete().where(notices.c.notice_id == notice_id))
    return Notice.from_dict(dict(row))
