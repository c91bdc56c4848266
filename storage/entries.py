"""The entry store: a fsync'ed journal as the hot path, folded into bounded chunk files off it.

Layout of the data directory (every file is checksummed records, one per line: see storage/records.py):
- `journal.jsonl`: every change (new entry, amendment, acknowledgement, audit record), fsync'ed per call.
- `entries/<day>.<block>.json`: chunk files (storage/chunks.py), at most `CHUNK` sequence numbers each, so
  folding rewrites a bounded file whatever the history holds.
- `audit/<day>.json`: rejected scans and other audit records.
- `meta.json`: a summary of the chunk files (counts, unsynced, missing); derived from them, rebuilt if damaged.
- `seqs.json`: the sequence numbers' high-water mark and those lost to damage (storage/seqs.py).

Damage costs the damaged records only: they are set aside with a warning, never believed, and the sequence
numbers of lost entries wait in `seqs.json` until the center sends them back or records them as lost.

Processes (the app, the nightly scripts) share the directory under an exclusive `flock` per operation; each
catches up on the others' journal records before acting, and reloads when the journal was folded. Folding
holds that lock only for moments: chunk files are written under a second lock that only folders take.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.domain.models import DayCounts, Direction, Entry, Verdict, enum_member
from storage import records
from storage.chunks import CHUNK, Chunk, block_range, chunk_name, read_chunk, write_chunk
from storage.files import (
    PRIVATE_FILE,
    ensure_private_dir,
    ensure_store_dir,
    fsync_dir,
    move_aside,
    remove_stale_temp_files,
    write_atomic,
)
from storage.indexes import SeqIndex, Tally
from storage.journal import Journal
from storage.seqs import SeqLedger

__all__ = ["CHUNK", "CheckReport", "EntryStore", "chunk_name"]

CHUNK_CACHE = 2
"""Parsed chunk files kept for the sync batches that read them in turn (a parsed chunk is ~5 MB)."""
FOLD_BYTES = 512 * 1024
"""Journal size past which `fold_if_due` folds."""
_PRIORITY = (Verdict.DENIED, Verdict.REFERRED)


@dataclass
class CheckReport:
    """What `EntryStore.check` found."""

    files: int
    """Files read."""
    damaged_files: list[str]
    """Files that failed a check this time (each moved aside, its intact records kept)."""
    entries: int
    """Intact entries read."""
    lost_pending: list[int]
    """Sequence numbers of lost entries not yet settled with the center."""
    lost_reported: list[int]
    """Sequence numbers of lost entries the center has recorded as lost."""

    @property
    def clean(self) -> bool:
        return not self.damaged_files and not self.lost_pending


class EntryStore:
    """Durable, multi-process-safe storage of gate entries. Thread-safe."""

    def __init__(self, data_dir: Path, load: bool = True) -> None:
        """Open the store in `data_dir`; with load=False the indexes are read by `load()` or the first call."""
        self.root = ensure_store_dir(Path(data_dir))
        self.entries_dir = ensure_private_dir(self.root / "entries")
        self.audit_dir = ensure_private_dir(self.root / "audit")
        self.warnings: list[str] = []
        """Bilingual messages about damage found and repaired; the UI shows them."""
        self._mutex = threading.RLock()
        self._lock_depth = 0
        self._lock_fd = os.open(self.root / "store.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        self._fold_mutex = threading.Lock()
        self._fold_fd = os.open(self.root / "fold.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        self._journal = Journal(self.root / "journal.jsonl")
        self._last_seq = 0
        self._chunks: dict[str, dict[str, int]] = {}
        self._tallies: dict[str, Tally] = {}
        self._journal_entries: dict[str, Entry] = {}
        self._journal_acks: dict[str, list[Any]] = {}
        self._journal_audit: list[dict[str, Any]] = []
        self._unsynced_priority = SeqIndex()
        self._unsynced_normal = SeqIndex()
        self._meta_path = self.root / "meta.json"
        self._ledger = SeqLedger(self.root / "seqs.json")
        self._chunk_cache: dict[str, tuple[tuple[int, int, int], Chunk]] = {}
        self._suspect: set[str] = set()
        """Chunk files found damaged and not rewritten yet (the next fold or check does it)."""
        self._reported_damage: set[tuple[str, tuple[int, int, int]]] = set()
        if load:
            self.load()

    def load(self) -> None:
        """Read the indexes now (the gate does it after its first paint); any call does it if not done yet."""
        with self._locked():
            pass

    def close(self) -> None:
        with self._mutex:
            self._journal.close()
            for name in ("_lock_fd", "_fold_fd"):
                if getattr(self, name) >= 0:
                    os.close(getattr(self, name))
                    setattr(self, name, -1)

    # -- writing ---------------------------------------------------------------------------------------

    def record(self, entry: Entry) -> Entry:
        """Durably record a new entry (seq 0: the store assigns the next) or an amendment; return it."""
        with self._locked():
            if entry.seq == 0:
                entry = replace(entry, seq=self._last_seq + 1)
                self._ledger.reserve(entry.seq)
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
            self._journal.append([record], durable=False)
            self._apply(record)
            sync = self._journal.deferred_sync()
        sync()  # after letting go of the lock: a scan recording meanwhile does not wait for this fdatasync
        return len(items)

    def audit(self, kind: str, detail: str, at: str) -> None:
        """Durably record an audit event (a rejected scan, a refused login)."""
        with self._locked():
            record = {"op": "audit", "kind": kind, "detail": detail, "at": at}
            self._journal.append([record])
            self._apply(record)

    # -- damage ----------------------------------------------------------------------------------------

    def lost_seqs(self) -> list[int]:
        """Sequence numbers of entries lost to damage and not yet settled with the center, lowest first."""
        with self._locked():
            present = {entry.seq for entry in self._journal_entries.values()}
            return sorted(self._ledger.pending - present)

    def reported_lost(self) -> list[int]:
        """Sequence numbers the center has recorded as lost at this station."""
        with self._locked():
            return sorted(self._ledger.reported)

    def restore(self, documents: Iterable[dict[str, Any]], at: str) -> int:
        """Put back lost entries the center sent (acknowledged as of `at`); return how many were taken.

        Only documents for pending sequence numbers that read as whole entries are taken; others are ignored.
        """
        with self._locked():
            taken: list[dict[str, Any]] = []
            for document in documents:
                try:
                    entry = Entry.from_dict(document)
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
                if entry.seq in self._ledger.pending and entry.seq not in {d["entry"]["seq"] for d in taken}:
                    taken.append({"op": "put", "entry": replace(entry, acked_at=at).to_dict()})
            if not taken:
                return 0
            self._journal.append(taken)
            for record in taken:
                self._apply(record)
            self._ledger.settle(recovered=[record["entry"]["seq"] for record in taken])
            return len(taken)

    def mark_reported(self, seqs: Iterable[int]) -> None:
        """The center recorded these sequence numbers as lost at this station."""
        with self._locked():
            self._ledger.settle(reported=[seq for seq in seqs if seq in self._ledger.pending])

    def check(self) -> CheckReport:
        """Read every file of the store; rewrite damaged files around their intact records (and files of the
        earlier format with checksums)."""
        with self._folding():
            damaged_before = len(self.warnings)
            with self._locked():
                self._load()
                names = sorted({*self._chunks, *(p.stem for p in self.entries_dir.glob("*.json"))})
            entries = 0
            for name in names:
                chunk = self._chunk_for_fold(name)
                entries += len(chunk.docs)
                with self._locked():
                    self._chunks[name] = _chunk_info(chunk)
            audit_files = sorted(self.audit_dir.glob("*.json"))
            for path in audit_files:
                self._read_audit(path, repair=True)
            with self._locked():
                self._write_meta()
                new_warnings = self.warnings[damaged_before:]
                present = {entry.seq for entry in self._journal_entries.values()}
                return CheckReport(
                    files=len(names) + len(audit_files) + 3,
                    damaged_files=new_warnings,
                    entries=entries,
                    lost_pending=sorted(self._ledger.pending - present),
                    lost_reported=sorted(self._ledger.reported),
                )

    # -- reading ---------------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        with self._locked():
            return self._last_seq

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

    def unsynced_documents(self, limit: int, skip: Collection[tuple[str, int]] = ()) -> list[dict[str, Any]]:
        """`unsynced_batch` as the stored documents (`Entry.to_dict()` form); do not modify them."""
        return [doc for doc, _ in self.unsynced_json(limit, skip)]

    def unsynced_json(self, limit: int, skip: Collection[tuple[str, int]] = ()) -> list[tuple[dict[str, Any], bytes]]:
        """`unsynced_documents`, each with its compact JSON text, ready to send; do not modify them.

        Sync sends these as they are: a document read from a chunk file comes with the JSON its line holds, so
        that draining a long backlog neither builds an Entry per row nor serialises it again. Entries whose
        (entry_id, revision) is in `skip` (in flight, refused) are left out before any document is read.
        """
        with self._locked():
            chosen = [p for p in self._unsynced_priority.first(limit + len(skip)) if (p[0], p[1][2]) not in skip]
            chosen = chosen[:limit]
            if len(chosen) < limit:
                normal = self._unsynced_normal.first(limit - len(chosen) + len(skip))
                chosen += [p for p in normal if (p[0], p[1][2]) not in skip][: limit - len(chosen)]
            journal = {eid: self._journal_entries[eid] for eid, _ in chosen if eid in self._journal_entries}
        # Encoded outside the lock (entries are immutable): a scan recording meanwhile does not wait for it.
        found = {eid: (doc, records.json_of(doc)) for eid, doc in ((eid, e.to_dict()) for eid, e in journal.items())}
        by_chunk: dict[str, list[tuple[str, int]]] = {}
        for eid, (seq, name, _, _) in chosen:
            if eid not in found:
                by_chunk.setdefault(name, []).append((eid, seq))
        for name, wanted in by_chunk.items():
            chunk = self._read_chunk(name)
            for eid, seq in wanted:
                doc = chunk.docs.get(seq)
                if doc is None or doc["entry_id"] != eid:
                    continue
                stored = chunk.lines.get(seq)
                # The document is its line's while it is the same object (not merged with an acknowledgement).
                text = records.body_of(stored[1]) if stored is not None and stored[0] is doc else records.json_of(doc)
                found[eid] = (doc, text)
        priority = {str(v) for v in _PRIORITY}
        batch = [found[eid] for eid, _ in chosen if eid in found]
        batch.sort(key=lambda item: (item[0]["verdict"] not in priority, item[0]["seq"]))
        return batch

    def entries_of_day(self, day: str) -> list[Entry]:
        """Every entry captured on `day` (YYYY-MM-DD), newest revision of each, in sequence order."""
        return [Entry.from_dict(doc) for doc in self.documents_of_day(day)]

    def entries_between(self, start: datetime, end: datetime) -> list[Entry]:
        """Entries captured in [start, end); both must carry a UTC offset."""
        return [Entry.from_dict(doc) for doc in self.documents_between(start, end)]

    def documents_between(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """`entries_between` as the stored documents, day by day; do not modify them."""
        for day in _days(start.date() - timedelta(days=1), end.date() + timedelta(days=1)):
            yield from (
                doc for doc in self.documents_of_day(day) if start <= datetime.fromisoformat(doc["captured_at"]) < end
            )

    def counts(self, day: str) -> DayCounts:
        """Counts for one day, by verdict, direction and hour."""
        while True:
            with self._locked():
                tally = self._tallies.get(day)
                if tally is not None:
                    return tally.counts()
                names = sorted(n for n in self._chunks if n.startswith(day + "."))
                generation = self._journal.generation
            tally = Tally()
            # Chunk by chunk and without the cache: a busy day's documents never sit in memory all at once.
            for name in names:
                for doc in self._read_chunk(name, cache=False).docs.values():
                    tally.count(
                        doc["entry_id"],
                        enum_member(Verdict, doc["verdict"]),
                        enum_member(Direction, doc["direction"]),
                        int(doc["captured_at"][11:13]),
                    )
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
            docs = sorted(self._read_chunk(name, cache=False).docs.values(), key=lambda doc: doc["seq"], reverse=True)
            for doc in docs[:count]:
                found[doc["entry_id"]] = Entry.from_dict(doc)
        for entry_id, entry in recent.items():  # newer revisions and entries not folded yet
            old = found.get(entry_id)
            if old is None or old.revision <= entry.revision:
                found[entry_id] = entry
        return sorted(found.values(), key=lambda e: e.seq, reverse=True)[:count]

    def documents_of_day(self, day: str) -> list[dict[str, Any]]:
        """The stored documents (`Entry.to_dict()`) of a day's entries, newest revision of each, in sequence
        order; do not modify.

        Queries filter and count these, and exports write them, before (or instead of) building Entry objects,
        which is most of the cost of reading a busy day.
        """
        while True:
            with self._locked():
                names = sorted(n for n in self._chunks if n.startswith(day + "."))
                generation = self._journal.generation
            merged: dict[str, dict[str, Any]] = {}
            # Newest chunk first: those the store's opening or the last call read are still cached. Each entry
            # lives in the chunk of its seq; were one in two, the later chunk's would win, as in order.
            for name in reversed(names):
                for stored in self._read_chunk(name).docs.values():
                    merged.setdefault(stored["entry_id"], stored)
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
        return self._read_audit(self.audit_dir / f"{day}.json") + recent

    def days(self) -> list[str]:
        """Days that have entries, oldest first."""
        with self._locked():
            found = {n.split(".")[0] for n in self._chunks} | {e.day for e in self._journal_entries.values()}
        return sorted(found)

    # -- folding and purging ---------------------------------------------------------------------------

    def fold_if_due(self) -> bool:
        """Fold the journal into the chunk files when it has grown; return whether it did."""
        with self._locked():
            due = self._journal.offset >= FOLD_BYTES or bool(self._suspect)
        if due:
            self.fold()
        return due

    def fold(self) -> None:
        """Fold every journal record into the chunk files and start a fresh journal.

        Scans go on meanwhile: the store's lock is held only to take the records and, at the end, to swap in a
        journal holding what arrived during the fold.
        """
        with self._folding():
            self._fold()

    def load_numbered(self, entries: Iterable[Entry]) -> int:
        """Write entries that already carry their sequence numbers straight into the chunk files; return how many.

        For restoring a copy and for pre-filling benchmarks: each chunk file is written once per call, as a
        fold would, so it skips the journal and is not for live entries.
        """
        per_chunk: dict[str, list[Entry]] = {}
        for entry in entries:
            per_chunk.setdefault(chunk_name(entry.day, entry.seq), []).append(entry)
        with self._folding():
            self._fold()
            with self._locked():
                for name, batch in per_chunk.items():
                    self._chunks[name] = self._fold_chunk(name, batch, [])
                    for entry in batch:
                        self._last_seq = max(self._last_seq, entry.seq)
                        if entry.acked_at is None:
                            self._index_unsynced(entry)
                self._ledger.reserve(self._last_seq)
                self._tallies.clear()
                self._write_meta()
        return sum(len(batch) for batch in per_chunk.values())

    def purge(self, older_than_days: int, today: date) -> int:
        """Delete acknowledged entries captured more than `older_than_days` before `today`; never others."""
        cutoff = (today - timedelta(days=older_than_days)).isoformat()
        removed = 0
        with self._folding():
            self._fold()
            with self._locked():
                gone: list[Path] = []
                for name in sorted(self._chunks):
                    if name.split(".")[0] >= cutoff:
                        continue
                    chunk = self._chunk_for_fold(name)
                    keep = {seq: d for seq, d in chunk.docs.items() if d.get("acked_at") is None}
                    removed += len(chunk.docs) - len(keep)
                    lost = chunk.missing & (self._ledger.pending | self._ledger.reported)
                    if keep or lost:
                        write_chunk(self._chunk_path(name), keep.values(), lost)
                        self._chunks[name] = _chunk_info(Chunk(docs=keep, seqs=lost | set(keep)))
                    else:
                        gone.append(self._chunk_path(name))
                        del self._chunks[name]
                    self._chunk_cache.pop(name, None)
                # The summary first: a power cut before the deletions are durable leaves files it does not list,
                # which are read again quietly, never a listed file that is gone (which would be reported lost).
                self._write_meta()
                gone += [path for path in self.audit_dir.glob("*.json") if path.stem < cutoff]
                for path in gone:
                    path.unlink(missing_ok=True)
                for folder in (self.entries_dir, self.audit_dir):
                    fsync_dir(folder)  # a purge is for privacy: deleted entries must not come back after a power cut
                self._tallies = {d: t for d, t in self._tallies.items() if d >= cutoff}
        return removed

    # -- internals -------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            if self._lock_depth:  # already held by this thread (purge reads chunks as a fold does)
                yield
                return
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                self._refresh()
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextmanager
    def _folding(self) -> Iterator[None]:
        """The right to write chunk and audit files, held by one folder at a time across processes."""
        with self._fold_mutex:
            fcntl.flock(self._fold_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fold_fd, fcntl.LOCK_UN)

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
                self._apply_safely(record)

    def _load(self) -> None:
        self._last_seq = 0
        self._journal_entries = {}
        self._journal_acks = {}
        self._journal_audit = []
        self._unsynced_priority = SeqIndex()
        self._unsynced_normal = SeqIndex()
        self._tallies = {}
        self._chunk_cache.clear()
        existed = self._meta_path.exists() or self._ledger.path.exists() or any(self.entries_dir.iterdir())
        self.warnings.extend(self._ledger.load())
        self._chunks, meta_last_seq = self._load_meta()
        for name, info in sorted(self._chunks.items()):
            if info["unsynced"] or info["missing"]:
                chunk = self._read_chunk(name)
                for doc in chunk.docs.values():
                    if doc.get("acked_at") is None:
                        # Straight from the document: a long offline backlog would otherwise build an Entry per row.
                        self._index_unsynced_doc(
                            doc["entry_id"], doc["verdict"], doc["seq"], doc.get("revision", 0), doc["captured_at"]
                        )
                self._note_lost(name, chunk)
        opened = self._journal.open()
        self.warnings.extend(opened.warnings)
        chunk_last = max((info["last_seq"] for info in self._chunks.values()), default=0)
        self._last_seq = max(meta_last_seq, chunk_last, self._journal.header_last_seq)
        for record in opened.records:
            self._apply_safely(record)
        if opened.damaged or (opened.missing and existed):
            folded_last = max(meta_last_seq, chunk_last)
            lost_header = opened.header_lost or opened.missing
            self._journal_lost(lost_header, opened.tail_lost or opened.missing, folded_last)
        self._ledger.reserve(self._last_seq)
        for path in sorted(self.audit_dir.glob("*.json")):
            self._read_audit(path)
        lost = self._ledger.pending - {entry.seq for entry in self._journal_entries.values()}
        if lost:
            self.warnings.append(
                f"{len(lost)} 条记录因文件损坏丢失,待与数据中心核对 / {len(lost)} entries lost to a damaged file: "
                "they will be fetched back from the center, or reported to it as lost"
            )

    def _journal_lost(self, header_lost: bool, tail_lost: bool, folded_last: int) -> None:
        """The journal lost records: note the numbers that may be lost; when its tail is lost, resume above the
        high-water mark, since the lost records may have held any number up to it."""
        floor = folded_last if header_lost else self._journal.header_last_seq
        top = max(self._last_seq, self._ledger.reserved) if tail_lost else self._last_seq
        present = {entry.seq for entry in self._journal_entries.values()}
        self._ledger.lose(set(range(floor + 1, top + 1)) - present)
        if top > self._last_seq:
            self._journal.raise_floor(top)
            self.warnings.append(
                f"日志受损后,序号从 {top + 1} 继续,不会重复使用 / after the damaged journal, sequence numbers go on "
                f"from {top + 1}: none is used twice"
            )
        self._last_seq = top

    def _apply_safely(self, record: dict[str, Any]) -> None:
        """Apply a journal record; one that passed its checksum but is not whole is reported and set aside."""
        try:
            self._apply(record)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.warnings.append(f"日志记录不完整,已跳过 / an incomplete journal record was set aside: {record}"[:300])
            seq = record.get("entry", {}).get("seq") if isinstance(record.get("entry"), dict) else None
            if isinstance(seq, int) and seq > 0:
                self._last_seq = max(self._last_seq, seq)
                self._ledger.lose({seq} - {entry.seq for entry in self._journal_entries.values()})

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
        """Apply the journal to the chunk files, then swap in a journal of what arrived meanwhile.

        Called holding the fold lock. Idempotent if interrupted: the old journal stays until the swap.
        """
        with self._locked():
            entries = dict(self._journal_entries)
            acks = dict(self._journal_acks)
            audit = list(self._journal_audit)
            suspect = set(self._suspect)
            offset, inode = self._journal.offset, self._journal.inode
        if not entries and not acks and not audit and not suspect:
            return
        per_chunk: dict[str, tuple[list[Entry], list[list[Any]]]] = {name: ([], []) for name in suspect}
        for entry in entries.values():
            per_chunk.setdefault(chunk_name(entry.day, entry.seq), ([], []))[0].append(entry)
        for entry_id, (revision, seq, chunk, at) in acks.items():
            per_chunk.setdefault(chunk, ([], []))[1].append([entry_id, revision, seq, at])
        for name, (chunk_entries, chunk_acks) in per_chunk.items():
            info = self._fold_chunk(name, chunk_entries, chunk_acks)
            with self._locked():
                self._chunks[name] = info
                self._suspect.discard(name)
        per_day: dict[str, list[dict[str, Any]]] = {}
        for item in audit:
            per_day.setdefault(item["at"][:10], []).append(item)
        for day, items in per_day.items():
            path = self.audit_dir / f"{day}.json"
            kept = self._read_audit(path, repair=True)
            write_atomic(path, b"".join(records.encode(item) for item in kept + items))
        with self._locked():
            if self._journal.inode != inode:
                return  # another process repaired the journal meanwhile: the next fold starts over
            self._write_meta()
            self._journal.reset(self._last_seq, keep_from=offset)
            for entry_id, entry in entries.items():
                if self._journal_entries.get(entry_id) is entry:
                    del self._journal_entries[entry_id]
            for entry_id, ack in acks.items():
                if self._journal_acks.get(entry_id) is ack:
                    del self._journal_acks[entry_id]
            del self._journal_audit[: len(audit)]

    def _fold_chunk(self, name: str, entries: list[Entry], acks: list[list[Any]]) -> dict[str, int]:
        """Merge entries and acknowledgements into one chunk file (read once, written once); return its summary."""
        chunk = self._chunk_for_fold(name)
        docs = chunk.docs
        for entry in entries:
            old = docs.get(entry.seq)
            if old is None or int(old.get("revision", 0)) <= entry.revision:
                docs[entry.seq] = entry.to_dict()
        for entry_id, revision, seq, at in acks:
            doc = docs.get(seq)
            if doc is not None and doc["entry_id"] == entry_id and doc.get("revision", 0) == revision:
                docs[seq] = {**doc, "acked_at": at}
        seqs = (chunk.seqs or set()) | set(docs)
        write_chunk(self._chunk_path(name), docs.values(), seqs, chunk.lines)
        return _chunk_info(Chunk(docs=docs, seqs=seqs))

    def _chunk_for_fold(self, name: str) -> Chunk:
        """A chunk file read for rewriting (holding the fold lock): a damaged one is moved aside and its losses
        noted, and the chunk returned is what the rewritten file will hold."""
        path = self._chunk_path(name)
        chunk = read_chunk(path, name)
        listed = name in self._chunks
        if chunk.damaged or chunk.seqs is None or (listed and not chunk.exists):
            if chunk.exists:
                move_aside(path)
            with self._locked():
                if chunk.seqs is None or not chunk.exists:
                    chunk.seqs = self._candidates(name) | set(chunk.docs)
                self._report_damage(name, chunk, key=None)
                self._note_lost(name, chunk)
            write_chunk(path, chunk.docs.values(), chunk.seqs, chunk.lines)
            chunk = Chunk(docs=chunk.docs, seqs=chunk.seqs, lines=chunk.lines)
        else:
            with self._locked():
                self._note_lost(name, chunk)
            if chunk.legacy:
                write_chunk(path, chunk.docs.values(), chunk.seqs)
        self._chunk_cache.pop(name, None)
        return chunk

    def _candidates(self, name: str) -> set[int]:
        """Sequence numbers a chunk whose list is lost may have held: its block's numbers found nowhere else."""
        block = block_range(name)
        elsewhere = {entry.seq for entry in self._journal_entries.values()}
        day, number = name.split(".")
        for path in self.entries_dir.glob(f"*.{number}.json"):
            if path.stem != name:
                other = read_chunk(path, path.stem)
                elsewhere |= other.seqs or set(other.docs)
        return {seq for seq in block if seq <= self._last_seq} - elsewhere

    def _note_lost(self, name: str, chunk: Chunk) -> None:
        """Put a chunk's missing entries (not in the journal either) into the ledger; warn about new losses."""
        if chunk.sound and not chunk.missing:
            return
        present = {entry.seq for entry in self._journal_entries.values()}
        new = self._ledger.lose(chunk.missing - present)
        if new:
            self.warnings.append(f"{name}: {len(new)} 条记录损坏 / {len(new)} entries damaged (seq {_show_seqs(new)})")

    def _report_damage(self, name: str, chunk: Chunk, key: tuple[int, int, int] | None) -> None:
        if key is not None and (name, key) in self._reported_damage:
            return
        if key is not None:
            self._reported_damage.add((name, key))
        kept = len(chunk.docs)
        self.warnings.append(
            f"记录文件 {name} 已损坏,保留 {kept} 条完好记录 / chunk file {name} damaged: "
            f"{kept} intact entries kept, {chunk.damaged} damaged records set aside"
        )

    def _chunk_path(self, name: str) -> Path:
        return self.entries_dir / f"{name}.json"

    def _read_chunk(self, name: str, cache: bool = True) -> Chunk:
        """A chunk file's intact documents, cached while the file is unchanged; damage is reported, not raised.

        Without `cache`, the chunk is neither taken from the cache nor kept: a busy day is read chunk by chunk.
        """
        path = self._chunk_path(name)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return Chunk(seqs=set(), exists=False)
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # every write is a rename: a new inode
        cached = self._chunk_cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        chunk = read_chunk(path, name)
        if chunk.damaged or chunk.seqs is None:
            with self._mutex:
                self._report_damage(name, chunk, key)
                self._suspect.add(name)
        if not cache:
            return chunk
        if len(self._chunk_cache) >= CHUNK_CACHE:
            self._chunk_cache.pop(next(iter(self._chunk_cache)), None)
        self._chunk_cache[name] = (key, chunk)
        return chunk

    def _read_audit(self, path: Path, repair: bool = False) -> list[dict[str, Any]]:
        """The intact audit records of one day's file; a damaged file is reported (and with `repair` rewritten)."""
        found = records.read(path)
        legacy = found.exists and found.records == [] and found.damaged == 1 and path.read_bytes()[:1] == b"{"
        if legacy:
            found = _read_legacy_audit(path)
        items = [r for r in found.records if isinstance(r.get("at"), str) and {"kind", "detail"} <= r.keys()]
        damaged = found.damaged + len(found.records) - len(items)
        if legacy and repair and not damaged:
            write_atomic(path, b"".join(records.encode(item) for item in items))
        if damaged:
            with self._mutex:
                try:
                    stat = path.stat()
                    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
                except FileNotFoundError:
                    key = (0, 0, 0)
                if ("audit/" + path.name, key) not in self._reported_damage:
                    self._reported_damage.add(("audit/" + path.name, key))
                    self.warnings.append(
                        f"审计文件 {path.name} 已损坏,{damaged} 条记录无法读取 / audit file {path.name} damaged: "
                        f"{damaged} records unreadable, {len(items)} kept"
                    )
            if repair:
                move_aside(path)
                write_atomic(path, b"".join(records.encode(item) for item in items))
        return items

    def _load_meta(self) -> tuple[dict[str, dict[str, int]], int]:
        found = records.read(self._meta_path)
        meta = next((r for r in found.records if r.get("op") == "meta"), None)
        chunks: dict[str, dict[str, int]] = {}
        last_seq = 0
        try:
            if meta is not None and not found.damaged:
                chunks = {str(n): _checked_info(v) for n, v in meta["chunks"].items()}
                last_seq = int(meta["last_seq"])
        except (KeyError, TypeError, ValueError, AttributeError):
            meta = None
        if found.exists and (meta is None or found.damaged):
            if not _legacy_meta(self._meta_path):
                aside = move_aside(self._meta_path)
                self.warnings.append(
                    f"{self._meta_path}: 文件已损坏,已移至 {aside.name},已重建 / file is damaged, moved to "
                    f"{aside.name}; rebuilt"
                )
            meta = None
        on_disk = {p.stem for p in self.entries_dir.glob("*.json")}
        if meta is None or set(chunks) != on_disk:
            for name in sorted(set(chunks) - on_disk):
                self.warnings.append(f"记录文件 {name} 丢失 / chunk file {name} is missing")
                self._suspect.add(name)
            rebuilt = {name: chunks[name] for name in set(chunks) - on_disk}
            for name in sorted(on_disk):
                chunk = self._read_chunk(name)
                rebuilt[name] = _chunk_info(chunk)
            chunks = rebuilt
            last_seq = max([last_seq, *(c["last_seq"] for c in chunks.values())])
            write_atomic(self._meta_path, records.encode({"op": "meta", "chunks": chunks, "last_seq": last_seq}))
        return chunks, last_seq

    def _write_meta(self) -> None:
        meta = {"op": "meta", "chunks": self._chunks, "last_seq": self._last_seq}
        write_atomic(self._meta_path, records.encode(meta))


