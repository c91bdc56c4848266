"""The streamed JSON reader gives what json.loads gives, wherever the chunks are cut, and refuses what is not one
JSON object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.jsonstream import members

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=12
)


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` in chunks of the given sizes (cycled), empty chunks included."""
    chunks, at, i = [], 0, 0
    while at < len(data):
        size = sizes[i % len(sizes)]
        chunks.append(data[at : at + size])
        at += size
        i += 1
    return chunks


def collected(chunks: list[bytes], streamed: str) -> dict[str, Any]:
    """The members put back together: the streamed one's items as a list."""
    return {key: list(value) if key == streamed else value for key, value in members(chunks, streamed)}


@given(
    document=st.dictionaries(st.text(), values, max_size=5),
    items=st.lists(values, max_size=6) | st.dictionaries(st.text(), values, max_size=6),
    sizes=st.lists(st.integers(0, 9), min_size=1, max_size=5).filter(any),
    spaced=st.booleans(),
)
def test_members_match_json_loads_wherever_the_chunks_are_cut(
    document: dict[str, Any], items: Any, sizes: list[int], spaced: bool
) -> None:
    document = {**document, "people": items}
    text = json.dumps(document, ensure_ascii=False, indent=1 if spaced else None)
    expected = dict(json.loads(text))
    people = expected.pop("people")
    people = list(people.values()) if isinstance(people, dict) else people
    got = collected(cut(text.encode(), sizes), "people")
    got_people = got.pop("people")
    assert got == expected
    assert got_people == people


def test_a_number_cut_at_a_chunk_end_is_read_whole() -> None:
    chunks = [b'{"version": 12', b"34, ", b'"n": [1.5e', b"+3, 6]}"]
    assert collected(chunks, "n") == {"version": 1234, "n": [1500.0, 6]}


def test_items_are_parsed_one_at_a_time_as_they_are_reached() -> None:
    parsed: list[dict[str, Any]] = []
    read: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b'{"people": [{"id": 1}, ', b'{"id": 2}, {"id": 3}], "meta": {"1": {"v": 4}}}'):
            read.append(chunk)
            yield chunk

    found = members(chunks(), "people", object_hook=lambda d: parsed.append(d) or tuple(d.items()))
    key, people = next(found)
    assert key == "people" and parsed == [] and len(read) == 1
    assert next(people) == (("id", 1),) and parsed == [{"id": 1}] and len(read) == 1
    assert next(people) == (("id", 2),) and len(read) == 2
    assert next(found) == ("meta", (("1", (("v", 4),)),))  # the person left unread was skipped
    assert [d.get("id") for d in parsed] == [1, 2, 3, None, None]


def test_a_streamed_member_that_is_not_an_array_or_object_is_a_plain_value() -> None:
    assert collected([b'{"people": null}'], "other") == {"people": None}
    assert list(members([b'{"people": null}'], "people")) == [("people", None)]


def test_a_multibyte_character_split_between_chunks() -> None:
    data = json.dumps({"people": ["学生"]}, ensure_ascii=False).encode()
    split = data.index("生".encode()) + 1
    assert collected([data[:split], data[split:]], "people") == {"people": ["学生"]}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[1, 2]",
        b'{"people": [1, 2',
        b'{"people": [1, 2]',
        b'{"people": [1, 2]} {}',
        b'{"people": [1 2]}',
        b'{"people": {"a" 1}}',
        b'{"people": {1: 2}}',
        b'{"a": 1,}',
        b'{1: 2}',
        b'{"a": tru}',
        b'{"a": "\xff"}',
    ],
)
def test_what_is_not_one_json_object_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        collected([data[i : i + 3] for i in range(0, len(data), 3)], "people")
