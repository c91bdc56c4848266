"""The center's entry checks, field by field, and a batch stored in a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")

from kiosk.center.auth import add_station  # noqa: E402
from kiosk.center.db import Database  # noqa: E402
from kiosk.center.entries import Invalid, parse_entry, push  # noqa: E402
from kiosk.models import Entry, Reading  # noqa: E402


@pytest.fixture
def sent(make_entry: Callable[..., Entry]) -> dict[str, Any]:
    return make_entry(seq=7, readings=(Reading(37.5, "2026-11-28T07:30:05+08:00", "T1001"),)).to_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"entry_id": ""}, "entry_id"),
        ({"entry_id": 5}, "entry_id"),
        ({"seq": 0}, "seq"),
        ({"seq": True}, "seq"),
        ({"seq": "7"}, "seq"),
        ({"role": "dean"}, "role"),
        ({"method": None}, "method"),
        ({"direction": "up"}, "direction"),
        ({"captured_at": "yesterday"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00"}, "captured_at"),
        ({"monotonic": "fast"}, "monotonic"),
        ({"verdict": "maybe"}, "verdict"),
        ({"reasons": ["on_roster", "bribe"]}, "reasons"),
        ({"reasons": "on_roster"}, "reasons"),
        ({"offline": "no"}, "offline"),
        ({"revision": -1}, "revision"),
        ({"readings": [{"celsius": "hot", "taken_at": "2026-11-28T07:30:05+08:00", "operator": "x"}]}, "readings"),
        ({"readings": [{"celsius": 37.0, "operator": "x"}]}, "readings"),
        ({"visitor": {"phone": "1"}}, "visitor"),
        ({"station_id": "test-02"}, "station_id"),
        ({"person_id": "x" * 65}, "person_id"),
    ],
)
def test_a_wrong_field_is_named(sent: dict[str, Any], change: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse_entry(sent | change, "test-01")
    assert str(raised.value).startswith(f"{field}:")
    assert " / " in str(raised.value)


@pytest.mark.parametrize("field", ["entry_id", "seq", "captured_at", "verdict", "reasons", "operator"])
def test_a_missing_field_is_named(sent: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid, match=f"^{field}: "):
        parse_entry({key: value for key, value in sent.items() if key != field}, "test-01")


def test_a_good_entry_reads_back_as_sent(sent: dict[str, Any]) -> None:
    document = parse_entry(sent | {"acked_at": "2026-11-28T07:31:00+08:00", "extra": 1}, "test-01")
    assert Entry.from_dict(document) == Entry.from_dict(sent)
    assert "acked_at" not in document and "extra" not in document


def test_one_batch_with_several_revisions_of_an_entry(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    add_station(db, "test-01")
    first = make_entry(seq=1)
    second = first.amended(operator="T2")
    batch = [first.to_dict(), second.to_dict(), first.to_dict(), "not an entry"]
    assert [(r.status, r.revision) for r in push(db, "test-01", batch)] == [
        ("duplicate", 0),
        ("stored", 1),
        ("duplicate", 0),
        ("rejected", 0),
    ]
    assert [r.status for r in push(db, "test-01", [second.to_dict()])] == ["duplicate"]
    db.close()
