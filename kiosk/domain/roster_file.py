"""Reading a roster file (CSV or XLSX, as the school's offices make them) into people and row problems.

One reader for the station (`kiosk roster import`) and the center (`kiosk center import-roster`, the web upload).
Offices write headers and values in Chinese, put a title row above the header and a 合计 row below the data, save
CSV as GBK, and let Excel turn IDs into numbers. Bad rows never stop an import: each is reported with its line
and what to do, grouped by kind, while the good rows go through. Only a file that cannot be read at all, or has no
header with the required columns, raises `RosterFileError`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.domain.cards import card_from_roster, split_cards
from kiosk.domain.config import ScannerConfig
from kiosk.domain.models import Person, Role

REQUIRED = ("person_id", "name", "role")
OPTIONAL = ("campus", "dorm", "return_approved", "observation", "card_no", "lost_card_no")
MAX_ID = 32
DEFAULT_ID_PATTERN = ScannerConfig.id_pattern
HEADER_SEARCH = 20
"""Rows looked at for the header (title rows above it are skipped)."""
FIRST_LINES = 5
"""Lines quoted per kind of problem in a summary."""
MAX_REMOVED_SHARE = 0.2
"""`--replace` refuses to remove more than this share of the roster without `--force`."""

_ALIASES = {
    "person_id": ("person_id", "id", "学号", "工号", "学工号", "学号/工号", "证件号", "证件号码", "编号", "人员编号"),
    "name": ("name", "姓名", "名字"),
    "role": ("role", "身份", "人员类别", "人员类型", "类别"),
    "card_no": ("card_no", "card", "卡号", "物理卡号", "校园卡号", "一卡通号"),
    "lost_card_no": ("lost_card_no", "lost_cards", "挂失卡号", "已挂失卡号"),
    "campus": ("campus", "校区"),
    "dorm": ("dorm", "宿舍", "宿舍楼"),
    "return_approved": ("return_approved", "返校审批", "是否批准返校", "批准返校"),
    "observation": ("observation", "医学观察", "是否医学观察"),
}
_HEADERS = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}
_ROLES = {
    **{word: Role.STUDENT for word in ("student", "学生", "本科生", "研究生", "硕士生", "博士生")},
    **{word: Role.STAFF for word in ("staff", "teacher", "教职工", "教工", "教师", "职工", "老师")},
    **{word: Role.VISITOR for word in ("visitor", "访客", "来访人员", "来访")},
}
_TRUE = {"1", "true", "yes", "y", "是", "有", "已批准", "批准", "√", "✓", "✔"}
_FALSE = {"", "0", "false", "no", "n", "否", "无", "未批准", "不批准", "×", "✗"}
_TOTALS = ("合计", "总计", "小计", "total")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the pre-2007 .xls format
_SCIENTIFIC = re.compile(r"^[0-9]+(\.[0-9]+)?e[+-]?[0-9]+$", re.IGNORECASE)
_FLOAT = re.compile(r"^[0-9]+\.[0-9]+$")
_EXCEL_FIX = "请把该列设为“文本”格式后重新导出 / format the column as Text in Excel and export again"

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in all) while a file is read."""

KINDS = {
    "excel": "Excel 改动了学工号 / Excel changed the ID",
    "id": "学工号无效 / invalid ID",
    "name": "缺少姓名 / name missing",
    "role": "身份无效 / invalid role",
    "flag": "是/否 值无效 / invalid yes/no value",
    "card": "卡号无效 / invalid card number",
    "duplicate": "重复的学工号 / duplicate ID",
}
"""Kinds of row problem, with the label a summary groups them under."""


class RosterFileError(Exception):
    """The file cannot be imported at all; the message (Chinese / English) says why."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem on one row of the file."""

    line: int
    kind: str
    """A key of KINDS."""
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行 / line {self.line}: {self.message}"


