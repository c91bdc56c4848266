"""`kiosk notices add|list` as a duty officer runs it: a real process, a real config file, real data files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from storage.notices import NoticeStore


@pytest.fixture
def station(tmp_path: Path) -> Path:
    config = tmp_path / "kiosk.toml"
    config.write_text('[notices]\nallowed_domains = ["bnu.edu.cn", "moe.gov.cn"]\n[storage]\ndata_dir = "data"\n')
    return config


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_add_then_list(station: Path) -> None:
    added = kiosk(
        "notices", "add", "--config", str(station), "--title", "食堂错峰就餐", "--title-en", "Staggered meals",
        "--url", "https://www.bnu.edu.cn/tzgg/1128.htm", "--source", "后勤处",
    )
    assert added.returncode == 0, added.stderr
    assert "公告已添加 / notice added" in added.stdout
    (notice,) = NoticeStore(station.parent / "data").all()
    assert (notice.title, notice.title_en, notice.source) == ("食堂错峰就餐", "Staggered meals", "local:后勤处")
    assert stat.S_IMODE(os.stat(station.parent / "data" / "notices.json").st_mode) == 0o600

    listed = kiosk("notices", "list", "--config", str(station))
    assert listed.returncode == 0, listed.stderr
    assert "食堂错峰就餐 / Staggered meals" in listed.stdout and "local:后勤处" in listed.stdout


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://bnu.edu.cn.evil.com/x", "is not an authoritative source"),
        ("http://www.bnu.edu.cn/x", "only https:// URLs are accepted"),
        ("https://bnu.edu.cn@evil.com/", "must not contain a user name"),
    ],
)
def test_a_refused_url_exits_1_with_the_bilingual_reason_and_stores_nothing(
    station: Path, url: str, reason: str
) -> None:
    refused = kiosk("notices", "add", "--config", str(station), "--title", "通知", "--url", url)
    assert refused.returncode == 1
    assert "公告被拒绝 / notice refused" in refused.stderr and reason in refused.stderr
    assert "Traceback" not in refused.stderr
    assert NoticeStore(station.parent / "data").all() == []


def test_list_with_nothing_says_so(station: Path) -> None:
    listed = kiosk("notices", "list", "--config", str(station))
    assert listed.returncode == 0 and "暂无公告 / No notices" in listed.stdout


def test_a_missing_title_is_a_usage_error(station: Path) -> None:
    assert kiosk("notices", "add", "--config", str(station), "--url", "https://bnu.edu.cn/").returncode == 2


def test_list_shows_why_a_notice_from_the_center_was_refused(station: Path) -> None:
    from kiosk.domain.models import Notice
    from kiosk.domain.notices import sort_out

    off_list = Notice("c9", "旧通知", "https://old.example.edu.cn/1", "2026-11-01T08:00:00+08:00", "center")
    shown, refused = sort_out([off_list], ["bnu.edu.cn", "moe.gov.cn"])
    NoticeStore(station.parent / "data").replace_from_center(shown, "2026-11-28T06:00:00+08:00", refused)
    listed = kiosk("notices", "list", "--config", str(station))
    assert "不在闸机显示 / not shown at the gate" in listed.stdout and "old.example.edu.cn" in listed.stdout
    assert "is not an authoritative source" in listed.stdout


def test_list_flags_a_notice_the_allowlist_no_longer_covers(station: Path) -> None:
    """Added while the allowlist was wider: still held, flagged, and (tests/ui/test_gate_notices.py) not drawn."""
    from kiosk.domain.models import Notice

    NoticeStore(station.parent / "data").add(
        Notice("local-1", "旧通知", "https://old.example.edu.cn/1", "2026-11-01T08:00:00+08:00", "local")
    )
    listed = kiosk("notices", "list", "--config", str(station))
    assert "不在闸机显示 / not shown at the gate" in listed.stdout and "old.example.edu.cn" in listed.stdout
