"""Campus card numbers: what RFID readers send, and the one form the roster keeps them in.

Cheap readers send the card's UID, not the student number: as decimal digits (usually 10), as hex (8 digits for a
4-byte UID), sometimes with the bytes reversed. The roster keeps every card number as the decimal value of the UID
in the card system's byte order, so one roster works with any of the school's readers once `[scanner]
card_format` says how each reader writes it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

CardFormat = Literal["as-is", "decimal", "hex", "hex-reversed"]
CARD_FORMATS: tuple[CardFormat, ...] = ("as-is", "decimal", "hex", "hex-reversed")
MAX_CARD_BITS = 80
"""The longest UID of ISO 14443 cards is 10 bytes."""

_DECIMAL = re.compile(r"^[0-9]{1,25}$")
_HEX = re.compile(r"^(?:0x)?([0-9a-f]{1,20})$")
_SEPARATORS = re.compile(r"[;,，；、/|\s]+")


def card_from_roster(text: str) -> str | None:
    """The canonical form of a card number written in a roster file (decimal, or hex with 0x or letters A–F)."""
    value = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    if _DECIMAL.match(value):
        number = int(value)
    elif (match := _HEX.match(value)) and (value.startswith("0x") or re.search("[a-f]", value)):
        number = int(match.group(1), 16)
    else:
        return None
    return str(number) if number.bit_length() <= MAX_CARD_BITS else None


def split_cards(text: str) -> list[str]:
    """The card numbers of one roster cell: several may be given, separated by ; , / 、 or spaces."""
    return [part for part in _SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()) if part]


def card_from_reader(text: str, card_format: CardFormat) -> str | None:
    """The canonical card number of what a reader sent in `card_format`; None if it is not a card number."""
    value = unicodedata.normalize("NFKC", text).strip()
    if card_format == "as-is":
        return card_from_roster(value)
    if card_format == "decimal":
        return str(int(value)) if _DECIMAL.match(value) and int(value).bit_length() <= MAX_CARD_BITS else None
    digits = value.lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]{2,20}", digits) or len(digits) % 2:
        return None
    raw = bytes.fromhex(digits)
    if card_format == "hex-reversed":
        raw = raw[::-1]
    return str(int.from_bytes(raw, "big"))
