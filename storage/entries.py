"""The entry store: a fsync'ed journal as the hot path, folded into bounded TinyDB files off it.

Layout of the data directory:
- `journal.jsonl`: every change (new entry, amendment, acknowledgement, audit record), fsync'ed per call.
- `entries/<day>.<block>.json`: TinyDB files, one table `entries` keyed by sequence number, at most
  `CHUNK` sequence numbers each, so folding rewrites a bounded file whatever the history holds.
- `audit/<day>.json`: TinyDB files of rejected scans and other audit records.
- `meta.json`: a summary of the chunk files (counts, unsynced counts, last sequence number); derived from
  them and rebuilt if damaged.

Processes (the app, the nightly scripts) share the directory under an exclusive `flock` per operation; each
catches up on the others' journal records before acting, and reloads when the journal was folded.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.domain.models import DayCounts, Direction, Entry, Verdict, enum_member
from storage.files import (
    PRIVATE_FILE,
    AtomicJSONStorage,
    CorruptFileError,
    ensure_private_dir,
    fsync_dir,
    move_aside,
    remove_stale_temp_files,
)
from storage.journal import Journal

CHUNK = 4096
"""Sequence numbers per chunk file: bounds the cost of folding into one file."""
CHUNK_CACHE = 2
"""Parsed chunk files kept for the sync batches that read them in turn (a parsed chunk is ~5 MB)."""
FOLD_BYTES = 512 * 1024
"""Journal size past which `fold_if_due` folds."""
_PRIORITY = (Verdict.DENIED, Verdict.REFERRED)


def chunk_name(day: str, seq: int) -> str:
    return f"{day}.{seq // CHUNK:05d}"


class _Tally:
    """Running counts for one day, kept exact across amendments."""

    def __init__(self) -> None:
        self.by_entry: dict[str, tuple[Verdict, Direction, int]] = {}
        self.verdicts = {v: 0 for v in Verdict}
        self.entered = self.left = 0
        self.by_hour = [0] * 24

    def add(self, entry: Entry) -> None:
        self.count(entry.entry_id, entry.verdict, entry.direction, entry.hour)

    def count(self, entry_id: str, verdict: Verdict, direction: Direction, hour: int) -> None:
        """Count an entry's newest revision (replacing what an earlier revision counted)."""
        old = self.by_entry.get(entry_id)
        if old is not None:
            self._count(*old, sign=-1)
        self.by_entry[entry_id] = (verdict, direction, hour)
        self._count(verdict, direction, hour, sign=1)

    def _count(self, verdict: Verdict, direction: Direction, hour: int, sign: int) -> None:
        self.verdicts[verdict] += sign
        self.by_hour[hour] += sign
        if verdict is Verdict.ADMITTED:
            if direction is Direction.IN:
                self.entered += sign
            else:
                self.left += sign

    def counts(self) -> DayCounts:
        return DayCounts(
            admitted=self.verdicts[Verdict.ADMITTED],
            denied=self.verdicts[Verdict.DENIED],
            referred=self.verdicts[Verdict.REFERRED],
            entered=self.entered,
            left=self.left,
            by_hour=tuple(self.by_hour),
        )


