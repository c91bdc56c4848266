"""Admission rules as one table: who, where, which readings → verdict and reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from kiosk.domain.config import RulesConfig
from kiosk.domain.models import Direction, Method, Person, Reading, Reason, Role, Verdict, Visitor
from kiosk.domain.rules import Decision, Scan, decide, is_duplicate

R = Reason
ADMITTED, DENIED, REFERRED = Verdict.ADMITTED, Verdict.DENIED, Verdict.REFERRED

APPROVED = Person("2023000101", "张三", Role.STUDENT, return_approved=True)
UNAPPROVED = Person("2023000102", "欧阳娜娜", Role.STUDENT)
OBSERVED = Person("2023000103", "李小明", Role.STUDENT, return_approved=True, observation=True)
OBSERVED_UNAPPROVED = Person("2023000104", "赵六", Role.STUDENT, observation=True)
STAFF = Person("T1001", "王老师", Role.STAFF)
GUEST = Visitor(phone="13812345678", host="王老师", reason="讲座")

NO_APPROVAL_NEEDED = RulesConfig(dormitory_requires_approval=False)


def temps(*celsius: float) -> tuple[Reading, ...]:
    return tuple(Reading(c, f"2026-11-28T07:30:0{i}+08:00", "T1001") for i, c in enumerate(celsius))


@dataclass(frozen=True)
class Case:
    person: Person | None
    gate: str = "canteen"
    readings: tuple[Reading, ...] = ()
    direction: Direction = Direction.IN
    method: Method = Method.KEYBOARD_SCAN
    visitor: Visitor | None = None
    visitor_name: str = ""
    person_id: str | None = None
    """The scanned or typed ID; by default the person's own."""
    rules: RulesConfig = field(default_factory=RulesConfig)
    card_lost: bool = False

    def scan(self) -> Scan:
        pid = self.person_id
        if pid is None:
            pid = self.person.person_id if self.person else "2099999999"
        return Scan(pid, self.person, self.direction, self.gate, self.method, self.readings, self.visitor,
                    self.visitor_name, card_lost=self.card_lost)


def visitor(**changes: str) -> Case:
    form = {"phone": GUEST.phone, "host": GUEST.host, "reason": GUEST.reason, **changes}
    name = form.pop("name", "陈访客")
    person_id = form.pop("person_id", "110101199001011234")
    return Case(None, method=Method.VISITOR_FORM, visitor=Visitor(**form), visitor_name=name, person_id=person_id)


