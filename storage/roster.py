"""The roster (people, cards, return approvals, medical observation): a snapshot file and a change log.

`roster.json` is a TinyDB-shaped snapshot of the whole roster, replaced atomically (and written and read as a
stream, so a full 50k-person roster never exists as one big dict of dicts, nor as its text). `roster.log` holds
the changes made since: one CRC-checked line per change, appended and fsync'ed, so that a change of ten people
costs ten people, not a rewrite and re-read of the whole roster. Other processes (the nightly pull, `kiosk roster
import`) read only the lines they have not seen. When the log grows past a share of the snapshot, it is folded
into a new snapshot. Each snapshot has a generation; log lines of another generation (left by a crash between the
two files) are ignored. Writers hold an exclusive `flock` on the data directory.

Lookup by ID or card is a dict hit; search by name or ID fragment scans the people themselves (a casefolded copy is
kept only for names that casefolding changes, so CJK names are never held twice). The indexes are swapped whole,
never changed in place, so a reader in another thread never sees them half-updated; a roster read again (or pulled,
see `interned`) keeps the Person objects of the people who did not change, so the old and the new roster are not
both held whole. The gate constructs the store with `load=False` and calls `load()` in a worker after its first
paint.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.domain.jsonstream import members
from kiosk.domain.models import Person
from storage.files import (
    NO_ROOM,
    PRIVATE_FILE,
    CorruptFileError,
    StoreFullError,
    ensure_store_dir,
    fsync_dir,
    move_aside,
)

LOG_FOLD_SHARE = 0.25
"""The log is folded into a new snapshot when it grows past this share of the snapshot's size."""
LOG_FOLD_MIN = 1 << 20
"""…and never before it holds this many bytes: small rosters keep their log too."""
BIG_CHANGE_SHARE = 0.25
"""A change of more than this share of the roster is written as a new snapshot rather than appended."""
READ_CHUNK = 1 << 16
"""Bytes of the snapshot read at a time."""


@dataclass(frozen=True)
class _View:
    """The in-memory roster; replaced whole on every change."""

    people: dict[str, Person] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)
    """Casefolded names, only where casefolding changes the name."""
    cards: dict[str, str] = field(default_factory=dict)
    """Card number → person ID, for the people who have cards."""
    lost: dict[str, str] = field(default_factory=dict)
    """Lost or replaced card number → the ID of the person it belonged to."""

    @classmethod
    def of(cls, people: dict[str, Person]) -> _View:
        return cls(
            people,
            {p.person_id: f for p in people.values() if (f := p.name.casefold()) != p.name},
            {card: p.person_id for p in people.values() for card in p.card_nos},
            {card: p.person_id for p in people.values() for card in p.lost_cards},
        )

    def changed(self, put: Iterable[Person], removed: Iterable[str]) -> _View:
        """A new view with `put` added or replaced and `removed` dropped (the dicts are copied, not changed)."""
        people, folded, cards, lost = dict(self.people), dict(self.folded), dict(self.cards), dict(self.lost)
        for person_id in removed:
            self._forget(people.pop(person_id, None), folded, cards, lost)
        for person in put:
            self._forget(people.get(person.person_id), folded, cards, lost)
            people[person.person_id] = person
            if (name := person.name.casefold()) != person.name:
                folded[person.person_id] = name
            cards.update((card, person.person_id) for card in person.card_nos)
            lost.update((card, person.person_id) for card in person.lost_cards)
        return _View(people, folded, cards, lost)

    @staticmethod
    def _forget(person: Person | None, folded: dict[str, str], cards: dict[str, str], lost: dict[str, str]) -> None:
        if person is None:
            return
        folded.pop(person.person_id, None)
        for card in person.card_nos:
            if cards.get(card) == person.person_id:
                del cards[card]
        for card in person.lost_cards:
            if lost.get(card) == person.person_id:
                del lost[card]


