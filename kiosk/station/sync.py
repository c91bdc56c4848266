"""Station-side sync with the center: push entries, pull the roster and notices, send heartbeats.

Only what the center confirmed is marked acknowledged: a "stored" or "duplicate" result for the same entry_id
and revision, which the center sends after its commit. Any other outcome (no answer, a 5xx, a torn or garbled
reply, results that do not match the batch) leaves the entries waiting for the next pass. An outage is normal
here: it sets the status and a backoff delay, and never raises.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from kiosk.domain.clock import SystemClock
from kiosk.domain.config import CenterConfig, Config, ConfigError, NoticesConfig
from kiosk.domain.i18n import both
from kiosk.domain.jsonstream import members
from kiosk.domain.models import Notice, Person
from kiosk.domain.notices import sort_out
from kiosk.station.backoff import Backoff
from storage.entries import EntryStore
from storage.files import StoreError
from storage.notices import NoticeStore
from storage.roster import RosterStore

MAX_BATCH = 5000
"""The center refuses larger pushes."""
MAX_REFUSED_REPORTED = 50
"""Refused notice ids sent in one heartbeat (the center keeps no more)."""
COMMITTED = ("stored", "duplicate")
_STATUSES = (*COMMITTED, "rejected")

Clock = Callable[[], datetime]


def local_now() -> datetime:
    return datetime.now().astimezone()


class SyncSetupError(ConfigError):
    """Sync cannot start: no center configured, or an unusable token or CA file (bilingual message)."""


class CenterError(Exception):
    """One request to the center did not give a usable answer (bilingual message)."""

    def __init__(self, message: str, offline: bool) -> None:
        super().__init__(message)
        self.offline = offline
        """True when the rest of the pass would fail too (unreachable, token refused, server error): it is skipped."""


@dataclass(frozen=True)
class SyncStatus:
    """What the gate shows about sync; replaced as a whole after every request, so any thread may read it."""

    online: bool = False
    """The last request to the center got a usable answer (False until one does)."""
    pending: int = 0
    """Entries waiting for the center's acknowledgement."""
    oldest_pending: str | None = None
    """Capture time of the oldest waiting entry."""
    last_success: str | None = None
    """When the center last answered usefully (ISO time)."""
    last_error: str | None = None
    """Why the last request failed, one bilingual line; None after a success."""
    clock_skew: float | None = None
    """Seconds this station's clock is ahead of the center's, from the last heartbeat."""


@dataclass(frozen=True)
class Rejection:
    """An entry the center refused, and its reason."""

    entry_id: str
    revision: int
    error: str


@dataclass(frozen=True)
class StepResult:
    """The outcome of one kind of exchange with the center."""

    count: int = 0
    """Entries acknowledged, roster rows changed or notices received."""
    error: str | None = None
    offline: bool = False
    """The failure ends the pass (see CenterError.offline)."""
    rejected: tuple[Rejection, ...] = ()


@dataclass(frozen=True)
class SyncReport:
    """One full pass: push, heartbeat, roster, notices."""

    acked: int
    rejected: tuple[Rejection, ...]
    pending: int
    """Entries still waiting after the pass."""
    errors: tuple[str, ...]
    offline: bool
    refused_notices: int = 0
    """The center's notices this station refuses to show (reported, not an error: the pass itself worked)."""

    @property
    def complete(self) -> bool:
        """Every entry is acknowledged and every exchange worked."""
        return not self.errors and not self.rejected and self.pending == 0

    def summary(self) -> str:
        """One bilingual line for a person."""
        parts = [both("sync.done")] if self.complete else list(self.errors)
        if self.rejected:
            parts.append(both("sync.rejected", count=len(self.rejected)))
        if self.pending:
            parts.append(both("sync.pending_left", count=self.pending))
        if self.refused_notices:
            parts.append(both("sync.notices_refused", count=self.refused_notices))
        return "; ".join(parts)


def _key(document: dict[str, Any]) -> tuple[str, int]:
    """(entry_id, revision) of a stored entry document: what the center acknowledges."""
    return document["entry_id"], document.get("revision", 0)


