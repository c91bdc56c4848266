"""The dashboard under test: a real center with office accounts, and Debian's headless Chromium driven by Selenium.

Nothing is downloaded at run time: the driver is /usr/bin/chromedriver (Selenium Manager stays offline), the
browser /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from servers import Center

from kiosk.center.db import Database
from kiosk.center.web.accounts import add_user, ensure_tables

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN = ("alice", "alice-password-1")
VIEWER = ("victor", "victor-password-1")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def add_accounts(db_url: str) -> None:
    db = Database(db_url)
    try:
        ensure_tables(db)
        add_user(db, *ADMIN[:1], "admin", ADMIN[1])
        add_user(db, VIEWER[0], "viewer", VIEWER[1])
    finally:
        db.close()


def require_browser() -> None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            if os.environ.get("CI") == "true":
                pytest.fail(f"{path} is missing: .ci/run must install chromium and chromium-driver")
            pytest.skip(f"{path} is missing")


@contextmanager
def chromium(downloads: Path) -> Iterator[object]:
    """A headless Chromium in a fresh profile that saves downloads to `downloads`."""
    require_browser()
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def sign_in_http(client: httpx.Client, base: str, username: str, password: str) -> httpx.Response:
    """Sign in as a browser would: fetch the form (and its CSRF cookie), then post it."""
    form = client.get(f"{base}/web/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None, form.text
    body = {"username": username, "password": password, "csrf": token.group(1), "next": "/web/"}
    return client.post(f"{base}/web/signin", data=body)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


def foreign_references(driver: object, center: Center) -> list[str]:
    """Every address the page refers to (src, href, action, and what it loaded) that is not the center."""
    script = """
        const seen = [];
        for (const el of document.querySelectorAll('[src],[href],[action]')) {
          for (const name of ['src', 'href', 'action']) {
            if (el.hasAttribute(name)) seen.push(el[name] || el.getAttribute(name));
          }
        }
        for (const r of performance.getEntriesByType('resource')) seen.push(r.name);
        return seen;
    """
    found = driver.execute_script(script)  # type: ignore[attr-defined]
    ours = urlsplit(center.url).netloc
    foreign = []
    for address in found:
        parts = urlsplit(str(address))
        if parts.scheme in ("data", "about"):
            continue
        if parts.netloc != ours:
            foreign.append(str(address))
    return foreign
