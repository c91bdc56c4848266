"""The write-ahead journal: the durable hot path for entries.

One record per line, `CRC32 JSON\\n`, appended and fdatasync'ed before the caller is told it is recorded.
The first record is a header with the fold generation; folding replaces the journal by a fresh one with the
next generation (by rename), which is how other processes notice that it was folded.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.files import NO_ROOM, PRIVATE_FILE, StoreFullError, move_aside, write_atomic


def encode_record(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_line(line: bytes) -> dict[str, Any] | None:
    """The record on one complete line, or None when the line is damaged."""
    if len(line) < 10 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        record = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) and "op" in record else None


@dataclass
class Scan:
    """What reading a journal from some offset found."""

    records: list[dict[str, Any]]
    good_end: int
    """Offset just past the last good record."""
    damaged: bool
    """A bad record was followed by good ones: not a torn tail but damage."""


def scan(data: bytes, start: int = 0) -> Scan:
    records: list[dict[str, Any]] = []
    offset = start
    damaged = False
    while offset < len(data):
        end = data.find(b"\n", offset)
        if end < 0:
            break  # a torn last line: the append that wrote it never returned
        record = decode_line(data[offset : end + 1])
        if record is None:
            rest = data[end + 1 :]
            damaged = any(decode_line(line + b"\n") for line in rest.split(b"\n") if line)
            break
        records.append(record)
        offset = end + 1
    return Scan(records, offset, damaged)


class Journal:
    """An open journal file. Not thread-safe: the entry store serialises access under its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        self.inode = -1
        self.offset = 0
        self.generation = 0
        self.header_last_seq = 0

    @staticmethod
    def create(path: Path, generation: int, last_seq: int) -> None:
        """Atomically put a fresh journal holding only its header at `path`.

        The header repeats the last sequence number, so that it is never reused even if every chunk file
        holding it has been purged and the summary lost.
        """
        write_atomic(path, encode_record({"op": "header", "generation": generation, "last_seq": last_seq}))

    def open(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Open (creating or repairing as needed); return the records after the header and any warnings."""
        warnings: list[str] = []
        if not self.path.exists():
            self.create(self.path, 0, 0)
        data = self.path.read_bytes()
        found = scan(data)
        header = found.records[0] if found.records else None
        if found.damaged or header is None or header.get("op") != "header":
            aside = move_aside(self.path)
            warnings.append(
                f"日志文件已损坏,已移至 {aside.name},有效记录已保留 / "
                f"journal damaged, moved to {aside.name}; valid records kept"
            )
            # Keep every intact record, also those after the damage: each line carries its own CRC.
            intact = (decode_line(line + b"\n") for line in data.split(b"\n"))
            records = [r for r in intact if r is not None and r.get("op") != "header"]
            valid = header if header is not None and header.get("op") == "header" else None
            fresh = {
                "op": "header",
                "generation": int(valid["generation"]) + 1 if valid else 0,
                "last_seq": int(valid.get("last_seq", 0)) if valid else 0,
            }
            write_atomic(self.path, b"".join(encode_record(r) for r in [fresh, *records]))
            data = self.path.read_bytes()
            found = scan(data)
        elif found.good_end < len(data):
            with open(self.path, "r+b") as handle:  # drop a torn tail left by a crash mid-append
                handle.truncate(found.good_end)
                os.fsync(handle.fileno())
        self._read_header(found.records[0])
        self._attach(found.good_end)
        return found.records[1:], warnings

    def _read_header(self, header: dict[str, Any]) -> None:
        self.generation = int(header["generation"])
        self.header_last_seq = int(header.get("last_seq", 0))

    def _attach(self, offset: int) -> None:
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND, PRIVATE_FILE)
        self.inode = os.fstat(self.fd).st_ino
        self.offset = offset

    def replaced(self) -> bool:
        """True when someone else folded the journal (renamed a new one over it) since we opened it."""
        try:
            return os.stat(self.path).st_ino != self.inode
        except FileNotFoundError:
            return True

    def tail(self) -> list[dict[str, Any]]:
        """Records other processes appended since we last looked."""
        size = os.fstat(self.fd).st_size
        if size <= self.offset:
            return []
        data = os.pread(self.fd, size - self.offset, self.offset)
        found = scan(data)
        self.offset += found.good_end
        return found.records

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write and fdatasync records; on failure leave the file as it was."""
        payload = b"".join(encode_record(r) for r in records)
        size = os.fstat(self.fd).st_size
        if size > self.offset and b"\n" not in os.pread(self.fd, size - self.offset, self.offset):
            # A writer killed mid-append left a partial line (never acknowledged); appending after it would
            # fuse our record with it into one damaged line.
            os.ftruncate(self.fd, self.offset)
        try:
            written = 0
            while written < len(payload):
                written += os.write(self.fd, payload[written:])
            os.fdatasync(self.fd)
        except OSError as exc:
            os.ftruncate(self.fd, self.offset)
            if exc.errno in NO_ROOM:
                raise StoreFullError(self.path) from exc
            raise
        self.offset += len(payload)

    def reset(self, last_seq: int) -> None:
        """Replace the journal by an empty one of the next generation (after its records were folded)."""
        self.create(self.path, self.generation + 1, last_seq)
        found = scan(self.path.read_bytes())
        self._read_header(found.records[0])
        self._attach(found.good_end)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
