"""The notice widget on a real (headless) Textual screen: read the screen's text, decode it like a phone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from qrscreen import decode_screen, find_code, quiet_zone_is_clear, screen_lines, screen_strips
from rich.color import Color
from textual.app import App, ComposeResult

from kiosk.domain.clock import FrozenClock
from kiosk.domain.models import Notice
from kiosk.domain.notices import sort_out
from kiosk.domain.qr import DARK_CHARS
from screens.notices import NoticesScreen
from screens.widgets.notice_qr import NoticeQR
from storage.notices import NoticeStore

SHORT = Notice(
    "n1", "食堂错峰就餐", "https://www.bnu.edu.cn/tzgg/1128.htm", "2026-11-28T06:00:00+08:00", "center",
    title_en="Staggered meal times",
)
MIDDLE = Notice(
    "n2", "宿舍返校须知", "https://news.bnu.edu.cn/zx/ttgz/" + "b" * 40 + ".htm", "2026-11-27T06:00:00+08:00", "center"
)
LONG = Notice("n3", "核酸检测安排", "https://news.bnu.edu.cn/" + "c" * 96, "2026-11-26T06:00:00+08:00", "local")
assert len(LONG.url) == 120
STALE = "公告可能已过期(自 2026-11-27 06:59) / notices may be out of date since 2026-11-27 06:59"


class Host(App[None]):
    """Nothing but the widget, as large as the terminal."""

    def __init__(self, widget: NoticeQR) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 28, 7, 0, tzinfo=timezone(timedelta(hours=8))))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
@pytest.mark.parametrize("notice", [SHORT, MIDDLE, LONG], ids=["short", "middle", "long"])
async def test_the_code_on_screen_decodes_to_the_notice_url(size: tuple[int, int], notice: Notice) -> None:
    app = Host(NoticeQR([notice], rotation=20, clock=clock().monotonic))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        if notice is LONG and size == (80, 24):
            assert "请放大窗口 / enlarge the window" in text
            assert not set(text) & set(DARK_CHARS)
            assert find_code(lines) is None
        else:
            found = find_code(lines)
            assert found is not None and quiet_zone_is_clear(lines, found)
            assert decode_screen(lines) == notice.url
            assert notice.title in text


async def test_the_code_is_black_on_white_whatever_the_theme() -> None:
    app = Host(NoticeQR([MIDDLE], clock=clock().monotonic))
    app.theme = "textual-dark"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        found = find_code(screen_lines(app))
        assert found is not None
        strips = screen_strips(app)
        code_rows = strips[found.row - 2 : found.row + (found.size + 1) // 2 + 2]
        styles = {
            segment.style
            for strip in code_rows
            for segment in strip
            if segment.text.strip(" ") and set(segment.text) <= set(DARK_CHARS + " ")
        }
        assert styles
        for style in styles:
            assert style.color is not None and style.color.get_truecolor() == Color.parse("#000000").get_truecolor()
            assert style.bgcolor is not None and style.bgcolor.get_truecolor() == Color.parse("#ffffff").get_truecolor()


async def test_the_code_follows_a_resize() -> None:
    app = Host(NoticeQR([LONG], clock=clock().monotonic))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert decode_screen(screen_lines(app)) is None
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        assert decode_screen(screen_lines(app)) == LONG.url
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        lines = screen_lines(app)
        assert decode_screen(lines) is None and "enlarge the window" in "\n".join(lines)


async def test_notices_rotate_with_the_clock() -> None:
    frozen = clock()
    widget = NoticeQR([SHORT, MIDDLE], rotation=20, clock=frozen.monotonic)
    app = Host(widget)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert decode_screen(screen_lines(app)) == SHORT.url
        assert "(1/2)" in "\n".join(screen_lines(app))
        frozen.advance(19)
        widget.tick()
        await pilot.pause()
        assert decode_screen(screen_lines(app)) == SHORT.url
        frozen.advance(1)
        widget.tick()
        await pilot.pause()
        assert widget.current == MIDDLE
        assert decode_screen(screen_lines(app)) == MIDDLE.url
        assert "宿舍返校须知  (2/2)" in "\n".join(screen_lines(app))
        widget.show([SHORT, MIDDLE])  # a sync pass with nothing new keeps the rotation going
        await pilot.pause()
        assert widget.current == MIDDLE
        frozen.advance(20)
        widget.tick()
        await pilot.pause()
        assert decode_screen(screen_lines(app)) == SHORT.url


async def test_the_title_order_follows_the_language() -> None:
    widget = NoticeQR([SHORT], clock=clock().monotonic, language="en")
    app = Host(widget)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert text.index("Staggered meal times") < text.index("食堂错峰就餐")
        widget.language = "zh"
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert text.index("食堂错峰就餐") < text.index("Staggered meal times")


async def test_the_stale_warning_shows_and_goes() -> None:
    widget = NoticeQR([SHORT], clock=clock().monotonic, stale=STALE)
    app = Host(widget)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "公告可能已过期(自 2026-11-27 06:59)" in text and "notices may be out of date since" in text
        assert decode_screen(screen_lines(app)) == SHORT.url
        widget.show([MIDDLE], stale=None)
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "notices may be out of date" not in text
        assert decode_screen(screen_lines(app)) == MIDDLE.url


async def test_no_notices_says_so() -> None:
    app = Host(NoticeQR([], clock=clock().monotonic))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "暂无公告 / No notices" in text and find_code(screen_lines(app)) is None


class StaffHost(App[None]):
    """Opens the notices screen and keeps what it returns."""

    def __init__(self, store: NoticeStore) -> None:
        super().__init__()
        self.store = store
        self.returned: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(NoticesScreen(self.store, ["bnu.edu.cn"], clock().now), self.returned.append)


def shown(app: App, text: str) -> bool:
    """True when `text` is on screen, however it was wrapped."""
    return "".join(text.split()) in "".join("".join(screen_lines(app)).split())


async def type_into(pilot, selector: str, text: str) -> None:
    await pilot.click(selector)
    await pilot.press(*text)


async def test_the_notices_screen_refuses_a_look_alike_and_stores_a_good_one(tmp_path: Path) -> None:
    store = NoticeStore(tmp_path)
    store.add(SHORT)
    app = StaffHost(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert decode_screen(screen_lines(app)) == SHORT.url
        app.screen.query_one("#notice-title").value = "宿舍返校须知"
        await type_into(pilot, "#notice-url", "https://bnu.edu.cn.evil.com/x")
        await pilot.press("enter")
        await pilot.pause()
        assert shown(app, "公告被拒绝 / notice refused") and shown(app, "not an authoritative source")
        assert store.all() == [SHORT]

        url = app.screen.query_one("#notice-url")
        url.value = ""
        await type_into(pilot, "#notice-url", "https://news.bnu.edu.cn/back.htm")
        await pilot.click("#notice-add")
        await pilot.pause()
        assert shown(app, "公告已添加 / notice added")
        added = [n for n in store.all() if n.url == "https://news.bnu.edu.cn/back.htm"]
        assert len(added) == 1 and added[0].title == "宿舍返校须知" and added[0].source == "local"
        assert decode_screen(screen_lines(app)) == "https://news.bnu.edu.cn/back.htm"

        await pilot.press("escape")
        await pilot.pause()
    assert app.returned == [True]


async def test_the_notices_screen_follows_the_selection_and_shows_refused_notices_without_a_code(
    tmp_path: Path,
) -> None:
    store = NoticeStore(tmp_path)
    off_list = Notice("x", "旧通知", "https://old.example.edu.cn/1", "2026-11-01T08:00:00+08:00", "center")
    kept, refused = sort_out([SHORT, MIDDLE, off_list], ["bnu.edu.cn"])  # as a refresh from the center sorts them
    store.replace_from_center(kept, "2026-11-28T06:00:00+08:00", refused)
    assert store.all() == [SHORT, MIDDLE] and [r.notice for r in store.refused()] == [off_list]
    app = StaffHost(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#notices-table")
        table.focus()
        assert decode_screen(screen_lines(app)) == SHORT.url
        await pilot.press("down")
        await pilot.pause()
        assert decode_screen(screen_lines(app)) == MIDDLE.url
        await pilot.press("down")
        await pilot.pause()
        assert find_code(screen_lines(app)) is None and shown(app, "不在闸机显示 / not shown at the gate")
        assert shown(app, "old.example.edu.cn is not an authoritative source")
        await pilot.press("escape")
        await pilot.pause()
    assert app.returned == [False]
