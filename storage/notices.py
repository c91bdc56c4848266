"""Official notices in a TinyDB file: what the gate shows as QR codes."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiosk.domain.models import Notice
from kiosk.domain.notices import RefusedNotice
from storage.files import AtomicJSONStorage, CorruptFileError, ensure_store_dir, move_aside


class NoticeStore:
    """Notices, newest first, and when they were last refreshed from the center. Thread-safe."""

    def __init__(self, data_dir: Path) -> None:
        self.path = ensure_store_dir(Path(data_dir)) / "notices.json"
        self.warnings: list[str] = []
        self._mutex = threading.Lock()

    def all(self) -> list[Notice]:
        notices = [Notice.from_dict(d) for d in self._read().get("notices", {}).values()]
        return sorted(notices, key=lambda n: (n.published_at, n.notice_id), reverse=True)

    def latest(self, count: int) -> list[Notice]:
        return self.all()[:count]

    @property
    def last_refresh(self) -> str | None:
        """When notices were last received from the center (ISO time), or None if never."""
        refreshed = self._read().get("meta", {}).get("1", {}).get("last_refresh")
        return str(refreshed) if refreshed is not None else None

    def add(self, notice: Notice) -> None:
        """Add or replace one notice (added locally by a duty officer); the caller has checked its URL."""
        with self._mutex:
            data = self._read()
            table = data.setdefault("notices", {})
            kept = {k: v for k, v in table.items() if v["notice_id"] != notice.notice_id}
            kept[str(max((int(k) for k in kept), default=0) + 1)] = notice.to_dict()
            data["notices"] = kept
            AtomicJSONStorage(self.path).write(data)

    def refused(self) -> list[RefusedNotice]:
        """The center's notices this station refused at the last refresh, with the reasons (never on the gate)."""
        rows = self._read().get("refused", {}).values()
        return [
            RefusedNotice(Notice.from_dict({k: v for k, v in r.items() if k != "reason"}), r["reason"]) for r in rows
        ]

    def replace_from_center(
        self, notices: Iterable[Notice], received_at: str, refused: Iterable[RefusedNotice] = ()
    ) -> None:
        """Take the center's list as the truth, keeping notices added locally at this station; `refused` are the
        center's notices this station will not show, kept apart so that the officer can see why."""
        with self._mutex:
            data = self._read()
            # "local" or "local:<office>" (kiosk/domain/notices.py): added here, unknown to the center
            local = [v for v in data.get("notices", {}).values() if str(v.get("source")).partition(":")[0] == "local"]
            rows = [*local, *(n.to_dict() for n in notices)]
            data["notices"] = {str(i): row for i, row in enumerate(rows, start=1)}
            data["meta"] = {"1": {"last_refresh": received_at}}
            data["refused"] = {
                str(i): {**r.notice.to_dict(), "reason": r.reason} for i, r in enumerate(refused, start=1)
            }
            AtomicJSONStorage(self.path).write(data)

    def _read(self) -> dict[str, Any]:
        try:
            return AtomicJSONStorage(self.path).read() or {}
        except CorruptFileError as exc:
            aside = move_aside(self.path)
            self.warnings.append(f"{exc}; 已移至 / moved to {aside.name}")
            return {}
