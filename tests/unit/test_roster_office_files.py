"""Roster files made the way school offices make them: Chinese headers and values, title rows, 合计 rows, GBK,
IDs mangled by Excel, card numbers; and what an import would change (dry run, the --replace guard)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from kiosk.domain.models import Person, Role
from kiosk.domain.roster_file import (
    RosterFileError,
    diff_roster,
    read_roster_file,
    refuse_replace,
)

CHINESE = (
    "学号,姓名,身份,校区,宿舍楼,返校审批,医学观察,卡号\n"
    "2019010211,张三,学生,海淀校园,西北楼,是,否,3735928559\n"
    "T1001,王老师,教职工,海淀校园,,否,是,\n"
    "V2001,访客甲,访客,,,,,0xDEADBEEE; 12345\n"
    ",合计,3 人,,,,,\n"
)


def test_gbk_csv_with_chinese_headers_and_values(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    found = read_roster_file(path)
    assert [str(p) for p in found.problems] == []
    assert found.people == [
        Person("2019010211", "张三", Role.STUDENT, "海淀校园", "西北楼", True, False, card_nos=("3735928559",)),
        Person("T1001", "王老师", Role.STAFF, "海淀校园", "", False, True),
        Person("V2001", "访客甲", Role.VISITOR, card_nos=(str(0xDEADBEEE), "12345")),
    ]
    assert found.skipped == [5], "the 合计 row is skipped and reported"


def test_xlsx_with_a_title_row_chinese_headers_and_a_lost_card(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["2020年春季学期返校学生名单"])
    sheet.append([])
    sheet.append(["序号", "学号", "姓名", "人员类别", "是否批准返校", "物理卡号", "挂失卡号"])
    sheet.append([1, 2019010211, "张三", "学生", "是", 3735928559, 1234567890])
    sheet.append([2, "2019010212", "李四", "研究生", "否", None, None])
    sheet.append([None, "合计", None, None, None, None, None])
    path = tmp_path / "名单.xlsx"
    book.save(path)
    found = read_roster_file(path)
    assert [str(p) for p in found.problems] == []
    assert found.header_line == 3
    assert found.people == [
        Person(
            "2019010211",
            "张三",
            Role.STUDENT,
            return_approved=True,
            card_nos=("3735928559",),
            lost_cards=("1234567890",),
        ),
        Person("2019010212", "李四", Role.STUDENT),
    ]
    assert found.skipped == [6]


def test_full_width_ids_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("学号,姓名,身份\n２０１９０１０２１１ ,张三,学生\n", encoding="utf-8")
    assert [p.person_id for p in read_roster_file(path).people] == ["2019010211"]


def test_ids_excel_mangled_are_reported_by_line_with_the_fix(tmp_path: Path) -> None:
    rows = [f"00{2019010200 + i},学生{i},学生" for i in range(20)]
    rows += ["2.01901E+09,科学,学生", "2019010211.0,小数,学生", "2019010299,零,学生", "123,短,学生"]
    path = tmp_path / "r.csv"
    path.write_text("学号,姓名,身份\n" + "\n".join(rows) + "\n", encoding="utf-8-sig")
    found = read_roster_file(path)
    assert len(found.people) == 20
    problems = {p.line: str(p) for p in found.problems}
    assert sorted(problems) == [22, 23, 24, 25]
    assert "scientific notation" in problems[22] and "format the column as Text" in problems[22]
    assert "decimal number" in problems[23]
    assert "dropped its leading zeros (was it 002019010299?)" in problems[24]
    assert "dropped its leading zeros" in problems[25]
    assert all(p.kind == "excel" for p in found.problems)


def test_ids_checked_against_the_scanner_pattern(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("学号,姓名,身份\n2019010211,张三,学生\nAB-12,李四,学生\n", encoding="utf-8")
    found = read_roster_file(path, id_pattern=r"^[0-9]{10}$")
    assert [p.person_id for p in found.people] == ["2019010211"]
    assert "does not match [scanner] id_pattern" in str(found.problems[0])
    assert found.problems[0].line == 3


def test_big_numbers_in_xlsx_lost_digits(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["学号", "姓名", "身份"])
    book.active.append([110101199001011234, "身份证", "学生"])  # stored by Excel as a 15-digit float
    path = tmp_path / "r.xlsx"
    book.save(path)
    found = read_roster_file(path)
    assert found.people == []
    assert "15" in str(found.problems[0]) and found.problems[0].kind == "excel"


def test_errors_are_grouped_never_one_line_per_row(tmp_path: Path) -> None:
    rows = "".join(f"S-{i},学生{i},学生\n" for i in range(1, 5001))  # "-" is not in id_pattern
    path = tmp_path / "r.csv"
    path.write_text("学号,姓名,身份\n" + rows + "2019010211,张三,学生\n", encoding="utf-8")
    found = read_roster_file(path)
    summary = found.summary()
    assert len(summary) < 10
    assert "5000" in summary[0]
    assert summary[1].startswith("  第 2 行 / line 2:")


def test_a_file_without_the_required_columns_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("2020年名单\n学号,姓名\n1,2\n", encoding="utf-8")
    with pytest.raises(RosterFileError, match=r"line 2: .*missing required column\(s\) role"):
        read_roster_file(path)


PEOPLE = [Person(f"20190102{i:02d}", f"学生{i}", Role.STUDENT) for i in range(10)]


def test_diff_counts_added_removed_changed_unchanged() -> None:
    current = {p.person_id: p for p in PEOPLE}
    incoming = [*PEOPLE[:7], Person("2019010209", "改名", Role.STUDENT), Person("2019010299", "新人", Role.STUDENT)]
    diff = diff_roster(current, incoming, replace=True)
    assert ([p.person_id for p in diff.added], [p.person_id for p in diff.removed]) == (
        ["2019010299"],
        ["2019010207", "2019010208"],
    )
    assert [after.name for _, after in diff.changed] == ["改名"]
    assert diff.unchanged == 7
    assert diff_roster(current, incoming, replace=False).removed == []


def test_replace_refused_when_it_would_empty_the_roster(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("学号,姓名,身份\n" + "".join(f"x{i},甲,学生\n" for i in range(50)) + "2019010200,张,学生\n")
    found = read_roster_file(path)
    current = {p.person_id: p for p in PEOPLE}
    diff = diff_roster(current, found.people, replace=True)
    refusal = refuse_replace(diff, found, len(current), force=True)
    assert refusal is not None and "mostly failed" in refusal, "never, even forced"
    good = read_roster_file(_write(tmp_path, PEOPLE[:5]))
    diff = diff_roster(current, good.people, replace=True)
    assert "--force" in (refuse_replace(diff, good, len(current), force=False) or "")
    assert refuse_replace(diff, good, len(current), force=True) is None
    nine = read_roster_file(_write(tmp_path, PEOPLE[:9]))
    assert refuse_replace(diff_roster(current, nine.people, True), nine, len(current), force=False) is None


def _write(tmp_path: Path, people: list[Person]) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("学号,姓名,身份\n" + "".join(f"{p.person_id},{p.name},学生\n" for p in people), encoding="utf-8")
    return path


def test_an_upload_is_read_from_its_bytes_and_planned(tmp_path: Path) -> None:
    from kiosk.domain.roster_file import plan_import, read_roster_data

    current = {p.person_id: p for p in PEOPLE}
    upload = ("学号,姓名,身份\n" + "".join(f"{p.person_id},{p.name},学生\n" for p in PEOPLE[:9])).encode("gbk")
    plan = plan_import(read_roster_data(upload, "名单.csv"), current, replace=True)
    assert plan.allowed and (len(plan.diff.removed), plan.diff.unchanged) == (1, 9)
    emptied = plan_import(read_roster_data("学号,姓名,身份\nx,y,z\n".encode(), "bad.csv"), current, replace=True)
    assert not emptied.allowed and emptied.refusal is not None and "mostly failed" in emptied.refusal
    assert not plan_import(read_roster_data(b"person_id,name,role\n", "empty.csv"), current, replace=False).allowed