@dataclass
class RosterFile:
    """What a roster file holds: the people of its good rows, and the problems of the others."""

    people: list[Person] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    """In line order."""
    header_line: int = 1
    rows: int = 0
    """Data rows read (blank and total rows not counted)."""
    skipped: list[int] = field(default_factory=list)
    """Lines of total rows (合计) that were skipped."""

    @property
    def failed_rows(self) -> int:
        return len({p.line for p in self.problems if p.kind != "duplicate"})

    def summary(self, first: int = FIRST_LINES) -> list[str]:
        """The problems grouped by kind: a count and the first lines of each, never one line per bad row."""
        lines: list[str] = []
        by_kind: dict[str, list[Problem]] = {}
        for problem in self.problems:
            by_kind.setdefault(problem.kind, []).append(problem)
        for kind, problems in by_kind.items():
            lines.append(f"{KINDS[kind]}: {len(problems)} 处 / {len(problems)} rows")
            lines.extend(f"  {problem}" for problem in problems[:first])
            if len(problems) > first:
                more = len(problems) - first
                lines.append(f"  … 另有 {more} 行 / {more} more")
        if self.skipped:
            where = ", ".join(str(line) for line in self.skipped[:first])
            lines.append(f"已跳过合计行 / total rows skipped: 第 {where} 行 / line {where}")
        return lines


def read_roster_file(path: Path, id_pattern: str = DEFAULT_ID_PATTERN, progress: Progress | None = None) -> RosterFile:
    """Read a CSV or XLSX roster; raise RosterFileError if it is unreadable or has no usable header."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RosterFileError(f"{path}: 找不到文件 / file not found") from None
    except OSError as exc:
        raise RosterFileError(f"{path}: 无法读取文件 / cannot read the file: {exc.strerror}") from None
    return read_roster_data(data, str(path), id_pattern, progress)


def read_roster_data(
    data: bytes, label: str, id_pattern: str = DEFAULT_ID_PATTERN, progress: Progress | None = None
) -> RosterFile:
    """Read a roster from the bytes of a CSV or XLSX file (an upload); `label` names it in messages."""
    magic = data[:4]
    if magic == _OLE_MAGIC:
        raise RosterFileError(
            f"{label}: 不支持旧版 .xls,请另存为 .xlsx 或 CSV / old .xls files are not supported: save as .xlsx or CSV"
        )
    total, rows = _xlsx_rows(data, label) if magic == _ZIP_MAGIC else _csv_rows(data, label)
    return _Parser(label, re.compile(id_pattern), progress, total).parse(rows)


Row = tuple[int, list[Any]]


def _csv_rows(raw: bytes, path: str) -> tuple[int, Iterator[Row]]:
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

    def rows() -> Iterator[Row]:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            # line_num after each row is the file line where that row ends (a quoted cell may span lines).
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            line = reader.line_num
            raise RosterFileError(f"{path}: 第 {line} 行 / line {line}: CSV 格式错误 / bad CSV: {exc}") from None

    return text.count("\n") + 1, rows()


def _xlsx_rows(data: bytes, path: str) -> tuple[int, Iterator[Row]]:
    from python_calamine import CalamineWorkbook  # a Rust reader: a 50k-row sheet in about a second

    # A damaged workbook fails in the zip, XML or cell layer; whichever it is, the user needs a message.
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        first = sheet.start[0] + 1 if sheet.start else 1
    except Exception as exc:
        raise RosterFileError(f"{path}: 不是有效的 XLSX 文件 / not a valid XLSX file: {exc}") from None

    def rows() -> Iterator[Row]:
        try:
            yield from enumerate(sheet.iter_rows(), start=first)
        except Exception as exc:
            raise RosterFileError(f"{path}: 无法读取 XLSX 内容 / cannot read the XLSX content: {exc}") from None

    return sheet.height, rows()


def _text(value: Any) -> str:
    """A cell as NFKC text (full-width digits and letters become ASCII)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header_name(cell: Any) -> str:
    text = _text(cell).lstrip("\ufeff").lower()
    return re.sub(r"[\s*:：()（）]", "", text)


