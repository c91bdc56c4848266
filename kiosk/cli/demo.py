"""`kiosk demo`: the whole system on one machine, a local center with demo data and a gate connected to it.

    kiosk demo                                   the gate on this terminal: type an ID + Enter to scan
    kiosk demo --simulate-scanner                a simulated card reader scans by itself
    kiosk demo --headless 8 --simulate-scanner   for CI: exit 0 only if every entry reached the center
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from kiosk.cli.main import EXIT_FAILURE, EXIT_OK, Subcommands, gate_frame_rate
from kiosk.demo.data import (
    DEMO_CAMPUS,
    DEMO_PIN,
    DEMO_STAFF_ID,
    DEMO_STATION_ID,
    DEMO_STATION_NAME,
    DEMO_WEB_PASSWORD,
    DEMO_WEB_USER,
    demo_config,
    demo_examples,
    demo_notices,
    demo_people,
)
from kiosk.domain.clock import SystemClock
from kiosk.domain.config import Config, load_config
from kiosk.domain.models import Person
from kiosk.domain.privacy import mask_name
from storage.files import StoreError

if TYPE_CHECKING:
    from kiosk.demo.center import DemoCenter
    from kiosk.domain.clock import Clock
    from kiosk.station.sync import Syncer
    from storage.entries import EntryStore
    from storage.notices import NoticeStore
    from storage.roster import RosterStore

CENTER_KEY = "f11"
SIMULATOR_RATE = 0.8
"""Scans per second from the simulated reader: lively, yet each verdict can be read."""
TOKEN_FILE = "station.token"


def register(sub: Subcommands) -> None:
    """Add `kiosk demo`."""
    help = "try the whole system: a local center with 3,000 people, a station, the gate / 一条命令体验整个系统"
    command = sub.add_parser("demo", help=help, description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    command.add_argument("--dir", help="keep the demo's data here (default: a new directory in /tmp)")
    command.add_argument("--simulate-scanner", action="store_true", help="a simulated serial card reader scans")
    command.add_argument("--headless", type=_seconds, metavar="SECONDS",
                         help="run without a screen for SECONDS (with the simulated reader), then check the center")
    command.add_argument("--people", type=_people, default=3000, help="roster size (default 3000)")
    command.set_defaults(handler=_demo)


def _seconds(text: str) -> float:
    value = float(text)
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError("1 to 3600")
    return value


def _people(text: str) -> int:
    value = int(text)
    if not 50 <= value <= 100_000:  # the first 50 demo people include every kind of example
        raise argparse.ArgumentTypeError("50 to 100000")
    return value


def say(line: str = "") -> None:
    print(line, flush=True)


class _Signals:
    """SIGINT, SIGTERM and SIGHUP end the demo: the running gate exits cleanly, else KeyboardInterrupt unwinds.

    (Inside the full-screen gate Ctrl-C is only a key, which the locked-down app ignores.)
    """

    def __init__(self) -> None:
        self.app: Any = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.app is not None and self.app.is_running:
            self.app.exit(EXIT_FAILURE)  # the app restores the terminal, then the demo stops the center
            return
        raise KeyboardInterrupt


def _demo(args: argparse.Namespace) -> int:
    gate_frame_rate()
    directory: Path | None = None
    with _Signals() as signals:
        try:
            with ExitStack() as cleanup:  # stops the center on every way out, before the last line below
                directory = _directory(args.dir)
                code = _run(args, directory, cleanup, signals)
        except KeyboardInterrupt:
            say("\n已中断 / interrupted")
            code = EXIT_FAILURE
        except (OSError, StoreError) as exc:
            print(f"演示无法继续 / the demo cannot go on: {exc}", file=sys.stderr)
            code = EXIT_FAILURE
    if directory is not None:
        say(f"演示结束,数据中心已停止,数据留在 {directory}")
        say(f"the demo is over, its center stopped; the data stays in {directory}")
    return code


def _directory(given: str | None) -> Path:
    if given is None:
        return Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    directory = Path(given).expanduser().resolve()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _run(args: argparse.Namespace, directory: Path, cleanup: ExitStack, signals: _Signals) -> int:
    headless = args.headless is not None
    people = demo_people(args.people)
    say(f"演示目录 / demo directory: {directory}")
    center = _start_center(directory, people, cleanup)
    simulator = None
    if args.simulate_scanner or headless:
        from kiosk.demo.simulator import ScannerSimulator

        ids = [person.person_id for person in people]
        simulator = ScannerSimulator(ids, seed=2020, rate=SIMULATOR_RATE, unknown_share=0.08, garbage_share=0.03)
        cleanup.callback(simulator.stop)
    config = _write_config(directory, center, simulator.path if simulator else "")

    from storage.entries import EntryStore
    from storage.notices import NoticeStore
    from storage.roster import RosterStore

    clock = SystemClock(config.station.zone)
    store, roster, notices = EntryStore(config.data_dir), RosterStore(config.data_dir), NoticeStore(config.data_dir)
    cleanup.callback(store.close)
    syncer = _first_sync(config, store, roster, notices, clock, cleanup) if center else None
    if len(roster) == 0:
        say("在本地导入演示名单和通知 / importing the demo roster and notices locally")
        roster.replace_all(people)
        for notice in demo_notices(clock.now()):
            notices.add(notice)
    _introduce(people, center, simulator is not None, headless)

    from kiosk.app import KioskApp
    from kiosk.station.station import Station
    from screens.staff import ExtraKey

    keys = [ExtraKey(CENTER_KEY, "中心 停/启 Center", center.toggle)] if center else []
    app = KioskApp(config, Station(config, store, roster, clock), notices, clock, syncer=syncer, extra_keys=keys)
    signals.app = app
    if simulator is not None:
        simulator.start()
    if headless:
        seconds = float(args.headless)

        async def stop_after(pilot: Any) -> None:
            await pilot.pause(seconds)
            await pilot.exit(EXIT_OK)

        app.run(headless=True, size=(120, 40), auto_pilot=stop_after)
    else:
        from kiosk.station.collector import tune_for_the_gate

        tune_for_the_gate()
        app.run()
    signals.app = None
    checked = _summary(store, syncer, center, strict=headless)
    return checked if headless else (app.return_code or EXIT_OK)  # SIGTERM or SIGHUP: 1


def _start_center(directory: Path, people: list[Person], cleanup: ExitStack) -> DemoCenter | None:
    """The seeded center, running; None (and the reason said) when it cannot run: the demo then works offline."""
    # Imported here: httpx and the center's modules would slow down every `kiosk` command.
    from kiosk.demo.center import CenterUnavailable, DemoCenter, free_port, seed_center

    db_url = f"sqlite:///{directory / 'center.db'}"
    say("正在启动本地数据中心 / starting the local center …")
    try:
        seed_center(db_url, (DEMO_STATION_ID, DEMO_STATION_NAME, DEMO_CAMPUS), people,
                    demo_notices(SystemClock().now()), directory / TOKEN_FILE)
        center = DemoCenter(db_url, directory / "center.log")
        cleanup.callback(center.stop)
        try:
            center.start()
        except CenterUnavailable:
            center.port = free_port()  # the port was taken between the probe and the start
            center.start()
    except CenterUnavailable as exc:
        say(f"{exc}")
        say("数据中心未启动,演示离线运行 / the center did not start: the demo runs offline")
        return None
    say(f"数据中心已就绪 / the center is up: {center.url} (日志 / log: {center.log_path})")
    say(f"防控办网页 / the office's dashboard: {center.url}/web/"
        f"  账户 / account: {DEMO_WEB_USER}  密码 / password: {DEMO_WEB_PASSWORD}")
    return center


def _write_config(directory: Path, center: DemoCenter | None, scanner_port: str) -> Config:
    """DIR/kiosk.toml for the demo station, checked as `kiosk check-config` would."""
    from kiosk.demo.center import write_private
    from kiosk.domain.pins import hash_pin

    text = demo_config(
        center_url=center.url if center else "",
        token_file=TOKEN_FILE if center else "",
        scanner_port=scanner_port,
        pin_hash=hash_pin(DEMO_PIN),
    )
    path = directory / "kiosk.toml"
    write_private(path, text)
    return load_config(path)


def _first_sync(config: Config, store: EntryStore, roster: RosterStore, notices: NoticeStore, clock: Clock,
                cleanup: ExitStack) -> Syncer:
    """The gate's syncer, after one pass that pulls the roster and notices, so that scans work at once."""
    from kiosk.station.backoff import Backoff
    from kiosk.station.sync import Syncer, station_token

    token = station_token(config)
    # A short backoff cap: after F11 the gate is back online within seconds, not minutes.
    syncer = Syncer(config.center, config.station.id, store, roster, notices, token, clock=clock.now,
                    backoff=Backoff(base=0.5, cap=4.0), config_path=config.path)
    cleanup.callback(syncer.close)
    report = syncer.sync_once()
    say(f"首次同步 / first sync: {report.summary()} (名单 / roster {len(roster)}, 通知 / notices {len(notices.all())})")
    return syncer


