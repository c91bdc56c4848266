"""storage/journal.py on its own: the line format, what a scan of damaged bytes finds, appends shared by two
writers, and the fold generations. (The store's own tests cover it through EntryStore.)"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from storage.journal import Journal, decode_line, scan
from storage.records import encode as encode_record

PUT = {"op": "put", "entry": {"entry_id": "e1", "name": "张三"}}
AUDIT = {"op": "audit", "kind": "scan_rejected", "detail": "x", "at": "2026-11-28T07:00:00+08:00"}


def line_of(body: bytes) -> bytes:
    """A line with a correct CRC around any body."""
    return b"%08x %s\n" % (zlib.crc32(body), body)


def test_a_record_is_one_crc_line_of_compact_utf8_json() -> None:
    line = encode_record(PUT)
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and line[8:9] == b" "
    assert "张三".encode() in line, "UTF-8, not \\u escapes"
    assert line == line_of(json.dumps(PUT, ensure_ascii=False, separators=(",", ":")).encode())
    assert decode_line(line) == PUT


def test_lines_that_are_not_records_decode_to_nothing() -> None:
    good = encode_record(AUDIT)
    assert decode_line(good[:-1]) is None, "no newline: a torn append"
    assert decode_line(good.replace(b"scan_rejected", b"scan_rejectee")) is None, "a bit flipped: wrong CRC"
    assert decode_line(good.replace(b" ", b"_", 1)) is None
    assert decode_line(line_of(b"[1,2]")) is None, "JSON, but not an object"
    assert decode_line(line_of(b'{"kind":"x"}')) is None, "an object without op"
    assert decode_line(line_of(b"{not json")) is None
    assert decode_line(b"\n") is None and decode_line(b"") is None


def test_a_scan_stops_at_the_first_line_that_is_not_a_record() -> None:
    first, second = encode_record(PUT), encode_record(AUDIT)
    whole = scan(first + second)
    assert whole.records == [PUT, AUDIT] and whole.good_end == len(first + second)
    torn = scan(first + second[:-3])
    assert torn.records == [PUT] and torn.good_end == len(first)
    damaged = scan(first + b"garbage\n" + second)
    assert damaged.records == [PUT] and damaged.good_end == len(first)
    at_start = scan(b"\n" + second)
    assert at_start.records == [] and at_start.good_end == 0
    assert scan(first + second, start=len(first)).records == [AUDIT]


def test_a_fresh_journal_is_generation_0_and_each_reset_adds_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    opened = journal.open()
    assert opened.records == [] and opened.warnings == [] and opened.missing
    assert (journal.generation, journal.header_last_seq) == (0, 0)
    journal.append([PUT])
    journal.reset(7)
    assert (journal.generation, journal.header_last_seq) == (1, 7)
    journal.reset(9)
    assert journal.generation == 2
    again = Journal(tmp_path / "journal.jsonl")
    assert again.open().records == [] and (again.generation, again.header_last_seq) == (2, 9)
    journal.close()
    again.close()


def test_several_records_in_one_append_all_come_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.open()
    journal.append([PUT, AUDIT])
    journal.close()
    reopened = Journal(tmp_path / "journal.jsonl")
    opened = reopened.open()
    assert opened.records == [PUT, AUDIT] and not opened.damaged
    reopened.close()


def test_two_writers_append_after_each_other_without_losing_a_record(tmp_path: Path) -> None:
    """The second writer finds the first one's complete line past its offset: it must keep it, not cut it."""
    path = tmp_path / "journal.jsonl"
    app, nightly = Journal(path), Journal(path)
    app.open()
    nightly.open()
    app.append([PUT])
    nightly.append([AUDIT])  # before it looked at the tail: the complete line past its offset is not a torn one
    app.close()
    nightly.close()
    reopened = Journal(path)
    opened = reopened.open()
    assert opened.records == [PUT, AUDIT] and not opened.damaged
    reopened.close()


def test_a_partial_line_left_by_a_killed_writer_is_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.open()
    with path.open("ab") as killed:
        killed.write(encode_record(AUDIT)[:-5])  # never acknowledged
    journal.append([PUT])
    journal.close()
    reopened = Journal(path)
    opened = reopened.open()
    assert opened.records == [PUT] and not opened.damaged
    reopened.close()
