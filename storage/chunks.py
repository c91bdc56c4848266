"""Chunk files: the folded entries of one day and one block of sequence numbers, one checksummed line each.

Layout: a header record naming every sequence number the file holds, one line per entry document, and the
header again as a trailer, so that one damaged line loses at most one entry and the list of what the file
should hold survives any single damage. A document that fails its check, or lacks a field, is set aside.
Files of the earlier format (one TinyDB JSON object, no checksums) are still read, and rewritten on the next fold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.domain.models import Direction, Method, Reason, Role, Verdict
from storage import records
from storage.files import write_atomic

CHUNK = 4096
"""Sequence numbers per chunk file: bounds the cost of folding into one file."""

REQUIRED = frozenset(
    ("entry_id", "station_id", "seq", "person_id", "role", "name", "method", "direction", "captured_at")
    + ("monotonic", "verdict", "reasons", "rules_version", "operator")
)
"""Fields an entry document cannot do without (the others have defaults)."""
_ROLES, _METHODS, _DIRECTIONS, _VERDICTS, _REASONS = (
    frozenset(member.value for member in kind) for kind in (Role, Method, Direction, Verdict, Reason)
)


def chunk_name(day: str, seq: int) -> str:
    return f"{day}.{seq // CHUNK:05d}"


def block_range(name: str) -> range:
    """Every sequence number a chunk of this name may hold."""
    block = int(name.rsplit(".", 1)[1])
    return range(max(1, block * CHUNK), (block + 1) * CHUNK)


def valid_document(doc: Any, name: str) -> bool:
    """Whether `doc` is a whole entry document that belongs in the chunk `name`."""
    day, block = name.rsplit(".", 1)
    return _checked(doc, day, int(block))


def _checked(doc: Any, day: str, block: int) -> bool:
    """`valid_document` for a chunk's day and block; written for speed, since every document read passes here."""
    try:
        return (
            REQUIRED <= doc.keys()
            and type(doc["seq"]) is int
            and doc["seq"] // CHUNK == block
            and doc["captured_at"][:10] == day
            and type(doc["captured_at"]) is str
            and type(doc["entry_id"]) is str
            and type(doc.get("revision", 0)) is int
            and doc["verdict"] in _VERDICTS
            and doc["direction"] in _DIRECTIONS
            and doc["role"] in _ROLES
            and doc["method"] in _METHODS
            and type(doc["reasons"]) is list
            and _REASONS.issuperset(doc["reasons"])
        )
    except (AttributeError, TypeError):  # not a dict, or an unhashable value where a name belongs
        return False


@dataclass
class Chunk:
    """What reading one chunk file found."""

    docs: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Intact entry documents by sequence number."""
    seqs: set[int] | None = None
    """Every sequence number the file should hold (from its header or trailer); None when both are lost."""
    damaged: int = 0
    """Lines or documents that failed their check."""
    lines: dict[int, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    """Each document as read, with its stored line: written again as is while the document is the same object."""
    exists: bool = True
    legacy: bool = False
    """A file of the earlier format, without checksums."""

    @property
    def missing(self) -> set[int]:
        """Sequence numbers the file should hold but has no intact document for."""
        return (self.seqs or set()) - self.docs.keys()

    @property
    def sound(self) -> bool:
        return not self.damaged and self.seqs is not None and not self.missing


def read_chunk(path: Path, name: str) -> Chunk:
    """The intact documents of a chunk file and what it should hold; never raises for bad content."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Chunk(seqs=set(), exists=False)
    if data[:1] == b"{":
        return _read_legacy(data, name)
    found = records.parse(data)
    chunk = Chunk(damaged=found.damaged)
    day, block = name.rsplit(".", 1)
    number = int(block)
    for record, line in zip(found.records, found.lines, strict=True):
        if record.get("op") == "chunk":
            try:
                seqs = records.expand(record.get("seqs"))
            except (TypeError, ValueError):
                chunk.damaged += 1
                continue
            chunk.seqs = seqs if chunk.seqs is None else chunk.seqs | seqs
        elif _checked(record, day, number):
            chunk.docs[record["seq"]] = record
            chunk.lines[record["seq"]] = (record, line)
        else:
            chunk.damaged += 1
    return chunk


def write_chunk(
    path: Path,
    docs: Iterable[dict[str, Any]],
    seqs: set[int],
    lines: dict[int, tuple[dict[str, Any], bytes]] | None = None,
) -> None:
    """Replace the chunk file atomically; `seqs` also names the documents that are lost (kept as missing).

    Documents read from the file and not replaced since (`lines`, from `read_chunk`) keep their stored line: a
    fold encodes only what changed.
    """
    ordered = sorted(docs, key=lambda doc: doc["seq"])
    header = records.encode({"op": "chunk", "seqs": records.ranges(seqs | {doc["seq"] for doc in ordered})})
    stored = lines or {}
    body = []
    for doc in ordered:
        known = stored.get(doc["seq"])
        body.append(known[1] if known is not None and known[0] is doc else records.encode(doc))
    write_atomic(path, b"".join([header, *body, header]))


def _read_legacy(data: bytes, name: str) -> Chunk:
    """A TinyDB JSON file from before checksums: believed when it parses, lost as a whole when it does not."""
    try:
        table = json.loads(data).get("entries", {})
        docs = {int(key): doc for key, doc in table.items()}
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return Chunk(damaged=1)
    chunk = Chunk(seqs=set(docs), legacy=True)
    for seq, doc in docs.items():
        if valid_document(doc, name) and doc["seq"] == seq:
            chunk.docs[seq] = doc
        else:
            chunk.damaged += 1
    return chunk
