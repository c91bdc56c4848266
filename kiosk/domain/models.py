"""The kiosk's data model: people, entries, readings and notices.

Plain frozen dataclasses with `to_dict` / `from_dict`, shared by the rules, the store, sync and the center.
Nothing here does I/O.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

_E = TypeVar("_E", bound=StrEnum)


class Role(StrEnum):
    STUDENT = "student"
    STAFF = "staff"
    VISITOR = "visitor"
    """Registered through the visitor form."""
    UNKNOWN = "unknown"
    """Scanned or typed but not on the roster: a mistyped card or a stranger, never counted as a visitor."""


class Method(StrEnum):
    """How the person was identified."""

    SERIAL_SCAN = "serial_scan"
    KEYBOARD_SCAN = "keyboard_scan"
    TYPED = "typed"
    VISITOR_FORM = "visitor_form"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Verdict(StrEnum):
    ADMITTED = "admitted"
    DENIED = "denied"
    REFERRED = "referred"


class Reason(StrEnum):
    """Why a verdict was given; shown to the person through the message catalog."""

    ON_ROSTER = "on_roster"
    NOT_ON_ROSTER = "not_on_roster"
    NO_RETURN_APPROVAL = "no_return_approval"
    MEDICAL_OBSERVATION = "medical_observation"
    FEVER_REMEASURE = "fever_remeasure"
    FEVER_REFERRED = "fever_referred"
    FEVER_CLEARED = "fever_cleared"
    CARD_LOST = "card_lost"
    VISITOR_REGISTERED = "visitor_registered"
    VISITOR_INCOMPLETE = "visitor_incomplete"
    LEAVING = "leaving"


_MEMBERS: dict[tuple[type, str], StrEnum] = {
    (kind, member.value): member for kind in (Role, Method, Direction, Verdict, Reason) for member in kind
}


def enum_member(kind: type[_E], value: Any) -> _E:
    """`kind(value)` by a dict lookup: reading a busy day builds hundreds of thousands of these."""
    member = _MEMBERS.get((kind, value))
    return member if member is not None else kind(value)  # type: ignore[return-value]


def new_entry_id(now_ns: int | None = None) -> str:
    """A unique, time-ordered id (UUIDv7 layout: 48-bit milliseconds, then random bits)."""
    ms = (now_ns if now_ns is not None else time.time_ns()) // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | (rand & ((1 << 76) - 1))
    value = (value & ~(0xC << 60)) | (0x8 << 60)  # RFC 9562 variant bits
    hexed = f"{value:032x}"
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the roster."""

    person_id: str
    name: str
    role: Role
    campus: str = ""
    dorm: str = ""
    return_approved: bool = False
    observation: bool = False
    card_nos: tuple[str, ...] = ()
    """Campus card numbers (canonical decimal UIDs, see kiosk/domain/cards.py) that identify this person."""
    lost_cards: tuple[str, ...] = ()
    """Card numbers reported lost or replaced: a scan of one is denied."""

    def to_dict(self) -> dict[str, Any]:
        # Field by field rather than `asdict` (a deep copy): a roster snapshot serialises every person.
        data = {name: getattr(self, name) for name in _PERSON_FIELDS}
        data["card_nos"] = list(self.card_nos)
        data["lost_cards"] = list(self.lost_cards)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        """Places are interned: a few hundred distinct among 50k people, each then held once."""
        return cls(  # positional, in field order: a roster read builds 50k of these
            str(data["person_id"]),
            str(data["name"]),
            enum_member(Role, data["role"]),
            sys.intern(str(data.get("campus", ""))),
            sys.intern(str(data.get("dorm", ""))),
            bool(data.get("return_approved", False)),
            bool(data.get("observation", False)),
            tuple(map(str, data.get("card_nos") or ())),
            tuple(map(str, data.get("lost_cards") or ())),
        )


_PERSON_FIELDS = tuple(f.name for f in fields(Person))


@dataclass(frozen=True, slots=True)
class Reading:
    """One temperature measurement, with who took it and when."""

    celsius: float
    taken_at: str
    operator: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reading:
        return cls(celsius=float(data["celsius"]), taken_at=str(data["taken_at"]), operator=str(data["operator"]))


