"""Make the README's dashboard screenshots, docs/dashboard-overview.png and docs/dashboard-daily.png: a center
with a dozen gates and a morning of entries (kiosk.demo.campus), photographed by Debian's headless Chromium.

    .venv/bin/python docs/dashboard.py

Needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver) and a CJK font
(apt-get install fonts-wqy-microhei), or the Chinese text is drawn as boxes. Times and names differ from run to
run (the clock is real), so the files are not compared byte for byte as docs/gate.svg is.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from kiosk.center.db import Database
from kiosk.center.reports import flagged
from kiosk.center.web.accounts import add_user, ensure_tables, follow_up
from kiosk.demo.campus import ZONE, fill_center
from kiosk.demo.center import DemoCenter
from kiosk.demo.data import demo_people

DOCS = Path(__file__).resolve().parent
USER, PASSWORD = "office", "screenshot-password"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def seed(db_url: str) -> None:
    today = datetime.now(ZONE).date()
    fill_center(db_url, stations=12, days=[today], per_station_day=400, people=demo_people(3000), silent=1)
    db = Database(db_url)
    try:
        ensure_tables(db)
        add_user(db, USER, "admin", PASSWORD)
        cases = [e for e in flagged(db, today.isoformat()) if e["verdict"] == "referred"]
        for case in cases[:-3]:  # the newest three still wait for someone
            follow_up(db, case["station_id"], case["entry_id"], "防控办 王老师", "已联系校医院")
    finally:
        db.close()


def photograph(url: str, pages: dict[str, str]) -> None:
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1360,1500"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        driver.get(f"{url}/web/signin")
        driver.find_element(By.ID, "username").send_keys(USER)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "sign-in").click()
        for path, output in pages.items():
            driver.get(f"{url}{path}")
            time.sleep(3)  # the overview's live connection opens and says so
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1360, min(height + 20, 1700))
            driver.save_screenshot(str(DOCS / output))
            print(f"wrote docs/{output}")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="dashboard-shots-"))
    db_url = f"sqlite:///{folder / 'center.db'}"
    seed(db_url)
    center = DemoCenter(db_url, folder / "center.log")
    center.start()
    try:
        photograph(center.url, {"/web/": "dashboard-overview.png", "/web/daily": "dashboard-daily.png"})
    finally:
        center.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