def read_token(path: Path) -> str:
    """The bearer token in `path`; refuse a file that group or others can read."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise SyncSetupError(both("sync.token_open", path=path))
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise SyncSetupError(both("sync.token_missing", path=path)) from None
    if not token:
        raise SyncSetupError(both("sync.token_empty", path=path))
    return token


def station_token(config: Config) -> str:
    """This station's token, read once at start; raise SyncSetupError when sync cannot be set up."""
    if not config.center.url:
        raise SyncSetupError(both("sync.no_center"))
    if not config.center.token_file:
        raise SyncSetupError(both("sync.token_missing", path="[center] token_file"))
    return read_token(_beside(config.path, config.center.token_file))


def syncer_from_config(
    config: Config,
    store: EntryStore,
    roster: RosterStore,
    notices: NoticeStore,
    clock: Clock | None = None,
    token: str | None = None,
) -> Syncer:
    """A Syncer for this station; the token is read with `station_token` unless given (SyncSetupError).

    Without `clock`, the system's clock in the station's `[station] timezone`.
    """
    token = token if token is not None else station_token(config)
    clock = clock or SystemClock(config.station.zone).now
    return Syncer(
        config.center,
        config.station.id,
        store,
        roster,
        notices,
        token,
        clock=clock,
        config_path=config.path,
        allowed_domains=config.notices.allowed_domains,
    )


def _beside(config_path: Path | None, name: str) -> Path:
    """A path from the config, relative to the config file like [storage] data_dir."""
    path = Path(name).expanduser()
    if not path.is_absolute() and config_path is not None:
        path = config_path.parent / path
    return path