class _Parser:
    def __init__(self, path: str, id_pattern: re.Pattern[str], progress: Progress | None, total: int) -> None:
        self.path = path
        self.id_pattern = id_pattern
        self.progress = progress
        self.total = max(total, 1)
        self.problems: list[Problem] = []
        self.found = RosterFile()
        self.short_digits: dict[int, str] = {}
        """Lines of IDs of digits only that do not match the pattern: perhaps Excel dropped their zeros."""

    def parse(self, rows: Iterator[Row]) -> RosterFile:
        header_line, columns = self._header(rows)
        self.found.header_line = header_line
        people: dict[str, tuple[int, Person]] = {}
        step = max(1, self.total // 100)
        line = header_line
        for line, cells in rows:
            self._row(line, cells, columns, people)
            if self.progress is not None and line % step == 0:
                self.progress(min(line, self.total), self.total)
        if self.progress is not None:
            self.progress(self.total, self.total)
        self._check_lost_zeros(people)
        self.problems.sort(key=lambda problem: problem.line)
        self.found.people = [person for _, person in people.values()]
        self.found.problems = self.problems
        return self.found

    def _header(self, rows: Iterator[Row]) -> tuple[int, dict[str, int]]:
        best: tuple[int, int, dict[str, int]] | None = None
        for line, cells in rows:
            names = [_header_name(cell) for cell in cells]
            columns: dict[str, int] = {}
            for index, name in enumerate(names):
                column = _HEADERS.get(name)
                if column is None:
                    continue
                if column in columns:
                    raise RosterFileError(
                        f"{self.path}: 第 {line} 行 / line {line}: 列 {column} 重复 / column {column} appears twice"
                    )
                columns[column] = index
            if all(name in columns for name in REQUIRED):
                return line, columns
            if best is None or len(columns) > len(best[2]):
                best = (line, len(columns), columns)
            if line >= HEADER_SEARCH:
                break
        if best is None:
            raise RosterFileError(f"{self.path}: 文件为空 / the file is empty")
        line, _, columns = best
        missing = ", ".join(name for name in REQUIRED if name not in columns)
        raise RosterFileError(
            f"{self.path}: 第 {line} 行 / line {line}: 缺少必需的列 {missing}(需要 学号/person_id、姓名/name、"
            f"身份/role)/ missing required column(s) {missing} (person_id, name, role, or 学号, 姓名, 身份 are needed)"
        )

    def _row(self, line: int, cells: list[Any], columns: dict[str, int], people: dict[str, tuple[int, Person]]) -> None:
        raw = {name: cells[index] if index < len(cells) else None for name, index in columns.items()}
        texts = {name: _text(value) for name, value in raw.items()}
        if not any(texts.values()):
            return
        if any(isinstance(cell, str) and cell.strip().lower().startswith(_TOTALS) for cell in cells):
            self.found.skipped.append(line)
            return
        self.found.rows += 1
        problems = len(self.problems)
        person_id = self._person_id(line, raw["person_id"], texts["person_id"])
        name = texts["name"]
        if not name:
            self._problem(line, "name", "name 不能为空 / must not be empty")
        role = _ROLES.get(texts["role"].lower())
        if role is None:
            self._problem(
                line, "role", f"身份 {texts['role']!r} 应为 学生/教职工/访客 / role must be student, staff or visitor"
            )
        flags: dict[str, bool] = {}
        for column in ("return_approved", "observation"):
            value = texts.get(column, "").lower()
            if value in _TRUE or value in _FALSE:
                flags[column] = value in _TRUE
            else:
                self._problem(line, "flag", f"{column} {value!r} 应为 是/否 / must be yes or no (是/否, 1/0)")
        cards = self._cards(line, raw.get("card_no"), texts.get("card_no", ""))
        lost = self._cards(line, raw.get("lost_card_no"), texts.get("lost_card_no", ""))
        if len(self.problems) > problems or person_id is None or role is None:
            return
        person = Person(
            person_id=person_id,
            name=name,
            role=role,
            campus=texts.get("campus", ""),
            dorm=texts.get("dorm", ""),
            card_nos=tuple(c for c in cards if c not in lost),
            lost_cards=tuple(lost),
            **flags,
        )
        earlier = people.pop(person_id, None)
        if earlier is not None:
            self._problem(
                earlier[0],
                "duplicate",
                f"person_id {person_id} 在第 {line} 行再次出现,以后者为准"
                f" / person_id {person_id} appears again on line {line}; the later row is used",
            )
        people[person_id] = (line, person)

    def _person_id(self, line: int, raw: Any, text: str) -> str | None:
        mangled = _excel_damage(raw, text)
        if mangled is not None:
            self._problem(line, "excel", f"学工号 {text} {mangled};{_EXCEL_FIX}")
            return None
        if not text:
            self._problem(line, "id", "person_id 不能为空 / must not be empty")
        elif not text.isprintable():
            self._problem(line, "id", "person_id 含有不可打印字符 / contains unprintable characters")
        elif len(text) > MAX_ID:
            self._problem(line, "id", f"person_id 超过 {MAX_ID} 个字符 / is longer than {MAX_ID} characters")
        elif not self.id_pattern.search(text):
            if text.isdigit():
                self.short_digits[line] = text
            self._problem(
                line,
                "id",
                f"学工号 {text} 不符合 [scanner] id_pattern {self.id_pattern.pattern}:读卡器永远读不到它"
                f" / ID {text} does not match [scanner] id_pattern {self.id_pattern.pattern}: no scan can match it",
            )
        else:
            return text
        return None

    def _cards(self, line: int, raw: Any, text: str) -> list[str]:
        if not text:
            return []
        mangled = _excel_damage(raw, text)
        if mangled is not None:
            self._problem(line, "card", f"卡号 {text} {mangled};{_EXCEL_FIX}")
            return []
        cards = []
        for part in split_cards(text):
            card = card_from_roster(part)
            if card is None:
                self._problem(
                    line, "card", f"卡号 {part} 应为十进制或十六进制数字 / card number must be decimal or hex digits"
                )
            else:
                cards.append(card)
        return cards

    def _check_lost_zeros(self, people: dict[str, tuple[int, Person]]) -> None:
        """IDs of digits shorter than almost all the others: Excel dropped their leading zeros.

        Said of such an ID that the pattern refused, or of any when the others have leading zeros themselves (a
        school whose staff numbers are merely shorter than its student numbers is left alone).
        """
        digits = [pid for pid in people if pid.isdigit()]
        if len(digits) < 5:
            return
        length, count = Counter(len(pid) for pid in digits).most_common(1)[0]
        if count < 0.9 * len(digits):
            return
        zeros = any(pid.startswith("0") for pid in digits if len(pid) == length)
        suspects = {line: pid for line, pid in self.short_digits.items() if len(pid) < length}
        if zeros:
            suspects.update({people[pid][0]: pid for pid in digits if len(pid) < length})
        self.problems = [p for p in self.problems if p.line not in suspects or p.kind != "id"]
        for line, pid in suspects.items():
            people.pop(pid, None)
            self._problem(
                line,
                "excel",
                f"学工号 {pid} 只有 {len(pid)} 位,其他的是 {length} 位:Excel 去掉了开头的 0(应为 {pid.zfill(length)}?)"
                f";{_EXCEL_FIX} / ID {pid} has {len(pid)} digits where the others have {length}: Excel dropped"
                f" its leading zeros (was it {pid.zfill(length)}?)",
            )

    def _problem(self, line: int, kind: str, message: str) -> None:
        self.problems.append(Problem(line, kind, message))


def _excel_damage(raw: Any, text: str) -> str | None:
    """What Excel did to an ID or card number, in words; None when it looks untouched."""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) >= 1e15:
        return "超过 15 位,Excel 只保留 15 位有效数字 / has more than 15 digits: Excel kept only 15 of them"
    if isinstance(raw, float) and not raw.is_integer():
        return "是带小数的数字 / is a number with decimals"
    if _SCIENTIFIC.match(text):
        return "被 Excel 写成了科学计数法,后面的数字已丢失 / became scientific notation: its last digits are lost"
    if _FLOAT.match(text):
        return "被 Excel 当成了小数 / was turned into a decimal number"
    return None


