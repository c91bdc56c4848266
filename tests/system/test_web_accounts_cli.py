"""`kiosk center add-user` as an administrator types it: the password from standard input, bilingual refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.center.db import Database
from kiosk.center.web.accounts import session, sign_in

pytestmark = pytest.mark.slow


def add_user(tmp_path: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kiosk.cli", "center", "add-user", *args, "--db", f"sqlite:///{tmp_path}/c.db"]
    done = subprocess.run(command, input=password + "\n", capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_add_user_reads_the_password_from_stdin_and_it_signs_in(tmp_path: Path) -> None:
    done = add_user(tmp_path, "wang.li", "--role", "admin", password="campus-office-2020")
    assert done.returncode == 0, done.stderr
    assert "wang.li" in done.stdout and "campus-office-2020" not in done.stdout + done.stderr
    db = Database(f"sqlite:///{tmp_path}/c.db")
    try:
        token = sign_in(db, "wang.li", "campus-office-2020", "test").token
        assert token is not None and session(db, token).user.is_admin
    finally:
        db.close()
    again = add_user(tmp_path, "wang.li", "--role", "viewer", password="another-password")
    assert again.returncode == 0
    db = Database(f"sqlite:///{tmp_path}/c.db")
    try:
        assert sign_in(db, "wang.li", "campus-office-2020", "test").token is None  # the old password is gone
        token = sign_in(db, "wang.li", "another-password", "test").token
        assert token is not None and not session(db, token).user.is_admin
    finally:
        db.close()


@pytest.mark.parametrize(
    ("args", "password", "status"),
    [
        (("wang", "--role", "viewer"), "short", 2),
        (("wang li", "--role", "viewer"), "long-enough-password", 2),
        (("wang", "--role", "owner"), "long-enough-password", 2),
    ],
)
def test_add_user_refuses_bad_input(tmp_path: Path, args: tuple[str, ...], password: str, status: int) -> None:
    done = add_user(tmp_path, *args, password=password)
    assert done.returncode == status
    assert done.stderr.strip() and ("/" in done.stderr or "invalid choice" in done.stderr)