class _SeqIndex:
    """Entries waiting for the center, by entry id: (seq, chunk, revision, captured_at), cheap to take in seq order.

    Entries arrive in sequence order almost always; an amendment of an old entry or a reload breaks the order,
    and the next `first` sorts once instead of searching the whole index on every batch.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[int, str, int, str]] = {}
        self._last_seq = 0
        self._ordered = True

    def __len__(self) -> int:
        return len(self._items)

    def add(self, entry_id: str, item: tuple[int, str, int, str]) -> None:
        if item[0] < self._last_seq:
            self._ordered = False
        self._last_seq = max(self._last_seq, item[0])
        self._items[entry_id] = item

    def get(self, entry_id: str) -> tuple[int, str, int, str] | None:
        return self._items.get(entry_id)

    def pop(self, entry_id: str) -> None:
        self._items.pop(entry_id, None)

    def first(self, limit: int) -> list[tuple[str, tuple[int, str, int, str]]]:
        """The `limit` entries with the lowest sequence numbers."""
        if not self._ordered:
            self._items = dict(sorted(self._items.items(), key=lambda pair: pair[1][0]))
            self._ordered = True
        return list(itertools.islice(self._items.items(), limit))


class EntryStore:
    """Durable, multi-process-safe storage of gate entries. Thread-safe."""

    def __init__(self, data_dir: Path, load: bool = True) -> None:
        """Open the store in `data_dir`; with load=False the indexes are read by `load()` or the first call."""
        self.root = ensure_private_dir(Path(data_dir))
        self.entries_dir = ensure_private_dir(self.root / "entries")
        self.audit_dir = ensure_private_dir(self.root / "audit")
        self.warnings: list[str] = []
        """Bilingual messages about damage found and repaired; the UI shows them."""
        self._mutex = threading.RLock()
        self._lock_fd = os.open(self.root / "store.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        self._journal = Journal(self.root / "journal.jsonl")
        self._last_seq = 0
        self._tallies: dict[str, _Tally] = {}
        self._chunks: dict[str, dict[str, int]] = {}
        self._meta_path = self.root / "meta.json"
        self._chunk_cache: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
        if load:
            self.load()

    def load(self) -> None:
        """Read the indexes now (the gate does it after its first paint); any call does it if not done yet."""
        with self._locked():
            pass

    def close(self) -> None:
        with self._mutex:
            self._journal.close()
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1

    # -- writing ---------------------------------------------------------------------------------------

    def record(self, entry: Entry) -> Entry:
        """Durably record a new entry (seq 0: the store assigns the next) or an amendment; return it."""
        with self._locked():
            if entry.seq == 0:
                entry = replace(entry, seq=self._last_seq + 1)
            elif entry.revision == 0:
                raise ValueError("an entry with a sequence number must be an amendment (revision > 0)")
            record = {"op": "put", "entry": entry.to_dict()}
            self._journal.append([record])
            self._apply(record)
            return entry

    def mark_acked(self, acks: Iterable[tuple[str, int]], at: str) -> int:
        """Record that the center committed these (entry_id, revision) pairs; return how many were new."""
        with self._locked():
            items = []
            for entry_id, revision in acks:
                known = self._unsynced_index(entry_id)
                if known is not None and known[2] == revision:
                    items.append([entry_id, revision, known[0], known[1]])
            if not items:
                return 0
            record = {"op": "ack", "at": at, "items": items}
            self._journal.append([record])
            self._apply(record)
            return len(items)

    def audit(self, kind: str, detail: str, at: str) -> None:
        """Durably record an audit event (a rejected scan, a refused login)."""
        with self._locked():
            record = {"op": "audit", "kind": kind, "detail": detail, "at": at}
            self._journal.append([record])
            self._apply(record)

    # -- reading ---------------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        with self._locked():
            last: int = self._last_seq
            return last

    def unsynced_count(self) -> int:
        with self._locked():
            return len(self._unsynced_priority) + len(self._unsynced_normal)

    def oldest_unsynced_at(self) -> str | None:
        """Capture time of the oldest entry still waiting for the center."""
        with self._locked():
            firsts = [index.first(1) for index in (self._unsynced_priority, self._unsynced_normal)]
            waiting = [item for first in firsts for _, item in first]
            return min(waiting)[3] if waiting else None

    def unsynced_batch(self, limit: int) -> list[Entry]:
        """Up to `limit` entries waiting for the center: denied and referred first, each in sequence order."""
        return [Entry.from_dict(doc) for doc in self.unsynced_documents(limit)]

    def unsynced_documents(self, limit: int) -> list[dict[str, Any]]:
        """`unsynced_batch` as the stored documents (`Entry.to_dict()` form), ready to send; do not modify them.

        Sync sends these as they are: building an Entry per row and serialising it again would double the
        station's share of draining a long backlog.
        """
        with self._locked():
            chosen = self._unsynced_priority.first(limit)
            if len(chosen) < limit:
                chosen += self._unsynced_normal.first(limit - len(chosen))
            found = {eid: self._journal_entries[eid].to_dict() for eid, _ in chosen if eid in self._journal_entries}
        by_chunk: dict[str, set[str]] = {}
        for eid, (_, chunk, _, _) in chosen:
            if eid not in found:
                by_chunk.setdefault(chunk, set()).add(eid)
        for chunk, wanted in by_chunk.items():
            for doc in self._read_chunk(chunk).get("entries", {}).values():
                if doc["entry_id"] in wanted:
                    found[doc["entry_id"]] = doc
        priority = {str(v) for v in _PRIORITY}
        batch = [found[eid] for eid, _ in chosen if eid in found]
        batch.sort(key=lambda doc: (doc["verdict"] not in priority, doc["seq"]))
        return batch

    def entries_of_day(self, day: str) -> list[Entry]:
        """Every entry captured on `day` (YYYY-MM-DD), newest revision of each, in sequence order."""
        return [Entry.from_dict(doc) for doc in self._documents_of_day(day)]

    def entries_between(self, start: datetime, end: datetime) -> list[Entry]:
        """Entries captured in [start, end); both must carry a UTC offset."""
        result: list[Entry] = []
        for day in _days(start.date() - timedelta(days=1), end.date() + timedelta(days=1)):
            result.extend(
                Entry.from_dict(doc)
                for doc in self._documents_of_day(day)
                if start <= datetime.fromisoformat(doc["captured_at"]) < end
            )
        return result

    def counts(self, day: str) -> DayCounts:
        """Counts for one day, by verdict, direction and hour."""
        while True:
            with self._locked():
                tally = self._tallies.get(day)
                if tally is not None:
                    return tally.counts()
                names = sorted(n for n in self._chunks if n.startswith(day + "."))
                generation = self._journal.generation
            tally = _Tally()
            # Chunk by chunk and without the cache: a busy day's documents never sit in memory all at once.
            for name in names:
                for doc in self._read_tiny(self._chunk_path(name)).get("entries", {}).values():
                    tally.count(doc["entry_id"], enum_member(Verdict, doc["verdict"]),
                                enum_member(Direction, doc["direction"]), int(doc["captured_at"][11:13]))
            with self._locked():
                if self._journal.generation != generation:
                    continue  # folded while we read: what we read may miss what moved; read again
                for entry in self._journal_entries.values():  # newer revisions, and records that arrived since
                    if entry.day == day:
                        tally.add(entry)
                self._tallies[day] = tally
                return tally.counts()

    def latest(self, day: str, count: int) -> list[Entry]:
        """The newest `count` entries of `day`, newest first, reading only the day's last chunk files."""
        with self._locked():
            names = sorted((n for n in self._chunks if n.startswith(day + ".")), reverse=True)
            recent = {e.entry_id: e for e in self._journal_entries.values() if e.day == day}
        found: dict[str, Entry] = {}
        for name in names:
            if len(found) >= count:
                break
            docs = sorted(self._read_tiny(self._chunk_path(name)).get("entries", {}).values(),
                          key=lambda doc: doc["seq"], reverse=True)
            for doc in docs[:count]:
                found[doc["entry_id"]] = Entry.from_dict(doc)
        for entry_id, entry in recent.items():  # newer revisions and entries not folded yet
            old = found.get(entry_id)
            if old is None or old.revision <= entry.revision:
                found[entry_id] = entry
        return sorted(found.values(), key=lambda e: e.seq, reverse=True)[:count]

    def _documents_of_day(self, day: str) -> list[dict[str, Any]]:
        """The stored documents of a day's entries, newest revision of each, in sequence order; do not modify.

        Queries filter and count these before (or instead of) building Entry objects, which is most of the cost
        of reading a busy day.
        """
        while True:
            with self._locked():
                names = sorted(n for n in self._chunks if n.startswith(day + "."))
                generation = self._journal.generation
            merged: dict[str, dict[str, Any]] = {}
            for name in names:
                for doc in self._read_chunk(name).get("entries", {}).values():
                    merged[doc["entry_id"]] = doc
            with self._locked():
                if self._journal.generation == generation:  # else folded while we read: read again
                    recent = [e for e in self._journal_entries.values() if e.day == day]
                    acks = dict(self._journal_acks)
                    break
        for entry_id, (revision, _, _, acked_at) in acks.items():  # acks of folded entries, not folded yet
            doc = merged.get(entry_id)
            if doc is not None and doc.get("revision", 0) == revision:
                merged[entry_id] = {**doc, "acked_at": acked_at}
        for entry in recent:
            old = merged.get(entry.entry_id)
            if old is None or old.get("revision", 0) <= entry.revision:
                merged[entry.entry_id] = entry.to_dict()
        return sorted(merged.values(), key=lambda doc: doc["seq"])

    def audit_of_day(self, day: str) -> list[dict[str, Any]]:
        with self._locked():
            recent = [r for r in self._journal_audit if r["at"].startswith(day)]
        path = self.audit_dir / f"{day}.json"
        stored = list(self._read_tiny(path).get("audit", {}).values())
        return stored + recent

    def days(self) -> list[str]:
        """Days that have entries, oldest first."""
        with self._locked():
            found = {n.split(".")[0] for n in self._chunks} | {e.day for e in self._journal_entries.values()}
        return sorted(found)

    # -- folding and purging ---------------------------------------------------------------------------

    def fold_if_due(self) -> bool:
        """Fold the journal into the chunk files when it has grown; return whether it did."""
        with self._locked():
            if self._journal.offset < FOLD_BYTES:
                return False
            self._fold()
            return True

    def fold(self) -> None:
        """Fold every journal record into the chunk files and start a fresh journal."""
        with self._locked():
            self._fold()

    def load_numbered(self, entries: Iterable[Entry]) -> int:
        """Write entries that already carry their sequence numbers straight into the chunk files; return how many.

        For restoring a copy and for pre-filling benchmarks: each chunk file is written once per call, as a
        fold would, so it skips the journal and is not for live entries.
        """
        per_chunk: dict[str, list[Entry]] = {}
        for entry in entries:
            per_chunk.setdefault(chunk_name(entry.day, entry.seq), []).append(entry)
        with self._locked():
            self._fold()
            for name, batch in per_chunk.items():
                self._fold_chunk(name, batch, [])
                for entry in batch:
                    self._last_seq = max(self._last_seq, entry.seq)
                    if entry.acked_at is None:
                        self._index_unsynced(entry)
            self._tallies.clear()
            self._write_meta()
            self._journal.reset(self._last_seq)
        return sum(len(batch) for batch in per_chunk.values())

    def purge(self, older_than_days: int, today: date) -> int:
        """Delete acknowledged entries captured more than `older_than_days` before `today`; never others."""
        cutoff = (today - timedelta(days=older_than_days)).isoformat()
        removed = 0
        with self._locked():
            self._fold()
            for name in sorted(self._chunks):
                if name.split(".")[0] >= cutoff:
                    continue
                path = self._chunk_path(name)
                data = self._read_tiny(path)
                docs = data.get("entries", {})
                keep = {k: d for k, d in docs.items() if d.get("acked_at") is None}
                removed += len(docs) - len(keep)
                if keep:
                    AtomicJSONStorage(path).write({"entries": keep})
                    self._chunks[name] = _chunk_info(keep)
                else:
                    path.unlink(missing_ok=True)
                    del self._chunks[name]
            for path in self.audit_dir.glob("*.json"):
                if path.stem < cutoff:
                    path.unlink()
            fsync_dir(self.entries_dir)
            self._write_meta()
            self._tallies = {d: t for d, t in self._tallies.items() if d >= cutoff}
        return removed

    # -- internals -------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                self._refresh()
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _refresh(self) -> None:
        """Catch up with what other processes wrote since we last held the lock (the first time: everything)."""
        if self._journal.fd < 0:
            for folder in (self.root, self.entries_dir, self.audit_dir):
                remove_stale_temp_files(folder)
            self._load()
        elif self._journal.replaced():
            self._load()
        else:
            for record in self._journal.tail():
                self._apply(record)

    def _load(self) -> None:
        self._last_seq = 0
        self._journal_entries: dict[str, Entry] = {}
        self._journal_acks: dict[str, list[Any]] = {}
        self._journal_audit: list[dict[str, Any]] = []
        self._unsynced_priority = _SeqIndex()
        self._unsynced_normal = _SeqIndex()
        self._tallies = {}
        self._chunks, meta_last_seq = self._load_meta()
        for name, info in sorted(self._chunks.items()):
            if info["unsynced"]:
                for doc in self._read_chunk(name).get("entries", {}).values():
                    if doc.get("acked_at") is None:
                        # Straight from the document: a long offline backlog would otherwise build an Entry per row.
                        self._index_unsynced_doc(
                            doc["entry_id"], doc["verdict"], doc["seq"], doc.get("revision", 0), doc["captured_at"]
                        )
        records, warnings = self._journal.open()
        self.warnings.extend(warnings)
        chunk_last = max((info["last_seq"] for info in self._chunks.values()), default=0)
        self._last_seq = max(meta_last_seq, chunk_last, self._journal.header_last_seq)
        for record in records:
            self._apply(record)

    def _apply(self, record: dict[str, Any]) -> None:
        op = record["op"]
        if op == "put":
            entry = Entry.from_dict(record["entry"])
            current = self._journal_entries.get(entry.entry_id)
            if current is not None and current.revision > entry.revision:
                return
            self._journal_entries[entry.entry_id] = entry
            self._last_seq = max(self._last_seq, entry.seq)
            self._unindex_unsynced(entry.entry_id)
            if entry.acked_at is None:
                self._index_unsynced(entry)
            tally = self._tallies.get(entry.day)
            if tally is not None:
                tally.add(entry)
        elif op == "ack":
            for entry_id, revision, seq, chunk in record["items"]:
                known = self._unsynced_index(entry_id)
                if known is not None and known[2] == revision:
                    self._unindex_unsynced(entry_id)
                current = self._journal_entries.get(entry_id)
                if current is not None and current.revision == revision:
                    self._journal_entries[entry_id] = replace(current, acked_at=record["at"])
                else:
                    self._journal_acks[entry_id] = [revision, seq, chunk, record["at"]]
        elif op == "audit":
            self._journal_audit.append({k: record[k] for k in ("kind", "detail", "at")})

    def _index_unsynced(self, entry: Entry) -> None:
        self._index_unsynced_doc(entry.entry_id, entry.verdict, entry.seq, entry.revision, entry.captured_at)

    def _index_unsynced_doc(self, entry_id: str, verdict: str, seq: int, revision: int, captured_at: str) -> None:
        index = self._unsynced_priority if verdict in _PRIORITY else self._unsynced_normal
        index.add(entry_id, (seq, chunk_name(captured_at[:10], seq), revision, captured_at))

    def _unindex_unsynced(self, entry_id: str) -> None:
        self._unsynced_priority.pop(entry_id)
        self._unsynced_normal.pop(entry_id)

    def _unsynced_index(self, entry_id: str) -> tuple[int, str, int, str] | None:
        return self._unsynced_priority.get(entry_id) or self._unsynced_normal.get(entry_id)

    def _fold(self) -> None:
        """Apply the journal to the chunk files, then replace it by an empty one. Idempotent if interrupted."""
        if not self._journal_entries and not self._journal_acks and not self._journal_audit:
            return
        per_chunk: dict[str, tuple[list[Entry], list[list[Any]]]] = {}
        for entry in self._journal_entries.values():
            per_chunk.setdefault(chunk_name(entry.day, entry.seq), ([], []))[0].append(entry)
        for entry_id, (revision, seq, chunk, at) in self._journal_acks.items():
            per_chunk.setdefault(chunk, ([], []))[1].append([entry_id, revision, seq, at])
        for name, (entries, acks) in per_chunk.items():
            self._fold_chunk(name, entries, acks)
        per_day: dict[str, list[dict[str, Any]]] = {}
        for item in self._journal_audit:
            per_day.setdefault(item["at"][:10], []).append(item)
        for day, items in per_day.items():
            path = self.audit_dir / f"{day}.json"
            data = self._read_tiny(path)
            table = data.setdefault("audit", {})
            start = max((int(k) for k in table), default=0) + 1
            table.update({str(start + i): item for i, item in enumerate(items)})
            AtomicJSONStorage(path).write(data)
        self._write_meta()
        self._journal.reset(self._last_seq)
        self._journal_entries.clear()
        self._journal_acks.clear()
        self._journal_audit.clear()

    def _fold_chunk(self, name: str, entries: list[Entry], acks: list[list[Any]]) -> None:
        # Folding goes through the storage seam (read the file once, write it once): TinyDB's Table would
        # rewrite the whole file for every single upsert.
        path = self._chunk_path(name)
        data = self._read_tiny(path)
        docs = data.setdefault("entries", {})
        for entry in entries:
            old = docs.get(str(entry.seq))
            if old is None or int(old.get("revision", 0)) <= entry.revision:
                docs[str(entry.seq)] = entry.to_dict()
        for entry_id, revision, seq, at in acks:
            doc = docs.get(str(seq))
            if doc is not None and doc["entry_id"] == entry_id and doc.get("revision", 0) == revision:
                doc["acked_at"] = at
        AtomicJSONStorage(path).write(data)
        self._chunks[name] = _chunk_info(docs)

    def _chunk_path(self, name: str) -> Path:
        return self.entries_dir / f"{name}.json"

    def _read_chunk(self, name: str) -> dict[str, Any]:
        """A chunk file's tables, cached while the file is unchanged."""
        path = self._chunk_path(name)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return {}
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # every write is a rename: a new inode
        cached = self._chunk_cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        data = self._read_tiny(path)
        if len(self._chunk_cache) >= CHUNK_CACHE:
            self._chunk_cache.pop(next(iter(self._chunk_cache)))
        self._chunk_cache[name] = (key, data)
        return data

    def _read_tiny(self, path: Path) -> dict[str, Any]:
        try:
            return AtomicJSONStorage(path).read() or {}
        except CorruptFileError as exc:
            aside = move_aside(path)
            self.warnings.append(f"{exc}; 已移至 / moved to {aside.name}")
            return {}

    def _load_meta(self) -> tuple[dict[str, dict[str, int]], int]:
        try:
            data: dict[str, Any] | None = AtomicJSONStorage(self._meta_path).read()
        except CorruptFileError as exc:
            aside = move_aside(self._meta_path)
            self.warnings.append(f"{exc}; 已移至 / moved to {aside.name}; 已重建 / rebuilt")
            data = None
        chunks: dict[str, dict[str, int]] = {n: dict(v) for n, v in (data or {}).get("chunks", {}).items()}
        last_seq = int((data or {}).get("last_seq", 0))
        on_disk = {p.stem for p in self.entries_dir.glob("*.json")}
        if data is None or set(chunks) != on_disk:
            chunks = {}
            for name in sorted(on_disk):
                docs = self._read_tiny(self._chunk_path(name)).get("entries", {})
                if docs:
                    chunks[name] = _chunk_info(docs)
            last_seq = max([last_seq, *(c["last_seq"] for c in chunks.values())])
            AtomicJSONStorage(self._meta_path).write({"chunks": chunks, "last_seq": last_seq})
        return chunks, last_seq

    def _write_meta(self) -> None:
        AtomicJSONStorage(self._meta_path).write({"chunks": self._chunks, "last_seq": self._last_seq})


def _chunk_info(docs: dict[str, Any]) -> dict[str, int]:
    return {
        "count": len(docs),
        "unsynced": sum(1 for d in docs.values() if d.get("acked_at") is None),
        "last_seq": max(int(k) for k in docs),
    }


def _days(first: date, last: date) -> Iterator[str]:
    day = first
    while day <= last:
        yield day.isoformat()
        day += timedelta(days=1)
