"""Messages the App's workers post to the UI thread: events, in the past tense, each field documented."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from kiosk.domain.models import Notice
from kiosk.station.scanner import Rejected, Scanned, ScannerStatus

if TYPE_CHECKING:
    from kiosk.station.sync import SyncStatus


@dataclass
class BadgeScanned(Message):
    """The serial reader read a card number."""

    scanned: Scanned
    """The number, how it was read and when."""


@dataclass
class ScanRejected(Message):
    """The serial reader read a line that is not a card number."""

    rejected: Rejected
    """Why, and a printable excerpt for the audit record."""


@dataclass
class ScannerStatusChanged(Message):
    """The serial reader connected or lost its port."""

    status: ScannerStatus
    """Connected, reconnecting, or keyboard only."""
    detail: str
    """The port and the OS error, for the log only."""


@dataclass
class SyncStatusChanged(Message):
    """A sync pass ended."""

    status: SyncStatus
    """The syncer's status after the pass."""


@dataclass
class NoticesRefreshed(Message):
    """The notices were read again after a sync pass."""

    notices: list[Notice]
    """The newest notices, newest first."""
    stale: str | None
    """The bilingual "may be out of date" warning, or None."""
