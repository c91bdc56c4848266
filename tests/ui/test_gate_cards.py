"""A lost campus card at the gate: denied with its own reason, in both languages, and audited."""

from __future__ import annotations

from dataclasses import replace

from gatekit import make_app, scan, screen_text

from kiosk.domain.config import Config, ScannerConfig
from kiosk.domain.models import Person, Reason, Role, Verdict
from storage.entries import EntryStore

SIZE = (100, 30)
HOLDER = Person("2019010211", "张三丰", Role.STUDENT, card_nos=("3735928559",), lost_cards=("16909060",))


async def test_a_lost_card_is_denied_with_its_reason_and_a_good_card_admits(config: Config) -> None:
    config = replace(config, scanner=ScannerConfig(card_format="hex"))
    app = make_app(config, (HOLDER,))
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "01020304")  # the old card, reported lost
        text = screen_text(app)
        assert "卡已挂失" in text and "Card reported lost" in text
        await scan(pilot, "DEADBEEF")  # the new card
        assert "准予通行" in screen_text(app)
    store = EntryStore(config.data_dir)
    try:
        lost, admitted = store.entries_of_day("2026-11-28")
        assert (lost.person_id, lost.verdict, lost.reasons) == (HOLDER.person_id, Verdict.DENIED, (Reason.CARD_LOST,))
        assert admitted.verdict is Verdict.ADMITTED
        assert [a["kind"] for a in store.audit_of_day("2026-11-28")] == ["card_lost"]
    finally:
        store.close()
