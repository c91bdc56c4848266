"""The serial reader against a real pseudo-terminal: scans, garbage, unplug and replug, stopping, the simulator."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.demo.simulator import ScanKind, ScannerSimulator, SimulatedScan, scan_stream
from kiosk.domain.models import Method
from kiosk.station.scanner import Rejected, Scanned, ScannerStatus, SerialReader

Event = Scanned | Rejected | tuple[ScannerStatus, str]
WAIT = 5.0
"""Generous bound for anything to arrive on a loaded 2-core machine; tests pass in well under a second."""


class Recorder:
    """Collects the reader's callbacks from its thread and lets the test wait for them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = threading.Condition()

    def add(self, event: Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[list[Event]], bool], timeout: float = WAIT) -> list[Event]:
        with self._changed:
            assert self._changed.wait_for(lambda: condition(self.events), timeout), self.events
            return list(self.events)

    def statuses(self) -> list[ScannerStatus]:
        return [event[0] for event in self.events if isinstance(event, tuple)]

    def wait_status(self, status: ScannerStatus, count: int = 1) -> None:
        self.wait_for(lambda _: self.statuses().count(status) >= count)

    def results(self) -> list[Scanned | Rejected]:
        return [event for event in self.events if not isinstance(event, tuple)]


class PtyDevice:
    """A scanner on a pty, reached through a symlink, as /dev/serial/by-id/… reaches a USB reader."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fds: tuple[int, int] | None = None

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self._fds = (master, slave)
        staging = self.path.with_suffix(".new")
        staging.symlink_to(os.ttyname(slave))
        staging.replace(self.path)

    def unplug(self) -> None:
        self.path.unlink(missing_ok=True)
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None

    def write(self, *chunks: bytes, pause: float = 0.01) -> None:
        assert self._fds is not None
        for chunk in chunks:
            os.write(self._fds[0], chunk)
            time.sleep(pause)  # separate reads on the far side, like a slow UART


@pytest.fixture
def device(tmp_path: Path) -> Iterator[PtyDevice]:
    device = PtyDevice(tmp_path / "usb-scanner-if00")
    device.plug()
    yield device
    device.unplug()


def start_reader(port: str, recorder: Recorder, **options: object) -> tuple[SerialReader, threading.Thread]:
    reader = SerialReader(
        port,
        on_scan=recorder.add,
        on_rejected=recorder.add,
        on_status=lambda status, detail: recorder.add((status, detail)),
        **({"read_timeout": 0.05, "backoff": (0.05, 0.4)} | options),  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=reader.run, daemon=True)
    thread.start()
    return reader, thread


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def reader(device: PtyDevice, recorder: Recorder) -> Iterator[SerialReader]:
    reader, thread = start_reader(str(device.path), recorder)
    recorder.wait_status(ScannerStatus.CONNECTED)
    yield reader
    reader.stop()
    thread.join(2.0)
    assert not thread.is_alive()


def ids(results: list[Scanned | Rejected]) -> list[str]:
    return [r.person_id if isinstance(r, Scanned) else f"<{r.reason}>" for r in results]


def test_scans_with_any_line_ending_and_split_writes(
    device: PtyDevice, recorder: Recorder, reader: SerialReader
) -> None:
    device.write(b"2023000101\r", b"T10", b"01\r", b"\n2023000102\n", b"20230", b"00103\r\n", b"END0\r")
    # The last scan marks the end: an empty line made of a split CRLF would have come before it.
    recorder.wait_for(lambda _: "END0" in ids(recorder.results()))
    assert ids(recorder.results()) == ["2023000101", "T1001", "2023000102", "2023000103", "END0"]
    assert all(r.method == Method.SERIAL_SCAN for r in recorder.results())


def test_garbage_is_rejected_and_the_reader_keeps_going(
    device: PtyDevice, recorder: Recorder, reader: SerialReader
) -> None:
    device.write(b"\xff\xfe\x80\r", b"2023\x000101\r", b"\x1b[A\r", b"9" * 5000 + b"\r\n", b"12\r", b"T1001\r")
    recorder.wait_for(lambda _: len(recorder.results()) >= 6)
    assert ids(recorder.results()) == ["<not_utf8>", "<control>", "<control>", "<too_long>", "<pattern>", "T1001"]
    overlong = recorder.results()[3]
    assert isinstance(overlong, Rejected) and overlong.length == 65 and overlong.shown.startswith("9999")
    assert recorder.statuses() == [ScannerStatus.CONNECTED]


def test_leftovers_without_a_terminator_are_not_glued_to_the_next_scan(device: PtyDevice, recorder: Recorder) -> None:
    reader, thread = start_reader(str(device.path), recorder, line_timeout=0.2)
    try:
        recorder.wait_status(ScannerStatus.CONNECTED)
        device.write(b"\x00")  # what plugging a cable in can produce
        recorder.wait_for(lambda _: len(recorder.results()) == 1)
        device.write(b"9" * 300)  # a reader streaming junk, then going quiet
        recorder.wait_for(lambda _: len(recorder.results()) == 2)
        time.sleep(0.4)  # past the line timeout: the junk's unterminated tail must not swallow the next scan
        device.write(b"2023000101\r")
        recorder.wait_for(lambda _: len(recorder.results()) == 3)
        assert ids(recorder.results()) == ["<control>", "<too_long>", "2023000101"]
    finally:
        reader.stop()
        thread.join(2.0)


def test_a_pyserial_url_works_and_a_dropped_connection_reconnects(recorder: Recorder) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(WAIT)
        reader, thread = start_reader(f"socket://127.0.0.1:{server.getsockname()[1]}", recorder)
        try:
            connection, _ = server.accept()
            with connection:
                recorder.wait_status(ScannerStatus.CONNECTED)
                connection.sendall(b"T1001\r\n")
                recorder.wait_for(lambda _: len(recorder.results()) == 1)
            recorder.wait_status(ScannerStatus.RECONNECTING)
            connection, _ = server.accept()
            with connection:
                recorder.wait_status(ScannerStatus.CONNECTED, count=2)
                connection.sendall(b"2023000101\r")
                recorder.wait_for(lambda _: len(recorder.results()) == 2)
        finally:
            reader.stop()
            thread.join(2.0)
    assert ids(recorder.results()) == ["T1001", "2023000101"]
    assert not thread.is_alive()


def test_unplug_and_replug_resume_without_restarting(device: PtyDevice, recorder: Recorder) -> None:
    reader, thread = start_reader(str(device.path), recorder)
    try:
        recorder.wait_status(ScannerStatus.CONNECTED)
        device.write(b"2023000101\r")
        recorder.wait_for(lambda _: len(recorder.results()) == 1)

        device.unplug()
        recorder.wait_status(ScannerStatus.RECONNECTING)
        time.sleep(0.5)  # unplugged for a while: several failed reopen attempts (backoff 0.05 s doubling)

        device.plug()
        recorder.wait_status(ScannerStatus.CONNECTED, count=2)
        # Reported once, however many attempts failed: nothing between the two states.
        assert recorder.statuses() == [ScannerStatus.CONNECTED, ScannerStatus.RECONNECTING, ScannerStatus.CONNECTED]
        device.write(b"2023000102\r")
        recorder.wait_for(lambda _: len(recorder.results()) == 2)
        assert ids(recorder.results()) == ["2023000101", "2023000102"]
        assert thread.is_alive()
    finally:
        reader.stop()
        thread.join(2.0)
    assert not thread.is_alive()


def test_a_missing_port_at_start_is_reconnecting_until_it_appears(tmp_path: Path, recorder: Recorder) -> None:
    device = PtyDevice(tmp_path / "not-yet")
    reader, thread = start_reader(str(device.path), recorder)
    try:
        recorder.wait_status(ScannerStatus.RECONNECTING)
        assert "not-yet" in recorder.events[0][1]  # type: ignore[index]
        device.plug()
        recorder.wait_status(ScannerStatus.CONNECTED)
        device.write(b"T1001\r")
        recorder.wait_for(lambda _: ids(recorder.results()) == ["T1001"])
    finally:
        reader.stop()
        thread.join(2.0)
        device.unplug()
    assert not thread.is_alive()


@pytest.mark.parametrize("port", ["bogus://nowhere", "/dev/null", ""])
def test_a_port_that_can_never_work_is_reported_not_raised(port: str, recorder: Recorder) -> None:
    reader, thread = start_reader(port, recorder)
    recorder.wait_status(ScannerStatus.RECONNECTING)
    reader.stop()
    thread.join(2.0)
    assert not thread.is_alive()


def test_a_second_opener_is_kept_out(device: PtyDevice, recorder: Recorder, reader: SerialReader) -> None:
    intruder_events = Recorder()
    intruder, thread = start_reader(str(device.path), intruder_events)
    try:
        intruder_events.wait_status(ScannerStatus.RECONNECTING)
        device.write(b"T1001\r")
        recorder.wait_for(lambda _: ids(recorder.results()) == ["T1001"])
        assert intruder_events.results() == []
    finally:
        intruder.stop()
        thread.join(2.0)


@pytest.mark.parametrize("state", ["connected", "reconnecting"])
def test_stop_wakes_a_blocking_read_and_a_backoff_pause(state: str, device: PtyDevice, recorder: Recorder) -> None:
    """A read timeout and a pause far longer than WAIT: the thread ends within WAIT only if stop() wakes it.
    (How fast it ends is for a benchmark, not a test.)"""
    port = str(device.path) if state == "connected" else "/nonexistent/scanner"
    reader, thread = start_reader(port, recorder, read_timeout=600.0, backoff=(600.0, 600.0))
    recorder.wait_status(ScannerStatus(state))
    time.sleep(0.1)  # into the blocking read, or the pause before the next attempt
    reader.stop()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_should_stop_is_checked_every_read_timeout(device: PtyDevice, recorder: Recorder) -> None:
    cancelled = threading.Event()
    reader = SerialReader(
        str(device.path),
        on_scan=recorder.add,
        on_rejected=recorder.add,
        on_status=lambda status, detail: recorder.add((status, detail)),
        read_timeout=0.05,
    )
    thread = threading.Thread(target=reader.run, kwargs={"should_stop": cancelled.is_set}, daemon=True)
    thread.start()
    recorder.wait_status(ScannerStatus.CONNECTED)
    cancelled.set()
    thread.join(1.0)
    assert not thread.is_alive()


def test_the_simulator_stream_arrives_end_to_end(recorder: Recorder) -> None:
    roster = ["2023000101", "2023000102", "2023000103", "T1001"]
    simulator = ScannerSimulator(roster, seed=11, rate=100, limit=60, split_pause=0.005, garbage_share=0.15)
    reader, thread = start_reader(simulator.path, recorder, max_line=64)
    try:
        recorder.wait_status(ScannerStatus.CONNECTED)  # opening the port flushes it: start writing after
        simulator.start()
        recorder.wait_for(lambda _: simulator.finished and len(recorder.results()) >= len(simulator.sent))
    finally:
        reader.stop()
        thread.join(2.0)
        simulator.stop()
    sent, results = simulator.sent, recorder.results()
    assert len(sent) == 60 and len(results) == 60
    assert {scan.kind for scan in sent} == set(ScanKind)
    assert any(len(scan.writes) == 2 for scan in sent) and any(scan.writes[-1].endswith(b"\r") for scan in sent)
    for scan, result in zip(sent, results, strict=True):
        if scan.kind is ScanKind.GARBAGE:
            assert isinstance(result, Rejected), scan
        else:
            assert isinstance(result, Scanned) and result.person_id == scan.line.decode()
            assert (result.person_id in roster) == (scan.kind is ScanKind.ROSTER)


def test_the_simulator_stream_is_deterministic() -> None:
    def first_fifty(seed: int) -> list[SimulatedScan]:
        return list(itertools.islice(scan_stream(["A123", "B456"], seed), 50))

    assert first_fifty(5) == first_fifty(5)
    assert first_fifty(5) != first_fifty(6)
