"""EntryStore.unsynced_documents(skip=...) and unsynced_json: what sync sends, and what it leaves out while a batch is
in flight or was refused."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path

from kiosk.domain.models import Entry, Reason, Verdict
from storage import records
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


def test_each_document_comes_with_its_json_as_its_chunk_line_holds_it_or_encoded_from_the_journal(
    tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    store = EntryStore(tmp_path / "data")
    try:
        folded = [store.record(make_entry(f"2023{n:06d}", name="张三")) for n in range(3)]
        store.fold()
        # Lines written with \\u escapes (valid, though not what the store writes): sent as they are, not re-encoded.
        path = next((tmp_path / "data" / "entries").glob("*.json"))
        lines = records.read(path).records
        escaped = [json.dumps(r, separators=(",", ":")).encode() for r in lines]
        path.write_bytes(b"".join(b"%08x %s\n" % (zlib.crc32(body), body) for body in escaped))
        in_journal = store.record(make_entry("2023000009", name="张三"))

        pairs = store.unsynced_json(10)

        assert [doc["entry_id"] for doc, _ in pairs] == [e.entry_id for e in (*folded, in_journal)]
        assert [doc for doc, _ in pairs] == store.unsynced_documents(10)
        assert all(json.loads(text) == doc for doc, text in pairs)
        assert [text for _, text in pairs[:3]] == [body for body in escaped if b'"op"' not in body]
        assert "张三".encode() in pairs[3][1], "a journal entry is encoded as the store writes: compact UTF-8"
    finally:
        store.close()
