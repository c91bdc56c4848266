"""The write-ahead journal: the durable hot path for entries.

One record per line, `CRC32 JSON\\n`, appended and fdatasync'ed before the caller is told it is recorded.
The first record is a header with the fold generation; folding replaces the journal by a fresh one with the
next generation (by rename), which is how other processes notice that it was folded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.files import NO_ROOM, PRIVATE_FILE, StoreFullError, move_aside, write_atomic
from storage.records import decode, encode


def decode_line(line: bytes) -> dict[str, Any] | None:
    """The record on one complete line, or None when the line is damaged."""
    record = decode(line)
    return record if record is not None and "op" in record else None


@dataclass
class JournalOpened:
    """What opening the journal found."""

    records: list[dict[str, Any]]
    """The records after the header."""
    warnings: list[str]
    missing: bool = False
    """There was no journal file (a new store, or a lost file)."""
    damaged: bool = False
    """A line failed its check (or was torn): records it held are lost."""
    header_lost: bool = False
    """The header failed its check: the last sequence number folded before is not known from the journal."""
    tail_lost: bool = False
    """Damage after the last intact new entry: an entry with a higher seq than any read may be lost."""


def _new_entry(record: dict[str, Any] | None) -> bool:
    return record is not None and record.get("op") == "put" and record.get("entry", {}).get("revision", 0) == 0


@dataclass
class Scan:
    """What reading a journal from some offset found."""

    records: list[dict[str, Any]]
    good_end: int
    """Offset just past the last good record (before the first bad or torn line)."""


def scan(data: bytes, start: int = 0) -> Scan:
    records: list[dict[str, Any]] = []
    offset = start
    while offset < len(data):
        end = data.find(b"\n", offset)
        if end < 0:
            break  # a torn last line: the append that wrote it never returned
        record = decode_line(data[offset : end + 1])
        if record is None:
            break
        records.append(record)
        offset = end + 1
    return Scan(records, offset)


class Journal:
    """An open journal file. Not thread-safe: the entry store serialises access under its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        self.inode = -1
        self.offset = 0
        self.generation = 0
        self.header_last_seq = 0
        self.header_end = 0
        """Offset of the first record after the header."""

    @staticmethod
    def create(path: Path, generation: int, last_seq: int) -> None:
        """Atomically put a fresh journal holding only its header at `path`.

        The header repeats the last sequence number, so that it is never reused even if every chunk file
        holding it has been purged and the summary lost.
        """
        write_atomic(path, encode({"op": "header", "generation": generation, "last_seq": last_seq}))

    def open(self) -> JournalOpened:
        """Open (creating or repairing as needed): the records after the header, and what was wrong.

        Any line that fails its check, a torn last line included, is damage: the file is moved aside and a
        fresh journal holding every intact record takes its place. A torn line may hold an entry whose seq
        was handed out, so the store must not reuse the sequence numbers it may have held.
        """
        opened = JournalOpened(records=[], warnings=[], missing=not self.path.exists())
        if opened.missing:
            self.create(self.path, 0, 0)
        data = self.path.read_bytes()
        found = scan(data)
        header = found.records[0] if found.records else None
        valid_header = header is not None and header.get("op") == "header"
        if found.good_end < len(data) or not valid_header:
            aside = move_aside(self.path)
            opened.damaged = True
            opened.warnings.append(
                f"日志文件已损坏,已移至 {aside.name},有效记录已保留 / "
                f"journal damaged, moved to {aside.name}; valid records kept"
            )
            # Keep every intact record, also those after the damage: each line carries its own CRC.
            lines = data.split(b"\n")
            decoded = [decode_line(line + b"\n") if i < len(lines) - 1 else None for i, line in enumerate(lines)]
            kept = [r for r in decoded if r is not None and r.get("op") != "header"]
            bad = [i for i, (line, r) in enumerate(zip(lines, decoded, strict=True)) if r is None and line]
            # Seqs of new entries rise through the journal: a damaged line followed by an intact new entry held
            # a lower seq, found as a gap; a damaged line with none after it may have held any higher one.
            opened.tail_lost = not any(_new_entry(r) for r in decoded[max(bad, default=0) + 1 :])
            fresh = {
                "op": "header",
                "generation": int(header["generation"]) + 1 if valid_header else 0,  # type: ignore[index]
                "last_seq": int(header.get("last_seq", 0)) if valid_header else 0,  # type: ignore[union-attr]
            }
            opened.header_lost = not valid_header
            write_atomic(self.path, b"".join(encode(r) for r in [fresh, *kept]))
            data = self.path.read_bytes()
            found = scan(data)
        self._read_header(found.records[0])
        self._attach(found.good_end)
        opened.records = found.records[1:]
        return opened

    def raise_floor(self, last_seq: int) -> None:
        """Rewrite the journal with `last_seq` in its header, keeping its records: after damage, the store
        resumes above the high-water mark, and this keeps it there once the damage is repaired."""
        self.reset(
            last_seq,
            keep_from=len(encode({"op": "header", "generation": self.generation, "last_seq": self.header_last_seq})),
        )

    def _read_header(self, header: dict[str, Any]) -> None:
        self.header_end = len(encode(header))
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

    def append(self, records: list[dict[str, Any]], durable: bool = True) -> None:
        """Write and (if `durable`; else `sync` later) fdatasync records; on failure leave the file as it was."""
        payload = b"".join(encode(r) for r in records)
        size = os.fstat(self.fd).st_size
        if size > self.offset and b"\n" not in os.pread(self.fd, size - self.offset, self.offset):
            # A writer killed mid-append left a partial line (never acknowledged); appending after it would
            # fuse our record with it into one damaged line.
            os.ftruncate(self.fd, self.offset)
        try:
            written = 0
            while written < len(payload):
                written += os.write(self.fd, payload[written:])
            if durable:
                os.fdatasync(self.fd)
        except OSError as exc:
            os.ftruncate(self.fd, self.offset)
            if exc.errno in NO_ROOM:
                raise StoreFullError(self.path) from exc
            raise
        self.offset += len(payload)

    def deferred_sync(self) -> Callable[[], None]:
        """A call that fdatasyncs what was appended so far, to be made after letting go of the store's lock. It
        holds its own descriptor: were the journal replaced meanwhile, the old file is synced, harmlessly."""
        fd = os.dup(self.fd)

        def sync() -> None:
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)

        return sync

    def reset(self, last_seq: int, keep_from: int | None = None) -> None:
        """Replace the journal by one of the next generation holding only the records from offset `keep_from`
        on (those that arrived while a fold ran; none by default)."""
        kept = b""
        if keep_from is not None and self.offset > keep_from:
            kept = os.pread(self.fd, self.offset - keep_from, keep_from)
        header = encode({"op": "header", "generation": self.generation + 1, "last_seq": last_seq})
        write_atomic(self.path, header + kept)
        found = scan(self.path.read_bytes())
        self._read_header(found.records[0])
        self._attach(found.good_end)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
