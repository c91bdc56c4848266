"""The roster at the center, versioned so that stations fetch only what changed since their version.

Every row carries the version in which it last changed; a removal leaves a row marked removed, so that a station
asking "since N" learns of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from kiosk.center.db import Database, people
from kiosk.domain.models import Person

FIELDS = ("name", "role", "campus", "dorm", "return_approved", "observation", "card_nos", "lost_cards")


@dataclass(frozen=True, slots=True)
class RosterChange:
    version: int
    full: bool
    people: list[Person]
    removed: list[str]


def current_version(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.coalesce(func.max(people.c.version), 0))).scalar_one())


def changes_since(db: Database, since: int) -> RosterChange:
    """Everything a station at roster version `since` needs; the whole roster for 0 or an unknown future version."""
    with db.read() as conn:
        version = int(conn.execute(select(func.coalesce(func.max(people.c.version), 0))).scalar_one())
        full = since <= 0 or since > version
        query = select(people).order_by(people.c.person_id)
        if full:
            query = query.where(people.c.removed.is_(False))
        else:
            query = query.where(people.c.version > since)
        rows = conn.execute(query).mappings().all()
    present = [_person(row) for row in rows if not row["removed"]]
    removed = [row["person_id"] for row in rows if row["removed"]]
    return RosterChange(version=version, full=full, people=present, removed=removed)


def current_people(db: Database) -> dict[str, Person]:
    """Everyone on the roster now, by ID (what an import is compared with)."""
    with db.read() as conn:
        rows = conn.execute(select(people).where(people.c.removed.is_(False))).mappings().all()
    return {row["person_id"]: _person(row) for row in rows}


def update(db: Database, incoming: Sequence[Person], replace: bool) -> tuple[int, int]:
    """Add or change `incoming` (and with `replace`, remove everyone else); returns (version, changed)."""
    with db.write() as conn:
        rows = {row["person_id"]: row for row in conn.execute(select(people)).mappings()}
        version = max((row["version"] for row in rows.values()), default=0) + 1
        changed: dict[str, dict[str, Any]] = {}
        for person in incoming:
            values = _values(person)
            row = rows.get(person.person_id)
            if row is None or row["removed"] or any(row[name] != values[name] for name in FIELDS):
                changed[person.person_id] = {**values, "removed": False, "version": version}
        if replace:
            listed = {person.person_id for person in incoming}
            for person_id, row in rows.items():
                if person_id not in listed and not row["removed"]:
                    changed[person_id] = {**dict(row), "removed": True, "version": version}
        if not changed:
            return version - 1, 0
        kept = [row for person_id, row in changed.items() if person_id in rows]
        new = [row for person_id, row in changed.items() if person_id not in rows]
        if kept:
            conn.execute(people.delete().where(people.c.person_id.in_([row["person_id"] for row in kept])))
        conn.execute(people.insert(), kept + new)
    return version, len(changed)


def _values(person: Person) -> dict[str, Any]:
    data = person.to_dict()
    data["role"] = str(person.role)
    data["card_nos"] = " ".join(person.card_nos)
    data["lost_cards"] = " ".join(person.lost_cards)
    return data


def _person(row: Any) -> Person:
    data = dict(row)
    data["card_nos"] = (data.get("card_nos") or "").split()
    data["lost_cards"] = (data.get("lost_cards") or "").split()
    return Person.from_dict(data)
