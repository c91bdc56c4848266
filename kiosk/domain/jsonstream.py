"""A JSON object read as its bytes arrive, one large member's items at a time.

A 50k roster is ~9 MB of UTF-8, ~17 MB once decoded (its Chinese names make the text two bytes a character), and
parsing it whole holds the bytes, the text and every parsed person at once. Here the text is decoded chunk by
chunk and only the current item is held: `json`'s own C scanner parses each value (`JSONDecoder.raw_decode`), so
the speed stays the standard module's.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_BLANK = " \t\n\r"


def members(
    chunks: Iterable[bytes], streamed: str, object_hook: Callable[[dict[str, Any]], Any] | None = None
) -> Iterator[tuple[str, Any]]:
    """The members of the JSON object in `chunks` (UTF-8), in order, as (key, value). When member `streamed` is an
    array or an object, its value is an iterator over its items (the array's elements, the object's values), each
    parsed as it is reached: use it before the next member (what is left of it is then skipped).

    Raises ValueError (json.JSONDecodeError, UnicodeDecodeError) when the text is not one JSON object, possibly
    after yielding its first members and items: a caller applies nothing before the end. `object_hook` must have
    no side effects: an object cut by the end of a chunk is parsed again once the next chunk is in.
    """
    reader = _Reader(chunks, object_hook)
    reader.expect("{")
    if reader.peek() == "}":
        reader.pos += 1
    else:
        while True:
            key = reader.value()
            if not isinstance(key, str):
                raise reader.error("Expecting property name enclosed in double quotes")
            reader.expect(":")
            if key == streamed and reader.peek() in ("[", "{"):
                items = reader.items()
                yield key, items
                for _ in items:
                    pass
            else:
                yield key, reader.value()
            if reader.peek() != ",":
                reader.expect("}")
                break
            reader.pos += 1
    if reader.peek():
        raise reader.error("Extra data")


class _Reader:
    """The text decoded so far from the point being parsed (`text[pos:]`), and the chunks still to come."""

    def __init__(self, chunks: Iterable[bytes], object_hook: Callable[[dict[str, Any]], Any] | None) -> None:
        self._chunks = iter(chunks)
        self._decode = codecs.getincrementaldecoder("utf-8")().decode
        # What raw_decode calls, without its frame per value (not in typeshed's JSONDecoder).
        decoder = json.JSONDecoder(object_hook=object_hook)
        self._scan: Callable[[str, int], tuple[Any, int]] = decoder.scan_once  # type: ignore[attr-defined]
        self.text = ""
        self.pos = 0
        self.done = False

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), without consuming it."""
        if self.pos < len(self.text) and self.text[self.pos] not in _BLANK:
            return self.text[self.pos]
        while True:
            match = _SPACE.match(self.text, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._read():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"Expecting {char!r}")
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value, read on until it is whole."""
        self.peek()
        while True:
            try:
                value, end = self._scan(self.text, self.pos)
                # A number near the end of the text may go on in the next chunk ("1e" is read as 1, "1e+5" is not).
                if self.done or end + 2 < len(self.text) or type(value) not in (int, float):
                    self.pos = end
                    return value
            except StopIteration:
                if self.done:
                    raise self.error("Expecting value") from None
            except json.JSONDecodeError:
                if self.done:
                    raise
            self._grow()

    def items(self) -> Iterator[Any]:
        """The elements of the array, or the values of the object, that starts here."""
        closing = "]" if self.text[self.pos] == "[" else "}"
        self.pos += 1
        if self.peek() == closing:
            self.pos += 1
            return
        while True:
            if closing == "}":
                if not isinstance(self.value(), str):
                    raise self.error("Expecting property name enclosed in double quotes")
                self.expect(":")
            yield self.value()
            if self.peek() != ",":
                self.expect(closing)
                return
            self.pos += 1

    def error(self, message: str) -> json.JSONDecodeError:
        return json.JSONDecodeError(message, self.text, self.pos)

    def _grow(self) -> None:
        """Read until the text not yet parsed has doubled (or the end): a long value is re-scanned a few times, not
        once per chunk."""
        wanted = 2 * (len(self.text) - self.pos) + 1
        while len(self.text) - self.pos < wanted and self._read():
            pass

    def _read(self) -> bool:
        """Append the next chunk's text, dropping what was parsed; False at the end."""
        if self.done:
            return False
        chunk = next(self._chunks, None)
        self.done = chunk is None
        self.text = self.text[self.pos :] + self._decode(chunk or b"", final=self.done)
        self.pos = 0
        return True
