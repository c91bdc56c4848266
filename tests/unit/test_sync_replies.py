"""What the station acknowledges when the center's reply to a push is not what it should be.

A small HTTP server on loopback plays a center that answers each push with a scripted reply (as a broken or
half-upgraded center would); the station's real Syncer and real stores talk to it. Only an entry whose
(entry_id, revision) comes back "stored" or "duplicate", in a reply that matches the batch, is acknowledged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain.config import CenterConfig
from kiosk.domain.i18n import both
from kiosk.domain.models import Entry
from kiosk.station.backoff import Backoff
from kiosk.station.sync import Syncer
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

Script = Callable[[list[dict[str, Any]]], Any]
"""The reply (any JSON value) to a push of these entries; a `Status` answers with that HTTP status instead."""


class Status(int):
    """An HTTP status a script answers with, without a body a station could use."""


class ScriptedCenter:
    """Answers pushes with `script(entries)`, heartbeats with the time; records the paths asked for."""

    def __init__(self) -> None:
        self.script: Script = lambda entries: {"results": []}
        self.notices: Any = {"notices": []}
        self.paths: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        center = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                center.paths.append(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                center.bodies.append(body)
                center.content_types.append(self.headers.get("Content-Type", ""))
                if self.path.endswith("/entries"):
                    self._reply(center.script(body["entries"]))
                else:
                    self._reply({"server_time": "2026-11-28T00:00:00+00:00"})

            def do_GET(self) -> None:  # noqa: N802
                center.paths.append(self.path)
                if self.path.startswith("/api/v1/roster"):
                    self._reply({"version": 1, "full": True, "people": [], "removed": []})
                elif self.path == "/api/v1/notices":
                    self._reply(center.notices)
                else:
                    self._reply(Status(404))

            def _reply(self, value: Any) -> None:
                status = value if isinstance(value, Status) else 200
                data = json.dumps({"detail": "error"} if isinstance(value, Status) else value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def running_center() -> Iterator[ScriptedCenter]:
    running = ScriptedCenter()
    yield running
    running.close()


@pytest.fixture
def center(running_center: ScriptedCenter) -> ScriptedCenter:
    running_center.paths.clear()
    running_center.bodies.clear()
    running_center.content_types.clear()
    running_center.notices = {"notices": []}
    return running_center


@pytest.fixture
def syncer(center: ScriptedCenter, tmp_path: Path) -> Iterator[Syncer]:
    data = tmp_path / "data"
    made = Syncer(
        CenterConfig(url=center.url, timeout=5.0, sync_interval=1),
        "st-1",
        EntryStore(data),
        RosterStore(data),
        NoticeStore(data),
        "token",
        backoff=Backoff(base=0.01, cap=0.05),
    )
    yield made
    made.close()


def record(syncer: Syncer, make_entry: Callable[..., Entry], count: int) -> list[Entry]:
    return [syncer.store.record(make_entry(f"2023{i:06d}")) for i in range(count)]


def result(document: dict[str, Any], status: str = "stored", **changes: Any) -> dict[str, Any]:
    return {"entry_id": document["entry_id"], "revision": document["revision"], "status": status} | changes


BAD_REPLY = both("sync.bad_reply")


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(lambda entries: [result(d) for d in entries], id="a-list-not-an-object"),
        pytest.param(lambda entries: {"results": [result(d) for d in entries[:-1]]}, id="one-result-short"),
        pytest.param(lambda entries: {"results": [result(d) for d in entries] * 2}, id="results-doubled"),
        pytest.param(lambda entries: {"results": "stored"}, id="results-not-a-list"),
        pytest.param(lambda entries: {"results": [result(d, revision=9) for d in entries]}, id="wrong-revision"),
        pytest.param(lambda entries: {"results": [result(d, status="ok") for d in entries]}, id="unknown-status"),
        pytest.param(lambda entries: {"results": [result(d) for d in reversed(entries)]}, id="reordered"),
        pytest.param(lambda entries: {"results": [[d["entry_id"], "stored"] for d in entries]}, id="not-objects"),
    ],
)
def test_a_reply_that_does_not_match_the_batch_acknowledges_nothing(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry], script: Script
) -> None:
    center.script = script
    record(syncer, make_entry, 3)
    report = syncer.sync_once()
    assert syncer.store.unsynced_count() == 3 and report.acked == 0 and report.pending == 3
    assert report.errors == (BAD_REPLY,) and syncer.status.last_error is None  # the later exchanges worked
    assert not report.offline, "a nonsense reply is not an outage: the pass goes on"
    assert any(path.endswith("/heartbeat") for path in center.paths)


def test_only_the_entries_the_center_stored_are_acknowledged(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry]
) -> None:
    statuses = ["stored", "duplicate", "rejected"]
    center.script = lambda entries: {
        "results": [result(d, statuses[i % 3]) for i, d in enumerate(sorted(entries, key=lambda d: d["seq"]))]
    }
    entries = record(syncer, make_entry, 3)
    report = syncer.sync_once()
    assert report.acked == 2 and report.pending == 1
    assert [r.entry_id for r in report.rejected] == [entries[2].entry_id]
    assert report.rejected[0].error == "", "a rejection without a reason has an empty one, not 'None'"
    assert {e.entry_id for e in syncer.store.unsynced_batch(10)} == {entries[2].entry_id}


OFFICIAL = {
    "notice_id": "c-1",
    "title": "返校须知",
    "url": "https://news.bnu.edu.cn/a.htm",
    "published_at": "2026-11-28T06:00:00+00:00",
    "source": "学生处",
    "title_en": "",
}
PHISHING = OFFICIAL | {"notice_id": "c-2", "title": "请重新登录", "url": "https://bnu-edu.cn/login"}
ESCAPE = OFFICIAL | {"notice_id": "c-3", "title": "通知\x1b[2J"}


def test_notices_the_allowlist_refuses_are_kept_apart_audited_once_and_reported(
    center: ScriptedCenter, syncer: Syncer
) -> None:
    center.notices = {"notices": [OFFICIAL, PHISHING, ESCAPE]}
    first = syncer.sync_once()
    assert first.complete and first.refused_notices == 2
    today = syncer.clock().date().isoformat()
    assert len([a for a in syncer.store.audit_of_day(today) if a["kind"] == "notice_refused"]) == 2
    assert [n.notice_id for n in syncer.notices.all()] == ["c-1"]
    assert syncer.notices.all()[0].received_at == syncer.notices.last_refresh
    refused = {r.notice.notice_id: r.reason for r in syncer.notices.refused()}
    assert "bnu-edu.cn is not an authoritative source" in refused["c-2"]
    assert refused["c-3"] == both("notice.title.characters")
    assert first.summary() == f"{both('sync.done')}; {both('sync.notices_refused', count=2)}"

    syncer.sync_once()  # the next heartbeat tells the center; the refusals are audited once
    heartbeats = [b for b in center.bodies if "refused_notices" in b]
    assert [b["refused_notices"] for b in heartbeats] == [[], ["c-2", "c-3"]]
    audits = syncer.store.audit_of_day(syncer.clock().date().isoformat())
    details = sorted(a["detail"] for a in audits if a["kind"] == "notice_refused")
    assert len(details) == 2 and details[0].startswith("c-2 https://bnu-edu.cn/login: ")

    center.notices = {"notices": [OFFICIAL]}
    assert syncer.sync_once().refused_notices == 0 and syncer.notices.refused() == []


def test_an_unreadable_notice_list_changes_nothing(center: ScriptedCenter, syncer: Syncer) -> None:
    center.notices = {"notices": [OFFICIAL]}
    syncer.sync_once()
    for nonsense in ({"notices": "none"}, {"items": []}, [OFFICIAL], {"notices": [{"title": "x"}]}):
        center.notices = nonsense
        report = syncer.sync_once()
        assert report.errors == (BAD_REPLY,) and not report.offline
        assert [n.notice_id for n in syncer.notices.all()] == ["c-1"]


def test_a_backlog_goes_in_batches_until_everything_is_acknowledged(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry]
) -> None:
    syncer.batch_size = 2
    syncer.clock = lambda: datetime(2026, 11, 28, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    center.script = lambda entries: {"results": [result(d) for d in entries]}
    record(syncer, make_entry, 5)
    step = syncer.push()
    assert (step.count, step.error, step.rejected) == (5, None, ())
    assert syncer.status.pending == 0 and syncer.status.online
    assert [len(b["entries"]) for b in center.bodies] == [2, 2, 1]
    assert set(center.content_types) == {"application/json"}, "the center reads JSON bodies only"
    assert {e.acked_at for e in syncer.store.entries_of_day("2026-11-28")} == {"2026-11-28T09:00:00+08:00"}


def test_an_amendment_is_acknowledged_by_its_revision(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry]
) -> None:
    center.script = lambda entries: {"results": [result(d) for d in entries]}
    [entry] = record(syncer, make_entry, 1)
    syncer.sync_once()
    syncer.store.record(entry.amended(operator="T2002"))
    report = syncer.sync_once()
    assert report.acked == 1 and report.pending == 0
    pushed = [b["entries"][0]["revision"] for b in center.bodies if "entries" in b]
    assert pushed == [0, 1]


def test_an_entry_amended_while_in_flight_goes_again_as_its_new_revision(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry]
) -> None:
    [entry] = record(syncer, make_entry, 1)

    def amend_then_store(entries: list[dict[str, Any]]) -> Any:
        if entries[0]["revision"] == 0:
            syncer.store.record(entry.amended(operator="T2002"))  # a reading typed while the push was on the wire
        return {"results": [result(d) for d in entries]}

    center.script = amend_then_store
    step = syncer.push()
    assert step.count == 1 and step.error is None and syncer.store.unsynced_count() == 0
    assert [b["entries"][0]["revision"] for b in center.bodies if "entries" in b] == [0, 1]
    assert syncer.store.entries_of_day("2026-11-28")[0].operator == "T2002"


def test_rejections_keep_their_reasons_and_are_not_acknowledged(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry]
) -> None:
    center.script = lambda entries: {"results": [result(d, "rejected", error="seq 0 out of range") for d in entries]}
    entries = record(syncer, make_entry, 2)
    step = syncer.push()
    assert step.count == 0 and syncer.store.unsynced_count() == 2
    assert (syncer.status.pending, syncer.status.oldest_pending) == (2, entries[0].captured_at)
    assert [(r.entry_id, r.error) for r in step.rejected] == [(e.entry_id, "seq 0 out of range") for e in entries]


def test_a_failure_in_a_later_batch_keeps_what_was_acknowledged_and_rejected(
    center: ScriptedCenter, syncer: Syncer, make_entry: Callable[..., Entry]
) -> None:
    syncer.batch_size = 2
    calls: list[int] = []

    def then_fail(entries: list[dict[str, Any]]) -> Any:
        calls.append(len(entries))
        if len(calls) > 1:
            return Status(503)
        return {"results": [result(entries[0]), result(entries[1], "rejected", error="bad")]}

    center.script = then_fail
    record(syncer, make_entry, 4)
    step = syncer.push()
    assert step.count == 1 and step.offline and step.error == both("sync.server_error", status=503)
    assert [r.error for r in step.rejected] == ["bad"]
    assert syncer.store.unsynced_count() == 3 and not syncer.status.online


def test_a_failed_notice_pull_is_reported(center: ScriptedCenter, syncer: Syncer) -> None:
    center.notices = Status(500)
    report = syncer.sync_once()
    assert report.errors == (both("sync.server_error", status=500),) and report.offline
