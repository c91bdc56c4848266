"""The gate's logic without a screen: scans, readings, visitors and duty shifts, recorded through the store.

The app calls these methods (from its message handlers) and shows what they return; every `Outcome` with an
entry has been durably recorded before it is returned.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.domain.cards import card_from_reader
from kiosk.domain.clock import Clock, iso
from kiosk.domain.config import Config, DutyStaff
from kiosk.domain.models import Direction, Entry, Method, Person, Reading, Role, Visitor, new_entry_id
from kiosk.domain.pins import PinGuard, verify_pin
from kiosk.domain.rules import RULES_VERSION, Decision, Scan, decide, is_duplicate
from kiosk.domain.typed import normalise
from kiosk.station.shift import Handover, Shift, ShiftTally
from storage.entries import EntryStore
from storage.roster import RosterStore

READING_WINDOW = 120.0
"""Seconds after a scan during which a typed temperature belongs to that person rather than the next."""
KEPT = 512
"""Recent entries kept by id: a reading names its entry, a repeat scan shows the earlier verdict."""
SHIFT_LOOKBACK = timedelta(hours=24)
"""How far before the shift's opening its entries are looked for in the store (the clock may have been set back)."""


@dataclass(frozen=True)
class Outcome:
    """What the gate shows after a scan, a reading or a form."""

    entry: Entry | None
    """The recorded entry; None when nothing was recorded (a duplicate scan)."""
    decision: Decision | None
    duplicate: bool = False
    """The same person scanned again inside the duplicate window: shown as already scanned."""
    earlier: Entry | None = None
    """For a duplicate, the person's entry inside the window (as amended since): its verdict is shown again."""

    @property
    def needs_remeasure(self) -> bool:
        return self.decision is not None and self.decision.needs_remeasure


class LoginError(Exception):
    """Wrong staff ID or PIN (the message is bilingual and says no more than that)."""


class PinWait(Exception):
    """Too many wrong PINs: no PIN is checked for `seconds` (a growing delay, or a lockout)."""

    def __init__(self, seconds: float, locked: bool) -> None:
        self.seconds = int(seconds + 0.999)
        self.locked = locked
        if locked:
            text = f"PIN 错误次数过多,已锁定 {self.seconds} 秒 / too many wrong PINs: locked for {self.seconds} s"
        else:
            text = f"请 {self.seconds} 秒后再试 / try again in {self.seconds} s"
        super().__init__(text)


class EntryGone(LookupError):
    """A reading named an entry the station no longer holds (it has restarted since)."""