@dataclass(frozen=True)
class RosterDiff:
    """What an import would change in a roster."""

    added: list[Person]
    removed: list[Person]
    changed: list[tuple[Person, Person]]
    """(before, after)"""
    unchanged: int

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)

    def summary(self) -> str:
        a, r, c, u = len(self.added), len(self.removed), len(self.changed), self.unchanged
        return f"新增 {a},删除 {r},变更 {c},不变 {u} / added {a}, removed {r}, changed {c}, unchanged {u}"


def diff_roster(current: Mapping[str, Person], incoming: Iterable[Person], replace: bool) -> RosterDiff:
    """What importing `incoming` into `current` would do (with `replace`: everyone else removed)."""
    added: list[Person] = []
    changed: list[tuple[Person, Person]] = []
    unchanged = 0
    listed: set[str] = set()
    for person in incoming:
        listed.add(person.person_id)
        before = current.get(person.person_id)
        if before is None:
            added.append(person)
        elif before != person:
            changed.append((before, person))
        else:
            unchanged += 1
    removed = [person for pid, person in current.items() if pid not in listed] if replace else []
    return RosterDiff(added, removed, changed, unchanged)


def refuse_replace(diff: RosterDiff, found: RosterFile, roster_size: int, force: bool) -> str | None:
    """Why a `--replace` import must not go ahead (bilingual), or None when it may.

    A file whose rows mostly failed never replaces a roster, forced or not: every person on a bad row would be
    denied at every gate. A file with some bad rows, or one that removes more than MAX_REMOVED_SHARE of the
    roster, needs `force`.
    """
    if found.rows and found.failed_rows * 2 > found.rows:
        return (
            f"文件中 {found.failed_rows}/{found.rows} 行有问题,拒绝替换名单 / {found.failed_rows} of {found.rows}"
            " rows have problems: a roster is never replaced with a file whose rows mostly failed"
        )
    if found.problems and not force:
        return (
            f"文件有 {found.failed_rows} 行有问题,这些人会被移出名单;名单未替换(确认无误请加 --force)"
            f" / {found.failed_rows} rows have problems and their people would be removed: the roster was not"
            " replaced (add --force if that is intended)"
        )
    if roster_size and len(diff.removed) > MAX_REMOVED_SHARE * roster_size and not force:
        share = round(100 * len(diff.removed) / roster_size)
        return (
            f"替换将删除名单中 {len(diff.removed)} 人({share}%),超过 {MAX_REMOVED_SHARE:.0%};确认无误请加 --force"
            f" / replacing would remove {len(diff.removed)} people ({share}% of the roster), more than"
            f" {MAX_REMOVED_SHARE:.0%}: add --force if that is intended"
        )
    return None


@dataclass(frozen=True)
class ImportPlan:
    """What importing a file would do, and whether it may: for `kiosk roster import`, `kiosk center
    import-roster` and the center's web upload alike."""

    found: RosterFile
    diff: RosterDiff
    refusal: str | None
    """Why it must not go ahead (bilingual); None when it may."""

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def plan_import(found: RosterFile, current: Mapping[str, Person], replace: bool, force: bool = False) -> ImportPlan:
    """Compare a read file with the current roster: the diff, and a refusal for an unsafe `replace` or no rows."""
    diff = diff_roster(current, found.people, replace)
    refusal = refuse_replace(diff, found, len(current), force) if replace else None
    if refusal is None and not found.people:
        refusal = "文件中没有可导入的行 / no row of the file can be imported"
    return ImportPlan(found, diff, refusal)


def describe(person: Person) -> str:
    """One line for a dry run's list."""
    return f"{person.person_id} {person.name} {person.role}"