def _chunk_info(chunk: Chunk) -> dict[str, int]:
    docs = chunk.docs
    return {
        "count": len(docs),
        "unsynced": sum(1 for d in docs.values() if d.get("acked_at") is None),
        "last_seq": max([*docs, *(chunk.seqs or ())], default=0),
        "missing": len(chunk.missing) + (chunk.seqs is None),
    }


def _checked_info(info: Any) -> dict[str, int]:
    keys = ("count", "unsynced", "last_seq", "missing")
    if not isinstance(info, dict) or not all(isinstance(info.get(k), int) for k in keys):
        raise ValueError("chunk summary")
    return {k: info[k] for k in keys}


def _legacy_meta(path: Path) -> bool:
    """Whether meta.json is a whole file of the earlier format (rebuilt quietly, unlike a damaged one)."""
    try:
        data = json.loads(path.read_bytes())
        return isinstance(data, dict) and "chunks" in data
    except (ValueError, UnicodeDecodeError, TypeError):
        return False


def _read_legacy_audit(path: Path) -> records.Lines:
    """An audit file of the earlier format (one TinyDB JSON object, no checksums)."""
    try:
        table = json.loads(path.read_bytes()).get("audit", {})
        return records.Lines(records=[dict(item) for item in table.values()])
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return records.Lines(damaged=1)


def _show_seqs(seqs: set[int]) -> str:
    runs = records.ranges(seqs)
    shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:5])
    return shown + (" …" if len(runs) > 5 else "")


def _days(first: date, last: date) -> Iterator[str]:
    day = first
    while day <= last:
        yield day.isoformat()
        day += timedelta(days=1)
