"""`KeysFooter`: Textual's footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """Textual rebuilds a footer (its ~20 key widgets) whenever its screen's bindings may have changed: that is
    every time a staff screen opens over the gate and every time it closes, 10-20 ms of the gate's thread each,
    for the same keys. This one is rebuilt only when the keys, their labels or their states differ."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: object = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self._bindings_ready and screen is self.screen and self._keys() == self._shown:
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    def _keys(self) -> object:
        return [
            (key, active.binding, active.enabled, active.tooltip) for key, active in self.screen.active_bindings.items()
        ]