class RosterStore:
    """Who may pass. Thread-safe, and shared safely with other processes."""

    def __init__(self, data_dir: Path, load: bool = True) -> None:
        """Open the roster in `data_dir`; with `load=False` nothing is read until `load()` or the first lookup."""
        self.root = ensure_store_dir(Path(data_dir))
        self.path = self.root / "roster.json"
        self.log_path = self.root / "roster.log"
        self.warnings: list[str] = []
        self._mutex = threading.RLock()
        self._view = _View()
        self._loaded = False
        self._stamp: tuple[int, int] | None = None
        """(mtime_ns, inode) of the snapshot last read."""
        self._log_seen: tuple[int, int] = (0, 0)
        """(inode, bytes) of the log read so far."""
        self._log_bad = False
        """The log ends in a damaged line (a crash mid-append): the next writer truncates it."""
        self._log_warned: tuple[int, int] | None = None
        """Where the last damaged log line was reported (once per damage)."""
        self._generation = ""
        self.version = ""
        """The center's roster version this copy reflects; empty when imported locally."""
        if load:
            self.load()

    def load(self) -> None:
        """Read what changed since the last read (a lookup does the same on its own)."""
        self._catch_up()

    @property
    def loaded(self) -> bool:
        """Whether the file was read (or found missing) at least once."""
        return self._loaded

    def __len__(self) -> int:
        self._catch_up()
        return len(self._view.people)

    def get(self, person_id: str) -> Person | None:
        self._catch_up()
        return self._view.people.get(person_id)

    def card_holder(self, card: str) -> tuple[Person | None, bool]:
        """Who a canonical card number belongs to, and whether that card was reported lost."""
        self._catch_up()
        view = self._view
        lost = view.lost.get(card)
        if lost is not None:
            return view.people.get(lost), True
        holder = view.cards.get(card)
        return (view.people.get(holder) if holder is not None else None), False

    def people(self) -> dict[str, Person]:
        """A copy of the whole roster by ID (for what an import would change)."""
        self._catch_up()
        return dict(self._view.people)

    def search(self, text: str, limit: int = 20) -> list[Person]:
        """People whose ID starts with `text` or whose name contains it (case-insensitive)."""
        self._catch_up()
        view = self._view
        needle = text.strip().casefold()
        if not needle:
            return []
        exact = view.people.get(text.strip())
        found: list[Person] = [exact] if exact else []
        for person_id, person in view.people.items():
            if len(found) >= limit:
                break
            if person is exact:
                continue
            if person_id.casefold().startswith(needle) or needle in view.folded.get(person_id, person.name):
                found.append(person)
        return found

    def interned(self) -> Callable[[Person], Person]:
        """For a Person, the equal one this roster holds (else the Person itself): a roster pulled again then holds a
        second copy only of the people who changed, not of everyone."""
        self._catch_up()
        return _interner(self._view.people)

    def replace_all(self, people: Iterable[Person], version: str = "") -> int:
        """Make the roster exactly `people`; return how many."""
        merged = {p.person_id: p for p in people}
        with self._mutex, self._flocked():
            self._write_snapshot(merged, version)
        return len(merged)

    def upsert(self, people: Iterable[Person], version: str = "", removed: Iterable[str] = ()) -> int:
        """Add or update `people` and drop `removed` IDs; return how many were changed.

        A small change is one line appended to the log; a change of a large share of the roster, or one that
        makes the log too long, writes a new snapshot.
        """
        with self._mutex, self._flocked():
            self._catch_up_locked()
            current = self._view.people
            put = {p.person_id: p for p in people if current.get(p.person_id) != p}
            gone = list(dict.fromkeys(pid for pid in removed if pid in current and pid not in put))
            changed = len(put) + len(gone)
            version = version or self.version
            if not changed and version == self.version:
                return 0
            view = self._view.changed(put.values(), gone)
            if not self.path.exists() or changed > BIG_CHANGE_SHARE * max(len(current), 1):
                self._write_snapshot(view.people, version, view)
                return changed
            self._append({"g": self._generation, "v": version, "put": [p.to_dict() for p in put.values()], "del": gone})
            self._view, self.version = view, version
            if self._log_seen[1] > max(LOG_FOLD_MIN, LOG_FOLD_SHARE * self.path.stat().st_size):
                self._write_snapshot(view.people, version, view)
        return changed

    # -- writing -----------------------------------------------------------------------------------------

    @contextmanager
    def _flocked(self) -> Iterator[None]:
        """Exclusive against other processes writing this roster (the app, the nightly job, an import)."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _write_snapshot(self, people: dict[str, Person], version: str, view: _View | None = None) -> None:
        """Replace the snapshot with `people` under a new generation, then drop the log it makes obsolete."""
        generation = os.urandom(8).hex()
        meta = json.dumps({"1": {"version": version, "generation": generation}})

        def chunks() -> Iterator[bytes]:
            yield b'{"people":{'
            for number, person in enumerate(people.values(), start=1):
                sep = "," if number > 1 else ""
                body = json.dumps(person.to_dict(), ensure_ascii=False, separators=(",", ":"))
                yield f'{sep}"{number}":{body}'.encode()
            yield f'}},"meta":{meta}}}'.encode()

        _write_atomic_stream(self.path, chunks())
        self.log_path.unlink(missing_ok=True)  # its lines are of the old generation: ignored even if this fails
        stat = self.path.stat()
        self._stamp = (stat.st_mtime_ns, stat.st_ino)
        self._log_seen, self._log_bad = (0, 0), False
        self._view = view if view is not None else _View.of(people)
        self._generation, self.version = generation, version
        self._loaded = True

    def _append(self, change: dict[str, Any]) -> None:
        body = json.dumps(change, ensure_ascii=False, separators=(",", ":")).encode()
        line = b"%08x " % zlib.crc32(body) + body + b"\n"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        try:
            stat = os.fstat(fd)
            if self._log_bad or stat.st_size != self._log_seen[1]:
                os.ftruncate(fd, self._log_seen[1] if stat.st_ino == self._log_seen[0] else 0)
                self._log_bad = False
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            self._log_seen = (stat.st_ino, os.fstat(fd).st_size)
        except OSError as exc:
            if exc.errno in NO_ROOM:
                raise StoreFullError(self.log_path) from exc
            raise
        finally:
            os.close(fd)
        if stat.st_size == 0:
            fsync_dir(self.root)  # a new log file: make its name durable too

    # -- reading -----------------------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Read a new snapshot, or the log lines not yet seen; cheap (two stat calls) when nothing changed."""
        if self._current():
            return
        with self._mutex:
            self._catch_up_locked()

    def _current(self) -> bool:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._loaded and self._stamp is None
        if (stat.st_mtime_ns, stat.st_ino) != self._stamp:
            return False
        try:
            log = self.log_path.stat()
        except FileNotFoundError:
            return self._log_seen == (0, 0)
        return (log.st_ino, log.st_size) == self._log_seen

    def _catch_up_locked(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._view, self._stamp, self._log_seen, self._generation, self.version = _View(), None, (0, 0), "", ""
            self._loaded = True
            return
        if (stat.st_mtime_ns, stat.st_ino) != self._stamp:
            self._read_snapshot()
            self._stamp = (stat.st_mtime_ns, stat.st_ino)
            self._log_seen = (0, 0)
        self._read_log()
        self._loaded = True

    def _read_snapshot(self) -> None:
        """Read the snapshot as a stream: only the people are held, not its text (people who did not change since
        the last read stay the objects already held)."""
        same = _interner(self._view.people)
        people: dict[str, Person] = {}
        meta: Any = {}
        try:
            for key, value in members(_snapshot_chunks(self.path), "people", _person_hook):
                if key == "people" and isinstance(value, Iterator):
                    people.update((p.person_id, same(p)) for p in value if isinstance(p, Person))
                elif key == "meta":
                    meta = value
        except FileNotFoundError:
            people, meta = {}, {}
        except (CorruptFileError, ValueError) as exc:
            damage = exc if isinstance(exc, CorruptFileError) else f"{self.path}: 文件已损坏 / file is damaged: {exc}"
            aside = move_aside(self.path)
            self.log_path.unlink(missing_ok=True)  # changes to a roster that is gone
            self.warnings.append(f"{damage}; 已移至 / moved to {aside.name}")
            people, meta = {}, {}
        current = meta.get("1", {}) if isinstance(meta, dict) else {}
        self._view = _View.of(people)
        self.version = str(current.get("version", "")) if isinstance(current, dict) else ""
        self._generation = str(current.get("generation", "")) if isinstance(current, dict) else ""

    def _read_log(self) -> None:
        """Apply the log's complete, intact lines of this generation that were not applied yet."""
        try:
            with self.log_path.open("rb") as log:
                inode = os.fstat(log.fileno()).st_ino
                start = self._log_seen[1] if inode == self._log_seen[0] else 0
                if start == 0 and self._log_seen[1]:
                    self._read_snapshot()  # the log was replaced under us: start again from the snapshot
                log.seek(start)
                tail = log.read()
        except FileNotFoundError:
            self._log_seen = (0, 0)
            return
        view, used = self._view, 0
        pieces = tail.split(b"\n")  # not splitlines(): a damaged byte may be a \r or another line break
        for line in [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else []):
            change = _parse_line(line)
            if change is None:
                self._log_bad = line.endswith(b"\n")  # an unfinished last line may still be being written
                if self._log_bad and (inode, start + used) != self._log_warned:
                    self._log_warned = (inode, start + used)
                    self.warnings.append(
                        "名单变更日志已损坏,其后的变更已搁置,下次同步时从数据中心重新获取 / the roster's change log is "
                        "damaged: the changes after the damage are set aside and come again from the center"
                    )
                break
            used += len(line)
            if change.get("g", "") != self._generation:
                continue
            put = [p for p in change.get("put", ()) if isinstance(p, Person)]
            view = view.changed(put, [str(pid) for pid in change.get("del", ())])
            self.version = str(change.get("v", self.version))
        self._view = view
        self._log_seen = (inode, start + used)


def _parse_line(line: bytes) -> dict[str, Any] | None:
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:-1]
    if line[:8] != b"%08x" % zlib.crc32(body):  # exactly as written: "F" for "f" is a changed byte too
        return None
    try:
        change = json.loads(body, object_hook=_person_hook)
    except ValueError:
        return None
    return change if isinstance(change, dict) else None


