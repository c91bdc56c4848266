"""The same office-made roster file through `kiosk roster import` (station) and `kiosk center import-roster`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from storage.roster import RosterStore

KIOSK = [sys.executable, "-m", "kiosk.cli"]


def kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KIOSK, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def office_xlsx(tmp_path: Path) -> Path:
    """A title row, Chinese headers and values, an ID Excel turned into scientific notation, a 合计 row."""
    book = Workbook()
    sheet = book.active
    sheet.append(["2020年春季学期返校学生名单"])
    sheet.append(["学号", "姓名", "身份", "宿舍楼", "返校审批", "卡号"])
    for i in range(10):
        sheet.append([f"20190102{i:02d}", f"学生{i}", "学生", "西北楼", "是" if i % 2 else "否", 3000000000 + i])
    sheet.append(["2.01901E+09", "科学计数", "学生", "", "否", None])
    sheet.append(["合计", "11 人", None, None, None, None])
    path = tmp_path / "返校名单.xlsx"
    book.save(path)
    return path


def test_station_and_center_read_the_same_file_alike(tmp_path: Path, office_xlsx: Path) -> None:
    station = tmp_path / "kiosk.toml"
    station.write_text('[storage]\ndata_dir = "data"\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'center.db'}"

    dry = kiosk("roster", "import", str(office_xlsx), "--dry-run", "--config", str(station), cwd=tmp_path)
    assert "added 10, removed 0, changed 0, unchanged 0" in dry.stdout, dry.stderr
    assert "dry run" in dry.stdout
    assert not (tmp_path / "data" / "roster.json").exists(), "a dry run writes nothing"
    center_dry = kiosk("center", "import-roster", str(office_xlsx), "--dry-run", "--db", db, cwd=tmp_path)
    assert "added 10, removed 0, changed 0, unchanged 0" in center_dry.stdout, center_dry.stderr

    for result in (
        kiosk("roster", "import", str(office_xlsx), "--config", str(station), cwd=tmp_path),
        kiosk("center", "import-roster", str(office_xlsx), "--db", db, cwd=tmp_path),
    ):
        assert result.returncode == 1, result.stderr  # one row refused
        assert "第 13 行 / line 13: 学工号 2.01901E+09" in result.stderr
        assert "scientific notation" in result.stderr and "format the column as Text" in result.stderr
        assert "line 14" in result.stderr and "total rows skipped" in result.stderr
        assert "Traceback" not in result.stderr
    store = RosterStore(tmp_path / "data")
    assert len(store) == 10
    person = store.get("2019010201")
    assert person is not None and person.return_approved and person.card_nos == ("3000000001",)

    from kiosk.center.db import Database
    from kiosk.center.roster import current_people

    assert current_people(Database(db)) == store.people()


def test_a_replace_that_would_empty_the_roster_is_refused(tmp_path: Path, office_xlsx: Path) -> None:
    station = tmp_path / "kiosk.toml"
    station.write_text('[storage]\ndata_dir = "data"\n', encoding="utf-8")
    assert kiosk("roster", "import", str(office_xlsx), "--config", str(station), cwd=tmp_path).returncode == 1
    broken = tmp_path / "broken.csv"
    rows = "".join(f"{2.019e9 + i:.5E},学生{i},学生\n" for i in range(200))  # every ID in scientific notation
    broken.write_bytes(("学号,姓名,身份\n" + rows + "2019010200,学生0,学生\n").encode("gbk"))
    for extra in ((), ("--force",)):
        refused = kiosk("roster", "import", str(broken), "--replace", *extra, "--config", str(station), cwd=tmp_path)
        assert refused.returncode == 1
        assert "mostly failed" in refused.stderr and "the roster is unchanged" in refused.stderr
        assert len(refused.stderr.splitlines()) < 15, "errors grouped, not one line per row"
    assert len(RosterStore(tmp_path / "data")) == 10
