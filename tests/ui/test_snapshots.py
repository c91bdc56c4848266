"""What the gate looks like after each kind of verdict, in both languages, on a small and a large terminal."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gatekit import START, make_app, scan
from textual.pilot import Pilot

from kiosk.domain.config import Config, UIConfig
from kiosk.domain.models import Notice, Person
from storage.notices import NoticeStore

NOTICE = Notice(
    notice_id="n-1",
    title="关于做好新型冠状病毒感染的肺炎疫情防控工作的通知",
    url="https://news.bnu.edu.cn/zx/ttgz/2020-01-31.htm",
    published_at=START.isoformat(),
    source="center",
    title_en="Notice on preventing and controlling the novel coronavirus epidemic",
)
SCANS = {"admitted": "2023000101", "denied": "99999999", "referred": "2023000103"}


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("verdict", list(SCANS))
def test_gate_after_a_scan(
    snap_compare, config: Config, people: tuple[Person, ...], verdict: str, language: str, size: tuple[int, int]
) -> None:
    config = replace(config, ui=UIConfig(language=language))  # type: ignore[arg-type]
    NoticeStore(config.data_dir).add(NOTICE)
    app = make_app(config, people)

    async def run_before(pilot: Pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await scan(pilot, "2023000102")
        await scan(pilot, SCANS[verdict])
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
