"""RFID readers that send the card's UID, not the student number, through a real pseudo-terminal: every
`[scanner] card_format` finds the right person in one roster, and a lost card is denied with its own reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from test_serial_pty import PtyDevice, Recorder, start_reader

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config, parse_config
from kiosk.domain.models import Method, Person, Reason, Role, Verdict
from kiosk.station.scanner import Scanned, ScannerStatus
from kiosk.station.station import Station
from storage.entries import EntryStore
from storage.roster import RosterStore

UID = bytes.fromhex("DEADBEEF")
LOST_UID = bytes.fromhex("01020304")
ROSTER = [
    # The card office lists card numbers as the decimal value of the UID (物理卡号), as most card systems do.
    Person("2019010211", "张三", Role.STUDENT, card_nos=(str(int.from_bytes(UID, "big")),)),
    Person("2019010212", "李四", Role.STUDENT, card_nos=("99",), lost_cards=(str(int.from_bytes(LOST_UID, "big")),)),
]
SENT = {
    "decimal": lambda uid: str(int.from_bytes(uid, "big")).zfill(10),
    "hex": lambda uid: uid.hex().upper(),
    "hex-reversed": lambda uid: uid[::-1].hex().upper(),
    "as-is": lambda uid: str(int.from_bytes(uid, "big")),
}


@pytest.fixture
def device(tmp_path: Path) -> Iterator[PtyDevice]:
    device = PtyDevice(tmp_path / "usb-rfid-reader-if00")
    device.plug()
    yield device
    device.unplug()


def read_lines(device: PtyDevice, lines: list[str]) -> list[str]:
    """What the reader thread delivers when the card reader sends `lines` over the pty."""
    recorder = Recorder()
    reader, thread = start_reader(str(device.path), recorder)
    try:
        recorder.wait_status(ScannerStatus.CONNECTED)
        device.write(*(f"{line}\r\n".encode() for line in lines))
        recorder.wait_for(lambda _: len(recorder.results()) == len(lines))
    finally:
        reader.stop()
        thread.join(2.0)
    scanned = [r for r in recorder.results() if isinstance(r, Scanned)]
    assert [s.method for s in scanned] == [Method.SERIAL_SCAN] * len(lines)
    return [s.person_id for s in scanned]


def station(tmp_path: Path, card_format: str) -> tuple[Station, EntryStore]:
    config: Config = parse_config(f'[scanner]\ncard_format = "{card_format}"\n[rules]\nduplicate_window = 0\n')
    roster = RosterStore(tmp_path / card_format)
    roster.replace_all(ROSTER)
    store = EntryStore(tmp_path / card_format)
    clock = FrozenClock(datetime.fromisoformat("2026-03-02T07:30:00+08:00"))
    return Station(config, store, roster, clock), store


@pytest.mark.parametrize("card_format", list(SENT))
def test_every_reader_format_finds_the_card_holder(tmp_path: Path, device: PtyDevice, card_format: str) -> None:
    sent = [SENT[card_format](UID), SENT[card_format](LOST_UID), "2019010212"]
    gate, store = station(tmp_path, card_format)
    try:
        outcomes = [gate.scan(text, Method.SERIAL_SCAN) for text in read_lines(device, sent)]
        entries = [outcome.entry for outcome in outcomes]
        assert all(entry is not None for entry in entries)
        card, lost, typed_id = entries  # type: ignore[misc]
        assert (card.person_id, card.name, card.verdict) == ("2019010211", "张三", Verdict.ADMITTED)
        assert (lost.person_id, lost.verdict, lost.reasons) == ("2019010212", Verdict.DENIED, (Reason.CARD_LOST,))
        assert typed_id.verdict is Verdict.ADMITTED, "the person's ID still works; only the lost card is refused"
        audit = store.audit_of_day("2026-03-02")
        assert [(a["kind"], a["detail"]) for a in audit] == [
            ("card_lost", f"card={int.from_bytes(LOST_UID, 'big')} person_id=2019010212")
        ]
    finally:
        store.close()


def test_a_reader_sending_another_format_matches_nobody(tmp_path: Path, device: PtyDevice) -> None:
    gate, store = station(tmp_path, "hex")
    try:
        [scanned] = read_lines(device, [SENT["hex-reversed"](UID)])
        outcome = gate.scan(scanned, Method.SERIAL_SCAN)
        assert outcome.entry is not None and outcome.entry.reasons == (Reason.NOT_ON_ROSTER,)
    finally:
        store.close()
