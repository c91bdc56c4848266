"""Reports: CSV and JSON lines read back, XLSX opened with openpyxl, files private and whole."""

from __future__ import annotations

import csv
import json
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from kiosk.domain.i18n import Language
from kiosk.domain.models import Direction, Entry, Method, Reading, Reason, Role, Verdict, Visitor
from kiosk.station.export import EXCEL_TEXT, FEVER_FILL, NOT_ADMITTED_FILL, header, report_row, write_report


@pytest.fixture
def entries(make_entry: Callable[..., Entry]) -> list[Entry]:
    fever = (Reading(38.4, "2026-11-28T08:05:10+08:00", "T1001"), Reading(38.6, "2026-11-28T08:06:00+08:00", "T1001"))
    return [
        make_entry(seq=1, acked_at="2026-11-28T07:31:00+08:00"),
        make_entry(
            "2023000103",
            seq=2,
            name="李小明",
            captured_at="2026-11-28T08:05:00+08:00",
            verdict=Verdict.REFERRED,
            reasons=(Reason.FEVER_REFERRED,),
            readings=fever,
        ),
        make_entry(
            "V0001",
            seq=3,
            name='=HYPERLINK("http://evil")',
            role=Role.VISITOR,
            method=Method.VISITOR_FORM,
            captured_at="2026-11-28T08:40:00+08:00",
            verdict=Verdict.DENIED,
            reasons=(Reason.VISITOR_INCOMPLETE,),
            offline=True,
            visitor=Visitor("13800000000", "王老师", "送材料"),
        ),
        make_entry(
            "2023000102", seq=4, name="欧阳娜娜", direction=Direction.OUT, captured_at="2026-11-28T21:15:00+08:00"
        ),
    ]


