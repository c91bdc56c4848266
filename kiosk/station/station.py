"""The gate's logic without a screen: scans, readings, visitors and duty shifts, recorded through the store.

The app calls these methods (from its message handlers) and shows what they return; every `Outcome` with an
entry has been durably recorded before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kiosk.domain.clock import Clock, iso
from kiosk.domain.config import Config, DutyStaff
from kiosk.domain.models import Direction, Entry, Method, Person, Reading, Reason, Role, Verdict, Visitor, new_entry_id
from kiosk.domain.pins import verify_pin
from kiosk.domain.rules import RULES_VERSION, Decision, Scan, decide, is_duplicate
from storage.entries import EntryStore
from storage.roster import RosterStore

READING_WINDOW = 120.0
"""Seconds after a scan during which a typed temperature belongs to that person rather than the next."""


@dataclass(frozen=True)
class Outcome:
    """What the gate shows after a scan, a reading or a form."""

    entry: Entry | None
    """The recorded entry; None when nothing was recorded (a duplicate scan)."""
    decision: Decision | None
    duplicate: bool = False
    """The same person scanned again inside the duplicate window: shown as already scanned."""

    @property
    def needs_remeasure(self) -> bool:
        return self.decision is not None and self.decision.needs_remeasure


@dataclass(frozen=True)
class Shift:
    staff_id: str
    name: str
    opened_at: datetime
    first_seq: int
    """Entries with this sequence number or higher belong to the shift."""


@dataclass(frozen=True)
class Handover:
    """The summary handed to the next shift."""

    shift: Shift
    closed_at: datetime
    counts: dict[Verdict, int]
    entered: int
    left: int
    flagged: list[Entry] = field(default_factory=list)
    """Denied and referred entries of the shift."""
    open_exceptions: list[Entry] = field(default_factory=list)
    """Fever readings still waiting for a re-measure."""
    entries: list[Entry] = field(default_factory=list)


class LoginError(Exception):
    """Wrong staff ID or PIN (the message is bilingual and says no more than that)."""


class Station:
    """One gate: its direction, its duty shift, and the flow scan → rules → store."""

    def __init__(self, config: Config, store: EntryStore, roster: RosterStore, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.roster = roster
        self.clock = clock
        self.direction = Direction(config.station.direction)
        self.shift: Shift | None = None
        self.online = False
        """Whether the last contact with the center succeeded; entries captured otherwise are marked offline."""
        self.last_entry: Entry | None = None
        self._last_scan_at: float | None = None
        self._last_seen: dict[tuple[str, Direction], float] = {}
        self._pending_reading: Reading | None = None

    @property
    def operator(self) -> str:
        return self.shift.staff_id if self.shift else ""

    def toggle_direction(self) -> Direction:
        self.direction = Direction.OUT if self.direction is Direction.IN else Direction.IN
        return self.direction

    def scan(self, person_id: str, method: Method = Method.KEYBOARD_SCAN) -> Outcome:
        """A card or code was read (or typed by staff): decide, record, and return what to show."""
        person_id = person_id.strip()
        now_mono = self.clock.monotonic()
        key = (person_id, self.direction)
        window = self.config.rules.duplicate_window
        if is_duplicate(self._last_seen.get(key), now_mono, window):
            return Outcome(entry=None, decision=None, duplicate=True)
        person = self.roster.get(person_id)
        readings = (self._pending_reading,) if self._pending_reading else ()
        scan = Scan(person_id, person, self.direction, self.config.station.gate, method, readings)
        decision = decide(scan, self.config.rules)
        entry = self._record_new(person_id, person, method, readings, decision)
        self._pending_reading = None
        self._last_seen[key] = now_mono
        self._forget_old_scans(now_mono, window)
        return Outcome(entry, decision)

    def add_reading(self, celsius: float) -> Outcome:
        """A temperature typed by the officer: for the person just scanned, or else for the next scan."""
        reading = Reading(celsius=round(celsius, 1), taken_at=iso(self.clock.now()), operator=self.operator)
        last = self.reading_target
        if last is None:
            self._pending_reading = reading
            return Outcome(entry=None, decision=None)
        readings = (*last.readings, reading)
        person = self.roster.get(last.person_id)
        scan = Scan(last.person_id, person, last.direction, self.config.station.gate, last.method, readings,
                    last.visitor, last.name)
        decision = decide(scan, self.config.rules)
        amended = last.amended(readings=readings, verdict=decision.verdict, reasons=decision.reasons,
                               offline=last.offline or not self.online)
        self.last_entry = self.store.record(amended)
        return Outcome(self.last_entry, decision)

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
        scan = Scan(id_number.strip(), None, self.direction, self.config.station.gate, Method.VISITOR_FORM,
                    readings, visitor, name.strip())
        decision = decide(scan, self.config.rules)
        entry = self._record_new(id_number.strip(), None, Method.VISITOR_FORM, readings, decision,
                                 visitor=visitor, name=name.strip())
        self._pending_reading = None
        return Outcome(entry, decision)

    def find_people(self, text: str, limit: int = 20) -> list[Person]:
        """Roster search for manual entry: by ID prefix or part of a name."""
        return self.roster.search(text, limit)

    def open_shift(self, staff_id: str, pin: str) -> Shift:
        staff = self._duty_staff(staff_id.strip())
        if staff is None or not verify_pin(pin, staff.pin_hash):
            self.store.audit("login_refused", f"staff_id={staff_id.strip()[:32]}", iso(self.clock.now()))
            raise LoginError("工号或 PIN 不正确 / wrong staff ID or PIN")
        self.shift = Shift(staff.staff_id, staff.name, self.clock.now(), self.store.last_seq + 1)
        self.store.audit("shift_opened", f"staff_id={staff.staff_id}", iso(self.shift.opened_at))
        return self.shift

    def check_pin(self, pin: str, action: str | None = None) -> bool:
        """Whether `pin` belongs to any duty officer (to leave the app or unmask data).

        With `action` ("exit", "unmask") a wrong PIN is audited as `pin_refused`, like a refused login.
        """
        right = any(verify_pin(pin, staff.pin_hash) for staff in self.config.security.duty)
        if not right and action is not None:
            self.store.audit("pin_refused", f"action={action[:32]}", iso(self.clock.now()))
        return right

    def handover(self) -> Handover:
        """The current shift's summary (the shift stays open)."""
        if self.shift is None:
            raise LoginError("没有进行中的班次 / no open shift")
        closed_at = self.clock.now()
        entries = [e for e in self.store.entries_between(self.shift.opened_at - timedelta(minutes=1),
                                                         closed_at + timedelta(seconds=1))
                   if e.seq >= self.shift.first_seq]
        counts = {v: sum(1 for e in entries if e.verdict is v) for v in Verdict}
        admitted = [e for e in entries if e.verdict is Verdict.ADMITTED]
        return Handover(
            shift=self.shift,
            closed_at=closed_at,
            counts=counts,
            entered=sum(1 for e in admitted if e.direction is Direction.IN),
            left=sum(1 for e in admitted if e.direction is Direction.OUT),
            flagged=[e for e in entries if e.verdict is not Verdict.ADMITTED],
            open_exceptions=[e for e in entries if Reason.FEVER_REMEASURE in e.reasons],
            entries=entries,
        )

    def close_shift(self) -> Handover:
        summary = self.handover()
        self.store.audit("shift_closed", f"staff_id={summary.shift.staff_id}", iso(summary.closed_at))
        self.shift = None
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
            role=person.role if person else Role.VISITOR,
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
        self.last_entry = self.store.record(entry)
        self._last_scan_at = self.clock.monotonic()
        return self.last_entry

    def _duty_staff(self, staff_id: str) -> DutyStaff | None:
        return next((s for s in self.config.security.duty if s.staff_id == staff_id), None)

    def _forget_old_scans(self, now: float, window: float) -> None:
        if len(self._last_seen) > 4096:  # bounded memory over a long day
            self._last_seen = {k: t for k, t in self._last_seen.items() if now - t < window}

