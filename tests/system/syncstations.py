"""Stations for sync tests: each a data directory with its own stores and a Syncer, recording entries as the
gate would."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.domain.config import CenterConfig
from kiosk.domain.models import Direction, Entry, Method, Reading, Reason, Role, Verdict, new_entry_id
from kiosk.station.backoff import Backoff
from kiosk.station.sync import Syncer
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

_VERDICTS = (
    (Verdict.ADMITTED, (Reason.ON_ROSTER,)),
    (Verdict.DENIED, (Reason.NOT_ON_ROSTER,)),
    (Verdict.REFERRED, (Reason.FEVER_REFERRED,)),
)


def gate_entry(station_id: str, number: int, captured: datetime | None = None, verdict_index: int = 0) -> Entry:
    """An entry as the gate records it (seq 0: the store assigns it)."""
    verdict, reasons = _VERDICTS[verdict_index % len(_VERDICTS)]
    return Entry(
        entry_id=new_entry_id(),
        station_id=station_id,
        seq=0,
        person_id=f"2023{number:06d}",
        role=Role.STUDENT,
        name="张三",
        method=Method.SERIAL_SCAN,
        direction=Direction.IN,
        captured_at=(captured or datetime.now().astimezone()).isoformat(timespec="seconds"),
        monotonic=time.monotonic(),
        verdict=verdict,
        reasons=reasons,
        rules_version="test",
        operator="T1001",
    )


@dataclass
class SyncStation:
    """One station's data directory, stores and syncer."""

    station_id: str
    root: Path
    url: str
    token: str
    timeout: float = 2.0
    batch_size: int = 500
    rand: random.Random = field(default_factory=lambda: random.Random(1))

    def __post_init__(self) -> None:
        data = self.root / self.station_id
        self.store = EntryStore(data)
        self.roster = RosterStore(data)
        self.notices = NoticeStore(data)
        center = CenterConfig(url=self.url, timeout=self.timeout, batch_size=self.batch_size, sync_interval=1)
        self.syncer = Syncer(
            center,
            self.station_id,
            self.store,
            self.roster,
            self.notices,
            self.token,
            backoff=Backoff(base=0.01, cap=0.05, rand=self.rand.random),
        )
        self.recorded: list[Entry] = []

    def record(self, count: int, captured: datetime | None = None) -> list[Entry]:
        """Record `count` new entries (a third denied or referred)."""
        made = [
            self.store.record(gate_entry(self.station_id, len(self.recorded) + i, captured, self.rand.randrange(3)))
            for i in range(count)
        ]
        self.recorded.extend(made)
        return made

    def amend_some(self, count: int) -> None:
        """Add a temperature reading to `count` earlier entries: their next revision must reach the center too."""
        for entry in self.rand.sample(self.recorded, min(count, len(self.recorded))):
            current = self.latest(entry.entry_id)
            reading = Reading(36.5 + current.revision / 10, current.captured_at, "T1001")
            self.store.record(current.amended(readings=(*current.readings, reading)))

    def latest(self, entry_id: str) -> Entry:
        day = next(e.day for e in self.recorded if e.entry_id == entry_id)
        return next(e for e in self.store.entries_of_day(day) if e.entry_id == entry_id)

    def all_entries(self) -> list[Entry]:
        return [e for day in self.store.days() for e in self.store.entries_of_day(day)]

    def versions(self) -> set[tuple[str, int]]:
        """(entry_id, revision) of the newest revision of every entry this station holds."""
        return {(e.entry_id, e.revision) for e in self.all_entries()}

    def close(self) -> None:
        self.syncer.close()
        self.store.close()


def yesterday_noon() -> datetime:
    return (datetime.now().astimezone() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
