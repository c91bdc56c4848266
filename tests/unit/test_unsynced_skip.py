"""EntryStore.unsynced_documents(skip=...): what sync leaves out while a batch is in flight or was refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kiosk.domain.models import Entry, Reason, Verdict
from storage.entries import EntryStore


def test_skipped_revisions_are_left_out_and_the_batch_filled_from_the_rest(
    tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    store = EntryStore(tmp_path / "data")
    try:
        admitted = [store.record(make_entry(f"2023{n:06d}")) for n in range(6)]
        denied = [
            store.record(make_entry(f"2099{n:06d}", verdict=Verdict.DENIED, reasons=(Reason.NOT_ON_ROSTER,)))
            for n in range(3)
        ]
        amended = store.record(admitted[1].amended(operator="T2"))
        in_flight = {(e.entry_id, e.revision) for e in (denied[0], admitted[0], admitted[1])}

        batch = store.unsynced_documents(4, skip=in_flight)

        # Denied first, then in sequence order; the amendment of a skipped revision is a new revision: it goes.
        expected = [denied[1], denied[2], amended, admitted[2]]
        assert [(d["entry_id"], d.get("revision", 0)) for d in batch] == [(e.entry_id, e.revision) for e in expected]
        assert len(store.unsynced_documents(20, skip=in_flight)) == 9 - 2
        assert len(store.unsynced_documents(20)) == 9
    finally:
        store.close()
