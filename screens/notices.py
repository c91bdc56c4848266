"""The notices screen: every notice the station holds, a large code for the selected one, and a form to add one.

Notices the gate may not show (refused at the last refresh from the center, or no longer on the allowlist) are
listed with ✗ and the reason, and get no code.

Pushed by the gate for a duty officer; dismisses with True when a notice was added (the gate then reloads its
codes), False otherwise. Escape goes back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static

from kiosk.domain.clock import SystemClock
from kiosk.domain.i18n import both
from kiosk.domain.models import Notice
from kiosk.domain.notices import NoticeRefused, RefusedNotice, make_local_notice, notice_problem
from screens.widgets.notice_qr import QRCanvas
from storage.files import StoreError


class NoticeSource(Protocol):
    """What the screen needs of a NoticeStore."""

    def all(self) -> list[Notice]: ...

    def refused(self) -> list[RefusedNotice]: ...

    def add(self, notice: Notice) -> None: ...


class NoticesScreen(Screen[bool]):
    """All notices with the selected one's code; adding checks the URL against the allowlist first."""

    CSS_PATH = "notices.tcss"
    BINDINGS = [Binding("escape", "back", both("notices.back"))]

    def __init__(
        self,
        store: NoticeSource,
        allowed_domains: Sequence[str],
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._allowed = tuple(allowed_domains)
        self._now = now or SystemClock().now
        self._notices: list[Notice] = []
        self._problems: list[str | None] = []
        """Why the gate may not show each of `_notices`, or None."""
        self._added = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="notices-body"):
            with Vertical(id="notices-side"):
                yield Static(both("notices.heading"), classes="heading")
                yield DataTable(id="notices-table", cursor_type="row", zebra_stripes=True)
                yield Static(both("notices.add_heading"), classes="heading")
                yield Input(placeholder=both("notices.title"), id="notice-title")
                yield Input(placeholder="https://…", id="notice-url")
                yield Input(placeholder=both("notices.title_en"), id="notice-title-en")
                yield Button(both("notices.add"), id="notice-add", variant="primary")
                yield Static(id="notice-feedback", markup=False)
            with Vertical(id="notices-preview"):
                yield QRCanvas(id="notices-code")
                yield Static(id="notices-caption", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(both("notices.date"), both("notices.title"), both("notices.source"))
        self._load()

    def _load(self) -> None:
        try:
            held = [(n, notice_problem(n, self._allowed)) for n in self._store.all()]
            refused: list[tuple[Notice, str | None]] = [(r.notice, r.reason) for r in self._store.refused()]
        except StoreError as exc:
            self._feedback(str(exc), error=True)
            held, refused = [], []
        self._notices = [notice for notice, _ in [*held, *refused]]
        self._problems = [problem for _, problem in [*held, *refused]]
        table = self.query_one(DataTable)
        table.clear()
        for notice, problem in zip(self._notices, self._problems, strict=True):
            hidden = "" if problem is None else "✗ "
            title = " / ".join(t for t in (notice.title, notice.title_en) if t)
            table.add_row(notice.published_at[:10], f"{hidden}{title}", notice.source or "-", key=notice.notice_id)
        self._preview(0)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(event.cursor_row)

    def _preview(self, row: int) -> None:
        canvas = self.query_one("#notices-code", QRCanvas)
        caption = self.query_one("#notices-caption", Static)
        if not 0 <= row < len(self._notices):
            canvas.url = ""
            caption.update(both("notice.none"))
            return
        notice = self._notices[row]
        problem = self._problems[row]
        canvas.url = "" if problem else notice.url
        caption.update(f"{notice.url}\n{both('notice.hidden')}: {problem}" if problem else notice.url)

    @on(Input.Submitted, "#notice-title")
    def _title_entered(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#notice-add")
    @on(Input.Submitted, "#notice-url, #notice-title-en")
    def _add(self) -> None:
        title = self.query_one("#notice-title", Input)
        url = self.query_one("#notice-url", Input)
        title_en = self.query_one("#notice-title-en", Input)
        try:
            notice = make_local_notice(title.value, url.value.strip(), title_en.value, self._allowed, self._now())
            self._store.add(notice)
        except (NoticeRefused, StoreError) as exc:
            self._feedback(str(exc), error=True)
            return
        self._added = True
        for field in (title, url, title_en):
            field.value = ""
        self._feedback(f"{both('notice.added')}: {notice.title}", error=False)
        self._load()
        self.query_one(DataTable).move_cursor(row=self._notices.index(notice) if notice in self._notices else 0)

    def _feedback(self, text: str, *, error: bool) -> None:
        feedback = self.query_one("#notice-feedback", Static)
        feedback.update(text)
        feedback.set_class(error, "-error")

    def action_back(self) -> None:
        self.dismiss(self._added)
