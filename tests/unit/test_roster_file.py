"""Roster files as the offices export them: encodings, XLSX, bad rows with their lines, missing columns."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kiosk.domain.models import Person, Role
from kiosk.domain.roster_file import RosterFileError, read_roster_file

GOOD = (
    "person_id,name,role,campus,dorm,return_approved,observation\n"
    "2023000101,张三,student,海淀校园,西北楼,是,否\n"
    "T1001,王老师,staff,海淀校园,,,\n"
)
EXPECTED = [
    Person("2023000101", "张三", Role.STUDENT, "海淀校园", "西北楼", return_approved=True),
    Person("T1001", "王老师", Role.STAFF, "海淀校园"),
]


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_offices_use(tmp_path: Path, encoding: str) -> None:
    found = read_roster_file(write(tmp_path, GOOD, encoding))
    assert found.people == EXPECTED
    assert [str(p) for p in found.problems] == []


def test_gb18030_is_really_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        GOOD.encode("gb18030").decode("utf-8")


def test_xlsx_made_by_excel(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["person_id", "name", "role", "return_approved", "phone"])
    sheet.append([2023000101, "张三", "student", True, "13800000000"])
    sheet.append([2023000102.0, "欧阳娜娜", "Student", 0, None])
    sheet.append([None, None, None, None, None])  # Excel's trailing blank rows are skipped
    sheet.append(["", "无名", "staff", None, None])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    found = read_roster_file(path)
    assert found.people == [
        Person("2023000101", "张三", Role.STUDENT, return_approved=True),
        Person("2023000102", "欧阳娜娜", Role.STUDENT),
    ]
    assert [str(p) for p in found.problems] == ["第 5 行 / line 5: person_id 不能为空 / must not be empty"]


def test_bad_rows_are_reported_with_their_lines_and_good_rows_kept(tmp_path: Path) -> None:
    text = (
        "person_id,name,role\n"
        "  2023000101  , 张三 ,student\n"
        "2023000102,,student\n"
        '2023000103,"李\n小明",student\n'  # a quoted cell over two lines: the next row is on line 6
        "2023000104,赵六,cook\n"
        f"{'9' * 33},长号,student\n"
        "2023\x07000,响铃,student\n"
    )
    found = read_roster_file(write(tmp_path, text))
    assert [p.person_id for p in found.people] == ["2023000101", "2023000103"]
    assert found.people[0].name == "张三"
    assert [str(p) for p in found.problems] == [
        "第 3 行 / line 3: name 不能为空 / must not be empty",
        "第 6 行 / line 6: 身份 'cook' 应为 学生/教职工/访客 / role must be student, staff or visitor",
        "第 7 行 / line 7: person_id 超过 32 个字符 / is longer than 32 characters",
        "第 8 行 / line 8: person_id 含有不可打印字符 / contains unprintable characters",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("0", False), ("TRUE", True), ("false", False), ("Yes", True), ("no", False)]
    + [("是", True), ("否", False), ("y", True), ("N", False), ("", False), (" 是 ", True)],
)
def test_booleans(tmp_path: Path, text: str, expected: bool) -> None:
    found = read_roster_file(
        write(tmp_path, f"person_id,name,role,return_approved,observation\nA0001,甲,student,{text},{text}\n")
    )
    assert [str(p) for p in found.problems] == []
    assert (found.people[0].return_approved, found.people[0].observation) == (expected, expected)


def test_a_bad_boolean_is_a_bad_row(tmp_path: Path) -> None:
    found = read_roster_file(write(tmp_path, "person_id,name,role,observation\nA0001,甲,student,maybe\n"))
    assert found.people == []
    assert str(found.problems[0]).startswith("第 2 行 / line 2: observation 'maybe' 应为")


def test_duplicate_ids_later_row_wins_and_earlier_line_is_reported(tmp_path: Path) -> None:
    text = "person_id,name,role\nA0001,旧名,student\nB0002,乙,staff\nA0001,新名,staff\n"
    found = read_roster_file(write(tmp_path, text))
    assert {p.person_id: p.name for p in found.people} == {"A0001": "新名", "B0002": "乙"}
    assert len(found.problems) == 1
    assert str(found.problems[0]).startswith("第 2 行 / line 2: person_id A0001 在第 4 行再次出现")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("person_id,name\nA0001,甲\n", "missing required column(s) role"),
        ("学生号,名称,role\nA0001,甲,student\n", "person_id, name"),
        ("person_id,name,role,name\nA0001,甲,student,乙\n", "column name appears twice"),
        ("", "the file is empty"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(RosterFileError) as caught:
        read_roster_file(write(tmp_path, text))
    assert fragment in str(caught.value)
    assert " / " in str(caught.value)  # bilingual


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(RosterFileError, match="file not found"):
        read_roster_file(tmp_path / "missing.csv")
    with pytest.raises(RosterFileError, match="not a valid XLSX"):
        read_roster_file(write(tmp_path, "PK\x03\x04 not really a zip", "latin-1", "fake.xlsx"))
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")  # cut short: openpyxl's XML parser fails
    with pytest.raises(RosterFileError, match="not a valid XLSX"):
        read_roster_file(damaged)
    with pytest.raises(RosterFileError, match="old .xls"):
        read_roster_file(write(tmp_path, "\xd0\xcf\x11\xe0 ole", "latin-1", "old.xls"))


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    rows = "".join(f"S{i:05d},学生{i},student\n" for i in range(1000))
    calls: list[tuple[int, int]] = []
    found = read_roster_file(
        write(tmp_path, "person_id,name,role\n" + rows), progress=lambda done, total: calls.append((done, total))
    )
    assert len(found.people) == 1000
    assert calls[-1][0] == calls[-1][1] >= 1000
    assert 1 < len(calls) <= 101
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
