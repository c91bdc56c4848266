"""`kiosk run` with a probe: where each scan's time goes, for bench/gate.py --probe (not used by the kiosk itself).

Run as `python bench/gate_probe.py PROBE_FILE run --config ...`. Every event is appended to PROBE_FILE as one JSON
line the moment it happens (the bench kills the kiosk; nothing is kept for the end), times in perf_counter ms:
- scan: the reader thread framed a scan (`BadgeScanned` built), the app began to handle it, `EntryStore.record`
  began and ended, of which the journal's fdatasync, and the verdict was drawn into the widgets;
- frame: each compositor refresh (start, end); write: each frame handed to the terminal's writer and its length;
- gc: each collection (generation, duration); busy: the sync thread's passes and the folds (start, end).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def now() -> float:
    return time.perf_counter() * 1000


def install(path: str) -> None:
    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the process's life
    lock = threading.Lock()

    def emit(**event: object) -> None:
        with lock:
            out.write(json.dumps(event) + "\n")

    from kiosk import app as app_module
    from kiosk.station import sync as sync_module
    from screens import messages
    from storage import entries

    ui_thread = threading.main_thread().ident
    current: dict[str, float] = {}

    plain_init = messages.BadgeScanned.__init__

    def badge_init(self: object, *args: object, **kwargs: object) -> None:
        plain_init(self, *args, **kwargs)  # type: ignore[arg-type]
        self._probe_framed = now()  # type: ignore[attr-defined]

    messages.BadgeScanned.__init__ = badge_init  # type: ignore[method-assign]

    plain_badge = app_module.KioskApp.on_badge_scanned

    def on_badge_scanned(self: object, message: object) -> None:
        current.clear()
        current["handled"] = now()
        plain_badge(self, message)  # type: ignore[arg-type]
        emit(kind="scan", framed=message._probe_framed, drawn=now(), **current)  # type: ignore[attr-defined]

    app_module.KioskApp.on_badge_scanned = on_badge_scanned  # type: ignore[method-assign]

    plain_record = entries.EntryStore.record

    def record(self: object, entry: object) -> object:
        started = now()
        try:
            return plain_record(self, entry)  # type: ignore[arg-type]
        finally:
            if threading.get_ident() == ui_thread:
                current["record_start"], current["record_end"] = started, now()

    entries.EntryStore.record = record  # type: ignore[method-assign]

    plain_fdatasync = os.fdatasync

    def fdatasync(fd: int) -> None:
        started = now()
        plain_fdatasync(fd)
        if threading.get_ident() == ui_thread:
            current["fsync"] = current.get("fsync", 0.0) + now() - started
        else:
            emit(kind="busy", what="fdatasync", start=started, end=now())

    os.fdatasync = fdatasync
    plain_fsync = os.fsync

    def fsync(fd: int) -> None:
        started = now()
        plain_fsync(fd)
        emit(kind="busy", what="fsync", start=started, end=now())

    os.fsync = fsync

    for name in ("push_once", "sync_once"):
        plain = getattr(sync_module.Syncer, name, None)
        if plain is None:
            continue

        def timed(self: object, *args: object, _plain=plain, _name=name, **kwargs: object) -> object:
            started = now()
            try:
                return _plain(self, *args, **kwargs)
            finally:
                emit(kind="busy", what=_name, start=started, end=now())

        setattr(sync_module.Syncer, name, timed)

    plain_fold = entries.EntryStore.fold_if_due

    def fold_if_due(self: object, *args: object, **kwargs: object) -> object:
        started = now()
        try:
            return plain_fold(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            emit(kind="busy", what="fold", start=started, end=now())

    entries.EntryStore.fold_if_due = fold_if_due  # type: ignore[method-assign]

    gc_started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[threading.get_ident()] = now()
        else:
            started = gc_started.pop(threading.get_ident(), now())
            emit(kind="gc", generation=info["generation"], start=started, end=now())

    gc.callbacks.append(on_gc)

    from textual.drivers import linux_driver
    from textual.screen import Screen

    plain_refresh = Screen._compositor_refresh

    def compositor_refresh(self: Screen[object]) -> None:
        started = now()
        plain_refresh(self)
        emit(kind="frame", start=started, end=now())

    Screen._compositor_refresh = compositor_refresh  # type: ignore[method-assign]

    plain_write = linux_driver.LinuxDriver.write

    def write(self: object, data: str) -> None:
        emit(kind="write", at=now(), size=len(data))
        plain_write(self, data)  # type: ignore[arg-type]

    linux_driver.LinuxDriver.write = write  # type: ignore[method-assign]


def report(path: Path, scans: list[tuple[float, float | None]]) -> list[str]:
    """Where the time of the slowest scans went, beside the median scan's: `scans` are the bench's (written to the
    scanner's pty, seen on the screen's pty) perf_counter seconds, in order, matched with the probe's scans."""
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    probed = [e for e in events if e["kind"] == "scan"]
    writes = [e["at"] for e in events if e["kind"] == "write"]
    frames = [e for e in events if e["kind"] == "frame"]
    busy = [e for e in events if e["kind"] in ("busy", "gc")]
    rows = []
    for (written, seen), scan in zip(scans, probed, strict=False):
        if seen is None:
            continue
        first_write = next((w for w in writes if w >= scan["drawn"]), None)
        frame = next((f for f in frames if f["start"] >= scan["drawn"]), None)
        if first_write is None or frame is None:
            continue
        start, end = written * 1000, seen * 1000
        during = sorted(
            {
                f"{e.get('what', 'gc' + str(e.get('generation', '')))} {e['end'] - e['start']:.0f}"
                for e in busy
                if e["start"] < end and e["end"] > start
            }
        )
        rows.append(
            {
                "total": end - start,
                "to app": scan["framed"] - start,
                "queued": scan["handled"] - scan["framed"],
                "record": scan.get("record_end", scan["handled"]) - scan.get("record_start", scan["handled"]),
                "fsync": scan.get("fsync", 0.0),
                "draw": scan["drawn"] - scan.get("record_end", scan["handled"]),
                "to frame": frame["start"] - scan["drawn"],
                "frame": frame["end"] - frame["start"],
                "to write": first_write - frame["end"],
                "to screen": end - first_write,
                "during": ", ".join(during),
            }
        )
    if not rows:
        return ["probe: no scan matched"]
    rows.sort(key=lambda row: row["total"])
    phases = [k for k in rows[0] if k != "during"]
    header = "| scan | " + " | ".join(f"{p} ms" for p in phases) + " | also running |"
    lines = [header, "|---" * (len(phases) + 2) + "|"]
    median_row = rows[len(rows) // 2]
    lines.append("| median | " + " | ".join(f"{median_row[p]:.1f}" for p in phases) + f" | {median_row['during']} |")
    for row in rows[-max(1, len(rows) // 50) :]:
        lines.append("| slow | " + " | ".join(f"{row[p]:.1f}" for p in phases) + f" | {row['during']} |")
    return lines


if __name__ == "__main__":
    from kiosk.cli.main import gate_frame_rate, main

    gate_frame_rate()  # as `kiosk run` does, before install() imports Textual
    install(sys.argv.pop(1))
    sys.exit(main())
