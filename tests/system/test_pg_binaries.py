"""PostgreSQL's server programs are found for any installed version, the newest first."""

from __future__ import annotations

from pathlib import Path

from servers import pg_bin_dirs


def test_the_newest_installed_version_comes_first(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16", "common"):
        (tmp_path / version / "bin").mkdir(parents=True)
    assert pg_bin_dirs(tmp_path) == [tmp_path / v / "bin" for v in ("16", "15", "9.6")]


def test_no_installed_version_finds_nothing(tmp_path: Path) -> None:
    assert pg_bin_dirs(tmp_path / "missing") == []
