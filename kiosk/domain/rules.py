"""Admission rules: a pure function from what is known at the gate to a verdict.

No I/O and no clock of its own: the caller passes the person, the readings and the monotonic times.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.config import RulesConfig
from kiosk.domain.models import Direction, Method, Person, Reading, Reason, Role, Verdict, Visitor

RULES_VERSION = "2026.11-1"

_REFERRAL = {Reason.MEDICAL_OBSERVATION, Reason.FEVER_REFERRED}


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything the rules look at for one person at one gate."""

    person_id: str
    person: Person | None
    """The roster record, or None when the ID is not on the roster."""
    direction: Direction
    gate: str
    """"canteen" or "dormitory"."""
    method: Method = Method.KEYBOARD_SCAN
    readings: tuple[Reading, ...] = ()
    visitor: Visitor | None = None
    visitor_name: str = ""
    card_lost: bool = False
    """The card scanned was reported lost or replaced: denied whoever holds it."""


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    needs_remeasure: bool = False
    """The last reading was a first fever reading: measure again before letting the person through."""


def is_duplicate(last_seen: float | None, now: float, window: float) -> bool:
    """A second scan of the same person inside the window is shown as already scanned, not recorded."""
    return last_seen is not None and 0 <= now - last_seen < window


def decide(scan: Scan, rules: RulesConfig) -> Decision:
    """The verdict for one scan, with every reason that led to it."""
    if scan.direction is Direction.OUT:
        leaving = [Reason.LEAVING]
        if scan.person is None and scan.method is not Method.VISITOR_FORM:
            leaving.append(Reason.NOT_ON_ROSTER)
        return Decision(Verdict.ADMITTED, tuple(leaving))

    reasons: list[Reason] = []
    if scan.method is Method.VISITOR_FORM:
        complete = scan.visitor is not None and all(
            v.strip() for v in (scan.visitor_name, scan.person_id, scan.visitor.phone, scan.visitor.host,
                                scan.visitor.reason)
        )
        reasons.append(Reason.VISITOR_REGISTERED if complete else Reason.VISITOR_INCOMPLETE)
    elif scan.card_lost:
        reasons.append(Reason.CARD_LOST)
    elif scan.person is None:
        reasons.append(Reason.NOT_ON_ROSTER)
    else:
        if scan.person.observation:
            reasons.append(Reason.MEDICAL_OBSERVATION)
        if (
            scan.gate == "dormitory"
            and rules.dormitory_requires_approval
            and scan.person.role is Role.STUDENT
            and not scan.person.return_approved
        ):
            reasons.append(Reason.NO_RETURN_APPROVAL)

    needs_remeasure = False
    if scan.readings:
        high = [r.celsius >= rules.fever_threshold for r in scan.readings]
        if high[-1]:
            if sum(high) >= 2:
                reasons.append(Reason.FEVER_REFERRED)
            else:
                reasons.append(Reason.FEVER_REMEASURE)
                needs_remeasure = True
        elif any(high):
            reasons.append(Reason.FEVER_CLEARED)

    blocking = [r for r in reasons if r not in (Reason.VISITOR_REGISTERED, Reason.FEVER_CLEARED)]
    if any(r in _REFERRAL for r in reasons):
        verdict = Verdict.REFERRED
    elif blocking:
        verdict = Verdict.DENIED
    else:
        verdict = Verdict.ADMITTED
        if not reasons:
            reasons.append(Reason.ON_ROSTER)
    return Decision(verdict, tuple(reasons), needs_remeasure)
