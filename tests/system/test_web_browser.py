"""The dashboard in a real browser (Debian's headless Chromium through Selenium) against a real center, fed by
real stations (their store and syncer): sign in, watch a station go silent and a fever case arrive without a
reload, follow it up, trace a person, download the daily XLSX, upload a roster and confirm it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import Center, run_center
from syncstations import SyncStation, gate_entry
from webkit import ADMIN, add_accounts, chromium, foreign_references

from kiosk.center import roster
from kiosk.center.db import Database
from kiosk.center.web.accounts import audit_trail
from kiosk.domain.models import Person, Reading, Role

pytestmark = pytest.mark.slow
WAIT = 20.0


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    workdir = tmp_path_factory.mktemp("web-browser")
    url = f"sqlite:///{workdir / 'center.db'}"
    add_accounts(url)
    with run_center(url, workdir) as running:
        running.add_station("gate-empty", "南门 (无人)", "昌平校园")
        yield running


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(center: Center, downloads: Path) -> Iterator[Any]:
    """One Chromium for the module, signed in as the admin."""
    with chromium(downloads) as driver:
        driver.get(f"{center.url}/web/")
        sign_in(driver, *ADMIN)
        wait_for(lambda: "alice (admin)" in driver.page_source, "the overview after signing in")
        yield driver


@pytest.fixture
def station(center: Center, tmp_path: Path) -> Callable[[str], SyncStation]:
    made: list[SyncStation] = []

    def make(station_id: str) -> SyncStation:
        token = center.add_station(station_id, f"{station_id} 门岗", "海淀校园")
        built = SyncStation(station_id, tmp_path, center.url, token)
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # the element is being replaced by a live update
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


def by_id(driver: Any, element_id: str) -> Any:
    """The element, once the page that has it is there."""
    from selenium.webdriver.common.by import By

    return wait_for(lambda: driver.find_element(By.ID, element_id), f"#{element_id}")


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def now_(driver: Any, selector: str, what: str = "className") -> str | None:
    """A property of the element as it is now (live updates replace elements: no reference is kept)."""
    script = f"const e = document.querySelector(arguments[0]); return e ? e.{what} : null"
    return driver.execute_script(script, selector)


def no_foreign_host(driver: Any, center: Center) -> None:
    assert foreign_references(driver, center) == [], driver.current_url


def sign_in(driver: Any, username: str, password: str) -> None:
    by_id(driver, "username").clear()
    by_id(driver, "username").send_keys(username)
    by_id(driver, "password").send_keys(password)
    by_id(driver, "sign-in").click()


def test_sign_out_and_in(browser: Any, center: Center) -> None:
    browser.get(f"{center.url}/web/")
    by_id(browser, "sign-out").click()
    wait_for(lambda: "/web/signin" in browser.current_url, "the sign-in page")
    browser.get(f"{center.url}/web/daily")
    assert "/web/signin" in browser.current_url
    sign_in(browser, ADMIN[0], "not-the-password")
    assert "用户名或密码错误" in by_id(browser, "signin-error").text
    sign_in(browser, *ADMIN)
    wait_for(lambda: browser.current_url.endswith("/web/daily"), "the page asked for before signing in")
    assert "alice (admin)" in browser.page_source
    no_foreign_host(browser, center)


def test_a_station_goes_silent_when_its_heartbeats_stop(browser: Any, center: Center, station: Callable) -> None:
    gate = station("gate-quiet")
    assert gate.syncer.heartbeat().error is None
    browser.get(f"{center.url}/web/?silent_after=4")
    row = "#station-gate-quiet"
    assert now_(browser, row) == "online"
    browser.execute_script("window.notReloaded = true")
    wait_for(lambda: now_(browser, row) == "silent", "the station to turn silent")
    assert "静默" in now_(browser, f"{row} td.state", "textContent")
    assert browser.execute_script("return window.notReloaded") is True
    assert gate.syncer.heartbeat().error is None
    wait_for(lambda: now_(browser, row) == "online", "the station to come back")
    no_foreign_host(browser, center)


def test_a_fever_case_appears_live_and_is_followed_up(browser: Any, center: Center, station: Callable) -> None:
    gate = station("gate-fever")
    browser.get(f"{center.url}/web/")
    browser.execute_script("window.notReloaded = true")
    wait_for(lambda: "实时" in now_(browser, "#live-state", "textContent"), "the live connection")
    now = datetime.now().astimezone()
    entry = gate_entry("gate-fever", 777, now, verdict_index=2)  # referred for fever
    entry = gate.store.record(replace(entry, readings=(Reading(38.6, entry.captured_at, "T1001"),)))
    assert gate.syncer.push().count == 1
    case = f"#case-{entry.entry_id}"
    wait_for(lambda: css(browser, case), "the fever case on the overview")
    assert browser.execute_script("return window.notReloaded") is True
    assert "new" in now_(browser, case)
    text = now_(browser, case, "textContent")
    assert "38.6" in text and "2023****77" in text and "张*" in text
    css(browser, f"{case} input[name=note]")[0].send_keys("已送校医院 / sent to the clinic")
    css(browser, f"{case} button.follow-up")[0].click()
    wait_for(lambda: "跟进" in now_(browser, f"{case} .followed", "textContent"), "the follow-up mark")
    followed = now_(browser, f"{case} .followed", "textContent")
    assert "alice" in followed and datetime.now().strftime("%Y-%m-%d") in followed
    assert "已送校医院" in now_(browser, case, "textContent")


def test_trace_a_person_and_unmask(browser: Any, center: Center, station: Callable) -> None:
    gate = station("gate-trace")
    moment = datetime.now().astimezone().replace(microsecond=0) - timedelta(hours=1)
    case = gate.store.record(replace(gate_entry("gate-trace", 501, moment), name="赵小雨"))
    near = gate.store.record(replace(gate_entry("gate-trace", 502, moment + timedelta(minutes=10)), name="钱多多"))
    gate.store.record(replace(gate_entry("gate-trace", 503, moment + timedelta(minutes=50)), name="孙远远"))
    gate.syncer.push()
    browser.get(f"{center.url}/web/search")
    by_id(browser, "trace-person").send_keys(case.person_id)
    by_id(browser, "trace-window").clear()
    by_id(browser, "trace-window").send_keys("15")
    by_id(browser, "trace-submit").click()
    wait_for(lambda: css(browser, "#contacts tbody tr"), "the contacts")
    contacts = [row.text for row in css(browser, "#contacts tbody tr")]
    assert len(contacts) == 1 and "钱*多" in contacts[0] and "2023****02" in contacts[0] and "10.0" in contacts[0]
    assert near.person_id not in browser.page_source and "钱多多" not in browser.page_source
    by_id(browser, "unmask").click()
    wait_for(lambda: css(browser, "#unmasked-note"), "the unmasked results")
    contacts = [row.text for row in css(browser, "#contacts tbody tr")]
    assert "钱多多" in contacts[0] and near.person_id in contacts[0]
    unmasked = [row for row in audit_trail(Database(center.db_url)) if row["action"] == "unmask"]
    assert unmasked and unmasked[0]["username"] == "alice" and case.person_id in unmasked[0]["detail"]
    no_foreign_host(browser, center)


def test_daily_xlsx_download(browser: Any, center: Center, downloads: Path) -> None:
    from openpyxl import load_workbook

    day = datetime.now().astimezone().date().isoformat()
    browser.get(f"{center.url}/web/daily?date={day}")
    assert css(browser, "#daily-gate-empty")  # a station with no entries is in the report
    by_id(browser, "download-xlsx").click()
    path = downloads / f"daily-{day}.xlsx"
    wait_for(lambda: path.exists() and path.stat().st_size > 0, "the download")
    book = load_workbook(path, read_only=True)
    daily, fever, denied = (list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets)
    stations = {row[1]: row for row in daily[1:-1]}
    assert stations["gate-empty"][2:] == ("昌平校园", 0, 0, 0, 0)
    assert stations["gate-fever"][5] >= 1 and daily[-1][0] == "合计"
    assert sum(row[6] for row in daily[1:-1]) == daily[-1][6]
    assert any("2023000777" in row for row in fever[1:])  # the admin's workbook has the IDs in full
    assert all("denied" in str(row) or "禁止" in str(row) for row in denied[1:])
    assert book.sheetnames[1:] == ["发热名单", "拒绝名单"]


def test_roster_upload_dry_run_and_confirm(browser: Any, center: Center, tmp_path: Path) -> None:
    db = Database(center.db_url)
    same = Person("2023100001", "周平", Role.STUDENT, "海淀校园")
    moving = Person("2023100002", "吴敏", Role.STUDENT, "海淀校园")
    roster.update(db, [same, moving], replace=False)
    upload = tmp_path / "名单.csv"
    upload.write_text(
        "person_id,name,role,campus\n"
        "2023100001,周平,student,海淀校园\n"
        "2023100002,吴敏,student,昌平校园\n"
        "2023100003,郑新,student,海淀校园\n"
        "2023100004,错行,professor,海淀校园\n",
        encoding="utf-8",
    )
    browser.get(f"{center.url}/web/roster")
    by_id(browser, "roster-file").send_keys(str(upload))
    by_id(browser, "roster-submit").click()
    wait_for(lambda: css(browser, "#dry-run"), "the dry run")
    counts = {name: by_id(browser, f"{name}-count").text for name in ("added", "changed", "unchanged", "problems")}
    assert counts == {"added": "1", "changed": "1", "unchanged": "1", "problems": "1"}
    assert "campus" in by_id(browser, "changed").text and "5" in by_id(browser, "roster-problems").text
    assert "2023100003" not in {p.person_id for p in roster.changes_since(db, 0).people}  # a dry run only
    by_id(browser, "roster-confirm").click()
    wait_for(lambda: css(browser, "#roster-done"), "the confirmation")
    now = {p.person_id: p for p in roster.changes_since(db, 0).people}
    assert now["2023100003"].name == "郑新" and now["2023100002"].campus == "昌平校园"
    assert any(row["action"] == "roster-import" for row in audit_trail(db))


def test_no_page_references_another_host(browser: Any, center: Center) -> None:
    browser.get(f"{center.url}/web/notices")
    by_id(browser, "notice-title").send_keys("关于返校的通知")
    by_id(browser, "notice-url").send_keys("https://www.bnu.edu.cn/tzgg/return.html")
    by_id(browser, "notice-publish").click()
    wait_for(lambda: css(browser, "#notices svg.qr"), "the published notice and its QR preview")
    for page in (
        "/web/",
        "/web/cases",
        "/web/completeness",
        "/web/search",
        "/web/daily",
        "/web/notices",
        "/web/roster",
    ):
        browser.get(f"{center.url}{page}")
        no_foreign_host(browser, center)
    browser.get(f"{center.url}/web/lang/en?back=/web/notices")
    assert "Retire" in browser.page_source
    no_foreign_host(browser, center)
