"""The gate draws only notices its allowlist accepts, whatever the notice store holds."""

from __future__ import annotations

from gatekit import START, make_app
from qrscreen import decode_screen, screen_lines

from kiosk.domain.config import Config
from kiosk.domain.models import Notice
from storage.notices import NoticeStore

OFFICIAL = Notice("n1", "校门通行规则", "https://news.bnu.edu.cn/gate.htm", START.isoformat(), "local")
OFF_LIST = Notice(
    "n2", "请重新登录", "https://bnu-edu.cn/login", START.replace(hour=8).isoformat(), "local", title_en="Log in"
)
"""Newer, so first in turn if it were drawn: added while the allowlist was wider (or by an older version)."""


async def test_a_stored_notice_off_the_allowlist_is_never_drawn(config: Config) -> None:
    store = NoticeStore(config.data_dir)
    store.add(OFFICIAL)
    store.add(OFF_LIST)
    app = make_app(config, ())
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        seen = set()
        for _ in range(3):
            seen.add(decode_screen(screen_lines(app)))
            app.clock.advance(config.notices.rotation)  # type: ignore[attr-defined]
            app.notice_area.tick()
            await pilot.pause()
        assert seen == {OFFICIAL.url}
        assert "请重新登录" not in "\n".join(screen_lines(app))
