"""The shift handover as a file for the office: `export_handover` writes the shift's entries as a CSV report."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.domain.i18n import Language
from kiosk.station.export import write_documents
from kiosk.station.shift import Handover
from kiosk.station.station import Station


def handover_path(handover: Handover, directory: Path) -> Path:
    """`<directory>/<date>-<staff>-<time>.csv`, named after the shift's officer and the handover time."""
    staff = re.sub(r"[^A-Za-z0-9_.-]", "_", handover.shift.staff_id)
    at = handover.closed_at
    return directory / f"{at:%Y-%m-%d}-{staff}-{at:%H%M%S}.csv"


def export_handover(station: Station, handover: Handover, directory: Path, language: Language = "zh") -> Path:
    """Write the shift's entries as stored up to the handover (unmasked, 0600) and return where."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = handover_path(handover, directory)
    write_documents(station.shift_documents(handover.shift, handover.closed_at), path, "csv", language)
    return path
