"""The verdict, readable from two metres by anyone: a large block-drawn symbol whose *shape* says the verdict
(a tick, a cross, a plus, an exclamation mark) above the words in both languages, on the verdict's colour.

`verdict_view` turns what happened into the lines to draw (pure, tested without a screen); `VerdictPanel`
draws them, on the gate and, as `VerdictOverlay`, over whatever staff screen or dialog is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.align import Align
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from kiosk.domain.i18n import Language, t
from kiosk.domain.models import Entry, Verdict
from kiosk.domain.privacy import mask_id, mask_name
from kiosk.station.scanner import Rejected
from kiosk.station.station import Outcome

_CSS = (Path(__file__).parent / "verdict.tcss").read_text(encoding="utf-8")

GLYPHS: dict[str, tuple[str, ...]] = {
    "admitted": (
        "        ██",
        "       ██ ",
        "██    ██  ",
        " ██  ██   ",
        "  ████    ",
    ),
    "denied": (
        "██    ██",
        " ██  ██ ",
        "  ████  ",
        " ██  ██ ",
        "██    ██",
    ),
    "referred": (
        "   ██   ",
        "   ██   ",
        "████████",
        "   ██   ",
        "   ██   ",
    ),
    "rejected": (
        "  ██  ",
        "  ██  ",
        "  ██  ",
        "      ",
        "  ██  ",
    ),
    "waiting": (
        "          ",
        "          ",
        "          ",
        "          ",
        "██  ██  ██",
    ),
}
"""Five rows each; every verdict a different shape, so that colour is never the only difference."""
SYMBOLS = {Verdict.ADMITTED: "✔", Verdict.DENIED: "✘", Verdict.REFERRED: "✚"}


@dataclass(frozen=True)
class VerdictView:
    """What the verdict panel draws."""

    look: str
    """The CSS class: "-admitted", "-denied", "-referred", "-duplicate", "-rejected", "-waiting" or "-idle"."""
    glyph: str
    """A key of GLYPHS, or "" for none."""
    main: str
    """The verdict in the current language, with its one-cell symbol."""
    lines: tuple[str, ...]
    """The reason, the other language, the masked person."""


def verdict_view(shown: Outcome | Rejected | str | None, person_id: str, language: Language) -> VerdictView:
    """The lines for an outcome, a rejected scan, "waiting" (held while the roster loads) or None (the prompt)."""
    other: Language = "en" if language == "zh" else "zh"
    if shown == "waiting":
        return VerdictView("-waiting", "waiting", "…  " + t("gate.loading", language), (t("gate.loading", other),))
    if isinstance(shown, Rejected):
        return VerdictView(
            "-rejected",
            "rejected",
            "⚠  " + t("scan.rejected", language),
            (shown.message(language), shown.message(other)),
        )
    if not isinstance(shown, Outcome):
        return VerdictView("-idle", "", t("scan.prompt", language), (t("scan.prompt", other),))
    if shown.duplicate or shown.decision is None:
        return _repeat(shown.earlier, person_id, language, other)
    verdict = shown.decision.verdict
    reasons = [f"reason.{r}" for r in shown.decision.reasons]
    if shown.needs_remeasure:
        reasons.append("gate.remeasure")
    entry = shown.entry
    who = _who(entry) if entry else mask_id(person_id)
    return VerdictView(
        f"-{verdict}",
        str(verdict),
        f"{SYMBOLS[verdict]}  {t(f'verdict.{verdict}', language)}",
        (_say(reasons, language), f"{t(f'verdict.{verdict}', other)} · {_say(reasons, other)}", who),
    )


def _repeat(earlier: Entry | None, person_id: str, language: Language, other: Language) -> VerdictView:
    """A repeat scan shows the earlier verdict: denied stays red and referred orange, with the reason."""
    again = f"↻ {t('verdict.duplicate', language)}"
    if earlier is None:
        return VerdictView("-duplicate", "", again, (t("verdict.duplicate", other), mask_id(person_id)))
    verdict = earlier.verdict
    reasons = [f"reason.{r}" for r in earlier.reasons]
    look = "-duplicate" if verdict is Verdict.ADMITTED else f"-{verdict}"
    return VerdictView(
        look,
        str(verdict),
        f"{SYMBOLS[verdict]}  {t(f'verdict.{verdict}', language)}  ({again})",
        (
            _say(reasons, language),
            f"{t(f'verdict.{verdict}', other)} · {_say(reasons, other)} ({t('verdict.duplicate', other)})",
            _who(earlier),
        ),
    )


def _who(entry: Entry) -> str:
    return f"{mask_name(entry.name)}  {mask_id(entry.person_id)}".strip()


def _say(keys: list[str], language: Language) -> str:
    return (";" if language == "zh" else "; ").join(t(key, language) for key in keys)


class VerdictPanel(Static):
    """The big verdict: the block symbol on the left, the words on the right; the look is a CSS class."""

    DEFAULT_CSS = _CSS
    BESIDE = False
    """The words beside the symbol rather than beneath it (where height is short)."""
    SCOPED_CSS = False  # verdict.tcss styles VerdictOverlay too, which a scoped sheet would only match inside

    def __init__(self, view: VerdictView, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self.view = view

    def on_mount(self) -> None:
        self._draw(self.view)

    def show(self, view: VerdictView) -> None:
        """Draw `view`, unless it is what the panel shows already (the gate redraws it with every status change)."""
        if view != self.view:
            self._draw(view)

    def _draw(self, view: VerdictView) -> None:
        self.view = view
        for look in ("-admitted", "-denied", "-referred", "-duplicate", "-rejected", "-idle", "-waiting"):
            self.set_class(look == view.look, look)
        self.update(self._render_view(view), layout=False)  # its size is the stylesheet's, not the text's

    def _render_view(self, view: VerdictView) -> RenderableType:
        words = Text(view.main, style="bold", justify="center")
        for line in view.lines:
            if line:
                words.append("\n" + line)
        if not view.glyph:
            return words
        glyph = Text("\n".join(GLYPHS[view.glyph]), style="bold", no_wrap=True)
        if not self.BESIDE:
            return Group(Align.center(glyph), Text(""), words)
        words.justify = "left"
        grid = Table.grid(padding=(0, 3))
        grid.add_column(no_wrap=True)
        grid.add_column(vertical="middle")
        grid.add_row(glyph, words)
        return Align.center(grid)


class VerdictOverlay(VerdictPanel):
    """The verdict over a staff screen or dialog, across its foot: a scan is never hidden by the officer's work."""

    BESIDE = True
