"""Checksummed records, one per line: the format of every file the entry store writes.

A line is `CRC32 JSON\\n` (eight hex digits, a space, compact JSON). A damaged line costs only its own record:
its neighbours carry their own checksums and are read. A line that fails its check is never believed.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


def encode(record: dict[str, Any]) -> bytes:
    body = json_of(record)
    return b"%08x %s\n" % (zlib.crc32(body), body)


def json_of(record: dict[str, Any]) -> bytes:
    """A record's compact JSON: the body of its line."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def body_of(line: bytes) -> bytes:
    """The JSON of a checked line as `encode` wrote it (its checksum and newline taken off)."""
    return line[9:-1]


def decode(line: bytes) -> dict[str, Any] | None:
    """The record on one complete line (ending in a newline), or None when the line is damaged."""
    if len(line) < 10 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    body = body_of(line)
    if line[:8] != b"%08x" % zlib.crc32(body):  # exactly as written: "F" for "f" is a changed byte too
        return None
    try:
        record = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


@dataclass
class Lines:
    """What reading a file of records found."""

    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    """Each record's line as stored (newline included), to write it again unchanged without encoding it."""
    damaged: int = 0
    """Lines that failed their check (a last line without its newline counts)."""
    exists: bool = True


def read(path: Path) -> Lines:
    """Every intact record of the file, in order; damaged lines are counted and skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Lines(exists=False)
    return parse(data)


PARSE_BLOCK = 256
"""Record lines parsed by one call into the JSON decoder (~1-2 ms of holding the GIL)."""


def parse(data: bytes) -> Lines:
    """The intact records of a file's bytes.

    Each line's checksum is checked on its own, then the good lines are parsed as JSON arrays of PARSE_BLOCK
    lines: few calls into the JSON decoder (a chunk holds 4,096 lines), none long enough to keep the gate's
    thread from the GIL while a worker reads (one call holds it throughout: 15-25 ms for a whole chunk).
    """
    found = Lines()
    lines = data.split(b"\n")
    last = len(lines) - 1
    bodies: list[bytes] = []
    good: list[bytes] = []
    for i, line in enumerate(lines):
        if not line:
            continue
        body = line[9:]
        if i == last or line[8:9] != b" " or line[:8] != b"%08x" % zlib.crc32(body):
            found.damaged += 1  # the last piece has no newline: cut short, whatever its checksum says
        else:
            bodies.append(body)
            good.append(line)
    try:
        parsed = [
            record
            for start in range(0, len(bodies), PARSE_BLOCK)
            for record in orjson.loads(b"[" + b",".join(bodies[start : start + PARSE_BLOCK]) + b"]")
        ]
    except orjson.JSONDecodeError:
        parsed = []
    if len(parsed) != len(bodies):
        return _parse_each(data)  # a line with a good checksum that is not one JSON value: find it line by line
    for record, line in zip(parsed, good, strict=True):
        if isinstance(record, dict):
            found.records.append(record)
            found.lines.append(line + b"\n")
        else:
            found.damaged += 1
    if data and not found.records and not found.damaged:
        found.damaged = 1  # only newlines: nothing the store writes
    return found


def _parse_each(data: bytes) -> Lines:
    found = Lines()
    for line in data.split(b"\n"):
        if not line:
            continue
        record = decode(line + b"\n")
        if record is None:
            found.damaged += 1
        else:
            found.records.append(record)
            found.lines.append(line + b"\n")
    if data and not data.endswith(b"\n"):
        # The last piece was decoded as if whole: a line cut short is damage even when its prefix checks out.
        tail = data.rsplit(b"\n", 1)[-1]
        if decode(tail + b"\n") is not None:
            found.records.pop()
            found.lines.pop()
            found.damaged += 1
    if data and not found.records and not found.damaged:
        found.damaged = 1  # only newlines: nothing the store writes
    return found


def ranges(numbers: set[int] | list[int]) -> list[list[int]]:
    """Sorted numbers as [first, last] runs: a chunk's 4,096 sequence numbers in a few pairs."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs


def expand(runs: Any) -> set[int]:
    """The numbers of `ranges` output; an ill-formed value gives ValueError or TypeError."""
    numbers: set[int] = set()
    for first, last in runs:
        if not (isinstance(first, int) and isinstance(last, int)) or not 0 < first <= last or last - first > 1 << 24:
            raise ValueError("bad range")
        numbers.update(range(first, last + 1))
    return numbers
