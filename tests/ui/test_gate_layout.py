"""The gate's layout at ordinary terminal sizes: the notice code is readable beside the verdict, the footer fits."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gatekit import START, make_app, scan, screen_text
from qrscreen import decode_screen, find_code, quiet_zone_is_clear, screen_lines

from kiosk.domain.config import Config, UIConfig
from kiosk.domain.models import Notice, Person
from storage.notices import NoticeStore

URL_80 = "https://news.bnu.edu.cn/zx/ttgz/2026-11-28/notice-on-campus-gate-entry-rules.htm"
assert len(URL_80) == 80


def notice(url: str) -> Notice:
    return Notice("n-1", "关于校门通行规则的通知", url, START.isoformat(), "center", title_en="Campus gate rules")


@pytest.mark.parametrize("size", [(100, 30), (120, 40), (160, 48)], ids=["100x30", "120x40", "160x48"])
@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_notice_code_on_the_gate_decodes(
    config: Config, people: tuple[Person, ...], size: tuple[int, int], language: str
) -> None:
    config = replace(config, ui=UIConfig(language=language))  # type: ignore[arg-type]
    NoticeStore(config.data_dir).add(notice(URL_80))
    app = make_app(config, people)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await scan(pilot, "99999999")
        lines = screen_lines(app)
        found = find_code(lines)
        assert found is not None, "\n".join(lines)
        assert quiet_zone_is_clear(lines, found)
        assert decode_screen(lines) == URL_80
        text = screen_text(app)
        assert "9999**99" in text and "关于校门通行规则的通知" in text, "the verdict and the title stay in view"


async def test_a_long_url_asks_for_a_larger_window_at_80x24(config: Config, people: tuple[Person, ...]) -> None:
    NoticeStore(config.data_dir).add(notice(URL_80))
    app = make_app(config, people)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "请放大窗口" in screen_text(app)
        assert find_code(screen_lines(app)) is None


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_every_function_key_fits_80_columns(config: Config, people: tuple[Person, ...], language: str) -> None:
    config = replace(config, ui=UIConfig(language=language))  # type: ignore[arg-type]
    app = make_app(config, people)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = screen_lines(app)[-1]
        assert ("F12 值班" if language == "zh" else "F12 Duty") in footer, footer
