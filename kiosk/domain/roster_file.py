"""Reading a roster file (CSV or XLSX, as the school's offices export them) into people and row problems.

Bad rows never stop an import: they are reported with their line number while the good rows go through.
Only a file that cannot be read at all, or lacks a required column, raises `RosterFileError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.domain.models import Person, Role

REQUIRED = ("person_id", "name", "role")
OPTIONAL = ("campus", "dorm", "return_approved", "observation")
MAX_ID = 32

_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the pre-2007 .xls format, which openpyxl cannot read

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in all) while a file is read."""


class RosterFileError(Exception):
    """The file cannot be imported at all; the message (Chinese / English) says why."""


@dataclass
class RosterFile:
    """What a roster file holds: the people of its good rows, and one message per problem found."""

    people: list[Person] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Bilingual, each starting with the line number ("第 7 行 / line 7: ..."), in line order."""


def read_roster_file(path: Path, progress: Progress | None = None) -> RosterFile:
    """Read a CSV or XLSX roster; raise RosterFileError if it is unreadable or lacks a required column."""
    try:
        with path.open("rb") as stream:
            magic = stream.read(4)
    except FileNotFoundError:
        raise RosterFileError(f"{path}: 找不到文件 / file not found") from None
    except OSError as exc:
        raise RosterFileError(f"{path}: 无法读取文件 / cannot read the file: {exc.strerror}") from None
    if magic == _OLE_MAGIC:
        raise RosterFileError(
            f"{path}: 不支持旧版 .xls,请另存为 .xlsx 或 CSV / old .xls files are not supported: save as .xlsx or CSV"
        )
    rows = _xlsx_rows(path) if magic == _ZIP_MAGIC else _csv_rows(path)
    return _parse(path, rows, progress)


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on a Chinese Windows saves "CSV" in the ANSI code page (GBK), of which GB18030 is a superset.
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise RosterFileError(
                f"{path}: 文件编码无法识别(应为 UTF-8 或 GB18030)/ unknown encoding (expected UTF-8 or GB18030)"
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # line_num after each row is the file line where that row ends (a quoted cell may span lines).
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        line = reader.line_num
        raise RosterFileError(f"{path}: 第 {line} 行 / line {line}: CSV 格式错误 / bad CSV: {exc}") from None


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only XLSX imports pay for openpyxl

    # A damaged workbook can fail in any of openpyxl's layers (zip, XML, styles, cell types), each with its own
    # exception class; whichever it is, the file is unusable and the user needs a message, not a traceback.
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise RosterFileError(f"{path}: 不是有效的 XLSX 文件 / not a valid XLSX file: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return [(number, [_cell_text(v) for v in values]) for number, values in enumerate(sheet.values, start=1)]
    except Exception as exc:
        raise RosterFileError(f"{path}: 无法读取 XLSX 内容 / cannot read the XLSX content: {exc}") from None
    finally:
        book.close()  # read-only workbooks keep the file open until closed


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric student ID typed into Excel comes back as 2023000101.0
    return str(value)


def _parse(path: Path, rows: Sequence[tuple[int, list[str]]], progress: Progress | None) -> RosterFile:
    if not rows:
        raise RosterFileError(f"{path}: 文件为空 / the file is empty")
    columns = _columns(path, rows[0][1])
    people: dict[str, tuple[int, Person]] = {}
    problems: list[tuple[int, str]] = []
    total = len(rows) - 1
    step = max(1, total // 100)
    for done, (line, cells) in enumerate(rows[1:], start=1):
        if any(cell.strip() for cell in cells):
            values = {name: cells[index].strip() if index < len(cells) else "" for name, index in columns.items()}
            person, errors = _person(values)
            problems.extend((line, _at(line, error)) for error in errors)
            if person is not None:
                earlier = people.get(person.person_id)
                if earlier is not None:
                    problems.append((earlier[0], _at(earlier[0], _duplicate(person.person_id, line))))
                    del people[person.person_id]
                people[person.person_id] = (line, person)
        if progress is not None and (done % step == 0 or done == total):
            progress(done, total)
    problems.sort(key=lambda item: item[0])
    return RosterFile(people=[person for _, person in people.values()], problems=[text for _, text in problems])


def _columns(path: Path, header: Iterable[str]) -> dict[str, int]:
    """Column name → index, for the columns we know; unknown columns (phone, notes…) are ignored."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lstrip("\ufeff").lower()
        if name not in REQUIRED and name not in OPTIONAL:
            continue
        if name in columns:
            raise RosterFileError(f"{path}: 第 1 行 / line 1: 列 {name} 重复 / column {name} appears twice")
        columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        names = ", ".join(missing)
        raise RosterFileError(
            f"{path}: 第 1 行 / line 1: 缺少必需的列 {names}(需要 person_id,name,role)"
            f" / missing required column(s) {names} (person_id,name,role are needed)"
        )
    return columns


def _person(values: dict[str, str]) -> tuple[Person | None, list[str]]:
    errors: list[str] = []
    person_id = values["person_id"]
    if not person_id:
        errors.append("person_id 不能为空 / must not be empty")
    elif not person_id.isprintable():
        errors.append("person_id 含有不可打印字符 / contains unprintable characters")
    elif len(person_id) > MAX_ID:
        errors.append(f"person_id 超过 {MAX_ID} 个字符 / is longer than {MAX_ID} characters")
    name = values["name"]
    if not name:
        errors.append("name 不能为空 / must not be empty")
    role = values["role"].lower()
    if role not in {r.value for r in Role}:
        errors.append("role 应为 student|staff|visitor / must be student|staff|visitor")
    flags: dict[str, bool] = {}
    for column in ("return_approved", "observation"):
        text = values.get(column, "").lower()
        if text in _TRUE or text in _FALSE:
            flags[column] = text in _TRUE
        else:
            errors.append(f"{column} 应为 是/否、1/0、true/false、yes/no / must be yes/no, 1/0, true/false, 是/否")
    if errors:
        return None, errors
    person = Person(
        person_id=person_id,
        name=name,
        role=Role(role),
        campus=values.get("campus", ""),
        dorm=values.get("dorm", ""),
        **flags,
    )
    return person, []


def _at(line: int, message: str) -> str:
    return f"第 {line} 行 / line {line}: {message}"


def _duplicate(person_id: str, later: int) -> str:
    return (
        f"person_id {person_id} 在第 {later} 行再次出现,以后者为准"
        f" / person_id {person_id} appears again on line {later}; the later row is used"
    )