def _write_atomic_stream(path: Path, chunks: Iterable[bytes]) -> None:
    """Like AtomicJSONStorage.write (a checksum line, then the JSON), for JSON made piece by piece: a 50k roster
    is never held whole in memory as text."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 16, closefd=False) as stream:
            # The checksum line AtomicJSONStorage reads comes first; it is filled in once the body is written.
            stream.write(b"00000000\n")
            crc = 0
            for chunk in chunks:
                crc = zlib.crc32(chunk, crc)
                stream.write(chunk)
            stream.seek(0)
            stream.write(b"%08x" % crc)
        os.fsync(fd)
    except BaseException as exc:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in NO_ROOM:
            raise StoreFullError(path) from exc
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _snapshot_chunks(path: Path) -> Iterator[bytes]:
    """The JSON of a file AtomicJSONStorage wrote (a CRC32 line, then the JSON), piece by piece; CorruptFileError
    after the last piece when the checksum does not match. A file of the earlier format (plain JSON) is read as is."""
    with path.open("rb") as file:
        first = file.read(READ_CHUNK)
        if not first:
            raise CorruptFileError(f"{path}: 文件为空 / file is empty")
        if first[:1] == b"{":
            yield first
            yield from iter(lambda: file.read(READ_CHUNK), b"")
            return
        checksum, _, first = first.partition(b"\n")
        crc = zlib.crc32(first)
        yield first
        for chunk in iter(lambda: file.read(READ_CHUNK), b""):
            crc = zlib.crc32(chunk, crc)
            yield chunk
    if checksum != b"%08x" % crc:
        raise CorruptFileError(f"{path}: 文件已损坏 / file is damaged: checksum mismatch")


def _interner(people: dict[str, Person]) -> Callable[[Person], Person]:
    def interned(person: Person) -> Person:
        held = people.get(person.person_id)
        return held if held == person else person

    return interned


def _person_hook(doc: dict[str, Any]) -> Any:
    """Turn each person document into a Person as it is parsed, so a 50k roster never exists twice."""
    if "person_id" not in doc:
        return doc
    try:
        return Person.from_dict(doc)
    except (KeyError, TypeError, ValueError):
        return doc  # skipped by the isinstance filter: a damaged row never stops the roster loading
