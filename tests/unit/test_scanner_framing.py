"""Framing scanner bytes into lines, and lines into card numbers or audited rejections."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.config import ScannerConfig
from kiosk.domain.i18n import CATALOG
from kiosk.domain.models import Method
from kiosk.station.scanner import LineFramer, Rejected, RejectReason, Scanned, escape_for_audit, parse_scan

PATTERN = ScannerConfig().id_pattern


def safe_to_log(shown: str) -> bool:
    return all(0x20 <= ord(char) < 0x7F or char == "…" for char in shown)


def frame(chunks: list[bytes], max_line: int = 64) -> list[bytes]:
    framer = LineFramer(max_line)
    return [line for chunk in chunks for line in framer.feed(chunk)]


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ([b"2023000101\r"], [b"2023000101"]),
        ([b"2023000101\n"], [b"2023000101"]),
        ([b"2023000101\r\n"], [b"2023000101"]),
        ([b"2023000101\r", b"\n2023000102\r", b"\n"], [b"2023000101", b"2023000102"]),
        ([b"2023", b"0001", b"01\r"], [b"2023000101"]),
        ([b"A1\rB2\nC3\r\nD4\n\rE5"], [b"A1", b"B2", b"C3", b"D4"]),
        ([b"\r\n\r\n\n\r"], []),
        ([b"no terminator yet"], []),
        ([b""], []),
    ],
    ids=["cr", "lf", "crlf", "crlf-split", "partial-reads", "mixed", "only-terminators", "unfinished", "empty-read"],
)
def test_lines(chunks: list[bytes], lines: list[bytes]) -> None:
    assert frame(chunks) == lines


def test_partial_data_is_kept_across_reads() -> None:
    framer = LineFramer(64)
    assert framer.feed(b"20230") == []
    assert framer.pending == 5
    assert framer.feed(b"00101\r") == [b"2023000101"]
    assert framer.pending == 0


def test_an_overlong_line_is_one_event_and_the_framer_resynchronises() -> None:
    framer = LineFramer(8)
    out = framer.feed(b"123456789")
    assert out == [b"123456789"]
    assert framer.feed(b"0" * 10_000) == []
    assert framer.pending == 0
    assert framer.feed(b"more\r\nT1001\r") == [b"T1001"]


@pytest.mark.parametrize(
    ("fed", "flushed"),
    [(b"T1001", [b"T1001"]), (b"\x00", [b"\x00"]), (b"9" * 20, []), (b"", [])],
    ids=["no-suffix", "stray-byte", "overlong-unterminated", "nothing"],
)
def test_flush_ends_an_unterminated_line_so_the_next_scan_stands_alone(fed: bytes, flushed: list[bytes]) -> None:
    framer = LineFramer(12)
    framer.feed(fed)
    assert framer.in_line == bool(fed)
    assert framer.flush() == flushed
    assert not framer.in_line
    assert framer.feed(b"2023000101\r") == [b"2023000101"]


def test_memory_stays_bounded_without_any_terminator() -> None:
    framer = LineFramer(16)
    events = [line for _ in range(1000) for line in framer.feed(b"x" * 100)]
    assert events == [b"x" * 17]
    assert framer.pending == 0


_ALPHABET = st.sampled_from([b"A", b"7", b"\r", b"\n", b"\x00", b"\xff", b" "])
_STREAMS = st.lists(_ALPHABET, max_size=200).map(b"".join)


@given(stream=_STREAMS, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=20))
def test_any_chunking_yields_the_same_lines(stream: bytes, cuts: list[int]) -> None:
    bounds = sorted({0, len(stream), *(c for c in cuts if c <= len(stream))})
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert frame(chunks, max_line=12) == frame([stream], max_line=12)


@given(stream=_STREAMS)
def test_lines_are_never_empty_never_hold_terminators_and_are_capped(stream: bytes) -> None:
    for line in frame([bytes([b]) for b in stream], max_line=12):
        assert line and b"\r" not in line and b"\n" not in line
        assert len(line) <= 13


@given(lines=st.lists(st.from_regex(re.compile(rb"\A[0-9A-Z]{1,12}\Z")), max_size=20),
       ends=st.lists(st.sampled_from([b"\r", b"\n", b"\r\n"]), min_size=20, max_size=20))
def test_every_line_comes_out_whatever_the_terminator(lines: list[bytes], ends: list[bytes]) -> None:
    stream = b"".join(line + end for line, end in zip(lines, ends, strict=False))
    assert frame([bytes([b]) for b in stream], max_line=12) == lines


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"2023000101", "2023000101"),
        (b"  T1001\t", "T1001"),
        (b"abcd", "abcd"),
    ],
)
def test_card_numbers(raw: bytes, expected: str) -> None:
    result = parse_scan(raw, PATTERN, 64, now=1.0)
    assert result == Scanned(expected, Method.SERIAL_SCAN, 1.0)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", RejectReason.EMPTY),
        (b"   \t ", RejectReason.EMPTY),
        (b"9" * 65, RejectReason.TOO_LONG),
        (b"\xff\xfe2023", RejectReason.NOT_UTF8),
        (b"2023\xe4\xb8", RejectReason.NOT_UTF8),
        (b"2023\x000101", RejectReason.CONTROL),
        (b"\x1b[A2023", RejectReason.CONTROL),
        (b"2023\x7f0101", RejectReason.CONTROL),
        ("2023\u200b0101".encode(), RejectReason.CONTROL),
        ("2023\u202e0101".encode(), RejectReason.CONTROL),
        ("2023\u00850101".encode(), RejectReason.CONTROL),
        ("张三".encode(), RejectReason.PATTERN),
        (b"12", RejectReason.PATTERN),
        (b"2023-0001", RejectReason.PATTERN),
        (b"2023\n0101", RejectReason.CONTROL),
    ],
)
def test_rejections(raw: bytes, reason: RejectReason) -> None:
    result = parse_scan(raw, PATTERN, 64)
    assert isinstance(result, Rejected)
    assert result.reason == reason
    assert result.length == len(raw)
    assert safe_to_log(result.shown)


def test_whitespace_inside_the_pattern_check_is_not_stripped() -> None:
    assert isinstance(parse_scan(b"2023 000101", PATTERN, 64), Rejected)


def test_a_compiled_pattern_works_too() -> None:
    assert isinstance(parse_scan(b"T1001", re.compile(PATTERN), 64), Scanned)


def test_the_audit_rendering_is_escaped_and_truncated() -> None:
    assert escape_for_audit(b"A\x00\\\xff\x1b") == "A\\x00\\x5c\\xff\\x1b"
    shown = escape_for_audit(b"\xff" * 1000, limit=4)
    assert shown == "\\xff\\xff\\xff\\xff…(+996)"


@given(raw=st.binary(max_size=100))
def test_any_bytes_give_a_result_and_never_an_exception(raw: bytes) -> None:
    result = parse_scan(raw, PATTERN, 64)
    if isinstance(result, Rejected):
        assert safe_to_log(result.shown)
        assert len(result.shown) <= 48 * 4 + 10
    else:
        assert re.fullmatch(PATTERN, result.person_id)


@pytest.mark.parametrize("reason", list(RejectReason))
def test_every_rejection_has_a_bilingual_message(reason: RejectReason) -> None:
    assert f"scan.rejected.{reason}" in CATALOG
    rejected = Rejected(reason, "x", 1, Method.SERIAL_SCAN, 0.0)
    zh, en = rejected.message("zh"), rejected.message("en")
    assert zh.startswith(CATALOG["scan.rejected"][0]) and en.startswith(CATALOG["scan.rejected"][1])
    assert rejected.message() == f"{zh} / {en}"