def documents(entries: list[Entry]) -> list[dict[str, Any]]:
    return [entry.to_dict() for entry in entries]


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_jsonl_round_trip(tmp_path: Path, entries: list[Entry]) -> None:
    path = tmp_path / "day.jsonl"
    write_report(entries, path, "jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [Entry.from_dict(json.loads(line)) for line in lines] == entries
    assert private(path)


def test_csv_round_trip(tmp_path: Path, entries: list[Entry]) -> None:
    path = tmp_path / "day.csv"
    write_report(entries, path, "csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # so that Excel reads it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == header(documents(entries))
    assert rows[0][:2] == ["时间", "当地时间"] and rows[0][10:12] == ["体温(°C) 1", "体温(°C) 2"]
    shown = [["" if v is None else str(v) for v in report_row(e.to_dict())] for e in entries]
    shown[2][5] = "'" + shown[2][5]
    assert rows[1:] == shown
    fever = dict(zip(rows[0], rows[2], strict=True))
    assert (fever["体温(°C) 1"], fever["体温(°C) 2"]) == ("38.4", "38.6"), "numbers, one column per reading"
    assert fever["时间"] == "2026-11-28T08:05:00+08:00"
    assert fever["当地时间"] == "2026-11-28 08:05:00", "a time Excel reads as a time"
    assert fever["结果"] == "已转介"
    assert fever["原因"] == "体温异常,请到发热门诊"
    assert fever["已上传"] == "否"
    assert dict(zip(rows[0], rows[1], strict=True))["已上传"] == "是"
    assert rows[3][5] == '\'=HYPERLINK("http://evil")'  # never a formula in the office's Excel
    visitor = dict(zip(rows[0], rows[3], strict=True))
    assert (visitor["访客电话"], visitor["被访人"], visitor["来访事由"]) == ("13800000000", "王老师", "送材料")
    assert private(path)


def test_csv_in_english_to_stdout(entries: list[Entry], capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_report(entries, None, "csv", language="en")
    out = capfdbinary.readouterr().out
    assert not out.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(out.decode("utf-8").splitlines()))
    assert rows[0][:4] == ["Time", "Local time", "Station", "Direction"]
    assert rows[4][3] == "Out"
    assert len(rows) == 5


def test_xlsx(tmp_path: Path, entries: list[Entry]) -> None:
    path = tmp_path / "day.xlsx"
    write_report(entries, path, "xlsx")
    assert private(path)
    book = load_workbook(path)
    sheet, counts = book.worksheets
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:Q5"
    assert [c.value for c in sheet[1]] == header(documents(entries), fmt="xlsx")
    assert sheet["A1"].font.b
    assert sheet["A2"].value == datetime(2026, 11, 28, 7, 30)
    fills = [sheet.cell(row=r, column=1).fill for r in range(2, 6)]
    assert [f.fill_type for f in fills] == [None, "solid", "solid", None]
    assert fills[1].fgColor.rgb.endswith(FEVER_FILL)
    assert fills[2].fgColor.rgb.endswith(NOT_ADMITTED_FILL)
    fever_row = [sheet.cell(row=3, column=c) for c in range(1, 18)]
    assert all(c.fill.fgColor.rgb.endswith(FEVER_FILL) for c in fever_row if c.value is not None)
    assert sheet.row_dimensions[3].fill.fgColor.rgb.endswith(FEVER_FILL), "its blank cells too: the row's format"
    assert sheet.row_dimensions[2].fill.fill_type is None
    assert [sheet.cell(row=3, column=c).value for c in (10, 11)] == [38.4, 38.6], "temperatures as numbers"
    assert sheet.cell(row=3, column=10).data_type == "n"
    assert [sheet.cell(row=4, column=c).value for c in (15, 16, 17)] == ["13800000000", "王老师", "送材料"]
    visitor_name = sheet["E4"]
    assert visitor_name.data_type == "s" and visitor_name.value.startswith("=HYPERLINK")
    # CJK text is twice as wide: the reasons column fits "体温异常,请到发热门诊" (11 characters → 22).
    assert sheet.column_dimensions["I"].width >= 22
    assert sheet.column_dimensions["B"].width < sheet.column_dimensions["I"].width
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    rows = {row[0]: row[1:] for row in counts.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 25
    assert rows["07:00"] == (1, 0, 0, 1)
    assert rows["08:00"] == (0, 1, 1, 2)
    assert rows["21:00"] == (1, 0, 0, 1)
    assert rows["合计"] == (2, 1, 1, 4)


def test_xlsx_reads_back_in_calamine(tmp_path: Path, entries: list[Entry]) -> None:
    path = tmp_path / "day.xlsx"
    write_report(entries, path, "xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0] == header(documents(entries), fmt="xlsx")
    expected = [["" if v is None else v for v in report_row(e.to_dict(), fmt="xlsx")] for e in entries]
    assert rows[1:] == expected, "the same values, text as text (a name starting with = too), numbers as numbers"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_column_titles_are_distinct(language: Language, entries: list[Entry]) -> None:
    """The XLSX rows are handed over as {title: value}: two equal titles would lose a column."""
    titles = header(documents(entries), language, "xlsx")
    assert len(set(titles)) == len(titles) == 17


def test_xlsx_of_an_empty_day_has_its_header(tmp_path: Path) -> None:
    path = tmp_path / "day.xlsx"
    write_report([], path, "xlsx")
    sheet, counts = load_workbook(path).worksheets
    assert [c.value for c in sheet[1]] == header([], fmt="xlsx")
    assert all(c.value is None for row in sheet.iter_rows(min_row=2) for c in row)
    assert counts["B26"].value == 0


def test_xlsx_cuts_text_longer_than_a_cell_holds(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    path = tmp_path / "day.xlsx"
    write_report([make_entry(name="长" * 40_000)], path, "xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[1][4] == "长" * EXCEL_TEXT


def test_xlsx_needs_a_file(entries: list[Entry]) -> None:
    with pytest.raises(ValueError):
        write_report(entries, None, "xlsx")


def test_a_failed_export_leaves_the_old_file_and_no_temporary(tmp_path: Path, entries: list[Entry]) -> None:
    path = tmp_path / "day.csv"
    path.write_text("old", encoding="utf-8")
    broken = [*entries, "not an entry"]
    with pytest.raises(AttributeError):
        write_report(broken, path, "csv")  # type: ignore[arg-type]
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["day.csv"]


def test_an_existing_readable_file_becomes_private(tmp_path: Path, entries: list[Entry]) -> None:
    path = tmp_path / "day.jsonl"
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)
    write_report(entries, path, "jsonl")
    assert private(path)
