"""The newest revision of an entry wins in the store, whatever order the revisions arrive in and wherever they
are (the journal, a chunk file, or one of each): each test records a genuinely older revision after a newer one.

The store keeps three guards: the journal's (`_apply`), the fold's (`_fold_chunk`) and the readers' merge of
chunk files with the journal (`documents_of_day`, `latest`); each test names the one it holds to.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kiosk.domain.models import Entry, Verdict
from storage.entries import EntryStore

DAY = "2026-11-28"
MakeEntry = Callable[..., Entry]


def revisions(store: EntryStore, make_entry: MakeEntry) -> tuple[Entry, Entry]:
    """Revision 1 (older, operator "older") and revision 2 (newer, denied, operator "newer") of one entry."""
    first = store.record(make_entry())
    older = first.amended(operator="older")
    newer = older.amended(operator="newer", verdict=Verdict.DENIED)
    assert (older.revision, newer.revision) == (1, 2)
    return older, newer


def shown(store: EntryStore) -> list[tuple[int, str]]:
    """(revision, operator) of every entry as each reader returns it."""
    of_day = [(e.revision, e.operator) for e in store.entries_of_day(DAY)]
    latest = [(e.revision, e.operator) for e in store.latest(DAY, 5)]
    assert of_day == latest
    return of_day


def test_in_the_journal_an_older_revision_recorded_late_is_ignored(tmp_path: Path, make_entry: MakeEntry) -> None:
    """Guard: the journal's (`_apply`)."""
    store = EntryStore(tmp_path)
    older, newer = revisions(store, make_entry)
    store.record(newer)
    store.record(older)
    assert shown(store) == [(2, "newer")]
    assert store.counts(DAY).denied == 1
    reopened = EntryStore(tmp_path)  # the journal replayed in order at start
    assert shown(reopened) == [(2, "newer")]


def test_an_older_revision_in_the_journal_never_hides_a_newer_one_already_folded(
    tmp_path: Path, make_entry: MakeEntry
) -> None:
    """Guard: the readers' merge of chunk files with the journal (`documents_of_day`, `latest`)."""
    store = EntryStore(tmp_path)
    older, newer = revisions(store, make_entry)
    store.record(newer)
    store.fold()
    store.record(older)
    assert shown(store) == [(2, "newer")]
    assert shown(EntryStore(tmp_path)) == [(2, "newer")]


def test_folding_an_older_revision_keeps_the_newer_one_in_the_chunk_file(tmp_path: Path, make_entry: MakeEntry) -> None:
    """Guard: the fold's (`_fold_chunk`)."""
    store = EntryStore(tmp_path)
    older, newer = revisions(store, make_entry)
    store.record(newer)
    store.fold()
    store.record(older)
    store.fold()
    assert shown(store) == [(2, "newer")]
    assert shown(EntryStore(tmp_path)) == [(2, "newer")]


def test_a_newer_revision_replaces_an_older_one_everywhere(tmp_path: Path, make_entry: MakeEntry) -> None:
    """The other half of each guard: newer beats older in the journal, over a folded one, and in the fold."""
    store = EntryStore(tmp_path)
    older, newer = revisions(store, make_entry)
    store.record(older)
    assert shown(store) == [(1, "older")]
    store.fold()
    store.record(newer)
    assert shown(store) == [(2, "newer")]
    store.fold()
    assert shown(EntryStore(tmp_path)) == [(2, "newer")]