CASES = [
    # roster
    pytest.param(Case(APPROVED), Decision(ADMITTED, (R.ON_ROSTER,)), id="on-roster"),
    pytest.param(Case(APPROVED, card_lost=True), Decision(DENIED, (R.CARD_LOST,)), id="lost-card"),
    pytest.param(Case(OBSERVED, "dormitory", card_lost=True), Decision(DENIED, (R.CARD_LOST,)),
                 id="lost-card-says-only-that"),
    pytest.param(Case(None), Decision(DENIED, (R.NOT_ON_ROSTER,)), id="not-on-roster"),
    pytest.param(Case(None, method=Method.TYPED), Decision(DENIED, (R.NOT_ON_ROSTER,)), id="typed-unknown-id"),
    # dormitory return approval
    pytest.param(Case(UNAPPROVED), Decision(ADMITTED, (R.ON_ROSTER,)), id="canteen-ignores-approval"),
    pytest.param(Case(UNAPPROVED, "dormitory"), Decision(DENIED, (R.NO_RETURN_APPROVAL,)), id="dorm-unapproved"),
    pytest.param(Case(APPROVED, "dormitory"), Decision(ADMITTED, (R.ON_ROSTER,)), id="dorm-approved"),
    pytest.param(Case(STAFF, "dormitory"), Decision(ADMITTED, (R.ON_ROSTER,)), id="dorm-staff-need-no-approval"),
    pytest.param(Case(UNAPPROVED, "dormitory", rules=NO_APPROVAL_NEEDED), Decision(ADMITTED, (R.ON_ROSTER,)),
                 id="dorm-approval-not-required"),
    pytest.param(Case(None, "dormitory"), Decision(DENIED, (R.NOT_ON_ROSTER,)), id="dorm-not-on-roster"),
    # medical observation
    pytest.param(Case(OBSERVED), Decision(REFERRED, (R.MEDICAL_OBSERVATION,)), id="observation"),
    pytest.param(Case(OBSERVED_UNAPPROVED, "dormitory"),
                 Decision(REFERRED, (R.MEDICAL_OBSERVATION, R.NO_RETURN_APPROVAL)), id="observation-and-no-approval"),
    # temperatures
    pytest.param(Case(APPROVED, readings=temps(36.5)), Decision(ADMITTED, (R.ON_ROSTER,)), id="normal-reading"),
    pytest.param(Case(APPROVED, readings=temps(37.29)), Decision(ADMITTED, (R.ON_ROSTER,)), id="just-below-threshold"),
    pytest.param(Case(APPROVED, readings=temps(37.3)), Decision(DENIED, (R.FEVER_REMEASURE,), True),
                 id="at-threshold-is-fever"),
    pytest.param(Case(APPROVED, readings=temps(38.2)), Decision(DENIED, (R.FEVER_REMEASURE,), True), id="fever"),
    pytest.param(Case(APPROVED, readings=temps(38.2, 38.0)), Decision(REFERRED, (R.FEVER_REFERRED,)),
                 id="fever-remeasured-referred"),
    pytest.param(Case(APPROVED, readings=temps(38.2, 36.8)), Decision(ADMITTED, (R.FEVER_CLEARED,)),
                 id="fever-cleared-on-remeasure"),
    pytest.param(Case(APPROVED, readings=temps(38.2, 36.8, 37.3)), Decision(REFERRED, (R.FEVER_REFERRED,)),
                 id="fever-again-after-clearing"),
    pytest.param(Case(APPROVED, readings=temps(37.5), rules=RulesConfig(fever_threshold=37.6)),
                 Decision(ADMITTED, (R.ON_ROSTER,)), id="threshold-from-config"),
    pytest.param(Case(UNAPPROVED, "dormitory", readings=temps(38.0, 36.6)),
                 Decision(DENIED, (R.NO_RETURN_APPROVAL, R.FEVER_CLEARED)), id="cleared-but-no-approval"),
    pytest.param(Case(None, readings=temps(39.0)), Decision(DENIED, (R.NOT_ON_ROSTER, R.FEVER_REMEASURE), True),
                 id="unknown-with-fever"),
    # visitors
    pytest.param(visitor(), Decision(ADMITTED, (R.VISITOR_REGISTERED,)), id="visitor-complete"),
    pytest.param(visitor(phone=""), Decision(DENIED, (R.VISITOR_INCOMPLETE,)), id="visitor-no-phone"),
    pytest.param(visitor(host="  "), Decision(DENIED, (R.VISITOR_INCOMPLETE,)), id="visitor-blank-host"),
    pytest.param(visitor(reason=""), Decision(DENIED, (R.VISITOR_INCOMPLETE,)), id="visitor-no-reason"),
    pytest.param(visitor(name=""), Decision(DENIED, (R.VISITOR_INCOMPLETE,)), id="visitor-no-name"),
    pytest.param(visitor(person_id=""), Decision(DENIED, (R.VISITOR_INCOMPLETE,)), id="visitor-no-id"),
    pytest.param(Case(None, method=Method.VISITOR_FORM, visitor_name="陈", person_id="1101"),
                 Decision(DENIED, (R.VISITOR_INCOMPLETE,)), id="visitor-no-form"),
    pytest.param(Case(None, method=Method.VISITOR_FORM, visitor=GUEST, visitor_name="陈访客", person_id="1101",
                      readings=temps(38.5, 38.4)),
                 Decision(REFERRED, (R.VISITOR_REGISTERED, R.FEVER_REFERRED)), id="visitor-with-fever"),
    # leaving: never held at the gate
    pytest.param(Case(APPROVED, direction=Direction.OUT), Decision(ADMITTED, (R.LEAVING,)), id="leaving"),
    pytest.param(Case(OBSERVED, "dormitory", temps(39.0, 39.0), Direction.OUT), Decision(ADMITTED, (R.LEAVING,)),
                 id="leaving-ignores-fever-and-observation"),
    pytest.param(Case(None, direction=Direction.OUT), Decision(ADMITTED, (R.LEAVING, R.NOT_ON_ROSTER)),
                 id="leaving-not-on-roster"),
    pytest.param(Case(None, direction=Direction.OUT, method=Method.VISITOR_FORM, visitor=GUEST, visitor_name="陈",
                      person_id="1101"), Decision(ADMITTED, (R.LEAVING,)), id="visitor-leaving"),
]


@pytest.mark.parametrize(("case", "expected"), CASES)
def test_decide(case: Case, expected: Decision) -> None:
    assert decide(case.scan(), case.rules) == expected


@pytest.mark.parametrize(
    ("last_seen", "now", "window", "duplicate"),
    [
        pytest.param(None, 100.0, 30, False, id="first-scan"),
        pytest.param(100.0, 100.0, 30, True, id="same-instant"),
        pytest.param(100.0, 129.999, 30, True, id="just-inside"),
        pytest.param(100.0, 130.0, 30, False, id="window-edge-is-new"),
        pytest.param(100.0, 130.001, 30, False, id="just-outside"),
        pytest.param(100.0, 100.0, 0, False, id="window-zero-disables"),
        pytest.param(100.0, 99.0, 30, False, id="clock-went-back"),
    ],
)
def test_is_duplicate(last_seen: float | None, now: float, window: float, duplicate: bool) -> None:
    assert is_duplicate(last_seen, now, window) is duplicate
