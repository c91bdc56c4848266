"""The roster (people, return approvals, medical observation) in a TinyDB file, indexed in memory.

Lookup by ID is a dict hit; search by name or ID fragment scans the people themselves (a casefolded copy is
kept only for names that casefolding changes, so CJK names are never held twice). The file is replaced
atomically, and re-read when another process (the nightly pull) changed it. The gate constructs the store with
`load=False` and calls `load()` in a worker after its first paint.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiosk.domain.models import Person, Role
from storage.files import AtomicJSONStorage, CorruptFileError, ensure_private_dir, move_aside


class RosterStore:
    """Who may pass. Thread-safe; one TinyDB table `people` plus a `meta` table with the version."""

    def __init__(self, data_dir: Path, load: bool = True) -> None:
        """Open the roster in `data_dir`; with `load=False` nothing is read until `load()` or the first lookup."""
        self.path = ensure_private_dir(Path(data_dir)) / "roster.json"
        self.warnings: list[str] = []
        self._mutex = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._loaded = False
        self._people: dict[str, Person] = {}
        self._folded: dict[str, str] = {}
        """Casefolded names, only where casefolding changes the name."""
        self.version = ""
        """The center's roster version this copy reflects; empty when imported locally."""
        if load:
            self.load()

    def load(self) -> None:
        """Read the file now if it changed since the last read (a lookup does the same on its own)."""
        self._reload_if_changed()

    @property
    def loaded(self) -> bool:
        """Whether the file was read (or found missing) at least once."""
        return self._loaded

    def __len__(self) -> int:
        self._reload_if_changed()
        return len(self._people)

    def get(self, person_id: str) -> Person | None:
        self._reload_if_changed()
        return self._people.get(person_id)

    def search(self, text: str, limit: int = 20) -> list[Person]:
        """People whose ID starts with `text` or whose name contains it (case-insensitive)."""
        self._reload_if_changed()
        needle = text.strip().casefold()
        if not needle:
            return []
        exact = self._people.get(text.strip())
        found: list[Person] = [exact] if exact else []
        folded = self._folded
        for person_id, person in self._people.items():
            if len(found) >= limit:
                break
            if person is exact:
                continue
            if person_id.casefold().startswith(needle) or needle in folded.get(person_id, person.name):
                found.append(person)
        return found

    def replace_all(self, people: Iterable[Person], version: str = "") -> int:
        """Make the roster exactly `people`; return how many."""
        merged = {p.person_id: p for p in people}
        self._write(merged, version)
        return len(merged)

    def upsert(self, people: Iterable[Person], version: str = "", removed: Iterable[str] = ()) -> int:
        """Add or update `people` and drop `removed` IDs; return how many were changed."""
        self._reload_if_changed()
        merged = dict(self._people)
        changed = 0
        for person in people:
            changed += merged.get(person.person_id) != person
            merged[person.person_id] = person
        for person_id in removed:
            changed += merged.pop(person_id, None) is not None
        self._write(merged, version or self.version)
        return changed

    def _write(self, people: dict[str, Person], version: str) -> None:
        # One atomic write of the whole table through the storage seam; TinyDB's Table would rewrite the
        # file once per inserted person.
        table = {str(i): p.to_dict() for i, p in enumerate(people.values(), start=1)}
        with self._mutex:
            AtomicJSONStorage(self.path).write({"people": table, "meta": {"1": {"version": version}}})
            self._stamp = None
        self._reload_if_changed()

    def _reload_if_changed(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._loaded = True
            return
        stamp = (stat.st_mtime_ns, stat.st_ino)
        if stamp == self._stamp:
            return
        with self._mutex:
            if stamp == self._stamp:  # another thread read it while this one waited
                return
            try:
                data = AtomicJSONStorage(self.path, object_hook=_person_hook).read() or {}
            except CorruptFileError as exc:
                aside = move_aside(self.path)
                self.warnings.append(f"{exc}; 已移至 / moved to {aside.name}")
                data = {}
            people = {p.person_id: p for p in data.get("people", {}).values() if isinstance(p, Person)}
            folded = {p.person_id: f for p in people.values() if (f := p.name.casefold()) != p.name}
            self._people, self._folded = people, folded
            self.version = str(data.get("meta", {}).get("1", {}).get("version", ""))
            self._stamp = stamp
            self._loaded = True


_ROLES = {role.value: role for role in Role}


def _person_hook(doc: dict[str, Any]) -> Any:
    """Turn each person document into a Person as it is parsed, so a 50k roster never exists twice."""
    if "person_id" not in doc:
        return doc
    try:
        return Person(
            person_id=str(doc["person_id"]),
            name=str(doc["name"]),
            role=_ROLES[doc["role"]],
            campus=sys.intern(str(doc.get("campus", ""))),
            dorm=sys.intern(str(doc.get("dorm", ""))),
            return_approved=bool(doc.get("return_approved", False)),
            observation=bool(doc.get("observation", False)),
        )
    except (KeyError, TypeError):
        return doc  # skipped by the isinstance filter: a damaged row never stops the roster loading