def _introduce(people: list[Person], center: DemoCenter | None, simulated: bool, headless: bool) -> None:
    examples = demo_examples(people)
    say()
    say(f"闸机 / gate: {DEMO_STATION_NAME}(宿舍楼,须返校审批 / a dormitory gate: return approval required)")
    say(f"值班工号 / duty staff ID: {DEMO_STAFF_ID}    PIN: {DEMO_PIN}")
    say("试着输入这些学号并回车 / type one of these IDs, then Enter:")
    rows = (
        (examples.admitted.person_id, "准予通行 / admitted", mask_name(examples.admitted.name)),
        (examples.no_approval.person_id, "未获返校批准 → 禁止 / no return approval → denied",
         mask_name(examples.no_approval.name)),
        (examples.observation.person_id, "医学观察 → 隔离等候区 / medical observation → referred",
         mask_name(examples.observation.name)),
        (examples.unknown, "不在名单 → 禁止 / not on the roster → denied", ""),
    )
    for person_id, what, name in rows:
        say(f"  {person_id:<12} {what} {name}".rstrip())
    say("按键 / keys: F2 测温 temperature · F3 手工录入 manual · F4 访客 visitor · F9 方向 direction ·"
        " F10 English/中文")
    if center is not None:
        say("          F11 停止/启动数据中心 stop/start the center (看终端离线后补传 / watch the gate go"
            " offline and catch up)")
    say(f"          F12 值班菜单 duty menu → 退出程序 exit (PIN {DEMO_PIN})")
    if simulated:
        say("模拟读卡器每秒刷卡约一次 / a simulated card reader scans about once a second")
    if not headless and sys.stdin.isatty():
        try:
            input("\n按回车键打开闸机 / press Enter to open the gate ")
        except EOFError:
            pass


def _summary(store: EntryStore, syncer: Syncer | None, center: DemoCenter | None, strict: bool) -> int:
    """Entries recorded, acknowledged and waiting, after a last pass; with `strict`, exit 1 unless all arrived."""
    if syncer is not None and center is not None and center.running:
        syncer.sync_once()
    recorded = sum(len(store.entries_of_day(day)) for day in store.days())
    waiting = store.unsynced_count()
    say()
    say(f"本地记录 / recorded locally: {recorded}")
    say(f"中心已确认 / acknowledged by the center: {recorded - waiting}")
    say(f"待上传 / waiting: {waiting}")
    held = None
    if center is not None:
        from kiosk.demo.center import center_entry_count

        held = center_entry_count(center.db_url, DEMO_STATION_ID)
        say(f"中心数据库中 / in the center's database: {held}")
    complete = recorded > 0 and waiting == 0 and held == recorded
    if strict:
        say("全部到达数据中心 / every entry reached the center" if complete
            else "并非所有记录都到达数据中心 / not every entry reached the center")
        return EXIT_OK if complete else EXIT_FAILURE
    return EXIT_OK
