"""Official notices as QR codes that a phone reads from the screen.

API (the gate screen mounts `NoticeQR` in its notice area; the notices screen uses `QRCanvas`):

    NoticeQR(notices, rotation=20, clock=clock.monotonic, language="zh", stale=None)
        notices   list[Notice], newest first (NoticeStore.latest(n)); an empty list shows "暂无公告 / No notices"
        rotation  seconds each notice stays on screen ([notices] rotation)
        clock     monotonic seconds; a FrozenClock's `monotonic` in tests
        language  "zh" or "en": which title comes first (the other follows when the notice has it)
        stale     the bilingual warning from kiosk.domain.notices.stale_since, or None
    .show(notices, stale)   new notices or warning after a sync; the rotation keeps its pace
    .language = "en"        switch the title order
    .tick()                 show the notice due now; runs every second, tests call it after moving the clock
    .current                the Notice on screen, or None

    QRCanvas(url="")        the code alone, sized to the widget; set `.url` to change it

The code is drawn by kiosk.domain.qr (black on white, quiet zone, whole or not at all); the canvas re-renders at every
resize and shows "请放大窗口 / enlarge the window" when the code does not fit. Styles live in notice_qr.tcss
beside this module and are loaded as the widgets' default CSS, so any screen that mounts them gets them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from kiosk.domain.i18n import Language, both
from kiosk.domain.models import Notice
from kiosk.domain.notices import rotation_index
from kiosk.domain.qr import QR_STYLE, render_qr

_CSS = (Path(__file__).parent / "notice_qr.tcss").read_text(encoding="utf-8")


class QRCanvas(Widget):
    """A QR code of `url` drawn as large as one module per cell allows, or the enlarge message."""

    DEFAULT_CSS = _CSS

    url: reactive[str] = reactive("")

    def __init__(self, url: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.url = url

    def render(self) -> Text:
        if not self.url:
            return Text("")
        drawn = render_qr(self.url, self.content_size.width, self.content_size.height)
        if drawn.message is not None:
            return Text(drawn.message, justify="center")
        return Text("\n".join(drawn.lines), style=QR_STYLE, no_wrap=True, overflow="crop")


class NoticeQR(Widget):
    """The latest notices in turn, each as a code with its title under it, and the stale warning above."""

    DEFAULT_CSS = _CSS

    language: reactive[Language] = reactive("zh")

    def __init__(
        self,
        notices: Sequence[Notice],
        rotation: float = 20,
        clock: Callable[[], float] | None = None,
        language: Language = "zh",
        stale: str | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._clock = clock or time.monotonic
        self._rotation = rotation
        self._notices: tuple[Notice, ...] = tuple(notices)
        self._stale = stale
        self._started = self._clock()
        self._index = 0
        self.set_reactive(NoticeQR.language, language)

    @property
    def current(self) -> Notice | None:
        return self._notices[self._index] if self._notices else None

    def compose(self) -> ComposeResult:
        yield Static(id="notice-stale", markup=False)
        yield QRCanvas(id="notice-code")
        yield Static(id="notice-title", markup=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self._show_current)  # the first code (and importing qrcode) after the first paint
        self.set_interval(1.0, self.tick)

    def show(self, notices: Sequence[Notice], stale: str | None = None) -> None:
        """Replace the notices and the warning; the rotation keeps its pace.

        Sync refreshes more often than a notice rotates: restarting the rotation here would pin the newest.
        """
        self._notices = tuple(notices)
        self._stale = stale
        self._index = rotation_index(self._clock() - self._started, self._rotation, len(self._notices))
        self._show_current()

    def tick(self) -> None:
        """Show the notice due now, if it changed."""
        index = rotation_index(self._clock() - self._started, self._rotation, len(self._notices))
        if index != self._index:
            self._index = index
            self._show_current()

    def watch_language(self) -> None:
        if self.is_mounted:
            self._show_current()

    def _show_current(self) -> None:
        if not self.query("#notice-stale"):
            return  # not composed yet (a staff dialog closed within the first paint): on_mount draws it
        stale = self.query_one("#notice-stale", Static)
        stale.update(self._stale or "")
        stale.set_class(bool(self._stale), "-stale")
        notice = self.current
        self.query_one("#notice-code", QRCanvas).url = notice.url if notice else ""
        self.query_one("#notice-title", Static).update(self._title(notice))

    def _title(self, notice: Notice | None) -> str:
        if notice is None:
            return both("notice.none")
        titles = [notice.title, notice.title_en] if self.language == "zh" else [notice.title_en, notice.title]
        lines = [title for title in titles if title]
        if len(self._notices) > 1:
            lines[0] = f"{lines[0]}  ({self._index + 1}/{len(self._notices)})"
        return "\n".join(lines)