class Station:
    """One gate: its direction, its duty shift, and the flow scan → rules → store."""

    def __init__(self, config: Config, store: EntryStore, roster: RosterStore, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.roster = roster
        self.clock = clock
        self.direction = Direction(config.station.direction)
        self.tally: ShiftTally | None = None
        """The open duty shift's running summary; None while no shift is open."""
        self.online = False
        """Whether the last contact with the center succeeded; entries captured otherwise are marked offline."""
        self.last_entry: Entry | None = None
        self.recorded = threading.Event()
        """Set whenever an entry is recorded or amended: wakes the sync loop (kiosk/station/sync_loop.py)."""
        self.pin_guard = PinGuard()
        """Shared by every PIN check (login, exit, unmask): guessing one is guessing them all."""
        self._last_scan_at: float | None = None
        self._started_at = clock.monotonic()
        self._last_seen: dict[tuple[str, Direction], tuple[float, str]] = {}
        self._recent: OrderedDict[str, Entry] = OrderedDict()
        self._pending_reading: Reading | None = None

    @property
    def shift(self) -> Shift | None:
        return self.tally.shift if self.tally else None

    @property
    def operator(self) -> str:
        return self.shift.staff_id if self.shift else ""

    def toggle_direction(self) -> Direction:
        self.direction = Direction.OUT if self.direction is Direction.IN else Direction.IN
        return self.direction

    def scan(self, person_id: str, method: Method = Method.KEYBOARD_SCAN) -> Outcome:
        """A card or code was read (or typed by staff): decide, record, and return what to show."""
        person_id = normalise(person_id)
        now_mono = self.clock.monotonic()
        key = (person_id, self.direction)
        window = self.config.rules.duplicate_window
        seen_at, seen_id = self._last_seen.get(key, (None, ""))
        if is_duplicate(seen_at, now_mono, window):
            return Outcome(entry=None, decision=None, duplicate=True, earlier=self._recent.get(seen_id))
        person_id, person, card_lost = self._identify(person_id)
        readings = (self._pending_reading,) if self._pending_reading else ()
        scan = Scan(person_id, person, self.direction, self.config.station.gate, method, readings, card_lost=card_lost)
        decision = decide(scan, self.config.rules)
        entry = self._record_new(person_id, person, method, readings, decision)
        self._pending_reading = None
        self._last_seen[key] = (now_mono, entry.entry_id)
        self._forget_old_scans(now_mono, window)
        return Outcome(entry, decision)

    def add_reading(self, celsius: float, entry_id: str | None) -> Outcome:
        """A temperature typed by the officer for the entry `entry_id` (the one the dialog named), whoever has
        scanned since; with None it waits for the next scan. Raises EntryGone for an entry no longer held."""
        reading = Reading(celsius=round(celsius, 1), taken_at=iso(self.clock.now()), operator=self.operator)
        if entry_id is None:
            self._pending_reading = reading
            return Outcome(entry=None, decision=None)
        last = self._recent.get(entry_id)
        if last is None:
            raise EntryGone(entry_id)
        readings = (*last.readings, reading)
        person = self.roster.get(last.person_id)
        scan = Scan(
            last.person_id,
            person,
            last.direction,
            self.config.station.gate,
            last.method,
            readings,
            last.visitor,
            last.name,
        )
        decision = decide(scan, self.config.rules)
        amended = last.amended(
            readings=readings,
            verdict=decision.verdict,
            reasons=decision.reasons,
            offline=last.offline or not self.online,
        )
        recorded = self._keep(self.store.record(amended))
        if self.tally is not None:
            self.tally.amended(last, recorded)
        self.recorded.set()
        if self.last_entry is not None and self.last_entry.entry_id == recorded.entry_id:
            self.last_entry = recorded
        return Outcome(recorded, decision)

    def entry(self, entry_id: str) -> Entry | None:
        """A recent entry by id, as amended since; None when it is no longer held."""
        return self._recent.get(entry_id)

    def still_reading_target(self, entry_id: str | None) -> bool:
        """Whether a reading bound to `entry_id` (None: the next scan) is still for the one at the thermometer."""
        target = self.reading_target
        return (target.entry_id if target else None) == entry_id

    @property
    def reading_target(self) -> Entry | None:
        """The entry a reading typed now would amend; None when it would wait for the next scan."""
        last = self.last_entry
        recent = self._last_scan_at is not None and self.clock.monotonic() - self._last_scan_at <= READING_WINDOW
        if last is None or not recent or last.direction is Direction.OUT:
            return None
        return last

    @property
    def pending_reading(self) -> Reading | None:
        """A reading taken before the scan, waiting for the next person."""
        return self._pending_reading

    def register_visitor(self, name: str, id_number: str, phone: str, host: str, reason: str) -> Outcome:
        visitor = Visitor(phone=phone.strip(), host=host.strip(), reason=reason.strip())
        readings = (self._pending_reading,) if self._pending_reading else ()
        scan = Scan(
            id_number.strip(),
            None,
            self.direction,
            self.config.station.gate,
            Method.VISITOR_FORM,
            readings,
            visitor,
            name.strip(),
        )
        decision = decide(scan, self.config.rules)
        entry = self._record_new(
            id_number.strip(), None, Method.VISITOR_FORM, readings, decision, visitor=visitor, name=name.strip()
        )
        self._pending_reading = None
        return Outcome(entry, decision)

    def find_people(self, text: str, limit: int = 20) -> list[Person]:
        """Roster search for manual entry: by ID prefix or part of a name (full-width digits too)."""
        return self.roster.search(normalise(text), limit)

    def open_shift(self, staff_id: str, pin: str) -> Shift:
        """Raises LoginError for a wrong ID or PIN, PinWait while wrong PINs are being paid for."""
        staff_id = normalise(staff_id)
        self._pin_allowed("login")
        staff = self._duty_staff(staff_id)
        if staff is None or not verify_pin(pin, staff.pin_hash):
            self.store.audit("login_refused", f"staff_id={staff_id[:32]}", iso(self.clock.now()))
            self.pin_guard.failed(self.clock.monotonic())
            raise LoginError("工号或 PIN 不正确 / wrong staff ID or PIN")
        self.pin_guard.succeeded()
        shift = Shift(staff.staff_id, staff.name, self.clock.now(), self.store.last_seq + 1)
        self.tally = ShiftTally(shift)
        self.store.audit("shift_opened", f"staff_id={staff.staff_id}", iso(shift.opened_at))
        return shift

    def check_pin(self, pin: str, action: str) -> bool:
        """Whether `pin` belongs to any duty officer (to leave the app or unmask data).

        A wrong PIN is audited as `pin_refused` (`action`: "exit", "unmask") and counted by `pin_guard`;
        raises PinWait, without checking, while the delay or lockout it imposed lasts.
        """
        self._pin_allowed(action)
        right = any(verify_pin(pin, staff.pin_hash) for staff in self.config.security.duty)
        if right:
            self.pin_guard.succeeded()
            return True
        self.store.audit("pin_refused", f"action={action[:32]}", iso(self.clock.now()))
        self.pin_guard.failed(self.clock.monotonic())
        if self.pin_guard.locked(self.clock.monotonic()):
            self.store.audit(
                "pin_locked", f"action={action[:32]} seconds={self.pin_guard.lockout:.0f}", iso(self.clock.now())
            )
        return False

    def _pin_allowed(self, action: str) -> None:
        now = self.clock.monotonic()
        wait = self.pin_guard.wait(now)
        if wait > 0:
            self.store.audit("pin_waiting", f"action={action[:32]} seconds={wait:.0f}", iso(self.clock.now()))
            raise PinWait(wait, self.pin_guard.locked(now))

    def quiet_for(self) -> float:
        """Seconds since this station last recorded an entry (since it started, before the first)."""
        return self.clock.monotonic() - (self._last_scan_at or self._started_at)

    def handover(self) -> Handover:
        """The current shift's summary (the shift stays open)."""
        if self.tally is None:
            raise LoginError("没有进行中的班次 / no open shift")
        return self.tally.summary(self.clock.now())

    def shift_documents(self, shift: Shift, until: datetime) -> list[dict[str, Any]]:
        """The shift's entries as the store keeps them (`Entry.to_dict()`), up to `until`, for the export."""
        since = shift.opened_at - SHIFT_LOOKBACK
        documents = self.store.documents_between(since, until + timedelta(seconds=1))
        return [doc for doc in documents if doc["seq"] >= shift.first_seq]

    def close_shift(self) -> Handover:
        summary = self.handover()
        self.store.audit("shift_closed", f"staff_id={summary.shift.staff_id}", iso(summary.closed_at))
        self.tally = None
        return summary

    def _record_new(
        self,
        person_id: str,
        person: Person | None,
        method: Method,
        readings: tuple[Reading, ...],
        decision: Decision,
        visitor: Visitor | None = None,
        name: str = "",
    ) -> Entry:
        now = self.clock.now()
        entry = Entry(
            entry_id=new_entry_id(),
            station_id=self.config.station.id,
            seq=0,
            person_id=person_id,
            role=person.role if person else Role.VISITOR if method is Method.VISITOR_FORM else Role.UNKNOWN,
            name=person.name if person else name,
            method=method,
            direction=self.direction,
            captured_at=iso(now),
            monotonic=self.clock.monotonic(),
            verdict=decision.verdict,
            reasons=decision.reasons,
            rules_version=RULES_VERSION,
            operator=self.operator,
            offline=not self.online,
            readings=readings,
            visitor=visitor,
        )
        self.last_entry = self._keep(self.store.record(entry))
        if self.tally is not None:
            self.tally.recorded(self.last_entry)
        self.recorded.set()
        self._last_scan_at = self.clock.monotonic()
        return self.last_entry

    def _keep(self, entry: Entry) -> Entry:
        self._recent[entry.entry_id] = entry
        self._recent.move_to_end(entry.entry_id)
        if len(self._recent) > KEPT:
            self._recent.popitem(last=False)
        return entry

    def _identify(self, scanned: str) -> tuple[str, Person | None, bool]:
        """(person ID, person, card lost) for what was scanned: a person ID, else a card number from the roster.

        A card reported lost is audited: whoever holds it is denied, and the officer sees whose card it was.
        """
        person = self.roster.get(scanned)
        if person is not None:
            return scanned, person, False
        card = card_from_reader(scanned, self.config.scanner.card_format)
        if card is None:
            return scanned, None, False
        holder, lost = self.roster.card_holder(card)
        if holder is None:
            return scanned, None, False
        if lost:
            detail = f"card={card} person_id={holder.person_id}"
            self.store.audit("card_lost", detail, iso(self.clock.now()))
        return holder.person_id, holder, lost

    def _duty_staff(self, staff_id: str) -> DutyStaff | None:
        return next((s for s in self.config.security.duty if s.staff_id == staff_id), None)

    def _forget_old_scans(self, now: float, window: float) -> None:
        if len(self._last_seen) > 4096:  # bounded memory over a long day
            self._last_seen = {k: seen for k, seen in self._last_seen.items() if now - seen[0] < window}