class Syncer:
    """Exchanges data with the center for one station. `sync_once` may be called from any thread: passes never
    overlap, and `status` is always a complete snapshot."""

    def __init__(
        self,
        center: CenterConfig,
        station_id: str,
        store: EntryStore,
        roster: RosterStore,
        notices: NoticeStore,
        token: str,
        clock: Clock = local_now,
        backoff: Backoff | None = None,
        config_path: Path | None = None,
        allowed_domains: Sequence[str] = NoticesConfig.allowed_domains,
    ) -> None:
        """`allowed_domains` is [notices] allowed_domains: the center's notices outside it are refused here."""
        self.center = center
        self.allowed_domains = tuple(allowed_domains)
        self.station_id = station_id
        self.store = store
        self.roster = roster
        self.notices = notices
        self.clock = clock
        self.backoff = backoff or Backoff(cap=max(60.0, float(center.sync_interval) * 20))
        self.batch_size = min(int(center.batch_size), MAX_BATCH)
        self.status = SyncStatus(pending=store.unsynced_count(), oldest_pending=store.oldest_unsynced_at())
        self._audited: set[tuple[str, int]] = set()
        self._pass_lock = threading.Lock()
        self._client = httpx.Client(
            base_url=center.url.rstrip("/"),
            timeout=center.timeout,
            verify=_tls_context(center.ca_file, config_path),
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"campus-kiosk/{_version()}"},
        )

    def close(self) -> None:
        self._client.close()

    # -- one pass --------------------------------------------------------------------------------------

    def sync_once(self) -> SyncReport:
        """Push every waiting entry, then settle damaged ones, heartbeat, roster and notices; stop early when the center
        is gone."""
        return self._pass((self.settle_lost, self.heartbeat, self.pull_roster, self.pull_notices))

    def push_once(self) -> SyncReport:
        """Push every waiting entry and nothing else: the pass run when new entries wake the sync loop."""
        return self._pass(())

    def _pass(self, pulls: Sequence[Callable[[], StepResult]]) -> SyncReport:
        with self._pass_lock:
            push = self._guarded(self.push)
            errors = [push.error] if push.error else []
            offline = push.offline
            if not offline:
                for step in pulls:
                    result = self._guarded(step)
                    if result.error:
                        errors.append(result.error)
                    if result.offline:
                        offline = True
                        break
            pending = self.store.unsynced_count()
            self._set_status(pending=pending, oldest_pending=self.store.oldest_unsynced_at())
            refused = len(self.notices.refused())
            return SyncReport(push.count, push.rejected, pending, tuple(errors), offline, refused)

    def next_delay(self, report: SyncReport) -> float:
        """Seconds to wait before the next pass: the configured interval, or a backoff after an outage."""
        if report.offline or report.errors:
            return self.backoff.failed()
        self.backoff.succeeded()
        return float(self.center.sync_interval)

    def run(self, stop: threading.Event, on_pass: Callable[[SyncReport], None] | None = None) -> None:
        """Sync until `stop` is set (for a thread worker); `on_pass` hears about every pass."""
        while not stop.is_set():
            report = self.sync_once()
            if on_pass is not None:
                on_pass(report)
            stop.wait(self.next_delay(report))

    # -- the exchanges ---------------------------------------------------------------------------------

    def push(self) -> StepResult:
        """Send waiting entries in batches until none is left or the center fails.

        Pipelined: while the center commits one batch, the one before is marked acknowledged and the next is read
        and encoded, so that the station's work and the center's overlap. Each entry revision goes once per pass:
        one the center refused is not re-sent until the next pass, one amended in flight goes as its new revision.
        """
        acked = 0
        rejected: dict[tuple[str, int], Rejection] = {}
        confirmed: list[tuple[str, int]] = []  # committed by the center according to the last reply, not yet marked
        in_flight: tuple[list[dict[str, Any]], Future[list[tuple[str, str | None]]]] | None = None
        while True:
            if confirmed:
                acked += self.store.mark_acked(confirmed, self.clock().isoformat())
                confirmed = []
            held = {*rejected, *(_key(d) for d in (in_flight[0] if in_flight else ()))}
            texts = self.store.unsynced_json(self.batch_size, skip=held)
            batch = [doc for doc, _ in texts]
            body = _body(text for _, text in texts)
            if in_flight is not None:
                sent, reply = in_flight
                in_flight = None
                try:
                    results = reply.result()
                except CenterError as exc:
                    self._failed(exc)
                    return StepResult(acked, str(exc), exc.offline, tuple(rejected.values()))
                self._contact()
                confirmed = [_key(d) for d, r in zip(sent, results, strict=True) if r[0] in COMMITTED]
                for document, (status, error) in zip(sent, results, strict=True):
                    if status == "rejected":
                        self._reject(rejected, document, error)
            if batch:
                in_flight = batch, self._post_in_background(body, batch)
            elif not confirmed:
                break
        self._set_status(pending=self.store.unsynced_count(), oldest_pending=self.store.oldest_unsynced_at())
        return StepResult(acked, rejected=tuple(rejected.values()))

    def settle_lost(self) -> StepResult:
        """Entries lost to a damaged file here: fetch back those the center holds, report the others as lost."""
        lost = self.store.lost_seqs()[:MAX_BATCH]
        if not lost:
            return StepResult(0)
        base = f"/api/v1/stations/{self.station_id}"
        try:
            held = self._json(self._request("POST", f"{base}/entries/by-seq", json={"seqs": lost}))["entries"]
            restored = self.store.restore(held, self.clock().isoformat()) if isinstance(held, list) else 0
            missing = self.store.lost_seqs()[:MAX_BATCH]
            if missing:
                reply = self._json(self._request("POST", f"{base}/damaged", json={"seqs": missing}))
                self.store.mark_reported(int(seq) for seq in reply["recorded"])
        except CenterError as exc:
            return self._failed(exc)
        except (KeyError, TypeError, ValueError):
            return self._failed(CenterError(both("sync.bad_reply"), offline=False))
        self._contact()
        return StepResult(restored)

    def heartbeat(self) -> StepResult:
        """Tell the center this station is alive and how much it still holds; learn the clock skew."""
        body = {
            "clock": self.clock().isoformat(),
            "pending": self.store.unsynced_count(),
            "oldest_pending": self.store.oldest_unsynced_at(),
            "version": _version(),
            # What the last notice pull refused, so that the center sees which gates do not show what.
            "refused_notices": [r.notice.notice_id for r in self.notices.refused()][:MAX_REFUSED_REPORTED],
        }
        try:
            reply = self._json(self._request("POST", f"/api/v1/stations/{self.station_id}/heartbeat", json=body))
            server_time = datetime.fromisoformat(reply["server_time"])
            skew = (self.clock() - server_time).total_seconds()
        except CenterError as exc:
            return self._failed(exc)
        except (KeyError, TypeError, ValueError):
            return self._failed(CenterError(both("sync.bad_reply"), offline=False))
        self._contact(clock_skew=skew)
        return StepResult(1)

    def pull_roster(self) -> StepResult:
        """Fetch roster changes since our version (the whole roster when we have none).

        The reply is parsed as it arrives, each person kept as the roster's own object when unchanged: a full pull
        of 50k people holds neither the reply's text nor a second copy of everyone.
        """
        same = self.roster.interned()  # reads the roster first: the version asked for is the one on disk
        since = int(self.roster.version) if self.roster.version.isdigit() else 0
        headers = {"If-None-Match": f'"{since}"'} if since else {}
        reply: dict[str, Any] = {}
        try:
            with self._streamed("GET", "/api/v1/roster", params={"since": since}, headers=headers) as response:
                if response.status_code == 304:
                    self._contact()
                    return StepResult(0)
                for key, value in members(response.iter_bytes(), "people", _person_hook):
                    reply[key] = [same(_person(p)) for p in value] if key == "people" else value
            version = str(int(reply["version"]))
            people = reply["people"]
            if not isinstance(people, list):
                raise ValueError("no people")
            removed = [str(p) for p in reply["removed"]]
            full = bool(reply["full"])
        except CenterError as exc:
            return self._failed(exc)
        except (KeyError, TypeError, ValueError):
            return self._failed(CenterError(both("sync.bad_reply"), offline=False))
        changed = self.roster.replace_all(people, version) if full else self.roster.upsert(people, version, removed)
        self._contact()
        return StepResult(changed)

    def pull_notices(self) -> StepResult:
        """Take the center's notices as the truth (notices added at this station stay), except those this
        station's allowlist refuses: they are kept apart with the reason and audited once each."""
        try:
            reply = self._json(self._request("GET", "/api/v1/notices"))
            notices = [Notice.from_dict({**n, "received_at": ""}) for n in reply["notices"]]
        except CenterError as exc:
            return self._failed(exc)
        except (KeyError, TypeError, ValueError):
            return self._failed(CenterError(both("sync.bad_reply"), offline=False))
        received = self.clock().isoformat()
        shown, refused = sort_out([replace(n, received_at=received) for n in notices], self.allowed_domains)
        already = {r.notice.notice_id for r in self.notices.refused()}
        self.notices.replace_from_center(shown, received, refused)
        for item in refused:
            if item.notice.notice_id not in already:
                detail = f"{item.notice.notice_id} {item.notice.url}: {item.reason}"
                self.store.audit("notice_refused", detail, received)
        self._contact()
        return StepResult(len(shown))

    # -- internals -------------------------------------------------------------------------------------

    def _post_in_background(self, body: bytes, batch: Sequence[dict[str, Any]]) -> Future[list[tuple[str, str | None]]]:
        """`_post_entries` in a daemon thread (like the pass itself, quitting never waits for it)."""
        reply: Future[list[tuple[str, str | None]]] = Future()

        def post() -> None:
            try:
                reply.set_result(self._post_entries(body, batch))
            except BaseException as exc:  # handed to push(), which waits for the reply
                reply.set_exception(exc)

        threading.Thread(target=post, name="sync-push", daemon=True).start()
        return reply

    def _post_entries(self, body: bytes, batch: Sequence[dict[str, Any]]) -> list[tuple[str, str | None]]:
        """(status, error) for each entry of the batch (`body` encoded), in order; CenterError unless they match."""
        response = self._request(
            "POST",
            f"/api/v1/stations/{self.station_id}/entries",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        reply = self._json(response)
        results = reply.get("results") if isinstance(reply, dict) else None
        if not isinstance(results, list) or len(results) != len(batch):
            raise CenterError(both("sync.bad_reply"), offline=False)
        checked: list[tuple[str, str | None]] = []
        for document, result in zip(batch, results, strict=True):
            if (
                not isinstance(result, dict)
                or (result.get("entry_id"), result.get("revision")) != _key(document)
                or result.get("status") not in _STATUSES
            ):
                raise CenterError(both("sync.bad_reply"), offline=False)
            error = result.get("error")
            checked.append((result["status"], str(error) if error is not None else None))
        return checked

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with _failures():
            response = self._client.request(method, path, **kwargs)
        return self._checked(response)

    @contextmanager
    def _streamed(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """`_request` for a reply read as it arrives: a failure while it is read is a CenterError too."""
        with _failures(), self._client.stream(method, path, **kwargs) as response:
            yield self._checked(response)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 401:
            raise CenterError(both("sync.unauthorized"), offline=True)
        if response.status_code == 403:
            raise CenterError(both("sync.forbidden", station=self.station_id), offline=True)
        if response.status_code >= 500:
            raise CenterError(both("sync.server_error", status=response.status_code), offline=True)
        if response.status_code >= 400:
            raise CenterError(both("sync.server_error", status=response.status_code), offline=False)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise CenterError(both("sync.bad_reply"), offline=False) from None

    def _reject(self, rejected: dict[tuple[str, int], Rejection], document: dict[str, Any], error: str | None) -> None:
        key = _key(document)
        rejection = Rejection(*key, error or "")
        rejected[key] = rejection
        if key not in self._audited:
            self._audited.add(key)
            detail = f"{key[0]} r{key[1]} seq {document.get('seq')}: {rejection.error}"
            self.store.audit("sync_rejected", detail, self.clock().isoformat())

    def _guarded(self, step: Callable[[], StepResult]) -> StepResult:
        """Run one exchange; a local storage failure (disk full) is reported like any other, not raised."""
        try:
            return step()
        except StoreError as exc:
            self._set_status(last_error=str(exc))
            return StepResult(error=str(exc))

    def _contact(self, **changes: Any) -> None:
        self._set_status(online=True, last_success=self.clock().isoformat(), last_error=None, **changes)

    def _failed(self, exc: CenterError) -> StepResult:
        self._set_status(online=False, last_error=str(exc))
        return StepResult(error=str(exc), offline=exc.offline)

    def _set_status(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)


@contextmanager
def _failures() -> Iterator[None]:
    """httpx's failures as CenterErrors."""
    try:
        yield
    except httpx.TimeoutException:
        raise CenterError(both("sync.timeout"), offline=True) from None
    except httpx.RemoteProtocolError:
        raise CenterError(both("sync.bad_reply"), offline=True) from None
    except (httpx.HTTPError, OSError, ssl.SSLError):
        raise CenterError(both("sync.unreachable"), offline=True) from None


def _person_hook(document: dict[str, Any]) -> Any:
    """Each person of a roster reply becomes a Person as it is parsed."""
    if "person_id" not in document:
        return document
    try:
        return Person.from_dict(document)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a person: {exc}") from None


def _person(item: Any) -> Person:
    if not isinstance(item, Person):
        raise ValueError("not a person")
    return item


def _body(texts: Iterable[bytes]) -> bytes:
    """A push body `{"entries": [...]}` from the entries' JSON texts as the store holds them (not encoded again),
    built here so that the next batch is ready while the center commits one."""
    return b'{"entries":[' + b",".join(texts) + b"]}"


def _tls_context(ca_file: str, config_path: Path | None) -> ssl.SSLContext | bool:
    if not ca_file:
        return True
    path = _beside(config_path, ca_file)
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError):
        raise SyncSetupError(both("sync.ca_missing", path=path)) from None


def _version() -> str:
    try:
        return metadata.version("campus-kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"
