"""Private, crash-safe files, and the TinyDB storage built on them.

TinyDB's own JSONStorage rewrites its file in place, so a crash can leave valid JSON followed by stale bytes
(tinydb #467). `AtomicJSONStorage` writes a temporary file, fsyncs it and renames it over the old one: a
reader sees the old or the new file, never a mix.
"""

from __future__ import annotations

import errno
import json
import os
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""Write failures that mean "no room": a full disk, a quota, a file size limit (RLIMIT_FSIZE)."""


class StoreError(Exception):
    """A storage problem the station must show (bilingual message)."""


class StoreFullError(StoreError):
    """The disk is full: new entries are refused, nothing old is deleted to make room."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"磁盘已满,无法记录 / disk full, cannot record: {path}")


class CorruptFileError(StoreError):
    """A data file cannot be read; it has been (or should be) moved aside."""


STORE_MARK = ".kiosk-store"
"""Put in a data directory the kiosk created or adopted: the directory is the store's own."""
_STORE_NAMES = frozenset(
    ("journal.jsonl", "meta.json", "seqs.json", "store.lock", "fold.lock", "roster.json", "roster.log", "notices.json")
    + ("entries", "audit", "reports", STORE_MARK)
)


def ensure_private_dir(path: Path) -> Path:
    """A folder inside the store (created by the kiosk): made private."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def ensure_store_dir(path: Path) -> Path:
    """The station's data directory, which must be the store's own.

    A missing one is created private and marked. An existing one is adopted when it is empty or holds only the
    store's files, and refused when it holds anything else (`/tmp`, a home directory); its mode is never
    changed, since the kiosk did not create it.
    """
    mark = path / STORE_MARK
    if mark.exists():
        return path
    if not path.exists():
        path.mkdir(parents=True, mode=PRIVATE_DIR)
        os.chmod(path, PRIVATE_DIR)  # the umask may have narrowed mkdir's mode; this one is ours
    else:
        if not path.is_dir():
            raise StoreError(f"数据目录不是目录 / the data directory is not a directory: {path}")
        foreign = sorted(name for name in os.listdir(path) if not _store_name(name))
        if foreign:
            shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
            raise StoreError(
                f"数据目录 {path} 含有其他文件({shown}),请为终端指定专用目录 / the data directory {path} holds "
                f"other files ({shown}): give the kiosk a directory of its own ([storage] data_dir)"
            )
    # Not fsynced: if a power cut loses the mark, the directory holds only the store's files and is adopted again.
    os.close(os.open(mark, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    return path


def _store_name(name: str) -> bool:
    base = name.split(".corrupt-", 1)[0]
    return base in _STORE_NAMES or (name.startswith(".") and name.endswith(".tmp"))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` durably: temp file, fsync, rename, fsync the directory."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        if exc.errno in NO_ROOM:
            raise StoreFullError(path) from exc
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_stale_temp_files(folder: Path) -> None:
    """Delete temp files that `write_atomic` left behind when its process was killed before the rename."""
    for tmp in folder.glob(".*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def move_aside(path: Path) -> Path:
    """Rename a damaged file out of the way so that the station can go on; return its new name."""
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    # Not fsynced: the repaired file written next fsyncs the directory; a power cut before that leaves the damaged
    # file where it was, to be found and moved aside again.
    os.replace(path, target)
    return target


class AtomicJSONStorage(Storage):
    """A TinyDB storage that never leaves a half-written file, and treats a damaged one as damage.

    The file is `CRC32\n` then the JSON: a changed byte anywhere is caught, not believed. A zero-byte file is
    damage too: TinyDB's JSONStorage would silently open it as an empty database. Files of the earlier format
    (plain JSON) are still read.
    """

    def __init__(
        self, path: str | Path, access_mode: str = "r+", object_hook: Callable[[dict[str, Any]], Any] | None = None
    ) -> None:
        self.path = Path(path)
        self.read_only = access_mode == "r"
        self.object_hook = object_hook
        """Passed to json.loads: lets a large table become compact objects while it is parsed."""

    def read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw:
            raise CorruptFileError(f"{self.path}: 文件为空 / file is empty")
        if raw[:1] != b"{":
            checksum, _, raw = raw.partition(b"\n")
            if checksum != b"%08x" % zlib.crc32(raw):
                raise CorruptFileError(f"{self.path}: 文件已损坏 / file is damaged: checksum mismatch")
        try:
            data = json.loads(raw, object_hook=self.object_hook)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(f"{self.path}: 文件已损坏 / file is damaged: {exc}") from None
        if not isinstance(data, dict):
            raise CorruptFileError(f"{self.path}: 文件格式不对 / unexpected content")
        return data

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise StoreError(f"{self.path}: 只读打开 / opened read-only")
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        write_atomic(self.path, b"%08x\n%s" % (zlib.crc32(body), body))

    def close(self) -> None:
        """Nothing is held open between calls."""
