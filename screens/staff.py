"""The staff screens by name, each module imported only when first opened (the gate does not need them to start)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from kiosk.domain.i18n import Language
from kiosk.station.station import Station

if TYPE_CHECKING:
    from screens.notices import NoticeSource


def staff_screen(
    name: str,
    station: Station,
    language: Language,
    notices: NoticeSource,
    allowed_domains: tuple[str, ...],
    now: Callable[[], datetime],
    handover_dir: Path,
) -> Screen[Any]:
    """The staff screen `name`, built from what it needs."""
    if name == "notices":
        from screens.notices import NoticesScreen

        return NoticesScreen(notices, allowed_domains, now=now)
    if name == "handover":
        from screens.handover import HandoverScreen

        return HandoverScreen(station, language, handover_dir)
    if name == "temperature":
        from screens.temperature import TemperatureDialog

        return TemperatureDialog(station, language)
    if name == "manual":
        from screens.manual import ManualEntryScreen

        return ManualEntryScreen(station, language)
    if name == "visitor":
        from screens.visitor import VisitorScreen

        return VisitorScreen(station, language)
    if name == "log":
        from screens.log import EntryLogScreen

        return EntryLogScreen(station, language)
    if name == "stats":
        from screens.stats import StatsScreen

        return StatsScreen(station, language)
    raise ValueError(f"no staff screen named {name!r}")