@dataclass(frozen=True, slots=True)
class Visitor:
    """What the visitor form collects besides the name and ID."""

    phone: str
    host: str
    reason: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Visitor:
        return cls(phone=str(data["phone"]), host=str(data["host"]), reason=str(data["reason"]))


@dataclass(frozen=True, slots=True)
class Entry:
    """One passage (or refused passage) through a gate.

    An entry is recorded once and may be amended (a temperature taken after the scan): an amendment keeps
    `entry_id` and `seq` and raises `revision`; the newest revision wins everywhere.
    """

    entry_id: str
    station_id: str
    seq: int
    person_id: str
    role: Role
    name: str
    method: Method
    direction: Direction
    captured_at: str
    """Wall time with UTC offset (ISO 8601) at capture; never used for ordering or de-duplication."""
    monotonic: float
    verdict: Verdict
    reasons: tuple[Reason, ...]
    rules_version: str
    operator: str
    offline: bool = False
    """True when the station had no contact with the center at capture."""
    readings: tuple[Reading, ...] = ()
    visitor: Visitor | None = None
    revision: int = 0
    acked_at: str | None = None
    """When the center acknowledged this revision; None while it waits to be synced."""

    @property
    def day(self) -> str:
        """The station-local date of capture, YYYY-MM-DD."""
        return self.captured_at[:10]

    @property
    def hour(self) -> int:
        return int(self.captured_at[11:13])

    @property
    def captured(self) -> datetime:
        return datetime.fromisoformat(self.captured_at)

    @property
    def fever(self) -> bool:
        return Reason.FEVER_REFERRED in self.reasons or Reason.FEVER_REMEASURE in self.reasons

    def amended(self, **changes: Any) -> Entry:
        """The next revision of this entry, waiting to be synced again."""
        return replace(self, revision=self.revision + 1, acked_at=None, **changes)

    def to_dict(self) -> dict[str, Any]:
        # Field by field rather than `asdict`, whose deep copy of every value is six times slower: sync and
        # the journal serialise every entry.
        data = {name: getattr(self, name) for name in _ENTRY_FIELDS}
        data["reasons"] = [str(r) for r in self.reasons]
        data["readings"] = [asdict(r) for r in self.readings]
        if self.visitor is not None:
            data["visitor"] = asdict(self.visitor)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        visitor = data.get("visitor")
        return cls(
            entry_id=str(data["entry_id"]),
            station_id=str(data["station_id"]),
            seq=int(data["seq"]),
            person_id=str(data["person_id"]),
            role=enum_member(Role, data["role"]),
            name=str(data["name"]),
            method=enum_member(Method, data["method"]),
            direction=enum_member(Direction, data["direction"]),
            captured_at=str(data["captured_at"]),
            monotonic=float(data["monotonic"]),
            verdict=enum_member(Verdict, data["verdict"]),
            reasons=tuple(enum_member(Reason, r) for r in data["reasons"]),
            rules_version=str(data["rules_version"]),
            operator=str(data["operator"]),
            offline=bool(data.get("offline", False)),
            readings=tuple(Reading.from_dict(r) for r in data.get("readings", ())),
            visitor=Visitor.from_dict(visitor) if visitor else None,
            revision=int(data.get("revision", 0)),
            acked_at=data.get("acked_at"),
        )


_ENTRY_FIELDS = tuple(f.name for f in fields(Entry))


@dataclass(frozen=True, slots=True)
class Notice:
    """An official notice shown at the gate as a QR code."""

    notice_id: str
    title: str
    url: str
    published_at: str
    source: str
    title_en: str = ""
    received_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        return cls(
            notice_id=str(data["notice_id"]),
            title=str(data["title"]),
            url=str(data["url"]),
            published_at=str(data["published_at"]),
            source=str(data.get("source", "")),
            title_en=str(data.get("title_en", "")),
            received_at=str(data.get("received_at", "")),
        )


@dataclass(frozen=True, slots=True)
class DayCounts:
    """Counts for one station-day: by verdict, by direction (admitted only) and by hour."""

    admitted: int = 0
    denied: int = 0
    referred: int = 0
    entered: int = 0
    left: int = 0
    by_hour: tuple[int, ...] = field(default=(0,) * 24)
