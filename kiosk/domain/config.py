"""The station's configuration: `kiosk.toml` into frozen dataclasses, validated key by key.

Every problem raises `ConfigError` naming the file, the key and, where it can be found, the line.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why (in Chinese and English)."""


@dataclass(frozen=True)
class StationConfig:
    id: str = "demo-01"
    """Unique id of this station; the center accepts entries only under it."""
    name: str = "学五食堂 东门"
    """Shown on the gate screen."""
    campus: str = "海淀校园"
    gate: Literal["canteen", "dormitory"] = "canteen"
    """Dormitory gates check the return-approval list."""
    direction: Literal["in", "out"] = "in"
    """Direction recorded for a scan unless the officer switches it."""
    timezone: str = "Asia/Shanghai"
    """IANA time zone of the gate: its clock, and the days of counts, exports and purges (not the system's)."""

    @property
    def zone(self) -> ZoneInfo:
        """The station's time zone (checked when the config is loaded)."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ScannerConfig:
    port: str = ""
    """Device path or pyserial URL (/dev/ttyUSB0, /dev/serial/by-id/…, loop://, socket://h:p); empty: keyboard only."""
    baudrate: int = 9600
    id_pattern: str = r"^[0-9A-Za-z]{4,20}$"
    """A scan whose text does not match this regular expression is rejected."""
    max_line: int = 64
    """Longest line accepted from the reader, in bytes."""
    card_format: Literal["as-is", "decimal", "hex", "hex-reversed"] = "as-is"
    """How an RFID reader writes a card's UID: decimal digits, hex, hex with the bytes reversed, or as the roster
    lists card numbers (as-is). A scan is matched to a person ID first, then to a card number."""


@dataclass(frozen=True)
class RulesConfig:
    fever_threshold: float = 37.3
    """Celsius; a reading at or above it asks for a re-measure, a second one refers the person."""
    dormitory_requires_approval: bool = True
    """Nobody returns to a dormitory without approval (the school's order)."""
    duplicate_window: int = 30
    """Seconds in which a second scan of the same person is shown as already scanned, not recorded."""


@dataclass(frozen=True)
class CenterConfig:
    url: str = ""
    """Base URL of the center, e.g. https://kiosk-center.example.edu.cn; empty: work offline only."""
    token_file: str = ""
    """File that holds this station's bearer token (keep it 0600)."""
    ca_file: str = ""
    """A CA bundle to trust for the center's TLS certificate; empty: the system's."""
    sync_interval: int = 15
    """Seconds between full sync passes (heartbeat, roster, notices); new entries are pushed within about a second."""
    batch_size: int = 500
    timeout: float = 10.0
    """Seconds before a request to the center is given up."""


@dataclass(frozen=True)
class NoticesConfig:
    rotation: int = 20
    """Seconds each notice's QR code stays on the gate screen."""
    allowed_domains: tuple[str, ...] = ("bnu.edu.cn",)
    """Only https URLs on these domains (or their subdomains) are shown."""
    stale_after: int = 24
    """Hours without a refresh from the center after which the gate warns that notices may be out of date."""


@dataclass(frozen=True)
class StorageConfig:
    data_dir: str = "data"
    """Where entries, roster and notices are kept (relative paths are relative to the config file)."""
    retention_days: int = 30
    """Acknowledged entries older than this are purged."""


@dataclass(frozen=True)
class UIConfig:
    language: Literal["zh", "en"] = "zh"
    verdict_seconds: float = 6.0
    """How long a verdict stays on the gate before it returns to "Please scan" (a new scan replaces it at once)."""


@dataclass(frozen=True)
class DutyStaff:
    staff_id: str
    name: str
    pin_hash: str
    """Made by `kiosk hash-pin`; never a plain PIN."""


@dataclass(frozen=True)
class SecurityConfig:
    duty: tuple[DutyStaff, ...] = ()


@dataclass(frozen=True)
class Config:
    station: StationConfig = field(default_factory=StationConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    center: CenterConfig = field(default_factory=CenterConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    path: Path | None = None
    """The file this was loaded from; None for the embedded defaults."""

    @property
    def data_dir(self) -> Path:
        base = Path(self.storage.data_dir).expanduser()
        if not base.is_absolute() and self.path is not None:
            base = self.path.parent / base
        return base


_RANGES: dict[str, tuple[float, float]] = {
    "scanner.baudrate": (300, 4_000_000),
    "scanner.max_line": (8, 4096),
    "rules.fever_threshold": (35.0, 42.0),
    "rules.duplicate_window": (0, 3600),
    "center.sync_interval": (1, 86_400),
    "center.batch_size": (1, 10_000),
    "center.timeout": (0.1, 600),
    "notices.rotation": (3, 3600),
    "notices.stale_after": (1, 24 * 365),
    "storage.retention_days": (1, 3650),
    "ui.verdict_seconds": (1, 120),
}

_NON_EMPTY = {"station.id", "station.name", "station.timezone", "scanner.id_pattern"}
_STATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def load_config(path: Path) -> Config:
    """Read and validate a config file; raise ConfigError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: 找不到配置文件 / config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: 无法读取配置文件 / cannot read config file: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path | None = None) -> Config:
    """Validate TOML text into a Config."""
    where = str(path) if path else "<config>"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: TOML 语法错误 / TOML syntax error: {exc}") from None
    locate = _Locator(text, where)
    sections: dict[str, Any] = {}
    for table, value in raw.items():
        spec = next((f for f in dataclasses.fields(Config) if f.name == table and f.name != "path"), None)
        if spec is None:
            raise locate.error(table, None, "未知的表 / unknown table")
        if not isinstance(value, dict):
            raise locate.error(table, None, "应为表 / must be a table")
        if table == "security":
            sections[table] = _security(value, locate)
        else:
            sections[table] = _table(typing.get_type_hints(Config)[table], table, value, locate)
    config = Config(**sections, path=path)
    if not _STATION_ID.match(config.station.id):
        raise locate.error("station", "id", "只能包含字母、数字、_ . - / letters, digits, _ . - only")
    try:
        ZoneInfo(config.station.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise locate.error(
            "station", "timezone", "不是 IANA 时区名(如 Asia/Shanghai)/ not an IANA time zone name (e.g. Asia/Shanghai)"
        ) from None
    try:
        re.compile(config.scanner.id_pattern)
    except re.error as exc:
        raise locate.error(
            "scanner", "id_pattern", f"不是有效的正则表达式 / not a valid regular expression: {exc}"
        ) from None
    if config.center.url and not re.match(r"^https?://[^\s/]+", config.center.url):
        raise locate.error("center", "url", "应为 http(s):// 地址 / must be an http(s):// URL")
    return config


def _table(cls: type, table: str, values: dict[str, Any], locate: _Locator) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise locate.error(table, key, "未知的键 / unknown key")
        kwargs[key] = _check(hints[key], f"{table}.{key}", value, functools.partial(locate.error, table, key))
    return cls(**kwargs)


def _check(hint: Any, dotted: str, value: Any, fail: typing.Callable[[str], ConfigError]) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise fail(f"应为 {' | '.join(choices)} 之一 / must be one of {' | '.join(choices)}")
        return value
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail("应为字符串列表 / must be a list of strings")
        return tuple(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise fail("应为 true 或 false / must be true or false")
        return value
    if hint in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if hint is int:
            ok = ok and isinstance(value, int)
        if not ok:
            raise fail("应为整数 / must be an integer" if hint is int else "应为数字 / must be a number")
        low, high = _RANGES.get(dotted, (float("-inf"), float("inf")))
        if not low <= value <= high:
            raise fail(f"应在 {low:g} 到 {high:g} 之间 / must be between {low:g} and {high:g}")
        return hint(value)
    if hint is str:
        if not isinstance(value, str):
            raise fail("应为字符串 / must be a string")
        if dotted in _NON_EMPTY and not value.strip():
            raise fail("不能为空 / must not be empty")
        return value
    raise TypeError(f"unsupported config type {hint!r} for {dotted}")  # a programming error, not a user one


def _security(values: dict[str, Any], locate: _Locator) -> SecurityConfig:
    from kiosk.domain.pins import is_pin_hash

    duty: list[DutyStaff] = []
    for key, value in values.items():
        if key != "duty":
            raise locate.error("security", key, "未知的键 / unknown key")
        if not isinstance(value, list):
            raise locate.error("security", "duty", "应为 [[security.duty]] 表数组 / must be [[security.duty]] tables")
        for item in value:
            if not isinstance(item, dict):
                raise locate.error("security", "duty", "应为表 / must be a table")
            for name in item:
                if name not in ("staff_id", "name", "pin_hash"):
                    raise locate.error("security.duty", name, "未知的键 / unknown key")
            for name in ("staff_id", "name", "pin_hash"):
                if not isinstance(item.get(name), str) or not item[name]:
                    raise locate.error("security.duty", name, "缺少或不是字符串 / missing or not a string")
            if not is_pin_hash(item["pin_hash"]):
                raise locate.error(
                    "security.duty",
                    "pin_hash",
                    "不是 PIN 哈希(请用 kiosk hash-pin 生成)/ not a PIN hash (make one with `kiosk hash-pin`)",
                )
            duty.append(DutyStaff(item["staff_id"], item["name"], item["pin_hash"]))
    return SecurityConfig(duty=tuple(duty))


class _Locator:
    """Finds the line of a key in the TOML text, for messages."""

    def __init__(self, text: str, where: str) -> None:
        self.lines = text.splitlines()
        self.where = where

    def line_of(self, table: str, key: str | None) -> int | None:
        current = ""
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            header = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", stripped)
            if header:
                current = header.group(1)
                if key is None and current == table:
                    return number
                continue
            if key is not None and current == table and re.match(rf'^"?{re.escape(key)}"?\s*=', stripped):
                return number
        return None

    def error(self, table: str, key: str | None, message: str) -> ConfigError:
        dotted = f"{table}.{key}" if key else f"[{table}]"
        line = self.line_of(table, key)
        at = f":{line}" if line else ""
        return ConfigError(f"{self.where}{at}: {dotted}: {message}")
