"""The roster pull reads the center's reply as it arrives, and applies nothing from a reply that is not whole.

A small HTTP server on loopback plays the center's roster endpoint: it sends a scripted body in small pieces (so
that the station parses it across many reads), or stops half-way, or sends people that are not people. The
station's real Syncer and real stores talk to it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain.config import CenterConfig
from kiosk.domain.i18n import both
from kiosk.domain.models import Person, Role
from kiosk.station.backoff import Backoff
from kiosk.station.sync import Syncer
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

PIECE = 7
"""Bytes per write of the scripted center: a person's JSON always spans several reads."""


class RosterCenter:
    """Answers GET /api/v1/roster with `body`, written PIECE bytes at a time; with `torn`, only its first half."""

    def __init__(self) -> None:
        self.body = b"{}"
        self.torn = False
        self.asked: list[str] = []
        center = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                center.asked.append(self.path)
                body = center.body
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                sent = body[: len(body) // 2] if center.torn else body
                for at in range(0, len(sent), PIECE):
                    self.wfile.write(sent[at : at + PIECE])
                    self.wfile.flush()
                    if at % (PIECE * 200) == 0:
                        time.sleep(0.001)  # let the station read what came so far

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def reply(self, people: list[Any], version: int = 2, full: bool = True, **extra: Any) -> None:
        document = {"version": version, "full": full, "people": people, "removed": [], **extra}
        self.body = json.dumps(document, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def running_center() -> Iterator[RosterCenter]:
    center = RosterCenter()
    yield center
    center.server.shutdown()
    center.server.server_close()


@pytest.fixture
def center(running_center: RosterCenter) -> RosterCenter:
    running_center.torn = False
    running_center.asked.clear()
    return running_center


def _roster(count: int) -> list[Person]:
    return [Person(f"2023{i:06d}", f"学生{i}", Role.STUDENT, "海淀校园", f"{i % 40}号楼") for i in range(count)]


def _syncer(center: RosterCenter, data: Path, roster: RosterStore | None = None) -> Syncer:
    return Syncer(
        CenterConfig(url=center.url, timeout=5.0, sync_interval=1),
        "st-1",
        EntryStore(data),
        roster or RosterStore(data),
        NoticeStore(data),
        "token",
        backoff=Backoff(base=0.01, cap=0.05),
    )


def test_a_full_pull_read_in_pieces_keeps_the_people_that_did_not_change(center: RosterCenter, tmp_path: Path) -> None:
    people = _roster(500)
    RosterStore(tmp_path).replace_all(people, version="1")
    syncer = _syncer(center, tmp_path)
    held = syncer.roster.get("2023000003")
    moved = replace(people[4], dorm="东南楼")
    center.reply([p.to_dict() for p in [*people[:4], moved, *people[5:]]])
    assert syncer.pull_roster().count == 500
    assert syncer.roster.version == "2" and len(syncer.roster) == 500
    assert syncer.roster.get("2023000004") == moved
    assert syncer.roster.get("2023000003") is held, "an unchanged person is the object the roster held"
    assert RosterStore(tmp_path).get("2023000004") == moved, "the pulled roster is on disk"
    syncer.close()


def test_the_version_asked_for_is_the_one_on_disk_before_the_roster_was_read(
    center: RosterCenter, tmp_path: Path
) -> None:
    RosterStore(tmp_path).replace_all(_roster(3), version="7")
    syncer = _syncer(center, tmp_path, RosterStore(tmp_path, load=False))  # as the gate opens it
    center.reply([], version=7, full=False)
    syncer.pull_roster()
    assert center.asked == ["/api/v1/roster?since=7"], "not the whole roster again"
    syncer.close()


WHOLE = [p.to_dict() for p in _roster(200)]


@pytest.mark.parametrize(
    ("torn", "people"),
    [
        pytest.param(True, WHOLE, id="torn-half-way"),
        pytest.param(False, [*WHOLE, {"person_id": "2023000001", "name": "无角色"}], id="a-person-without-role"),
        pytest.param(False, [*WHOLE, {"person_id": "2", "name": "甲", "role": "alien"}], id="an-unknown-role"),
        pytest.param(False, [*WHOLE, "2023000001"], id="a-person-that-is-a-string"),
        pytest.param(False, "nobody", id="people-not-a-list"),
        pytest.param(False, None, id="people-null"),
    ],
)
def test_a_reply_that_is_not_whole_changes_nothing(
    center: RosterCenter, tmp_path: Path, torn: bool, people: Any
) -> None:
    before = _roster(300)
    RosterStore(tmp_path).replace_all(before, version="1")
    syncer = _syncer(center, tmp_path)
    center.reply(people)
    center.torn = torn
    result = syncer.pull_roster()
    assert result.error == both("sync.bad_reply") and result.count == 0
    assert syncer.roster.version == "1" and len(syncer.roster) == 300
    assert RosterStore(tmp_path).people() == {p.person_id: p for p in before}
    syncer.close()


def test_a_reply_without_people_changes_nothing(center: RosterCenter, tmp_path: Path) -> None:
    RosterStore(tmp_path).replace_all(_roster(10), version="1")
    syncer = _syncer(center, tmp_path)
    center.body = b'{"version": 2, "full": true, "removed": []}'
    assert syncer.pull_roster().error == both("sync.bad_reply")
    assert len(syncer.roster) == 10 and syncer.roster.version == "1"
    syncer.close()
