"""Every verdict reaches the terminal: scans read closer together than a frame each get their verdict painted.

`kiosk run` on a real pty, its reader on another: three cards in one burst of bytes from the reader (two readers
at one gate, or a queue at a fast reader), and the screen's bytes read back. The verdict panel names its person as
"name  ID" (two spaces; the recent list uses one), so each must appear there, not only in the recent list.
"""

from __future__ import annotations

import os
import tty
from pathlib import Path

from ptykiosk import PtyKiosk

from kiosk.domain.models import Person, Role
from kiosk.domain.pins import hash_pin
from kiosk.domain.privacy import mask_id, mask_name
from storage.roster import RosterStore

BURST = [
    Person("2023100111", "甲乙丙", Role.STUDENT, return_approved=True),
    Person("2024200222", "丁戊己", Role.STUDENT, return_approved=False),
    Person("2025300333", "庚辛壬", Role.STAFF, return_approved=True),
]


def test_each_verdict_of_a_burst_of_scans_is_painted(tmp_path: Path) -> None:
    RosterStore(tmp_path / "data").replace_all(BURST)
    reader, reader_slave = os.openpty()
    tty.setraw(reader)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[station]\nid = "burst-01"\n[scanner]\nport = "{os.ttyname(reader_slave)}"\n[storage]\ndata_dir = "data"\n'
        f'[[security.duty]]\nstaff_id = "T1001"\nname = "王老师"\npin_hash = "{hash_pin("135790")}"\n',
        encoding="utf-8",
    )
    kiosk = PtyKiosk(config)
    try:
        kiosk.wait_drawn("读卡器已连接", "the gate with its reader connected")
        kiosk.wait_drawn("请刷卡", "the prompt")
        start = len(kiosk.drawn)
        os.write(reader, b"".join(p.person_id.encode() + b"\r" for p in BURST))
        panels = [f"{mask_name(p.name)}  {mask_id(p.person_id)}" for p in BURST]
        kiosk.wait_drawn(panels[-1], "the last verdict", since=start)
        painted = kiosk.drawn[start:]
        assert [p.person_id for p, panel in zip(BURST, panels, strict=True) if panel.encode() not in painted] == []
    finally:
        kiosk.stop()
        os.close(reader)
        os.close(reader_slave)
